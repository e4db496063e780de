import EC2BootKit
import Foundation
import Logging

/// ACLs keep ZooKeeper usable (nobody else overwrites a node's command or presence); the
/// operator's signature is what keeps a command from running. Both are checked at start.
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

    /// Reads the ACL of the node's folder and of each command znode; one that lets an identity
    /// other than the intended writers change it is reported, and set right where this node may.
    func auditACLs() async {
        guard !target.writers.isEmpty else { return }  // no identity: open by configuration, said at start
        var checks = [(target.node, target.acl, target.writers)]
        for path in target.commandPaths { checks.append((path, target.commandACL, target.commandWriters)) }
        for (path, intended, writers) in checks {
            guard let (acl, _) = try? await session.getACL(path) else { continue }
            let others = acl.othersWriting(writers)
            guard !others.isEmpty else { continue }
            let who = others.map(\.description).joined(separator: ", ")
            do {
                try await session.setACL(path, intended)
                logger.warning("\(path) could be written by others (\(who)); its ACL is set right", metadata: ["acl": "\(intended.entries.map(\.description))"])
            } catch {
                logger.error("\(path) can be written by others (\(who)) and this node may not change its ACL (\(error)); the operator should set it to \(intended.entries.map(\.description))")
            }
        }
    }
}
