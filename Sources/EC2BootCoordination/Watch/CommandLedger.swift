import EC2BootKit
import Foundation

/// Which commands this node has handled, per command znode, kept in the state folder
/// (`watch.json`, 0600) so a restarted watcher neither repeats a finished command nor forgets
/// one it was running when it was stopped. A command is its znode's `mzxid`: the write that set it.
struct CommandLedger: Codable {
    struct Source: Codable {
        /// Handled command ids, newest last (a group's are kept: a node never clears them).
        var handled: [String] = []
        /// The command started and not finished, if the watcher stopped midway.
        var running: String?
    }

    var sources: [String: Source] = [:]
    static let kept = 100

    static func file(_ paths: Paths) -> String { paths.stateDir + "/watch.json" }

    static func load(_ paths: Paths) -> CommandLedger {
        guard let data = FileSystem.read(file(paths)),
              let ledger = try? JSONDecoder().decode(CommandLedger.self, from: data) else { return CommandLedger() }
        return ledger
    }

    func save(_ paths: Paths) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: Self.file(paths), mode: 0o600, directoryMode: 0o700, ownedFolder: true)
    }

    /// What to do with command `id` read from `path`.
    enum Verdict: Equatable { case run, done, interrupted, joinedAfter }

    func verdict(_ id: String, at path: String, isGroup: Bool) -> Verdict {
        guard let source = sources[path] else {
            // A group's standing command predates this node: its first boot configured it already.
            return isGroup ? .joinedAfter : .run
        }
        if source.handled.contains(id) { return .done }
        if source.running == id { return .interrupted }
        return .run
    }

    mutating func started(_ id: String, at path: String) {
        sources[path, default: Source()].running = id
    }

    mutating func finished(_ id: String, at path: String) {
        var source = sources[path, default: Source()]
        if source.running == id { source.running = nil }
        source.handled.removeAll { $0 == id }
        source.handled.append(id)
        source.handled = Array(source.handled.suffix(Self.kept))
        sources[path] = source
    }

    /// A group first seen with nothing in it: later commands there are new.
    mutating func know(_ path: String) {
        if sources[path] == nil { sources[path] = Source() }
    }
}
