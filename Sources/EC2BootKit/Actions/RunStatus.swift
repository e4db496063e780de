#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

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
    /// Why the last run ended before its actions (invalid user-data, a failed #include, no
    /// instance data, a stop): each run that does is recorded, and `status` says so (exit 1).
    /// A run that gets to its actions writes a new record, without these.
    public var errors: [RunError]?
    /// Why the last run read nothing (not EC2, no seed): `status` says disabled.
    public var disabled: String?
    /// The kernel's boot id of the run that wrote this record.
    public var bootID: String?
    /// Filled in by `status --json` only: the run in one word (see `summary`), and the stage a
    /// run is in now (data, actions; done when no run goes on).
    public var state: String?
    public var stage: String?
    /// Filled in by `status` from this instance's essentials record (root only): what failed of
    /// them (empty: done; nil: none were done on this instance, see `Essentials`).
    public var essentials: [String]?

    /// One reason a run ended early: where it comes from (`user-data`, `metadata`, `signal`),
    /// what went wrong, and where in the user-data when there is a place (`user-data:6:12`).
    public struct RunError: Codable, Sendable, Equatable, CustomStringConvertible {
        public var source: String
        public var message: String
        public var location: String?
        public init(source: String, message: String, location: String? = nil) {
            self.source = source
            self.message = message
            self.location = location
        }
        public var description: String { (location.map { $0 + ": " } ?? "\(source): ") + message }
    }

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
        case errors, disabled, bootID = "boot_id", state = "status", stage, essentials
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

    public static func file(_ paths: Paths, _ record: Record = .boot) -> String { paths.stateDir + "/" + record.rawValue }

    public static func load(_ paths: Paths, _ record: Record = .boot) -> RunStatus? { StateFile(file(paths, record)).load() }

    /// The record (0600, root's); the boot's also as the summary every user may read.
    func save(_ paths: Paths, _ record: Record) throws {
        try StateFile(Self.file(paths, record)).save(self)
        guard record == .boot else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(publicSummary(paths)), to: paths.publicStatusFile, mode: 0o644, directoryMode: 0o755, ownedFolder: true)
    }

    /// What a user who is not root may see: no action's message (it may quote output) nor its
    /// fingerprint (a hash of its parameters, passwords included); the reasons a run ended early
    /// and this instance's essentials' problems, redacted, so the summary fails where the record does.
    func publicSummary(_ paths: Paths) -> RunStatus {
        var out = self
        for index in out.actions.indices {
            out.actions[index].message = nil
            out.actions[index].fingerprint = ""
        }
        out.errors = errors?.map { RunError(source: $0.source, message: Redaction.redact($0.message), location: $0.location) }
        out.readEssentials(paths)
        out.essentials = out.essentials?.map { Redaction.redact($0) }
        return out
    }

    /// A record for whoever asks: the whole one for root, the boot's summary for another user
    /// (`summary` true); `denied` when the record is there but not for this user, and no summary
    /// is (a command's record has none).
    public static func loadForAnyone(_ paths: Paths, _ record: Record = .boot) -> (status: RunStatus?, summary: Bool, denied: Bool) {
        if let status = load(paths, record) { return (status, false, false) }
        let denied = (access(paths.stateDir, X_OK) != 0 && errno == EACCES) || (access(file(paths, record), R_OK) != 0 && errno == EACCES)
        guard denied else { return (nil, false, false) }
        if record == .boot, let summary = StateFile<RunStatus>(paths.publicStatusFile).load() { return (summary, true, false) }
        return (nil, false, true)
    }

    /// A run that ended before its actions, recorded: the same instance's record keeps its rows
    /// and times (what the next run resumes from is untouched) and gets the reasons; for another
    /// instance, or none yet, a record with no rows and no `finished`, so the next good run of
    /// the instance still runs everything.
    public static func recordEarlyEnd(_ paths: Paths, instanceID: String?, errors: [RunError] = [], disabled: String? = nil) throws {
        let id = instanceID ?? ""
        var status = load(paths).flatMap { $0.instanceID == id ? $0 : nil }
            ?? RunStatus(instanceID: id, started: Timestamp.now(), finished: nil, actions: [])
        status.errors = errors.isEmpty ? nil : errors
        status.disabled = disabled
        status.bootID = StageMarker.bootID
        try status.save(paths, .boot)
    }

    /// `status --json` before any run.
    public static let notRun = RunStatus(instanceID: "", started: "", finished: nil, actions: [], errors: [], state: "not-run")

    /// What the record says of the run, in `cloud-init status`'s words: not-run, running, done,
    /// error or disabled (`running` is the caller's to know: the lock, or actions pending).
    public func summary(running: Bool) -> String {
        if running { return "running" }
        if disabled != nil { return "disabled" }
        if !(errors ?? []).isEmpty || !(essentials ?? []).isEmpty || finished == nil || !allOK { return "error" }
        return "done"
    }
}
