#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// A short command whose output we read rather than log (`dpkg-query`, `puppet config print`,
/// `hostname -f`).
public enum SystemCommand {
    /// The exit status and the output (stdout and stderr), or nil when it cannot start.
    public static func capture(_ argv: [String], environment: [String: String]? = nil, stdin: Data? = nil, timeout: Double = 30,
                        context: ActionContext? = nil) async -> (Int32, String)? {
        let lines = LineCollector()
        let env = environment ?? context.map(ActionEnvironment.base) ?? withSystemPath(ProcessInfo.processInfo.environment)
        guard let outcome = try? await ProcessRunner.run(argv, environment: env, directory: nil, stdin: stdin,
                                                         timeout: timeout, onLine: { lines.append($0) }),
              case .exited(let status) = outcome.ending else { return nil }
        return (status, lines.text)
    }

    /// The system's own programs' folders, after the caller's PATH: a tool named without a path
    /// (`partx` is in /usr/bin on Debian, /usr/sbin on Fedora) is found by a user whose PATH lacks sbin too.
    static func withSystemPath(_ environment: [String: String]) -> [String: String] {
        var environment = environment
        environment["PATH"] = [environment["PATH"], "/usr/sbin:/usr/bin:/sbin:/bin"].compactMap { $0 }.joined(separator: ":")
        return environment
    }

    /// A tool that must succeed (useradd, sfdisk): nil when it did, else the command and what it said, in one line.
    static func failure(_ argv: [String], stdin: Data? = nil, timeout: Double = 120) async -> String? {
        guard let (status, output) = await capture(argv, stdin: stdin, timeout: timeout) else { return "\(argv[0]) could not start" }
        return status == 0 ? nil : "\(argv.joined(separator: " ")) exited \(status): \(LogFormat.oneLine(output))"
    }
}

extension SystemCommand {
    /// Runs a step of an action with its output in the log; nil when it succeeded, else why not.
    public static func run(_ argv: [String], context: ActionContext) async -> String? {
        let result = await ActionEnvironment.execute(argv, environment: ActionEnvironment.base(context), directory: nil,
                                                     timeout: 300, context: context)
        return result.outcome == .ok ? nil : "\(argv.joined(separator: " ")): \(result.message ?? result.outcome.rawValue)"
    }
}

/// Output lines gathered from ProcessRunner's reader thread.
final class LineCollector: @unchecked Sendable {
    private let lock = Lock()
    private var lines: [String] = []

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var text: String { lock.withLock { lines.joined(separator: "\n") } }
}
