import ArgumentParser
import EC2BootCLI
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

    @Flag(help: "Show the last command `watch` ran instead of the boot's run.")
    var command = false

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout <= Seconds.max) {
            throw ValidationError("--timeout: expected seconds above 0 and at most \(Int(Seconds.max))")
        }
    }

    func run() async throws {
        let config = try global.load()
        let paths = global.paths
        let record: RunStatus.Record = command ? .command : .boot
        var status = RunStatus.load(paths, record)
        let giveUp = timeout.map { ContinuousClock.now + .seconds($0) }
        while wait, await Self.stillComing(paths) {
            if let giveUp, ContinuousClock.now >= giveUp {
                printError("ec2-boot-init: still running after \(timeout!) s")
                throw ExitCode(.busy)
            }
            try await Task.sleep(nanoseconds: 200_000_000)
            status = RunStatus.load(paths, record)
        }
        guard let status else {
            printError("ec2-boot-init: no run recorded yet in \(paths.stateDir)")
            throw ExitCode(.busy)
        }
        let running = status.finished == nil && RunLock.isHeld(paths)
        if json {
            var status = status
            // What the run's user-data asked for that nothing here does, from the cache it ran from.
            status.unsupported = ((try? InstanceView.cached(paths: paths, config: config))??.userData.unsupported ?? []).map(\.description)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            FileHandle.standardOutput.write(try encoder.encode(status) + Data("\n".utf8))
        } else {
            print(StatusTable.render(status, running: running))
        }
        if running { throw ExitCode(.busy) }
        if status.finished == nil { throw ExitCode(.failed) }
        if !status.allOK { throw ExitCode(.failed) }
    }

    /// A run holds the lock, or the data stage left actions for an actions stage that may still come.
    static func stillComing(_ paths: Paths) async -> Bool {
        if RunLock.isHeld(paths) { return true }
        return StageMarker.actionsPending(paths) ? !(await actionsUnitGaveUp(paths)) : false
    }

    /// The actions stage will not come: its unit failed, or is not enabled, under the systemd that
    /// runs this machine (asked only on a real root).
    static func actionsUnitGaveUp(_ paths: Paths) async -> Bool {
        guard paths.root == "/", FileManager.default.fileExists(atPath: "/run/systemd/system") else { return false }
        func systemctl(_ verb: String) async -> Int32? {
            await SystemCommand.capture(["/bin/systemctl", verb, "--quiet", "ec2-boot-init-actions.service"])?.0
        }
        if await systemctl("is-failed") == 0 { return true }
        return await systemctl("is-enabled").map { $0 != 0 } == true
    }
}
