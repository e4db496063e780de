/// What a stage of a boot does once it knows what it found: what is recorded for `status`,
/// whether the facts are written, the data stage's marker, whether the action engine runs,
/// which MOTD, and the exit code. A pure value, one row per situation (StageEndTests), so
/// "every run is recorded" is one rule; `BootRun` finds the situation and carries the row out.
public struct StageEnd: Equatable, Sendable {
    /// What the stage found.
    public enum Found: Equatable, Sendable {
        /// Not EC2 and no seed (the reason): nothing to read.
        case offline(String)
        /// A stop (SIGTERM, SIGINT) came while instance data was waited for (the reason).
        case stopped(String)
        /// Nothing fetched and nothing cached (why).
        case noData(String)
        /// Instance data: its user-data `invalid` or not; whether `--only` names a type the plan
        /// has; for the data stage, whether actions are left for the actions stage.
        case data(invalid: Bool, selectionMatches: Bool, actionsPending: Bool)
    }

    public enum Record: Equatable, Sendable {
        case none
        case disabled(String)
        case error(source: String, message: String)
        /// The user-data's problems, each with its place.
        case userDataProblems
    }

    public enum MOTD: Equatable, Sendable {
        case unchanged
        /// No instance data to show, and why.
        case unprovisioned(String)
        /// Actions are to come.
        case inProgress
        /// The instance, with what failed (the invalid user-data, or the actions' failures).
        case final(invalid: Bool)
    }

    public enum Exit: Equatable, Sendable {
        case fixed(ExitStatus)
        /// 0 when every action is ok, else 1.
        case byActions
    }

    public var record = Record.none
    public var facts = false
    /// The data stage's marker (the other stages write `done` as they end, whatever happened).
    public var marker: StageMarker?
    public var runActions = false
    public var motd = MOTD.unchanged
    public var exit: Exit

    public static func decide(_ stage: BootRun.Stage, _ found: Found) -> StageEnd {
        let early = stage != .actions  // the actions stage works from the data stage's record
        switch found {
        case .offline(let reason):
            return StageEnd(record: early ? .disabled(reason) : .none, marker: stage == .data ? .done : nil,
                            motd: early ? .unprovisioned(reason) : .unchanged, exit: .fixed(.ok))
        case .stopped(let reason):
            return StageEnd(record: early ? .error(source: "signal", message: reason) : .none, exit: .fixed(.failed))
        case .noData(let why):
            return StageEnd(record: early ? .error(source: "metadata", message: "no instance data: \(why)") : .none,
                            motd: early ? .unprovisioned(why) : .unchanged, exit: .fixed(.noDataSource))
        case .data(let invalid, let matches, let pending):
            var end = StageEnd(record: invalid && early ? .userDataProblems : .none, facts: early, exit: .fixed(invalid ? .badInput : .ok))
            if stage == .data {
                // Nothing left for the actions stage: the engine records that here (a first boot's
                // "no actions", or the earlier run's failures), as that stage would have.
                let waits = pending && !invalid
                end.marker = waits ? .actionsPending : .done
                end.motd = waits ? .inProgress : .final(invalid: invalid)
                end.runActions = !waits && !invalid
                return end
            }
            guard matches else { return StageEnd(record: end.record, facts: end.facts, exit: .fixed(.badInput)) }
            end.runActions = !invalid
            end.motd = .final(invalid: invalid)
            if !invalid { end.exit = .byActions }
            return end
        }
    }
}
