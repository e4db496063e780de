import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// The watch settings resolved for this node: config.yaml's `watch:`, user-data's `:watch:`
/// over it key by key, and the defaults; the auth file and key files read and checked.
public struct WatchTarget: Sendable {
    public var hosts: String
    public var node: String
    public var groups: [String]
    /// The node's identity, from `watch.auth_file`.
    public var digest: ZKDigest?
    /// The operator's digest ACL id: the only writer of the command znodes the node makes.
    public var operatorID: String?
    public var allow: [String]
    public var sessionTimeout: Double
    public var publicKeys: [Signify.PublicKey]
    public var requireSignature: Bool

    public static let nodesRoot = "/ec2boot/nodes", groupsRoot = "/ec2boot/groups"

    public static func resolve(config: WatchSettings, userData: UserData, instanceID: String, paths: Paths) throws(WatchSetupError) -> WatchTarget {
        var settings = config
        if case .document(let node) = userData.content, case .mapping(let top) = node, let section = top["watch"] {
            do {
                settings = try YAMLDecoding.decode(WatchSettings.self, from: section, source: "user-data", keyPrefix: "watch.")
                    .merged(over: config)
            } catch {
                throw WatchSetupError("invalid user-data: \(error)", badSettings: true)
            }
        }
        guard let hosts = settings.zookeeper, !hosts.isEmpty else {
            throw WatchSetupError("no ZooKeeper to watch: set watch.zookeeper in config.yaml or :watch: in user-data", unconfigured: true)
        }
        guard NameCheck.valid(instanceID, marks: "_.-") else { throw WatchSetupError("instance id \(instanceID) cannot name a znode") }
        if settings.inlineAuth {
            throw WatchSetupError("watch.auth: an inline password is refused (config.yaml and user-data are readable by others); "
                                  + "put user:password in a 0600 root-owned file and name it in watch.auth_file", badSettings: true)
        }
        if settings.operatorID != nil && settings.authFile == nil {
            throw WatchSetupError("watch.operator needs watch.auth_file: the node needs an identity of its own to keep writing "
                                  + "its presence and results once only the operator may write its znodes", badSettings: true)
        }
        let keys = try (settings.publicKeys ?? []).map { (text) throws(WatchSetupError) in try publicKey(text, paths: paths) }
        let require = settings.requireSignature ?? true
        if require && keys.isEmpty {
            throw WatchSetupError("watch.public_keys is empty and watch.require_signature is on (the default): no command could run; "
                                  + "add the operator's signify key, or set require_signature: false to run unsigned commands", badSettings: true)
        }
        return WatchTarget(hosts: hosts, node: settings.node ?? nodesRoot + "/" + instanceID, groups: settings.groups ?? [],
                           digest: try settings.authFile.map { (file) throws(WatchSetupError) in try digest(file, paths: paths) },
                           operatorID: settings.operatorID, allow: settings.allow ?? Command.defaultAllow,
                           sessionTimeout: settings.sessionTimeout ?? 10, publicKeys: keys, requireSignature: require)
    }

    /// `user:password` from a root-owned file no one else may read, in folders only root may write.
    static func digest(_ file: String, paths: Paths) throws(WatchSetupError) -> ZKDigest {
        let data: Data
        do { data = try TrustedFile.read(file, root: paths.root, kind: .secret, name: "watch.auth_file") } catch {
            throw WatchSetupError("\(error)", badSettings: true)
        }
        guard let parsed = ZKDigest(String(decoding: data, as: UTF8.self).trimmingWhitespace(newlines: true)) else {
            throw WatchSetupError("watch.auth_file \(file): expected user:password", badSettings: true)
        }
        return parsed
    }

    /// A key line, or the path of a `.pub` file that only root may change (its signatures run as root).
    static func publicKey(_ text: String, paths: Paths) throws(WatchSetupError) -> Signify.PublicKey {
        var source = text
        if text.hasPrefix("/") {
            do { source = String(decoding: try TrustedFile.read(text, root: paths.root, kind: .key, name: "watch.public_keys"), as: UTF8.self) } catch {
                throw WatchSetupError("\(error)", badSettings: true)
            }
        }
        do { return try Signify.publicKey(source) } catch {
            throw WatchSetupError("watch.public_keys: \(text.hasPrefix("/") ? text + ": " : "")\(error)", badSettings: true)
        }
    }

    /// The chroot of `hosts` (`zk1:2181,zk2:2181/staging` → `/staging`), or "" for none: a command
    /// is signed for its znode's whole path on the ensemble, so fleets in two chroots trusting one
    /// key never take each other's commands.
    public static func chroot(_ hosts: String) -> String {
        guard let slash = hosts.firstIndex(of: "/") else { return "" }
        var path = String(hosts[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        return path
    }

    /// What a command for `base` (a node's or group's path) is signed for.
    public func signedTarget(_ base: String) -> String { Self.chroot(hosts) + base }

    /// The node's and its groups' command znodes.
    var commandPaths: [String] { [node + "/command"] + groups.map { $0 + "/command" } }

    /// The identities that may change what the node makes (the operator's too, to clean up).
    var writers: [String] { [digest?.aclID, operatorID].compactMap { $0 } }
    /// Who may write a command: the operator when named, else the node's own identity.
    var commandWriters: [String] { operatorID.map { [$0] } ?? writers }

    /// The node's folders, presence and results: its writers; everyone reads.
    var acl: ZKACL { .writers(writers, othersMay: ZKACL.read) }
    var commandACL: ZKACL { .writers(commandWriters, othersMay: ZKACL.read) }
    /// Folders shared by many nodes (`/ec2boot/nodes`, a group's `members` and `results`): the
    /// fleet's identity (every node's `auth_file`) and the operator add children there, nobody
    /// else, so no stranger can make a node's znode first and hold it.
    var sharedACL: ZKACL { .writers(writers, othersMay: ZKACL.read) }
}

public struct WatchSetupError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// Nothing asks for a watcher here (no ZooKeeper named), as opposed to settings that are wrong.
    public let unconfigured: Bool
    /// The settings are wrong (a restart cannot help): exit 2.
    public let badSettings: Bool
    public init(_ description: String, unconfigured: Bool = false, badSettings: Bool = false) {
        self.description = description
        self.unconfigured = unconfigured
        self.badSettings = badSettings
    }
}
