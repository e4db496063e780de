#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// A JSON file of the agent's own state (status.json, installed-actions.json, watch.json):
/// pretty-printed with sorted keys, so a person can read and diff it; written atomically,
/// 0600 in a 0700 folder that must be root's own. One convention for all of them.
public struct StateFile<Value: Codable> {
    public let path: String
    /// A state file is small; anything larger is not ours and is not read.
    static var maxBytes: Int { 16 << 20 }

    public init(_ path: String) { self.path = path }

    /// Nil when there is none, or it cannot be read as `Value` (then the run starts afresh).
    public func load() -> Value? {
        guard case .data(let data) = FileSystem.read(path, maxBytes: Self.maxBytes) else { return nil }
        return try? JSONDecoder().decode(Value.self, from: data)
    }

    public func save(_ value: Value) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(value), to: path, mode: 0o600, directoryMode: 0o700, ownedFolder: true)
    }
}
