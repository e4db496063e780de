import EC2BootKit
import Foundation
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
    let boot: BootData
    let userData: UserData
    let version: String
    let logger: Logger
    let session: ZKSession
    private var ledger: CommandLedger
    private var registered: Int64?
    /// Results the session could not take (it was lost during the run), sent after the next connect.
    private var unsent: [(path: String, json: Data)] = []
    private let since = Timestamp.now()
    /// Called once, when the node is first registered (systemd's READY=1).
    public var onReady: (@Sendable () -> Void)?

    public init(target: WatchTarget, paths: Paths, config: Config, boot: BootData, userData: UserData,
                version: String, logger: Logger) {
        self.target = target
        self.paths = paths
        self.config = config
        self.boot = boot
        self.userData = userData
        self.version = version
        self.logger = logger
        session = ZKSession(hosts: target.hosts, sessionTimeout: target.sessionTimeout, digest: target.digest)
        ledger = CommandLedger.load(paths)
    }

    var instanceID: String { boot.instanceID ?? "unknown" }

    /// Runs until `stop()`; throws only when it cannot go on (ZooKeeper refused the credentials).
    public func run() async throws(WatchSetupError) {
        try await connect()
        for await event in session.events {
            switch event {
            case .changed(let path):
                if target.commandPaths.contains(path) { await process(path) }
            case .connected:
                await afterConnect()
            case .expired:
                logger.warning("the ZooKeeper session expired; starting a new one", metadata: ["zookeeper": "\(target.hosts)"])
                try await connect()
            case .authFailed:
                throw WatchSetupError("ZooKeeper refused the digest credentials of watch.auth (user \(target.digest?.user ?? "-"))",
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
                await afterConnect()
                return
            }
            logger.warning("ZooKeeper is not answering; still trying", metadata: [
                "zookeeper": "\(target.hosts)", "next_try_s": "\(Int(backoff))",
            ])
            try? await Task.sleep(for: .milliseconds(Int64(Double.random(in: 0...backoff) * 1000)))
            backoff = min(backoff * 2, 60)
        }
    }

    /// Registers this session (once per session), then reads every command znode.
    private func afterConnect() async {
        if let id = session.sessionID, id != registered {
            do {
                try await register()
                registered = id
                logger.info("registered in ZooKeeper", metadata: ["node": "\(target.node)", "groups": "\(target.groups.joined(separator: ","))"])
                onReady?()
                onReady = nil
            } catch {
                logger.error("cannot register in ZooKeeper: \(error)")
                return
            }
        }
        let pending = unsent
        unsent = []
        for result in pending { await write(result.json, to: result.path) }
        for path in target.commandPaths { await process(path) }
    }

    /// The node's folders and command znodes (made if missing, with the identity's ACL), its
    /// ephemeral `alive` and its group memberships. A group's current command counts as seen.
    private func register() async throws(ZKError) {
        let acl = target.acl
        try await session.ensure(target.node + "/command", acl: acl)
        for group in target.groups {
            try await session.ensure(group + "/command", acl: acl)
            try await session.ensure(group + "/results", acl: acl)
            try await session.ensure(group + "/members", acl: acl)
            try await replaceEphemeral(group + "/members/" + instanceID, Data(), acl: acl)
        }
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
        var object: [String: Any] = ["instance_id": instanceID, "hostname": ProcessInfo.processInfo.hostName,
                                     "version": version, "since": since, "groups": target.groups]
        var facts: [String: String] = [:]
        for fact in userData.facts { facts[fact.name] = fact.value }
        object["facts"] = facts
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}

extension Watcher {
    /// Reads `path` (setting the next watch) and handles what is there, until nothing new is.
    func process(_ path: String) async {
        let isGroup = path != target.node + "/command"
        while true {
            let data: Data, stat: ZKStat
            do {
                (data, stat) = try await session.get(path, watch: true, limit: Command.maxBytes + 1)
            } catch where error.code == ZKError.noNode {
                // Deleted by someone: a watch for its creation instead (a read of no node sets none).
                logger.warning("\(path) does not exist; waiting for it to be created")
                _ = try? await session.exists(path, watch: true)
                return
            } catch {
                if !error.isTransient && !error.needsNewSession { logger.error("cannot read \(path): \(error)") }
                return
            }
            let id = String(stat.mzxid, radix: 16)
            let empty = stat.dataLength == 0 || data.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
            if empty {
                if isGroup { know(path) }
                return
            }
            switch ledger.verdict(id, at: path, isGroup: isGroup) {
            case .done:
                // Finished before a restart that came before the clear.
                if !isGroup { await clear(path, stat) }
                return
            case .joinedAfter:
                logger.info("a command in \(path) predates this node; not run", metadata: ["command": "\(id)"])
                record { $0.finished(id, at: path) }
                return
            case .interrupted:
                let command = try? Command.parse(data, size: Int(stat.dataLength), allow: target.allow)
                await report(CommandResult(command: id, source: path, instanceID: instanceID, outcome: .interrupted, exit: 1,
                                           started: "", finished: Timestamp.now(), actions: [],
                                           error: "the watcher stopped while this command ran", output: []), isGroup: isGroup)
                if command?.rerunIfInterrupted == true {
                    logger.notice("running an interrupted command again (rerun_if_interrupted)", metadata: ["command": "\(id)"])
                    await execute(data, stat: stat, id: id, path: path, isGroup: isGroup)
                } else {
                    record { $0.finished(id, at: path) }
                    if !isGroup { await clear(path, stat) }
                }
            case .run:
                await execute(data, stat: stat, id: id, path: path, isGroup: isGroup)
            }
            if isGroup { return }  // a group's command stays; the watch set by the read tells of the next
        }
    }

    /// Checks and runs one command, reports it, records it, and clears the node's command if
    /// it is still the one read (a conditional set: a command written meanwhile stays, and runs next).
    func execute(_ data: Data, stat: ZKStat, id: String, path: String, isGroup: Bool) async {
        let started = Timestamp.now()
        let command: Command?
        do {
            command = try Command.parse(data, size: Int(stat.dataLength), allow: target.allow)
        } catch {
            logger.error("command refused: \(error)", metadata: ["source": "\(path)", "command": "\(id)"])
            await report(CommandResult(command: id, source: path, instanceID: instanceID, outcome: .refused, exit: ExitStatus.badInput.rawValue,
                                       started: started, finished: Timestamp.now(), actions: [], error: error.description, output: []),
                         isGroup: isGroup)
            record { $0.finished(id, at: path) }
            if !isGroup { await clear(path, stat) }
            return
        }
        guard let command else { return }
        record { $0.started(id, at: path) }
        logger.info("running a command", metadata: ["source": "\(path)", "command": "\(id)", "actions": "\(command.summary)"])
        let result = await CommandRun(paths: paths, config: config, boot: boot, userData: userData, logger: logger)
            .run(command, id: id, source: path, started: started)
        await report(result, isGroup: isGroup)
        record { $0.finished(id, at: path) }
        if !isGroup { await clear(path, stat) }
    }

    private func clear(_ path: String, _ stat: ZKStat) async {
        do { try await session.set(path, Data(), version: stat.version) } catch where error.code == ZKError.badVersion {
            logger.info("a new command arrived during the run; it runs next", metadata: ["source": "\(path)"])
        } catch {
            logger.error("cannot clear \(path): \(error)")
        }
    }

    private func report(_ result: CommandResult, isGroup: Bool) async {
        let path = isGroup ? (result.source as NSString).deletingLastPathComponent + "/results/" + instanceID : target.node + "/result"
        logger.info("command done", metadata: ["command": "\(result.command)", "outcome": "\(result.outcome.rawValue)", "result": "\(path)"])
        await write(result.json, to: path)
    }

    private func write(_ json: Data, to path: String) async {
        do {
            do { try await session.set(path, json) } catch where error.code == ZKError.noNode {
                try await session.create(path, json, acl: target.acl)
            }
        } catch {
            logger.error("cannot write the result to \(path) now: \(error); it is sent after the next connect")
            unsent.append((path, json))
        }
    }

    private func know(_ path: String) {
        if ledger.sources[path] == nil { record { $0.know(path) } }
    }

    private func record(_ change: (inout CommandLedger) -> Void) {
        change(&ledger)
        do { try ledger.save(paths) } catch { logger.error("cannot record the handled commands: \(error)") }
    }
}
