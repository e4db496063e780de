import ArgumentParser
import EC2BootCLI
import EC2BootKit

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the parameters each built-in action type takes, or every config.yaml key.",
        discussion: "Without TYPE: every type, one line each. --markdown prints docs/actions.md's parameter reference; --config every config.yaml key at its default (--packaged: the file the packages install, each line commented out)."
    )

    @Argument(help: "An action type (shell, getactions, chef, …).")
    var type: String?

    @Flag(help: "Every type's table as Markdown.")
    var markdown = false

    @Flag(help: "Every config.yaml key at its default, with a note.")
    var config = false

    @Flag(help: "With --config: the packaged config.yaml, every line commented out.")
    var packaged = false

    func validate() throws {
        if packaged && !config { throw ValidationError("--packaged goes with --config") }
        if config && (markdown || type != nil) { throw ValidationError("--config prints the config keys: no TYPE or --markdown with it") }
    }

    func run() throws {
        let types = ActionRegistry.types
        if config {
            print(packaged ? ConfigKeys.packagedFile : ConfigKeys.yaml(), terminator: "")
        } else if markdown {
            print(SchemaText.markdown(types), terminator: "")
        } else if let type {
            guard let found = types.first(where: { $0.type == ActionRegistry.canonicalName(type) }) else {
                printError("ec2-boot-init: no built-in action type \(type) (known: \(types.map { $0.type }.joined(separator: ", "))); "
                           + "any other type is a hosted action, whose parameters are its own")
                throw ExitCode(.badInput)
            }
            print(SchemaText.plain(found), terminator: "")
        } else {
            let width = types.map { $0.type.count }.max() ?? 0
            for type in types {
                print("\(type.type.padded(to: width))  \(type.schema.summary)")
            }
        }
    }
}
