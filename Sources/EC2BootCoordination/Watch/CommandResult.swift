import EC2BootKit
import Foundation
import Logging

/// What a node writes to `<node>/result` (and `<group>/results/<instance-id>`) after a command.
public struct CommandResult: Codable, Sendable {
    /// ok, failed, refused (nothing ran), interrupted (the watcher was stopped midway).
    public enum Outcome: String, Codable, Sendable { case ok, failed, refused, interrupted }

    /// The command znode's mzxid, in hex: which write this answers.
    public var command: String
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
        case command, source, instanceID = "instance_id", outcome, exit, started, finished, actions, error, output
    }

    var json: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }

    /// The bound on `output` lines, and on each line's length.
    static let outputLines = 20, lineBytes = 400
}

/// A log handler that keeps the last lines logged through it, redacted and cut short, for a
/// command's result; the lines still go to the usual handlers too.
final class OutputTail: @unchecked Sendable {
    private let lock = NSLock()
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
