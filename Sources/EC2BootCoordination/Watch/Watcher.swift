import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// `ec2-boot-init watch`: keeps this node registered in ZooKeeper and runs the commands
/// written to its `command` znode and its groups', one at a time, through the action engine.
///
/// Watches are one-shot, so every event (and every new connection) re-reads each command znode,
/// which also sets the next watch: no change is missed between an event and the re-read.
public final class Watcher: @unchecked Sendable {
    let target: WatchTarget
    let paths: Paths
    let config: Config
    let instance: InstanceView
    let version: String
    let logger: Logger
    let session: ZKSession
    var ledger: CommandLedger
    private var registered: Int64?
    /// Results the session could not take (it was lost during the run), sent after the next connect.
    var unsent: [(path: String, json: Data)] = []
    private let since = Timestamp.now()
    /// Called once, when the node is first registered (systemd's READY=1).
    public var onReady: (@Sendable () -> Void)?

    public init(target: WatchTarget, paths: Paths, config: Config, instance: InstanceView,
                version: String, logger: Logger) {
        self.target = target
        self.paths = paths
        self.config = config
        self.instance = instance
        self.version = version
        self.logger = logger
        session = ZKSession(hosts: target.hosts, sessionTimeout: target.sessionTimeout, digest: target.digest)
        let (ledger, dropped) = CommandLedger.load(paths)
        self.ledger = ledger
        if dropped > 0 {
            logger.notice("dropped \(dropped) handled-command entries of an older watch.json format (bare write ids); signed ids are kept")
        }
    }

    var instanceID: String { instance.instanceID }

    /// Runs until `stop()`; throws only when it cannot go on (ZooKeeper refused the credentials).
    public func run() async throws(WatchSetupError) {
        try await connect()
        for await event in session.events {
            switch event {
            case .changed(let path):
                if target.commandPaths.contains(path) { await process(path) }
            case .connected:
                try await afterConnect()
            case .expired:
                logger.warning("the ZooKeeper session expired; starting a new one", metadata: ["zookeeper": "\(target.hosts)"])
                try await connect()
            case .authFailed:
                throw WatchSetupError("ZooKeeper refused the digest credentials of watch.auth_file (user \(target.digest?.user ?? "-"))",
                                      unconfigured: false, badSettings: true)
            case .connecting:
                continue
            }
        }
        session.close()
    }

    /// Ends `run` after the command running now, if any; the session's ephemeral nodes go at once.
    public func stop() { session.finish() }

    /// A new session, waited for with backoff (full jitter, at most a minute), logging at a
    /// bounded rate while ZooKeeper is out of reach; then registration and a first read.
    private func connect() async throws(WatchSetupError) {
        var backoff = 1.0
        while !session.isFinished {
            do { try session.renew() } catch {
                throw WatchSetupError("cannot start a ZooKeeper client for \(target.hosts): \(error)")
            }
            if await session.waitUntilConnected(timeout: max(target.sessionTimeout, backoff)) {
                try await afterConnect()
                return
            }
            logger.warning("ZooKeeper is not answering; still trying", metadata: [
                "zookeeper": "\(target.hosts)", "next_try_s": "\(Int(backoff))",
            ])
            try? await Task.sleep(for: .milliseconds(Int64(Double.random(in: 0...backoff) * 1000)))
            backoff = min(backoff * 2, 60)
        }
    }

    /// Registers this session (once per session), then reads every command znode. A znode held
    /// by someone else, or a folder this node may not create in, ends the watcher (exit 2): a
    /// retry cannot help, and the unit must fail where the operator sees it.
    private func afterConnect() async throws(WatchSetupError) {
        if let id = session.sessionID, id != registered {
            do {
                try await register()
            } catch let error as WatchSetupError {
                throw error
            } catch let error as ZKError where error.code == ZKError.noAuth {
                try await auditOwnership()  // names the znode someone else holds, if that is why
                throw refusedRegistration(error)
            } catch let error as ZKError where error.isTransient || error.needsNewSession {
                logger.warning("registration cut short (\(error)); again at the next connection")
                return  // the session's next `.connected` comes back here
            } catch {
                // Anything else repeats at every try (a member znode with children: made by
                // someone else, as ephemeral ones have none): fatal, never a unit left activating.
                throw WatchSetupError("cannot register \(target.node): \(error)", badSettings: true)
            }
            if registered == nil { warnUnsafeSettings() }
            registered = id
            logger.info("registered in ZooKeeper", metadata: ["node": "\(target.node)", "groups": "\(target.groups.joined(separator: ","))"])
            onReady?()
            onReady = nil
        }
        let pending = unsent
        unsent = []
        for result in pending { await write(result.json, to: result.path) }
        for path in target.commandPaths { await process(path) }
    }

    /// The node's folders and command znodes (made if missing, with the identity's ACL), their
    /// ownership checked, then its ephemeral `alive` and its group memberships. A group's current
    /// command counts as seen.
    private func register() async throws {
        let (acl, shared) = (target.acl, target.sharedACL)
        try await session.ensure(target.node, acl: acl, parents: shared)
        try await session.ensure(target.node + "/command", acl: target.commandACL)
        for group in target.groups {
            try await session.ensure(group + "/command", acl: target.commandACL, parents: shared)
            try await session.ensure(group + "/results", acl: shared)
            try await session.ensure(group + "/members", acl: shared)
        }
        try await auditOwnership()
        await auditSharedFolders()
        for group in target.groups { try await replaceEphemeral(group + "/members/" + instanceID, Data(), acl: acl) }
        try await replaceEphemeral(target.node + "/alive", presence, acl: acl)
    }

    /// An ephemeral node of this session: one the previous session left (not yet expired) is replaced.
    private func replaceEphemeral(_ path: String, _ data: Data, acl: ZKACL) async throws(ZKError) {
        do { try await session.create(path, data, acl: acl, ephemeral: true) } catch where error.code == ZKError.nodeExists {
            try await session.delete(path)
            try await session.create(path, data, acl: acl, ephemeral: true)
        }
    }

    var presence: Data {
        var facts: [String: JSONValue] = [:]
        for fact in instance.userData.facts { facts[fact.name] = .string(fact.value) }
        let object: JSONValue = ["instance_id": .string(instanceID), "hostname": .string(ProcessInfo.processInfo.hostName),
                                 "version": .string(version), "since": .string(since),
                                 "groups": .array(target.groups.map(JSONValue.string)), "facts": .object(facts)]
        return object.encoded()
    }
}
