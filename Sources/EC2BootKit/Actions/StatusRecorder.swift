import Logging

/// Keeps a run's status file true as the run goes: every change is saved at once, so a run
/// that loses power midway leaves a record the next run resumes from.
struct StatusRecorder {
    private var status: RunStatus
    /// The rows of this run's steps start after the carried ones.
    private let offset: Int
    private let record: RunStatus.Record
    private let paths: Paths
    private let logger: Logger

    init(instanceID: String, carried: [RunStatus.ActionStatus], steps: [ActionScheduler.Step], record: RunStatus.Record,
         paths: Paths, logger: Logger) {
        let rows = steps.map { step in
            RunStatus.ActionStatus(index: step.action.index, type: step.action.type, frequency: step.action.frequency,
                                   result: .pending, fingerprint: step.action.fingerprint)
        }
        status = RunStatus(instanceID: instanceID, started: Timestamp.now(), finished: nil, actions: carried + rows)
        status.perInstanceDone = carried.isEmpty ? nil : true
        status.bootID = StageMarker.bootID
        offset = carried.count
        self.record = record
        self.paths = paths
        self.logger = logger
    }

    var carriedFailures: [String] { RunStatus.failures(Array(status.actions.prefix(offset))) }

    /// A step that does not run: done before an interruption, not selected (its earlier row
    /// kept, if this instance has one), or after a stop.
    mutating func pass(_ position: Int, step: ActionScheduler.Step, stopped: Bool) {
        let slot = offset + position
        if !stopped, let earlier = step.earlier {
            status.actions[slot] = earlier
            status.actions[slot].index = step.action.index
            return
        }
        status.actions[slot].result = step.verdict == .done ? .ok : .skipped
        status.actions[slot].message = stopped ? "not run: an earlier action failed with on_failure: stop"
            : step.verdict == .done ? "done before the interruption" : "not selected"
    }

    mutating func start(_ position: Int) {
        status.actions[offset + position].result = .running
        save()
    }

    mutating func finish(_ position: Int, _ result: ActionResult, elapsed: Duration) {
        let slot = offset + position
        status.actions[slot].result = ActionState(result.outcome)
        status.actions[slot].exitCode = result.exitCode
        status.actions[slot].durationMS = (elapsed.inSeconds * 10_000).rounded(.down) / 10
        status.actions[slot].message = result.message.map(Redaction.redact)
        save()
    }

    /// Left unfinished, so the next run resumes here; never left saying "running".
    mutating func interrupted(_ position: Int, signal: Int32) {
        let slot = offset + position
        status.actions[slot].result = .interrupted
        status.actions[slot].message = "the agent got signal \(signal); the action's process group was stopped"
        save()
    }

    mutating func done() {
        status.finished = Timestamp.now()
        save()
    }

    func save() {
        do { try status.save(paths, record) } catch {
            logger.error("cannot record the run's status: \(error)")
        }
    }
}
