import EC2BootKit
import Foundation
import Yams

/// The watch settings resolved for this node: config.yaml's `watch:`, user-data's `:watch:`
/// over it key by key, and the defaults.
public struct WatchTarget: Sendable {
    public var hosts: String
    public var node: String
    public var groups: [String]
    public var digest: ZKDigest?
    public var allow: [String]
    public var sessionTimeout: Double

    public static let nodesRoot = "/ec2boot/nodes", groupsRoot = "/ec2boot/groups"

    public static func resolve(config: WatchSettings, userData: UserData, instanceID: String) throws(WatchSetupError) -> WatchTarget {
        var settings = config
        if case .document(let node) = userData.content, case .mapping(let top) = node, let section = top["watch"] {
            do {
                settings = try YAMLDecoding.decode(WatchSettings.self, from: section, source: "user-data", keyPrefix: "watch.")
                    .merged(over: config)
            } catch {
                throw WatchSetupError("invalid user-data: \(error)")
            }
        }
        guard let hosts = settings.zookeeper, !hosts.isEmpty else {
            throw WatchSetupError("no ZooKeeper to watch: set watch.zookeeper in config.yaml or :watch: in user-data", unconfigured: true)
        }
        guard NameCheck.valid(instanceID, marks: "_.-") else { throw WatchSetupError("instance id \(instanceID) cannot name a znode") }
        return WatchTarget(hosts: hosts, node: settings.node ?? nodesRoot + "/" + instanceID, groups: settings.groups ?? [],
                           digest: settings.auth.map { ZKDigest(user: $0.user, password: $0.password) },
                           allow: settings.allow ?? Command.defaultAllow, sessionTimeout: settings.sessionTimeout ?? 10)
    }

    /// The node's and its groups' command znodes.
    var commandPaths: [String] { [node + "/command"] + groups.map { $0 + "/command" } }

    /// Who may write what: with a digest identity, only it (everyone may read); without, anyone.
    var acl: ZKACL { digest.map { ZKACL.digest($0, othersMay: ZKACL.read) } ?? .open }
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
