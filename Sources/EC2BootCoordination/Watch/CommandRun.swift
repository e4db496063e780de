import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// One command through the action engine, as a boot runs its actions: under the same lock
/// (a command that arrives during the boot run waits for it), with the same logs, its status
/// in `command-status.json` beside the boot's.
struct CommandRun {
    let paths: Paths
    let config: Config
    let instance: InstanceView
    let logger: Logger

    /// A week: the boot run may hold the lock for long (a first Puppet run); the command waits.
    static let lockWait = 7 * 24 * 3600.0

    func run(_ command: Command, id: String, source: String, started: String) async -> CommandResult {
        let instanceID = instance.instanceID
        var result = CommandResult(command: id, source: source, instanceID: instanceID, outcome: .failed, exit: ExitStatus.failed.rawValue,
                                   started: started, finished: "", actions: [], error: nil, output: [])
        let lock: FileLock
        do {
            let (path, logger) = (paths.lockFile, logger)
            lock = try await Task.detached { try FileLock(path: path, timeout: Self.lockWait, logger: logger) }.value
        } catch {
            result.error = "\(error)"
            result.finished = Timestamp.now()
            return result
        }
        defer { withExtendedLifetime(lock) {} }
        let tail = OutputTail()
        let context = instance.context(paths: paths, config: config, actions: command.actions)
        let report = await ActionEngine(selection: .all, record: .command)
            .run(command.actions, instanceID: instanceID, context: context, logger: tail.logger(from: logger))
        result.actions = RunStatus.load(paths, .command)?.actions ?? []
        result.outcome = report.failures.isEmpty ? .ok : (Interruption.signal != nil ? .interrupted : .failed)
        result.exit = report.failures.isEmpty ? ExitStatus.ok.rawValue : ExitStatus.failed.rawValue
        result.error = report.failures.isEmpty ? nil : report.failures.joined(separator: "; ")
        result.output = tail.captured
        result.finished = Timestamp.now()
        return result
    }
}
