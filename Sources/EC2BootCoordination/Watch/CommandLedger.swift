import Crypto
import EC2BootKit
import Foundation

/// Which commands this node has handled, kept in the state folder (`watch.json`, 0600), so a
/// restarted watcher neither repeats a finished command nor forgets one it was running.
/// Two identities: a znode write (`WriteKey`: its mzxid and a hash of its bytes, so a rebuilt
/// ZooKeeper that reuses an mzxid is not mistaken for an old write) says which data was already
/// looked at; a signed command's `id` says what already ran, whatever bytes carried it.
struct CommandLedger: Codable {
    struct Source: Codable {
        /// Handled write keys, newest last (a group's are kept: a node never clears them).
        var handled: [String] = []
        /// The write started and not finished, if the watcher stopped midway.
        var running: String?
    }

    var sources: [String: Source] = [:]
    /// Signed ids taken here, with their expiry (seconds since 1970): kept until then, after
    /// which a replay is refused as expired anyway.
    var ids: [String: Double]?
    static let kept = 100, keptIDs = 100_000

    static func file(_ paths: Paths) -> String { paths.stateDir + "/watch.json" }

    static func load(_ paths: Paths) -> CommandLedger { StateFile(file(paths)).load() ?? CommandLedger() }

    func save(_ paths: Paths) throws { try StateFile(Self.file(paths)).save(self) }

    /// What to do with write `key` read from `path`.
    enum Verdict: Equatable { case run, done, interrupted, joinedAfter }

    func verdict(_ key: WriteKey, at path: String, isGroup: Bool) -> Verdict {
        guard let source = sources[path] else {
            // A group's standing command predates this node: its first boot configured it already.
            return isGroup ? .joinedAfter : .run
        }
        // An mzxid alone: what versions before write keys recorded.
        if source.handled.contains(key.text) || source.handled.contains(key.mzxid) { return .done }
        if source.running == key.text { return .interrupted }
        return .run
    }

    mutating func started(_ key: WriteKey, at path: String) {
        sources[path, default: Source()].running = key.text
    }

    mutating func finished(_ key: WriteKey, at path: String) {
        var source = sources[path, default: Source()]
        if source.running == key.text { source.running = nil }
        source.handled.removeAll { $0 == key.text }
        source.handled.append(key.text)
        source.handled = Array(source.handled.suffix(Self.kept))
        sources[path] = source
    }

    /// Takes signed `id` for a run: false when it was taken before (a replay).
    mutating func claim(_ id: String, expires: Date, now: Date = Date()) -> Bool {
        var taken = (ids ?? [:]).filter { $0.value > now.timeIntervalSince1970 }
        guard taken[id] == nil else { return false }
        if taken.count >= Self.keptIDs, let oldest = taken.min(by: { $0.value < $1.value }) { taken[oldest.key] = nil }
        taken[id] = expires.timeIntervalSince1970
        ids = taken
        return true
    }

    /// A group first seen with nothing in it: later commands there are new.
    mutating func know(_ path: String) {
        if sources[path] == nil { sources[path] = Source() }
    }
}

/// One write of a command znode: its mzxid and the first bytes of its data's SHA-256.
struct WriteKey: Equatable {
    let mzxid: String
    let text: String

    init(_ stat: ZKStat, _ data: Data) {
        mzxid = String(stat.mzxid, radix: 16)
        text = mzxid + "-" + SHA256.hash(data: data).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}
