import ArgumentParser
import EC2BootCLI
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the last run: each action's result, exit code and duration.",
        discussion: "Every run is recorded, also one that ends before its actions (invalid user-data, a failed #include, no instance data, a stop). Exit 0 when every action succeeded, 1 when one failed, the run ended early or was interrupted (the next run resumes it), 2 while a run is going on, before any run, or when the record is root's and no summary is there (run as root). Users who are not root see the summary in /run/ec2-boot-init/status.json: the rows and errors, without the actions' messages."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print a JSON object: status (not-run, running, done, error, disabled), errors, stage, boot_id, instance_id, started, finished, actions.")
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
        var (status, summary) = load(paths)
        let giveUp = timeout.map { Deadline(seconds: $0) }
        while wait, await Self.stillComing(paths) {
            if let giveUp, giveUp.passed {
                printError("ec2-boot-init: still running after \(timeout!) s")
                throw ExitCode(.busy)
            }
            try await Task.sleep(nanoseconds: 200_000_000)
            (status, summary) = load(paths)
        }
        // A run holds the lock, or this boot's actions stage is still to come (and its unit has not given up).
        let running = await Self.stillComing(paths)
        guard var status else {
            if json { try Self.emit(RunStatus.notRun) }
            printError(command ? "ec2-boot-init: watch has run no command on this root yet (\(RunStatus.file(paths, .command)))"
                               : "ec2-boot-init: no run recorded yet in \(paths.stateDir)")
            throw ExitCode(.busy)
        }
        if !summary && !command { status.readEssentials(paths) }
        if json {
            try Self.emit(decorated(status, running: running, config: config, paths: paths))
        } else {
            print(StatusTable.render(status, running: running))
            if summary { print("\n(the summary every user may read; the actions' details need root: sudo ec2-boot-init status)") }
        }
        if running { throw ExitCode(.busy) }
        if status.summary(running: false) == "error" { throw ExitCode(.failed) }
    }

    /// The record asked for, or the summary when it is root's; a user who may read neither is told so.
    private func load(_ paths: Paths) -> (RunStatus?, summary: Bool) {
        let found = RunStatus.loadForAnyone(paths, command ? .command : .boot)
        if found.denied {
            printError("ec2-boot-init: permission denied: the \(command ? "command's" : "run's") record in \(paths.stateDir) is root's: run as root (sudo)")
            Glibc.exit(ExitStatus.busy.rawValue)
        }
        return (found.status, found.summary)
    }

    /// `status --json`: the record, with cloud-init's top-level words beside its rows.
    private func decorated(_ status: RunStatus, running: Bool, config: Config, paths: Paths) -> RunStatus {
        var status = status
        // What the run's user-data asked for that nothing here does, from the cache it ran from.
        status.unsupported = ((try? InstanceView.cached(paths: paths, config: config))??.userData.unsupported ?? []).map(\.description)
        status.state = status.summary(running: running)
        status.stage = StageMarker.actionsPending(paths) ? "actions" : RunLock.isHeld(paths) ? "data" : "done"
        status.errors = status.errors ?? []
        return status
    }

    static func emit(_ status: RunStatus) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileSystem.writeAll(try encoder.encode(status) + Data("\n".utf8), to: STDOUT_FILENO, path: "stdout")
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
