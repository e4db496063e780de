import Crypto
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Which commands this node has handled, kept in the state folder (`watch.json`, 0600), so a
/// restarted watcher neither repeats a finished command nor forgets one it was running.
/// Two identities: a znode write (`WriteKey`: its mzxid and a hash of its bytes, so a rebuilt
/// ZooKeeper that reuses an mzxid is not mistaken for an old write) says which data was already
/// looked at; a signed command's `id` says what already ran, whatever bytes carried it.
/// Every decision here is a pure function of the ledger and the time given, tested as a table.
struct CommandLedger: Codable, Equatable {
    struct Source: Codable, Equatable {
        /// Handled write keys, newest last (a group's are kept: a node never clears them).
        var handled: [String] = []
        /// The write started and not finished, if the watcher stopped midway.
        var running: String?
        /// When this node first watched the source (seconds since 1970): a group command issued
        /// before it is not this node's to run.
        var joined: Double?
    }

    var sources: [String: Source] = [:]
    /// Signed ids taken here, with their expiry (seconds since 1970): kept `idMargin` past it.
    var ids: [String: Double]?
    /// The latest time (seconds since 1970) a command was admitted at: a clock behind it was
    /// stepped back, and ids pruned since could be replayed.
    var latest: Double?
    static let kept = 100, keptIDs = 100_000
    /// How long an id is kept after it expires: a clock stepped back by less still finds it.
    static let idMargin = SignedCommand.maxLifetime

    static func file(_ paths: Paths) -> String { paths.stateDir + "/watch.json" }

    /// The ledger, with what an older version wrote brought up to date (see `migrated`).
    static func load(_ paths: Paths, now: Date = Date()) -> (ledger: CommandLedger, dropped: Int) {
        (StateFile<CommandLedger>(file(paths)).load() ?? CommandLedger()).migrated(now: now)
    }

    func save(_ paths: Paths) throws { try StateFile(Self.file(paths)).save(self) }

    /// Versions before write keys recorded a bare mzxid: on a rebuilt ZooKeeper a new command can
    /// reuse it, and would be cleared unrun. Those entries are dropped (a signed command they
    /// stood for is still known by its id). A source known before join times were kept is taken
    /// as joined now: a command issued earlier is refused there, never run on an assumption.
    func migrated(now: Date) -> (ledger: CommandLedger, dropped: Int) {
        var out = self, dropped = 0
        for (path, source) in sources {
            var kept = source
            kept.handled = source.handled.filter(WriteKey.isKey)
            if let running = source.running, !WriteKey.isKey(running) { kept.running = nil; dropped += 1 }
            dropped += source.handled.count - kept.handled.count
            if kept.joined == nil { kept.joined = now.timeIntervalSince1970.rounded(.down) }
            out.sources[path] = kept
        }
        return (out, dropped)
    }

    /// What to do with write `key` read from `path`.
    enum Verdict: Equatable { case run, done, interrupted, joinedAfter }

    func verdict(_ key: WriteKey, at path: String, isGroup: Bool) -> Verdict {
        guard let source = sources[path] else {
            // A group's standing command predates this node: its first boot configured it already.
            return isGroup ? .joinedAfter : .run
        }
        if source.handled.contains(key.text) { return .done }
        if source.running == key.text { return .interrupted }
        return .run
    }

    /// When this node joined `path`'s source, if it keeps a time for it.
    func joined(_ path: String) -> Date? { sources[path]?.joined.map(Date.init(timeIntervalSince1970:)) }

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
    mutating func claim(_ id: String, expires: Date, now: Date) -> Bool {
        var taken = (ids ?? [:]).filter { $0.value + Self.idMargin > now.timeIntervalSince1970 }
        guard taken[id] == nil else { return false }
        if taken.count >= Self.keptIDs, let oldest = taken.min(by: { $0.value < $1.value }) { taken[oldest.key] = nil }
        taken[id] = expires.timeIntervalSince1970
        ids = taken
        return true
    }

    /// The latest admission's time, when `now` is before it (the clock went back); else nil.
    func clockBehind(_ now: Date) -> Date? {
        guard let latest, now.timeIntervalSince1970 < latest else { return nil }
        return Date(timeIntervalSince1970: latest)
    }

    /// A command admitted at `now`. Only admissions move the latest time: a write refused (or
    /// unsigned) while the clock runs ahead must not hold later commands up.
    mutating func admitted(at now: Date) {
        latest = max(latest ?? 0, now.timeIntervalSince1970)
    }

    /// `path` first watched now (a group with nothing in it, or with a standing command): later
    /// commands there are new, and must be issued from now on.
    mutating func join(_ path: String, now: Date) {
        // In whole seconds, as `issued` is written: a command issued in the second of the join is the node's.
        if sources[path] == nil { sources[path] = Source(joined: now.timeIntervalSince1970.rounded(.down)) }
    }
}

/// One write of a command znode: its mzxid and the first bytes of its data's SHA-256.
struct WriteKey: Equatable {
    let mzxid: String
    let text: String

    init(_ stat: ZKStat, _ data: Data) {
        mzxid = String(stat.mzxid, radix: 16)
        text = mzxid + "-" + SHA256.hash(data: data).prefix(8).hex
    }

    /// `2a-0123456789abcdef`, as opposed to an older version's bare mzxid.
    static func isKey(_ text: String) -> Bool { text.contains("-") }
}
