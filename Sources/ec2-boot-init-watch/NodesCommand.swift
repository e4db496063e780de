import ArgumentParser
import EC2BootCLI
import EC2BootCoordination
import EC2BootKit
import Foundation

struct NodesCommand: AsyncParsableCommand {
    static let configuration = HelperCommands.nodes

    @Option(help: ArgumentHelp("ZooKeeper servers, host:port[,host:port][/chroot].", valueName: "HOSTS"))
    var zookeeper: String

    @Option(help: ArgumentHelp("A file holding the digest identity, user:password.", valueName: "FILE"))
    var authFile: String?

    @Flag(help: "Print a JSON list.")
    var json = false

    func run() async throws {
        LogSetup.bootstrap(level: .warning, syslog: false)
        let session = try await ZooKeeperOptions.connect(zookeeper, authFile: authFile)
        defer { session.close() }
        let entries: [NodeList.Entry]
        do { entries = try await NodeList.read(session) } catch where error.code == ZKError.noNode {
            entries = []
        } catch {
            printError("ec2-boot-init: \(error)")
            throw ExitCode(.failed)
        }
        if json {
            let list: [[String: Any]] = entries.map { entry in
                var object: [String: Any] = ["instance_id": entry.instanceID, "alive": entry.presence]
                if let result = entry.lastResult, let data = try? JSONEncoder().encode(result) {
                    object["last_result"] = try? JSONSerialization.jsonObject(with: data)
                }
                return object
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: list, options: [.sortedKeys]), as: UTF8.self))
            return
        }
        for entry in entries {
            let last = entry.lastResult.map { "\($0.outcome.rawValue) (exit \($0.exit), \(Printable.escape($0.finished)))" } ?? "no command yet"
            // Everything here was written by whoever can write ZooKeeper: no escape sequence reaches the terminal.
            print([entry.instanceID, entry.presence["hostname"] ?? "-"].map { Printable.escape($0, limit: 256) }.joined(separator: "\t")
                  + "\tsince \(Printable.escape(entry.presence["since"] ?? "-"))\tlast: \(last)")
        }
    }
}
