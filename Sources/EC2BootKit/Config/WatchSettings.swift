import Foundation

/// `watch:` in config.yaml and `:watch:` in user-data: how `ec2-boot-init watch` finds its
/// commands. Every key is optional here; user-data's keys win over config.yaml's, one by one
/// (`merged(over:)`), and the watch service fills in the defaults.
public struct WatchSettings: Sendable, Decodable, Equatable {
    /// "host:port,host:port[/chroot]".
    public var zookeeper: String?
    /// The node's znode (default `/ec2boot/nodes/<instance-id>`).
    public var node: String?
    /// Group znodes the node also takes commands from.
    public var groups: [String]?
    /// Digest identity; the password is a secret (never logged, in facts, status or results).
    public var auth: Auth?
    /// Action types a command may run.
    public var allow: [String]?
    /// Seconds.
    public var sessionTimeout: Double?

    public struct Auth: Sendable, Decodable, Equatable, CustomStringConvertible {
        public var user: String
        public var password: String
        public var description: String { "\(user):<password>" }
    }

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case zookeeper, node, groups, auth, allow, sessionTimeout = "session_timeout"
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        zookeeper = try c.decodeIfPresent(String.self, forKey: .zookeeper)
        node = try c.decodeIfPresent(String.self, forKey: .node)
        groups = try c.decodeIfPresent([String].self, forKey: .groups)
        for (key, path) in [(CodingKeys.node, node)] + (groups ?? []).map({ (CodingKeys.groups, Optional($0)) }) {
            if let path, !Self.validPath(path) {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription:
                    "\(path): expected an absolute znode path of letters, digits, _ . - (no trailing /)")
            }
        }
        auth = try c.decodeIfPresent(Auth.self, forKey: .auth)
        allow = try c.decodeIfPresent([String].self, forKey: .allow)
        sessionTimeout = try c.positive(.sessionTimeout)
    }

    /// `/a/b-c/d.e`: what a node or group path may be (no `.`/`..` parts, nothing ZooKeeper refuses).
    public static func validPath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        return path.hasPrefix("/") && !parts.isEmpty && parts.allSatisfy {
            !$0.isEmpty && $0 != "." && $0 != ".." && NameCheck.valid(String($0), marks: "_.-")
        }
    }

    /// These settings, with `base`'s where these have none.
    public func merged(over base: WatchSettings) -> WatchSettings {
        var out = self
        out.zookeeper = zookeeper ?? base.zookeeper
        out.node = node ?? base.node
        out.groups = groups ?? base.groups
        out.auth = auth ?? base.auth
        out.allow = allow ?? base.allow
        out.sessionTimeout = sessionTimeout ?? base.sessionTimeout
        return out
    }
}
