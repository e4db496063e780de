import ArgumentParser
import EC2BootKit
import EC2BootCLI
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

@main
struct EC2BootInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ec2-boot-init",
        abstract: "Turns a generic cloud image into the server its user-data describes.",
        discussion: """
        Reads user-data and the instance metadata (EC2 IMDS, or a --seed folder), caches them in /var/spool/ec2boot, writes /etc/facts.txt and Facter facts, runs the user-data's actions on an instance's first boot, and writes /etc/motd. With no subcommand it runs `run`.

        Exit codes: 0 ok; 1 something the run was asked to do failed; 2 bad usage, config or user-data; 3 no data source (IMDS unreachable within the deadline and no cache); 4 (fetch) the server said 404.
        """,
        version: EC2BootVersion.string,
        subcommands: [RunCommand.self, StatusCommand.self, QueryCommand.self, ValidateCommand.self, FetchCommand.self, CleanCommand.self,
                      WatchEntry.self, PushEntry.self, NodesEntry.self, SchemaCommand.self],
        defaultSubcommand: RunCommand.self
    )

    static func main() async {
        let vector = CommandLineProgram.vector()
        // systemd runs the generator as /usr/lib/systemd/system-generators/ec2-boot-init-generator, a link to this binary.
        if vector[0].split(separator: "/").last == "ec2-boot-init-generator" { Glibc.exit(Generator.run(Array(vector.dropFirst()))) }
        var arguments = Array(vector.dropFirst())
        CommandLineProgram.requireProc(arguments)
        // The NumberFour fork's `ec2-boot-init --boot`: a whole boot, which is `run`.
        if arguments.first == "--boot" { arguments[0] = "run" }
        // ZooKeeper's commands live in their own program: this one never loads its client.
        let named = arguments.first == "help" ? arguments.dropFirst().first : arguments.first
        if let named, HelperProgram.watchCommands.contains(named) {
            printError("ec2-boot-init: \(HelperProgram.watch.exec(arguments))")
            // `watch --check` is the unit's ExecCondition: 1 would skip the unit as unconfigured;
            // a missing helper is an install that cannot work, 255 fails it visibly.
            exit(withError: ExitCode(named == "watch" && arguments.contains("--check") ? 255 : ExitStatus.failed.rawValue))
        }
        // `ec2-boot-init stauts` would otherwise be taken as an argument of the default `run`.
        let names = configuration.subcommands.compactMap { $0.configuration.commandName }
        if let first = arguments.first, !first.hasPrefix("-"), !names.contains(first), first != "help" {
            let hint = Suggestion.nearest(first, among: names, maxDistance: 3).map { " Did you mean '\($0)'?" } ?? ""
            printError("ec2-boot-init: unknown command '\(first)'.\(hint) Commands: \(names.joined(separator: ", ")) (see --help).")
            exit(withError: ExitCode(.badInput))
        }
        await CommandLineProgram.run(Self.self, arguments)
    }
}

/// `watch`, `push` and `nodes` in this program's help; `main` hands them to `ec2-boot-init-watch`.
struct WatchEntry: ParsableCommand { static let configuration = HelperCommands.watch }
struct PushEntry: ParsableCommand { static let configuration = HelperCommands.push }
struct NodesEntry: ParsableCommand { static let configuration = HelperCommands.nodes }
