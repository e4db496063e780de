import CZooKeeper
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Who may do what to a znode. Built here rather than from the C client's globals
/// (`ZOO_OPEN_ACL_UNSAFE`), which Swift 6 refuses as shared mutable state.
public struct ZKACL: Sendable, Equatable {
    public struct Entry: Sendable, Equatable, CustomStringConvertible {
        public let perms: Int32, scheme: String, id: String
        public init(perms: Int32, scheme: String, id: String) {
            self.perms = perms
            self.scheme = scheme
            self.id = id
        }
        /// `world:anyone:rw` as zkCli prints it (a digest id shows its user only).
        public var description: String {
            let letters = zip("rwcda", [ZKACL.read, ZKACL.write, ZKACL.create, ZKACL.delete, ZKACL.admin])
                .filter { perms & $0.1 != 0 }.map { String($0.0) }.joined()
            return "\(scheme):\(scheme == "digest" ? String(id.prefix { $0 != ":" }) : id):\(letters)"
        }
    }
    public static let read: Int32 = 1, write: Int32 = 2, create: Int32 = 4, delete: Int32 = 8, admin: Int32 = 16, all: Int32 = 31

    public let entries: [Entry]

    public static let open = ZKACL(entries: [Entry(perms: all, scheme: "world", id: "anyone")])

    public init(entries: [Entry]) { self.entries = entries }

    /// Full rights for each digest ACL id; `othersMay` for everyone else. No id: open to all.
    public static func writers(_ ids: [String], othersMay perms: Int32) -> ZKACL {
        guard !ids.isEmpty else { return open }
        var entries = Set(ids).sorted().map { Entry(perms: all, scheme: "digest", id: $0) }
        if perms != 0 { entries.append(Entry(perms: perms, scheme: "world", id: "anyone")) }
        return ZKACL(entries: entries)
    }

    /// The entries that let someone other than `writers` (digest ids) change the data or the
    /// ACL. With no writers everyone is meant to (`open`): then only a digest entry is another's.
    /// `holder` is the digest id this client is authenticated as.
    public func othersWriting(_ writers: [String], holder: String?) -> [Entry] {
        entries.filter { $0.perms & (Self.write | Self.admin) != 0 && !Self.isOneOf(writers, $0, holder: holder) }
    }

    /// Whether `entry` names one of `ids` (digest ids); with none, the world stands for them.
    /// ZooKeeper shows a digest id's hash only to a client with ADMIN on the znode (`user:x`
    /// otherwise). Where `holder` is among the ids it would have ADMIN, so a redacted entry
    /// is someone else's, whatever user name it shows (a squatter may take the fleet's name
    /// with a password of its own). Elsewhere (the operator's command znode, which the node
    /// only reads) the hash cannot be seen, and the entry is matched by its user.
    static func isOneOf(_ ids: [String], _ entry: Entry, holder: String?) -> Bool {
        guard !ids.isEmpty else { return entry.scheme == "world" }
        guard entry.scheme == "digest" else { return false }
        if ids.contains(entry.id) { return true }
        if let holder, ids.contains(holder) { return false }
        let user = entry.id.prefix { $0 != ":" }
        return entry.id == user + ":x" && ids.contains { $0.prefix { $0 != ":" } == user }
    }

    /// World entries that give more than reading: on a folder many nodes share, the way for any
    /// client to make a node's znode before the node does and hold it.
    public var worldBeyondRead: [Entry] {
        entries.filter { $0.scheme == "world" && $0.perms & ~Self.read != 0 }
    }

    /// This ACL with the world reading only.
    public var worldReadOnly: ZKACL {
        ZKACL(entries: entries.map { $0.scheme == "world" ? Entry(perms: $0.perms & Self.read, scheme: $0.scheme, id: $0.id) : $0 })
    }

    /// Whether a node's result with this ACL was written by an identity the folder holding it
    /// trusts: someone may write it, and everyone who may write it may also create in the folder (the fleet and
    /// the operator), and the world only where the folder is open to all writers. A client that
    /// made the result first with an identity of its own, or open to all in a closed folder, is
    /// not believed.
    public func isWrittenByCreatorsOf(_ folder: ZKACL) -> Bool {
        let worldWrites = folder.entries.contains { $0.scheme == "world" && $0.perms & Self.write != 0 }
        let creators = folder.entries.filter { $0.perms & Self.create != 0 && ($0.scheme != "world" || worldWrites) }
        let writers = entries.filter { $0.perms & (Self.write | Self.admin) != 0 }
        return !writers.isEmpty && writers.allSatisfy { writer in creators.contains { $0.scheme == writer.scheme && $0.id == writer.id } }
    }

    func withVector<R>(_ body: (UnsafePointer<ACL_vector>) -> R) -> R {
        var strings: [UnsafeMutablePointer<CChar>] = []
        defer { strings.forEach { free($0) } }
        var acls = entries.map { entry -> ACL in
            let scheme = strdup(entry.scheme)!, id = strdup(entry.id)!
            strings += [scheme, id]
            return ACL(perms: entry.perms, id: Id(scheme: scheme, id: id))
        }
        return acls.withUnsafeMutableBufferPointer { buffer in
            var vector = ACL_vector(count: Int32(buffer.count), data: buffer.baseAddress)
            return withUnsafePointer(to: &vector, body)
        }
    }
}
