import ArgumentParser
import EC2BootCLI
import EC2BootKit

/// `ec2-boot-init watch`, `push` and `nodes`: ZooKeeper's client lives here, never in a boot.
/// `ec2-boot-init` runs this program for those commands (see `HelperProgram`).
@main
struct WatchProgram: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ec2-boot-init",
        abstract: "The commands of ec2-boot-init that talk to ZooKeeper; run them as `ec2-boot-init watch|push|nodes`.",
        version: EC2BootVersion.string,
        subcommands: [WatchCommand.self, PushCommand.self, NodesCommand.self]
    )

    static func main() async {
        let arguments = Array(CommandLineProgram.vector().dropFirst())
        CommandLineProgram.requireProc(arguments)
        await CommandLineProgram.run(Self.self, arguments)
    }
}
