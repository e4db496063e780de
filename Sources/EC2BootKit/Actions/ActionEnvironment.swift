#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// What every action process gets, and how it is run and reported.
enum ActionEnvironment {
    /// The agent's whole environment (as the Ruby tool's in-process actions saw it, so a
    /// variable set for a manual re-run reaches the action), with `EC2BOOT_*` on top.
    static func base(_ context: ActionContext) -> [String: String] {
        let paths = context.run.paths
        var env = ProcessInfo.processInfo.environment
        let path = env["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        // Scripts call `ec2-boot-init fetch` and `query`: this very binary, wherever it is installed.
        let program = HelperProgram.mainExecutable
        env["EC2BOOT_BIN"] = program
        env["PATH"] = program.parentFolder + ":" + path
        env["EC2BOOT_ACTION"] = context.type
        env["EC2BOOT_ACTION_INDEX"] = String(context.index)
        env["EC2BOOT_METADATA_URL"] = context.run.config.metadataURL
        env["EC2BOOT_ROOT"] = paths.root
        env["EC2BOOT_CACHE_DIR"] = paths.cacheDir
        env["EC2BOOT_METADATA_JSON"] = paths.cacheDir + "/meta-data.json"
        env["EC2BOOT_USER_DATA"] = paths.cacheDir + "/user-data.raw"
        env["EC2BOOT_FACTS_FILE"] = paths.factsFile
        env["EC2BOOT_PRIVATE_DIR"] = paths.privateDir
        return env
    }

    /// The 0700 folder for an action's private files (EC2BOOT_PRIVATE_DIR).
    static func preparePrivateDir(_ paths: Paths) throws {
        try FileSystem.ownedDirectory(paths.stateDir, mode: 0o700)
        try FileSystem.ownedDirectory(paths.privateDir, mode: 0o700)
    }

    /// Runs `text` from a private file (0600, or 0700 to run it directly, in the 0700 private
    /// folder; removed after), with `interpreter`, or directly when nil. Never in argv, where
    /// every local user reads it from /proc/PID/cmdline, and of any length.
    static func executeScript(_ text: String, interpreter: String?, environment: [String: String], directory: String?,
                              timeout: Double?, context: ActionContext) async -> ActionResult {
        let folder = context.run.paths.privateDir
        let name = "\(context.index)-\(context.type)-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let file = folder + "/" + name
        do {
            try preparePrivateDir(context.run.paths)
            try AtomicFile.write(text, to: file, mode: interpreter == nil ? 0o700 : 0o600, directoryMode: 0o700)
        } catch {
            return ActionResult(.failed, message: "cannot write the script to run: \(error)")
        }
        defer { unlink(file) }
        return await execute(interpreter.map { [$0, file] } ?? [file], environment: environment, directory: directory,
                             timeout: timeout, context: context)
    }

    /// Runs a process for an action: output to the log line by line, the last lines
    /// (secrets redacted) in the result when it fails. With `channel`, the process also gets
    /// descriptor 3 for its answer, handed to `channel` once it ended (nil past the bound).
    static func execute(_ argv: [String], environment: [String: String], directory: String?,
                        stdin: Data? = nil, timeout: Double?, context: ActionContext,
                        channel: (@Sendable (Data?) -> Void)? = nil) async -> ActionResult {
        let logger = context.logger
        let limit = timeout ?? context.run.config.actions.timeout
        let outcome: ProcessOutcome
        do {
            outcome = try await ProcessRunner.run(argv, environment: environment, directory: directory, stdin: stdin,
                                                  timeout: limit, channel: channel != nil) { line in
                // A line of our own log format (an `ec2-boot-init fetch` or `query` the action ran)
                // keeps its level and loses its prefix, so it is not stamped twice.
                if let (level, message) = LogFormat.parse(line) {
                    logger.log(level: level, "\(message)")
                } else {
                    logger.info("\(line)")  // the log handlers redact secrets
                }
            }
        } catch {
            return ActionResult(.failed, message: "\(error)")
        }
        channel?(outcome.channel)
        let tail = outcome.tail.suffix(5).map(Redaction.redact).joined(separator: " | ")
        switch outcome.ending {
        case .exited(0):
            return ActionResult(.ok, exitCode: 0)
        case .exited(let code):
            return ActionResult(.failed, exitCode: code, message: tail.isEmpty ? "exit status \(code)" : "exit status \(code): \(tail)")
        case .signalled(let signal):
            return ActionResult(.failed, message: "killed by signal \(signal)")
        case .timedOut:
            return ActionResult(.timedOut, message: "timed out after \(Int(limit)) s; its process group was killed")
        }
    }
}
