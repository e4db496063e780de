import ArgumentParser
import EC2BootKit
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the last run: each action's result, exit code and duration.",
        discussion: "Exit 0 when every action succeeded, 1 when one failed or the run was interrupted (the next run resumes it), 2 while a run is going on or before any run."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print a JSON object: instance_id, started, finished, actions.")
    var json = false

    @Flag(help: "Wait until a run in progress ends, and, on a boot whose data stage left actions, until the actions stage has run them.")
    var wait = false

    @Option(help: ArgumentHelp("With --wait: give up after this many seconds (exit 2).", valueName: "seconds"))
    var timeout: Double?

    func run() async throws {
        _ = try global.load()
        let paths = global.paths
        var status = RunStatus.load(paths)
        let giveUp = timeout.map { ContinuousClock.now + .seconds($0) }
        while wait, RunLock.isHeld(paths) || StageMarker.actionsPending(paths) {
            if let giveUp, ContinuousClock.now >= giveUp {
                printError("ec2-boot-init: still running after \(timeout!) s")
                throw ExitCode(.badInput)
            }
            try await Task.sleep(nanoseconds: 200_000_000)
            status = RunStatus.load(paths)
        }
        guard let status else {
            printError("ec2-boot-init: no run recorded yet in \(paths.stateDir)")
            throw ExitCode(.badInput)
        }
        let running = status.finished == nil && RunLock.isHeld(paths)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            FileHandle.standardOutput.write(try encoder.encode(status) + Data("\n".utf8))
        } else {
            print(StatusTable.render(status, running: running))
        }
        if running { throw ExitCode(.badInput) }
        if status.finished == nil { throw ExitCode(.failed) }
        if !status.allOK { throw ExitCode(.failed) }
    }
}
