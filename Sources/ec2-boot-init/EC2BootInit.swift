import ArgumentParser
import EC2BootKit

@main
struct EC2BootInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ec2-boot-init",
        abstract: "Turns a generic cloud image into the server its user-data describes.",
        discussion: """
        Reads user-data and the instance metadata (EC2 IMDS, or a --seed folder), caches them in /var/spool/ec2boot, writes /etc/facts.txt and Facter facts, runs the user-data's actions on an instance's first boot, and writes /etc/motd. With no subcommand it runs `run`.

        Exit codes: 0 ok; 1 something the run was asked to do failed; 2 bad usage, config or user-data; 3 no data source (IMDS unreachable within the deadline and no cache).
        """,
        version: EC2BootVersion.string,
        subcommands: [RunCommand.self, StatusCommand.self, QueryCommand.self, ValidateCommand.self, FetchCommand.self, CleanCommand.self],
        defaultSubcommand: RunCommand.self
    )

    /// ArgumentParser's own main, but a usage error exits 2 (its default is 64) as documented.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                exit(withError: ExitCode(.badInput))
            }
            exit(withError: error)
        }
    }
}
