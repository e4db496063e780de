import ArgumentParser
import EC2BootCLI
import EC2BootCoordination
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

struct NodesCommand: AsyncParsableCommand {
    static let configuration = HelperCommands.nodes

    @OptionGroup var server: ZooKeeperOptions

    @Flag(help: "Print a JSON list.")
    var json = false

    func run() async throws {
        LogSetup.bootstrap(level: .warning, syslog: false)
        let session = try await server.connect()
        defer { session.close() }
        let entries: [NodeList.Entry]
        do { entries = try await NodeList.read(session) } catch where error.code == ZKError.noNode {
            entries = []
        } catch {
            printError("ec2-boot-init: \(error)")
            throw ExitCode(.failed)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(entries.map(Node.init)), as: UTF8.self))
            return
        }
        for entry in entries {
            let last = entry.lastResult.map { "\($0.outcome.rawValue) (exit \($0.exit), \(Printable.escape($0.finished)))" } ?? "no command yet"
            // Everything here was written by whoever can write ZooKeeper: no escape sequence reaches the terminal.
            print([entry.instanceID, entry.presence["hostname"] ?? "-"].map { Printable.escape($0, limit: 256) }.joined(separator: "\t")
                  + "\tsince \(Printable.escape(entry.presence["since"] ?? "-"))\tlast: \(last)")
        }
    }

    /// One node in `nodes --json`: `last_result` left out before its first command.
    private struct Node: Encodable {
        let instance_id: String
        let alive: [String: String]
        let last_result: CommandResult?

        init(_ entry: NodeList.Entry) {
            (instance_id, alive, last_result) = (entry.instanceID, entry.presence, entry.lastResult)
        }
    }
}
