import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// What a node writes to `<node>/result` (and `<group>/results/<instance-id>`) after a command.
public struct CommandResult: Codable, Sendable {
    /// ok, failed, refused (nothing ran), interrupted (the watcher was stopped midway).
    public enum Outcome: String, Codable, Sendable { case ok, failed, refused, interrupted }

    /// Which command this answers: the signed `id`, or for an unsigned one its znode write's mzxid in hex.
    public var command: String
    /// Whether the command carried a good signature (nil in results of versions before signing).
    public var signed: Bool?
    public var source: String
    public var instanceID: String
    public var outcome: Outcome
    /// The exit code `run` would have had: 0 ok, 1 failed, 2 refused.
    public var exit: Int32
    public var started: String
    public var finished: String
    public var actions: [RunStatus.ActionStatus]
    /// Why it was refused or interrupted.
    public var error: String?
    /// The run's last log lines, secrets redacted.
    public var output: [String]

    enum CodingKeys: String, CodingKey {
        case command, signed, source, instanceID = "instance_id", outcome, exit, started, finished, actions, error, output
    }

    /// The JSON written to ZooKeeper, at most `maxBytes`: the output tail goes first, oldest line
    /// first, then long messages are cut.
    var json: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var result = self
        while true {
            guard let data = try? encoder.encode(result) else { return Data("{}".utf8) }
            if data.count <= Self.maxBytes { return data }
            if !result.output.isEmpty {
                result.output.removeFirst()
            } else if let error = result.error, error.utf8.count > Self.lineBytes {
                result.error = String(error.utf8.prefix(Self.lineBytes)) ?? ""
            } else if let long = result.actions.firstIndex(where: { ($0.message?.utf8.count ?? 0) > Self.lineBytes }) {
                result.actions[long].message = String(result.actions[long].message!.utf8.prefix(Self.lineBytes)) ?? ""
            } else if !result.actions.isEmpty {
                result.actions.removeLast()
            } else {
                return Data("{}".utf8)
            }
        }
    }

    /// The bound on `output` lines, and on each line's length; on the whole result (ZooKeeper's own is 1 MiB).
    static let outputLines = 20, lineBytes = 400, maxBytes = 256 * 1024
}

/// A log handler that keeps the last lines logged through it, redacted and cut short, for a
/// command's result; the lines still go to the usual handlers too.
final class OutputTail: @unchecked Sendable {
    private let lock = Lock()
    private var lines: [String] = []

    func logger(from base: Logger) -> Logger {
        let capture = Capture(tail: self)
        var logger = Logger(label: base.label) { _ in MultiplexLogHandler([base.handler, capture]) }
        logger.logLevel = base.logLevel
        return logger
    }

    var captured: [String] { lock.withLock { lines } }

    fileprivate func add(_ line: String) {
        var line = Redaction.redact(line)
        if line.utf8.count > CommandResult.lineBytes { line = String(line.utf8.prefix(CommandResult.lineBytes)) ?? "" }
        lock.withLock {
            lines.append(line)
            if lines.count > CommandResult.outputLines { lines.removeFirst() }
        }
    }

    private struct Capture: LogHandler {
        let tail: OutputTail
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { tail.add("\(event.level): \(event.message)") }
    }
}
