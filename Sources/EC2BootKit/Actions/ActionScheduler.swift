/// Which actions a run starts, and what it says of the others, decided from the plan, the
/// selection and the instance's previous status alone: no I/O, so it is tested on its own.
public enum ActionScheduler {
    public enum Verdict: Sendable, Equatable {
        case run
        /// Finished by an interrupted earlier run of this instance: not repeated.
        case done
        /// Left out by `run --only`.
        case notSelected
    }

    public struct Step: Sendable {
        public let action: PlannedAction
        public let verdict: Verdict
        /// For an action `--only` leaves out: its row of this instance's earlier run, which the
        /// new record keeps (a failure stays a failure until the action runs again and succeeds).
        public var earlier: RunStatus.ActionStatus?
    }

    public enum Schedule: Sendable {
        /// `--no-actions`: nothing runs and no status is written; the earlier run's failures still count.
        case nothing(failures: [String])
        /// A later boot with nothing per boot to do; the earlier boot's failures still count.
        case alreadyRan(failures: [String])
        /// `carried`: an earlier boot's per-instance rows, kept so that an interruption of this
        /// run never makes them run again; `resumed`: how many are done from an interrupted run.
        case steps([Step], carried: [RunStatus.ActionStatus], resumed: Int)
    }

    /// `previous`: this instance's last status (nil for another instance's, or none).
    public static func schedule(_ plan: [PlannedAction], selection: ActionSelection, previous: RunStatus?) -> Schedule {
        switch selection {
        case .none:
            return .nothing(failures: previous.map { RunStatus.failures($0.actions) } ?? [])
        case .all:
            return .steps(plan.map { Step(action: $0, verdict: .run) }, carried: [], resumed: 0)
        case .only(let types):
            let rows = Dictionary((previous?.actions ?? []).map { ($0.fingerprint, $0) }) { first, _ in first }
            return .steps(plan.map { action in
                types.contains(action.type) ? Step(action: action, verdict: .run)
                    : Step(action: action, verdict: .notSelected, earlier: rows[action.fingerprint])
            }, carried: [], resumed: 0)
        case .firstBoot:
            guard let previous else { return .steps(plan.map { Step(action: $0, verdict: .run) }, carried: [], resumed: 0) }
            if previous.finished != nil || previous.perInstanceDone == true {
                // A later boot: per-boot actions, and what per-instance ones repeat on every boot.
                let carried = previous.actions.filter { $0.frequency != .perBoot }
                let again = plan.compactMap { $0.frequency == .perBoot ? $0 : $0.everyBootPart }
                guard !again.isEmpty else { return .alreadyRan(failures: RunStatus.failures(carried)) }
                return .steps(again.map { Step(action: $0, verdict: .run) }, carried: carried, resumed: 0)
            }
            // An interrupted first boot: the per-instance actions it finished are not repeated;
            // per-boot ones run again, since this is another boot.
            let finished = Set(previous.actions.filter(\.succeeded).map(\.fingerprint))
            let steps = plan.map { action in
                Step(action: action, verdict: action.frequency == .perInstance && finished.contains(action.fingerprint) ? .done : .run)
            }
            return .steps(steps, carried: [], resumed: steps.filter { $0.verdict == .done }.count)
        }
    }

    /// Whether a run would start any action: what the data stage tells the MOTD and `status --wait`.
    public static func wouldRun(_ plan: [PlannedAction], selection: ActionSelection, previous: RunStatus?) -> Bool {
        guard case .steps(let steps, _, _) = schedule(plan, selection: selection, previous: previous) else { return false }
        return steps.contains { $0.verdict == .run }
    }
}
