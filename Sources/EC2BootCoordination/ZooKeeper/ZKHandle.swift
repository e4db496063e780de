import CZooKeeper
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// A znode's version stamp: `mzxid` names the write that set its data (unique across the
/// ensemble), `version` is what a conditional set or delete must match.
public struct ZKStat: Sendable, Equatable, Codable {
    public var mzxid: Int64
    public var version: Int32
    public var mtime: Int64
    public var dataLength: Int32
    public var ephemeralOwner: Int64

    public init(mzxid: Int64, version: Int32, mtime: Int64, dataLength: Int32, ephemeralOwner: Int64) {
        self.mzxid = mzxid
        self.version = version
        self.mtime = mtime
        self.dataLength = dataLength
        self.ephemeralOwner = ephemeralOwner
    }

    init(_ stat: Stat) {
        mzxid = stat.mzxid
        version = stat.version
        mtime = stat.mtime
        dataLength = stat.dataLength
        ephemeralOwner = stat.ephemeralOwner
    }
}

/// A ZooKeeper error code, named as the C client names it.
public struct ZKError: Error, CustomStringConvertible, Sendable, Equatable {
    public let code: Int32
    public let path: String?

    public static let noNode: Int32 = -101, noAuth: Int32 = -102, badVersion: Int32 = -103, nodeExists: Int32 = -110
    public static let connectionLoss: Int32 = -4, sessionExpired: Int32 = -112, operationTimeout: Int32 = -7
    public static let invalidState: Int32 = -9, closing: Int32 = -116, systemError: Int32 = -1

    public var description: String {
        let reason = String(cString: zerror(code))
        return path.map { "\($0): \(reason)" } ?? reason
    }

    /// The session is gone (or going): a new one is needed, not a retry on this one.
    public var needsNewSession: Bool { code == Self.sessionExpired || code == Self.invalidState || code == Self.closing }
    /// The server did not answer this time; the same session may still work.
    public var isTransient: Bool { code == Self.connectionLoss || code == Self.operationTimeout }
}

/// What the C client tells its watchers: a session state change, or a change to a path.
public enum ZKEvent: Sendable, Equatable {
    case connected, connecting, expired, authFailed
    case changed(path: String)
}

/// One C client handle (one session). Calls block until the server answers or the
/// session timeout passes; `ZKSession` runs them off the async threads.
final class ZKHandle: @unchecked Sendable {
    private let handle: OpaquePointer
    private let sink: Unmanaged<ZKEventSink>

    /// Starts connecting to `hosts` ("h1:2181,h2:2181/chroot": the C client tries each server
    /// and keeps to the chroot); events go to `events`.
    init(hosts: String, sessionTimeoutMS: Int32, events: ZKEventSink) throws(ZKError) {
        Self.quietCLibrary
        sink = Unmanaged.passRetained(events)
        guard let handle = zookeeper_init(hosts, zkWatcher, sessionTimeoutMS, nil, sink.toOpaque(), 0) else {
            sink.release()
            throw ZKError(code: ZKError.invalidState, path: nil)
        }
        self.handle = handle
    }

    deinit {
        zookeeper_close(handle)
        sink.release()
    }

    /// The C client logs every failed connection attempt to stderr; the session logs instead, at a bounded rate.
    private static let quietCLibrary: Void = { zoo_set_debug_level(ZooLogLevel(rawValue: 0)) }()

    /// Digest credentials, sent now and again after every reconnect by the C client.
    func addAuth(_ digest: ZKDigest) {
        let credential = Array("\(digest.user):\(digest.password)".utf8)
        _ = credential.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { zoo_add_auth(handle, "digest", $0.baseAddress, Int32($0.count), nil, nil) }
        }
    }

    /// The data (at most `limit` bytes of it) and stat; with `watch`, a one-shot watch is set.
    func get(_ path: String, watch: Bool, limit: Int) throws(ZKError) -> (Data, ZKStat) {
        var buffer = [CChar](repeating: 0, count: max(limit, 1))
        var length = Int32(buffer.count)
        var stat = Stat()
        let code = watch ? zoo_wget(handle, path, zkWatcher, sink.toOpaque(), &buffer, &length, &stat)
                         : zoo_get(handle, path, 0, &buffer, &length, &stat)
        guard code == 0 else { throw ZKError(code: code, path: path) }
        let data = length > 0 ? buffer.withUnsafeBytes { Data($0.prefix(Int(length))) } : Data()
        return (data, ZKStat(stat))
    }

    /// Sets data if the version matches (-1: any); returns the new stat.
    @discardableResult
    func set(_ path: String, _ data: Data, version: Int32) throws(ZKError) -> ZKStat {
        var stat = Stat()
        let code = data.withUnsafeBytes { bytes in
            zoo_set2(handle, path, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count), version, &stat)
        }
        guard code == 0 else { throw ZKError(code: code, path: path) }
        return ZKStat(stat)
    }

    func create(_ path: String, _ data: Data, acl: ZKACL, ephemeral: Bool) throws(ZKError) {
        let code = acl.withVector { vector in
            data.withUnsafeBytes { bytes in
                zoo_create(handle, path, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), data.isEmpty ? -1 : Int32(bytes.count),
                           vector, ephemeral ? 1 : 0, nil, 0)
            }
        }
        guard code == 0 else { throw ZKError(code: code, path: path) }
    }

    func delete(_ path: String, version: Int32) throws(ZKError) {
        let code = zoo_delete(handle, path, version)
        guard code == 0 || code == ZKError.noNode else { throw ZKError(code: code, path: path) }
    }

    func exists(_ path: String, watch: Bool) throws(ZKError) -> ZKStat? {
        var stat = Stat()
        let code = watch ? zoo_wexists(handle, path, zkWatcher, sink.toOpaque(), &stat) : zoo_exists(handle, path, 0, &stat)
        if code == ZKError.noNode { return nil }
        guard code == 0 else { throw ZKError(code: code, path: path) }
        return ZKStat(stat)
    }

    func children(_ path: String, watch: Bool) throws(ZKError) -> [String] {
        var strings = String_vector()
        let code = watch ? zoo_wget_children(handle, path, zkWatcher, sink.toOpaque(), &strings)
                         : zoo_get_children(handle, path, 0, &strings)
        guard code == 0 else { throw ZKError(code: code, path: path) }
        defer { deallocate_String_vector(&strings) }
        return (0..<Int(strings.count)).compactMap { strings.data[$0].map { String(cString: $0) } }
    }

    func getACL(_ path: String) throws(ZKError) -> (ZKACL, ZKStat) {
        var vector = ACL_vector()
        var stat = Stat()
        let code = zoo_get_acl(handle, path, &vector, &stat)
        guard code == 0 else { throw ZKError(code: code, path: path) }
        defer { deallocate_ACL_vector(&vector) }
        let entries = (0..<Int(vector.count)).map { index -> ZKACL.Entry in
            let acl = vector.data[index]
            return ZKACL.Entry(perms: acl.perms, scheme: acl.id.scheme.map { String(cString: $0) } ?? "",
                               id: acl.id.id.map { String(cString: $0) } ?? "")
        }
        return (ZKACL(entries: entries), ZKStat(stat))
    }

    func setACL(_ path: String, _ acl: ZKACL, version: Int32) throws(ZKError) {
        let code = acl.withVector { zoo_set_acl(handle, path, version, $0) }
        guard code == 0 else { throw ZKError(code: code, path: path) }
    }

    var sessionID: Int64 { zoo_client_id(handle).pointee.client_id }
}

/// Receives the C client's events on its completion thread and hands them on.
class ZKEventSink: @unchecked Sendable {
    init() {}
    func deliver(_ event: ZKEvent) {}
}

/// The one C watcher function for the session and every data watch; the context is the sink.
private let zkWatcher: watcher_fn = { _, type, state, path, context in
    guard let context else { return }
    let sink = Unmanaged<ZKEventSink>.fromOpaque(context).takeUnretainedValue()
    // Session events carry the state; the others a path (ZOO_SESSION_EVENT is -1).
    if type == -1 {
        switch state {
        case 3, 5: sink.deliver(.connected)     // connected, read-only
        case -112: sink.deliver(.expired)
        case -113: sink.deliver(.authFailed)
        default: sink.deliver(.connecting)
        }
    } else if let path {
        sink.deliver(.changed(path: String(cString: path)))
    }
}
