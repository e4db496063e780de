import Foundation

/// Where an action stands in a run's status, as status.json spells it.
public enum ActionState: String, Codable, Sendable {
    case pending, running, ok, failed, skipped
    case timedOut = "timed-out"
    /// The agent was stopped while it ran; the next run resumes here.
    case interrupted

    init(_ outcome: ActionResult.Outcome) {
        switch outcome {
        case .ok: self = .ok
        case .failed: self = .failed
        case .skipped: self = .skipped
        case .timedOut: self = .timedOut
        }
    }
}

/// The last run, as `status` shows it; written after every change, so a run that loses
/// power midway leaves a record of what it had done.
public struct RunStatus: Codable, Sendable {
    public var instanceID: String
    /// ISO 8601, UTC.
    public var started: String
    public var finished: String?
    /// A later boot's run: the per-instance actions finished on an earlier boot (their rows are
    /// carried over), so an interruption of this run never makes them run again.
    public var perInstanceDone: Bool?
    public var actions: [ActionStatus]
    /// The cloud-config keys the run's user-data has that ec2-boot-init does not implement, as
    /// `FILE:LINE:COLUMN: key: …` (filled in by `status --json` from the cached user-data).
    public var unsupported: [String]?

    public struct ActionStatus: Codable, Sendable {
        public var index: Int
        public var type: String
        /// per-instance or per-boot (absent in a status written before frequencies were recorded).
        public var frequency: ActionFrequency?
        public var result: ActionState
        public var exitCode: Int32?
        public var durationMS: Double?
        public var message: String?
        public var fingerprint: String

        /// Done, and nothing to do again: ok, or skipped.
        public var succeeded: Bool { result == .ok || result == .skipped }

        enum CodingKeys: String, CodingKey {
            case index, type, frequency, result, exitCode = "exit_code", durationMS = "duration_ms", message, fingerprint
        }
    }

    enum CodingKeys: String, CodingKey {
        case instanceID = "instance_id", started, finished, perInstanceDone = "per_instance_done", actions, unsupported
    }

    public var allOK: Bool { actions.allSatisfy(\.succeeded) }

    /// The actions that did not succeed, as the MOTD and the exit status name them.
    public var failures: [String] { Self.failures(actions) }

    static func failures(_ rows: [ActionStatus]) -> [String] {
        rows.filter { !$0.succeeded }.map { "action \($0.index) (\($0.type)): \($0.result.rawValue)" }
    }

    /// Which run a status is of: the boot's (what resuming and later boots go by), or the last
    /// command `watch` ran, kept apart so a command never changes what the boot did.
    public enum Record: String, Sendable {
        case boot = "status.json"
        case command = "command-status.json"
    }

    static func file(_ paths: Paths, _ record: Record = .boot) -> String { paths.stateDir + "/" + record.rawValue }

    public static func load(_ paths: Paths, _ record: Record = .boot) -> RunStatus? { StateFile(file(paths, record)).load() }

    func save(_ paths: Paths, _ record: Record) throws { try StateFile(Self.file(paths, record)).save(self) }
}
