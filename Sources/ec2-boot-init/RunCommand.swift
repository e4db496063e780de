import ArgumentParser
import EC2BootKit

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Fetch and cache instance data, write facts and the MOTD (the default)."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let config = try global.load()
        let run = BootRun(paths: global.paths, config: config, source: try global.source(config), logger: logger)
        let status = await run.run()
        if status != .ok { throw ExitCode(status) }
    }
}
