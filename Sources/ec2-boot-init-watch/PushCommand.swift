import ArgumentParser
import EC2BootCLI
import EC2BootCoordination
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

struct PushCommand: AsyncParsableCommand {
    static let configuration = HelperCommands.push

    @OptionGroup var server: ZooKeeperOptions

    @Option(help: ArgumentHelp("The node's instance id (its znode is /ec2boot/nodes/ID), or a znode path.", valueName: "ID"))
    var node: String?

    @Option(help: ArgumentHelp("The group's name (/ec2boot/groups/NAME), or a znode path.", valueName: "NAME"))
    var group: String?

    @Option(help: ArgumentHelp("Run chef-client with these run-list items.", valueName: "ITEM[,ITEM]"))
    var runList: String?

    @Option(help: ArgumentHelp("Send this action list (YAML or JSON, as in user-data's actions; - reads stdin).", valueName: "FILE"))
    var actions: String?

    @Option(help: ArgumentHelp("Seconds to wait for the results.", valueName: "SECONDS"))
    var wait: Double = 600

    @Option(help: ArgumentHelp("Sign the command with this signify secret key (signify-openbsd -G -n; no passphrase).", valueName: "FILE"))
    var signKey: String?

    @Option(help: ArgumentHelp("Seconds the signature is good for (at most 86400).", valueName: "SECONDS"))
    var expires: Double = 3600

    @Option(help: ArgumentHelp("The signed command's id (default: the time and random hex); a node runs an id once.", valueName: "ID"))
    var id: String?

    func validate() throws {
        if (node == nil) == (group == nil) { throw ValidationError("give exactly one of --node and --group") }
        if (runList == nil) == (actions == nil) { throw ValidationError("give exactly one of --run-list and --actions") }
        if !(wait > 0 && wait <= Seconds.max) { throw ValidationError("--wait: expected seconds above 0") }
        if !(expires > 0 && expires <= SignedCommand.maxLifetime) { throw ValidationError("--expires: expected 1 to 86400 seconds") }
        if signKey == nil && id != nil { throw ValidationError("--id needs --sign-key") }
        if let id, !(1...128).contains(id.utf8.count) || !NameCheck.valid(id, marks: "._:@-") {
            throw ValidationError("--id: expected 1 to 128 letters, digits and ._:@-")
        }
    }

    func run() async throws {
        LogSetup.bootstrap(level: .warning, syslog: false)
        let command: Data
        if let runList {
            let items = runList.split(separator: ",").map { $0.trimmingWhitespace() }
            command = JSONValue.object(["run_list": .array(items.map(JSONValue.string))]).encoded()
        } else {
            guard let data = actions == "-" ? FileSystem.read(fd: STDIN_FILENO, maxBytes: 64 << 20).data : FileSystem.read(actions!) else {
                printError("ec2-boot-init: cannot read \(actions!)")
                throw ExitCode(.badInput)
            }
            command = data
        }
        // Checked before connecting: a bad command is exit 2 at once, whether ZooKeeper answers or not.
        do { try Push.check(command) } catch {
            printError("ec2-boot-init: the command is not valid: \(error)")
            throw ExitCode(.badInput)
        }
        let signing = try signKey.map { Push.Signing(key: try Self.secretKey($0), lifetime: expires, id: id) }
        let session = try await server.connect()
        defer { session.close() }
        let answers: [Push.Answer]
        do {
            answers = try await Push(session: session, hosts: server.zookeeper)
                .send(command, to: node.map { .node($0) } ?? .group(group!), signing: signing, wait: wait)
        } catch {
            printError("ec2-boot-init: \(error)")
            throw ExitCode(.failed)
        }
        for answer in answers {
            guard let result = answer.result else {
                let why = answer.ignored.map { "; a result there was ignored: \(Printable.escape($0, limit: 2000))" } ?? ""
                print("\(Printable.escape(answer.instanceID, limit: 256))\tno answer within \(Int(wait)) s\(why)")
                continue
            }
            let seconds = result.actions.compactMap(\.durationMS).reduce(0, +) / 1000
            // What a node wrote is shown with its control characters escaped: no escape sequence reaches the terminal.
            var line = "\(Printable.escape(answer.instanceID, limit: 256))\t\(result.outcome.rawValue)\texit \(result.exit)\t\(NumberText.fixed(seconds, places: 1)) s"
            if let error = result.error { line += "\t\(Printable.escape(error, limit: 2000))" }
            print(line)
        }
        let answered = answers.filter { $0.result != nil }.count
        print("\(answers.filter(\.ok).count) of \(answers.count) ok, \(answered) answered")
        if answers.isEmpty || !answers.allSatisfy(\.ok) { throw ExitCode(.failed) }
    }
}

extension PushCommand {
    static func secretKey(_ file: String) throws -> Signify.SecretKey {
        guard let data = FileSystem.read(file) else {
            printError("ec2-boot-init: cannot read the secret key \(file)")
            throw ExitCode(.badInput)
        }
        do { return try Signify.secretKey(String(decoding: data, as: UTF8.self)) } catch {
            printError("ec2-boot-init: \(file): \(error)")
            throw ExitCode(.badInput)
        }
    }
}
