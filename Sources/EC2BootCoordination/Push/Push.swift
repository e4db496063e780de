import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// The operator's side: writes a command to a node's or a group's `command` znode, then waits
/// for the answers, woken by watches on the result znodes (no polling).
public struct Push: Sendable {
    public enum Target: Sendable {
        case node(String)
        case group(String)

        /// `/ec2boot/nodes/ID` or `/ec2boot/groups/NAME`; a name starting with `/` is a path as it is.
        public var path: String {
            switch self {
            case .node(let id): return id.hasPrefix("/") ? id : WatchTarget.nodesRoot + "/" + id
            case .group(let name): return name.hasPrefix("/") ? name : WatchTarget.groupsRoot + "/" + name
            }
        }
    }

    /// One node's answer; nil result when it did not answer in time. `ignored`: why a result
    /// found there was not believed (someone other than the fleet's identity wrote it).
    public struct Answer: Sendable {
        public let instanceID: String
        public let result: CommandResult?
        public var ignored: String?
        public var ok: Bool { result?.outcome == .ok }
    }

    /// How a command is signed: the operator's key, and the signature's lifetime and id.
    public struct Signing: Sendable {
        public let key: Signify.SecretKey
        public let lifetime: Double
        public let id: String
        public init(key: Signify.SecretKey, lifetime: Double, id: String? = nil) {
            self.key = key
            self.lifetime = lifetime
            self.id = id ?? Self.newID()
        }

        /// Time and randomness: unique without coordination between operators.
        static func newID() -> String {
            Timestamp.now().filter(\.isNumber) + "-" + (0..<8).map { _ in UInt8.random(in: 0...255) }.hex
        }
    }

    public let session: ZKSession
    /// The chroot of the ZooKeeper connect string: part of what a command is signed for.
    public let chroot: String

    public init(session: ZKSession, hosts: String) {
        self.session = session
        chroot = WatchTarget.chroot(hosts)
    }

    /// The command's form, as a watcher checks it (any type: the node checks its own `allow`).
    public static func check(_ command: Data) throws(CommandRefused) {
        _ = try Command.parse(command, allow: nil)
    }

    /// Writes `command` (checked first; signed when `signing` is given) and waits up to `wait` seconds.
    public func send(_ command: Data, to target: Target, signing: Signing?, wait: Double) async throws -> [Answer] {
        try Self.check(command)
        let base = target.path
        let written = try signing.map {
            try SignedCommand.seal(command, target: chroot + base, expires: Date().addingTimeInterval($0.lifetime), id: $0.id, key: $0.key)
        } ?? command
        let commandPath = base + "/command"
        let members: [String]
        switch target {
        case .node(let id): members = [id.hasPrefix("/") ? id.baseName : id]
        case .group: members = (try? await session.children(base + "/members")) ?? []
        }
        let stat: ZKStat
        do { stat = try await session.set(commandPath, written) } catch {
            guard error.code == ZKError.noNode else { throw error }
            throw PushError("no \(commandPath): no watcher has registered there")
        }
        let id = signing?.id ?? String(stat.mzxid, radix: 16)
        let resultPath: (String) -> String = { member in
            if case .group = target { return base + "/results/" + member }
            return base + "/result"
        }
        var answers: [String: CommandResult] = [:], ignored: [String: String] = [:]
        let deadline = Deadline(seconds: wait)
        let timer = Task { [session] in
            try? await Task.sleep(until: deadline.end)
            session.finish()
        }
        defer { timer.cancel() }
        func check(_ member: String) async {
            guard answers[member] == nil else { return }
            let path = resultPath(member)
            // Set the watch first (exists also watches a node not made yet), then read.
            guard (try? await session.exists(path, watch: true)) != nil,
                  let (data, _) = try? await session.get(path, watch: true, limit: 1 << 20),
                  let result = try? JSONDecoder().decode(CommandResult.self, from: data), result.command == id else { return }
            // A group's member answers for itself (a node named by path may be any instance).
            if case .group = target, result.instanceID != member { return }
            if let doubt = await doubt(path) { ignored[member] = doubt } else { answers[member] = result }
        }
        for member in members { await check(member) }
        if answers.count < members.count {
            for await event in session.events {
                if case .changed(let path) = event, let member = members.first(where: { resultPath($0) == path }) {
                    await check(member)
                } else if event == .connected {
                    for member in members { await check(member) }
                }
                if answers.count == members.count { break }
            }
        }
        return members.sorted().map { Answer(instanceID: $0, result: answers[$0], ignored: ignored[$0]) }
    }

    /// Why the result at `path` is not believed, or nil: it must be writable only by identities
    /// that may create in its folder (the fleet's and the operator's), as a node makes it; one
    /// made first by another client, with an ACL of its own, is not the node's word.
    func doubt(_ path: String) async -> String? {
        let folder = path.parentFolder
        guard let (acl, _) = try? await session.getACL(path), let (folderACL, _) = try? await session.getACL(folder) else {
            return "its ACL could not be read"
        }
        if acl.isWrittenByCreatorsOf(folderACL) { return nil }
        return "written by \(acl.entries.map(\.description).joined(separator: ", ")), not only by those who may create in \(folder) "
            + "(\(folderACL.entries.map(\.description).joined(separator: ", "))): not the node's own answer"
    }
}

/// `ec2-boot-init nodes`: the live nodes and what they last reported.
public struct NodeList: Sendable {
    public struct Entry: Sendable {
        public let instanceID: String
        public let presence: [String: String]
        public let lastResult: CommandResult?
    }

    public static func read(_ session: ZKSession) async throws(ZKError) -> [Entry] {
        let root = WatchTarget.nodesRoot
        var out: [Entry] = []
        for id in try await session.children(root).sorted() {
            guard let (data, _) = try? await session.get(root + "/\(id)/alive", limit: 64 * 1024) else { continue }
            var presence: [String: String] = [:]
            for (key, value) in JSONValue(json: data)?.object ?? [:] { presence[key] = value.string }
            let result = (try? await session.get(root + "/\(id)/result", limit: 1 << 20))
                .flatMap { try? JSONDecoder().decode(CommandResult.self, from: $0.0) }
            out.append(Entry(instanceID: id, presence: presence, lastResult: result))
        }
        return out
    }
}

public struct PushError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
