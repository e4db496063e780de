#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// Log lines go to stderr (time, level, message) and to syslog, which journald collects.
/// Under systemd, when stderr is the journal itself, each line carries its priority instead
/// (`<4>…`, which journald reads), and syslog is skipped: it would log every line twice.
/// What is logged is chosen at the call site: never user-data, passwords, keys or tokens.
public enum LogSetup {
    public static func bootstrap(level: Logger.Level, syslog: Bool = true) {
        let journal = stderrIsJournal()
        LoggingSystem.bootstrap { label in
            var stderrHandler = StderrLogHandler(label: label)
            stderrHandler.logLevel = level
            stderrHandler.journal = journal
            guard syslog, !journal else { return stderrHandler }
            var syslogHandler = SyslogLogHandler(label: label)
            syslogHandler.logLevel = level
            return MultiplexLogHandler([stderrHandler, syslogHandler])
        }
    }

    /// systemd sets JOURNAL_STREAM to the device and inode of the journal stream it gave us.
    static func stderrIsJournal() -> Bool {
        guard let value = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":").compactMap { UInt64($0) }
        var info = stat()
        guard parts.count == 2, fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == parts[0] && UInt64(info.st_ino) == parts[1]
    }
}

/// `2026-11-22T10:00:00Z info: message key=value`, one line a record; to the journal,
/// `<6>info: message key=value` (journald stamps the time).
public struct StderrLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var journal = false
    let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let stamp = Timestamp.now(milliseconds: true)
        let text = LogFormat.oneLine(Redaction.redact("\(event.message)\(LogFormat.metadata(metadata, event.metadata))"))
        let line = journal ? "<\(SyslogLogHandler.priority(event.level))>\(event.level): \(text)\n" : "\(stamp) \(event.level): \(text)\n"
        try? FileSystem.writeAll(Data(line.utf8), to: STDERR_FILENO, path: "stderr")
    }
}

/// syslog(3), with the level mapped to a priority.
public struct SyslogLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    private static let opened: Void = openlog("ec2-boot-init", LOG_PID, LOG_DAEMON)

    public init(label: String) { Self.opened }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static func priority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: return LOG_DEBUG
        case .info: return LOG_INFO
        case .notice: return LOG_NOTICE
        case .warning: return LOG_WARNING
        case .error: return LOG_ERR
        case .critical: return LOG_CRIT
        }
    }

    public func log(event: LogEvent) {
        let priority = Self.priority(event.level)
        let text = LogFormat.oneLine(Redaction.redact("\(event.message)\(LogFormat.metadata(metadata, event.metadata))"))
        text.withCString { line in withVaList([line]) { vsyslog(priority, "%s", $0) } }
    }
}

enum LogFormat {
    /// The level and message of a line in the stderr format above (`2026-…Z info: message`), or nil.
    static func parse(_ line: String) -> (Logger.Level, String)? {
        guard line.count > 26, line.first?.isNumber == true,
              let space = line.firstIndex(of: " "), line[line.index(before: space)] == "Z",
              let colon = line[space...].firstRange(of: ": ") else { return nil }
        guard let level = Logger.Level(rawValue: String(line[line.index(after: space)..<colon.lowerBound])) else { return nil }
        return (level, String(line[colon.upperBound...]))
    }

    /// One record, one line: a message's CR and LF shown as `\r` and `\n`, so nothing logged can
    /// start a line of its own (a forged record, or text a reader of the stream acts on).
    static func oneLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func metadata(_ base: Logger.Metadata, _ extra: Logger.Metadata?) -> String {
        let merged = base.merging(extra ?? [:]) { $1 }
        guard !merged.isEmpty else { return "" }
        return merged.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
    }
}
