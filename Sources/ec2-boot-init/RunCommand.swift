import ArgumentParser
import EC2BootCLI
import EC2BootKit

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Fetch and cache instance data, write facts, run the actions, write the MOTD (the default).",
        discussion: """
        Actions run on the first boot of an instance (an instance-id not seen before), and a run that was interrupted picks up where it stopped. Later runs refresh the data, facts and MOTD only.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Run every action again, even if this instance already ran them.")
    var force = false

    @Option(help: ArgumentHelp("Run only the actions of these types.", valueName: "TYPE[,TYPE]"))
    var only: String?

    @Flag(help: "Run no actions.")
    var noActions = false

    @Option(help: ArgumentHelp("Do one stage of the boot, as the systemd units do: data (fetch, cache, facts, a MOTD saying actions are coming; before logins) or actions (from the cache: the actions and the final MOTD). Without it, both.", valueName: "data|actions"))
    var stage: BootRun.Stage?

    func validate() throws {
        if [force, only != nil, noActions].filter({ $0 }).count > 1 {
            throw ValidationError("--force, --only and --no-actions exclude each other")
        }
        if stage == .all { throw ValidationError("--stage takes data or actions (without --stage, run does both)") }
    }

    func run() async throws {
        let config = try global.load()
        let selection: ActionSelection
        if noActions {
            selection = .none
        } else if let only {
            selection = .only(Set(only.split(separator: ",").map { String($0).trimmingWhitespace() }))
        } else {
            selection = force ? .all : .firstBoot
        }
        Interruption.install()
        let run = BootRun(paths: global.paths, config: config, source: try global.source(config),
                          actions: ActionEngine(selection: selection), stage: stage ?? .all, logger: logger)
        let status = await run.run()
        if status != .ok { throw ExitCode(status) }
    }
}

extension BootRun.Stage: ExpressibleByArgument {}
