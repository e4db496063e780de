import Crypto
import EC2BootKit
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// A digest identity (`addauth digest user:password`). The password is a secret: it is only
/// ever sent to ZooKeeper, and this type prints without it.
public struct ZKDigest: Sendable, CustomStringConvertible {
    public let user: String
    let password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// "user:password" as `--auth` and the config take it.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return nil }
        self.init(user: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }

    /// The ACL id ZooKeeper's DigestAuthenticationProvider compares: user:base64(sha1(user:password)).
    var aclID: String {
        user + ":" + Data(Insecure.SHA1.hash(data: Data("\(user):\(password)".utf8))).base64EncodedString()
    }

    public var description: String { "\(user):<password>" }
}

/// One logical connection to an ensemble: a C client handle, replaced by a new session when
/// ZooKeeper expires the old one. Blocking C calls run on a dispatch queue, never on the async
/// threads. Events of every session (connected, expired, a watched path changed) arrive on
/// `events`; a replaced handle's late events are dropped.
public final class ZKSession: @unchecked Sendable {
    public let hosts: String
    public let sessionTimeout: Double
    let digest: ZKDigest?
    public let events: AsyncStream<ZKEvent>
    private let continuation: AsyncStream<ZKEvent>.Continuation
    private let lock = Lock()
    private var handle: ZKHandle?
    private var sink: GenerationSink?
    private var connected = false
    private var finished = false
    private static let queue = DispatchQueue(label: "ec2-boot-init.zookeeper", attributes: .concurrent)

    public init(hosts: String, sessionTimeout: Double, digest: ZKDigest?) {
        self.hosts = hosts
        self.sessionTimeout = sessionTimeout
        self.digest = digest
        (events, continuation) = AsyncStream.makeStream(of: ZKEvent.self, bufferingPolicy: .unbounded)
    }

    deinit { continuation.finish() }

    /// Starts a new session (closing the old one, whose ephemeral nodes ZooKeeper then deletes).
    public func renew() throws(ZKError) {
        let next = GenerationSink(session: self)
        let old: ZKHandle?
        lock.lock()
        sink?.active = false
        sink = next
        connected = false
        old = handle
        handle = nil
        lock.unlock()
        _ = old  // closed here, outside the lock
        let fresh = try ZKHandle(hosts: hosts, sessionTimeoutMS: Int32(sessionTimeout * 1000), events: next)
        if let digest { fresh.addAuth(digest) }
        lock.withLock { handle = fresh }
    }

    /// Closes the session now: its ephemeral nodes go at once, not after the timeout.
    public func close() {
        lock.lock()
        sink?.active = false
        let old = handle
        handle = nil
        connected = false
        lock.unlock()
        _ = old
    }

    /// True once connected, false after `timeout` seconds without. Checks every 20 ms: only
    /// while connecting, never while a watcher idles.
    public func waitUntilConnected(timeout: Double) async -> Bool {
        let deadline = Deadline(seconds: timeout)
        while !isConnected {
            guard !deadline.passed else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    public var isConnected: Bool { lock.withLock { connected } }

    /// Ends `events` (a watcher's loop); the session stays until `close`.
    public func finish() {
        lock.withLock { finished = true }
        continuation.finish()
    }

    public var isFinished: Bool { lock.withLock { finished } }
    public var sessionID: Int64? { lock.withLock { handle?.sessionID } }

    fileprivate func receive(_ event: ZKEvent, from source: GenerationSink) {
        let current = lock.withLock { () -> Bool in
            guard source.active else { return false }
            if event == .connected { connected = true }
            if event == .connecting || event == .expired || event == .authFailed { connected = false }
            return true
        }
        guard current else { return }
        continuation.yield(event)
    }

    // MARK: calls

    public func get(_ path: String, watch: Bool = false, limit: Int) async throws(ZKError) -> (Data, ZKStat) {
        try await call { try $0.get(path, watch: watch, limit: limit) }
    }

    @discardableResult
    public func set(_ path: String, _ data: Data, version: Int32 = -1) async throws(ZKError) -> ZKStat {
        try await call { try $0.set(path, data, version: version) }
    }

    public func create(_ path: String, _ data: Data = Data(), acl: ZKACL, ephemeral: Bool = false) async throws(ZKError) {
        try await call { try $0.create(path, data, acl: acl, ephemeral: ephemeral) }
    }

    /// Creates `path` (with `acl`) and the folders above it that are missing (with `parents`,
    /// default `acl`); an existing node is left as it is.
    public func ensure(_ path: String, acl: ZKACL, parents: ZKACL? = nil) async throws(ZKError) {
        var prefix = ""
        let parts = path.split(separator: "/")
        for (index, part) in parts.enumerated() {
            prefix += "/" + part
            let last = index == parts.count - 1
            // Looked for first: what exists needs no CREATE on its folder (an operator's may not give it).
            if try await exists(prefix) != nil { continue }
            do { try await create(prefix, acl: last ? acl : parents ?? acl) } catch where error.code == ZKError.nodeExists {}
        }
    }

    public func getACL(_ path: String) async throws(ZKError) -> (ZKACL, ZKStat) {
        try await call { try $0.getACL(path) }
    }

    /// Replaces the ACL if the ACL's version (`aversion`, -1: any) still matches.
    public func setACL(_ path: String, _ acl: ZKACL, version: Int32 = -1) async throws(ZKError) {
        try await call { try $0.setACL(path, acl, version: version) }
    }

    public func delete(_ path: String, version: Int32 = -1) async throws(ZKError) {
        try await call { try $0.delete(path, version: version) }
    }

    public func exists(_ path: String, watch: Bool = false) async throws(ZKError) -> ZKStat? {
        try await call { try $0.exists(path, watch: watch) }
    }

    public func children(_ path: String, watch: Bool = false) async throws(ZKError) -> [String] {
        try await call { try $0.children(path, watch: watch) }
    }

    /// `body` throws only ZKError (the handle's calls); typed throws do not survive its inference.
    private func call<T: Sendable>(_ body: @escaping @Sendable (ZKHandle) throws -> T) async throws(ZKError) -> T {
        guard let handle = lock.withLock({ handle }) else { throw ZKError(code: ZKError.invalidState, path: nil) }
        let result: Result<T, ZKError> = await withCheckedContinuation { continuation in
            Self.queue.async {
                do { continuation.resume(returning: .success(try body(handle))) } catch {
                    continuation.resume(returning: .failure(error as? ZKError ?? ZKError(code: ZKError.systemError, path: nil)))
                }
            }
        }
        return try result.get()
    }
}

/// One handle's events, dropped once a newer session replaced it.
private final class GenerationSink: ZKEventSink, @unchecked Sendable {
    weak var session: ZKSession?
    var active = true  // read and written under the session's lock

    init(session: ZKSession) {
        self.session = session
        super.init()
    }

    override func deliver(_ event: ZKEvent) { session?.receive(event, from: self) }
}
