import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// ACLs keep ZooKeeper usable (nobody else overwrites a node's command or presence, nobody makes
/// a node's znode first and holds it); the operator's signature is what keeps a command from
/// running. Both are checked at registration.
extension Watcher {
    /// Says once, at start, what in the settings leaves the node open.
    func warnUnsafeSettings() {
        if !target.requireSignature {
            logger.warning("watch.require_signature is off: whoever can write this node's command znode runs actions as root here")
        }
        if target.digest == nil {
            logger.warning("no watch.auth_file: this node's znodes are open to every ZooKeeper client (a command still needs a signature to run)")
        } else if target.operatorID == nil {
            logger.notice("no watch.operator: this node's own identity may write its command znode, and so may every node sharing it")
        }
    }

    /// The node's folder, each command znode and its results: one another identity may change is set right
    /// where this node may (it holds ADMIN); where it may not, someone else made it first and
    /// holds it, and the node cannot take commands there: a fatal error naming the znode.
    func auditOwnership() async throws(WatchSetupError) {
        var checks = [(target.node, target.acl, target.writers)]
        for path in target.commandPaths { checks.append((path, target.commandACL, target.commandWriters)) }
        // Results made first by someone else would be theirs to write (push believes neither).
        for path in target.resultPaths(instanceID) { checks.append((path, target.acl, target.writers)) }
        for (path, intended, writers) in checks {
            guard let (acl, _) = try? await session.getACL(path) else { continue }
            let others = acl.othersWriting(writers, holder: target.digest?.aclID)
            guard !others.isEmpty else { continue }
            let who = others.map(\.description).joined(separator: ", ")
            do {
                try await session.setACL(path, intended)
                logger.warning("\(path) could be written by others (\(who)); its ACL is set right", metadata: ["acl": "\(intended.entries.map(\.description))"])
            } catch {
                throw WatchSetupError("\(path) is held by \(who), not by this node's identity, and this node may not set its ACL (\(error)): "
                                      + "another client made it first. Nothing can run here until the operator deletes it "
                                      + "(deleteall \(path), as ZooKeeper's super user) and restarts ec2-boot-init-watch", badSettings: true)
            }
        }
    }

    /// The folders many nodes share (`/ec2boot/nodes`, a group's `members` and `results`, and
    /// the folders above): one that lets everyone create in it (as versions before 0.2.0 made
    /// them) lets any client take a node's name first. Narrowed to reading where this node may,
    /// else said; not fatal: this node's own znodes are checked by `auditOwnership`.
    func auditSharedFolders() async {
        guard !target.writers.isEmpty else { return }  // no identity: open to all by configuration, said at start
        for path in target.sharedFolders {
            guard let (acl, _) = try? await session.getACL(path) else { continue }
            let open = acl.worldBeyondRead
            guard !open.isEmpty else { continue }
            let who = open.map(\.description).joined(separator: ", ")
            do {
                try await session.setACL(path, acl.worldReadOnly)
                logger.warning("\(path) let everyone add znodes there (\(who)); the world may now only read it")
            } catch {
                let wanted = acl.worldReadOnly.entries.map(\.description)
                logger.warning("\(path) lets everyone add znodes there (\(who)), so any client can take a node's name first; the operator should set it to \(wanted) (this node may not: \(error))")
            }
        }
    }

    /// A registration step refused for want of rights: named, and fatal (a retry cannot help).
    func refusedRegistration(_ error: ZKError) -> WatchSetupError {
        WatchSetupError("cannot register \(target.node): \(error.path ?? "a znode") may not be made or changed by this node's identity "
                        + "(\(target.digest.map { "digest:" + $0.user } ?? "no watch.auth_file: anyone")): "
                        + "its folder's ACL does not let it, or another client made it first. The operator gives the fleet's identity "
                        + "CREATE there (docs/watch.md, \"Setting up the identities\")", badSettings: true)
    }
}

extension WatchTarget {
    /// Where the node writes its results: `<node>/result` and `<group>/results/<instance-id>`.
    func resultPaths(_ instanceID: String) -> [String] { [node + "/result"] + groups.map { $0 + "/results/" + instanceID } }

    /// Every folder above the node and the groups, each group, and its `members` and `results`.
    var sharedFolders: [String] {
        var out: [String] = []
        func add(_ path: String) { if !out.contains(path) { out.append(path) } }
        for base in [node] + groups {
            var prefix = ""
            for part in base.split(separator: "/").dropLast() {
                prefix += "/" + part
                add(prefix)
            }
        }
        for group in groups { [group, group + "/members", group + "/results"].forEach(add) }
        return out
    }
}
