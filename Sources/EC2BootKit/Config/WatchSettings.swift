#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

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
    /// `auth:` was given (the old inline password): the watch service refuses to start, the boot
    /// is not held up by it.
    public var inlineAuth = false
    /// The node's digest identity: a file holding `user:password` (0600, root's).
    public var authFile: String?
    /// The operator's digest ACL id (`user:base64(sha1(user:password))`): the only identity
    /// that may write a `command` znode the node creates.
    public var operatorID: String?
    /// signify keys whose signatures a command must carry: the base64 key line, or a `.pub` path.
    public var publicKeys: [String]?
    /// Refuse unsigned commands (default true); false runs them, with a warning.
    public var requireSignature: Bool?
    /// Action types a command may run.
    public var allow: [String]?
    /// Seconds.
    public var sessionTimeout: Double?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case zookeeper, node, groups, auth, allow, sessionTimeout = "session_timeout", authFile = "auth_file"
        case operatorID = "operator", publicKeys = "public_keys", requireSignature = "require_signature"
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
        inlineAuth = c.contains(.auth)
        authFile = try c.decodeIfPresent(String.self, forKey: .authFile)
        operatorID = try c.decodeIfPresent(String.self, forKey: .operatorID)
        if let id = operatorID, !Self.validDigestID(id) {
            throw DecodingError.dataCorruptedError(forKey: .operatorID, in: c, debugDescription:
                "expected user:base64(sha1(user:password)), the digest ACL id, never the password itself")
        }
        publicKeys = try c.decodeIfPresent([String].self, forKey: .publicKeys)
        for key in publicKeys ?? [] where !key.hasPrefix("/") {
            do { _ = try Signify.publicKey(key) } catch {
                throw DecodingError.dataCorruptedError(forKey: .publicKeys, in: c, debugDescription: "\(error) (the second line of a signify .pub file, or its path)")
            }
        }
        requireSignature = try c.decodeIfPresent(Bool.self, forKey: .requireSignature)
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

    /// `user:` then the 28 base64 characters of a SHA-1.
    static func validDigestID(_ id: String) -> Bool {
        guard let colon = id.firstIndex(of: ":") else { return false }
        let hash = id[id.index(after: colon)...]
        return colon != id.startIndex && hash.count == 28 && Data(base64Encoded: String(hash))?.count == 20
    }

    /// These settings, with `base`'s where these have none.
    public func merged(over base: WatchSettings) -> WatchSettings {
        var out = self
        out.zookeeper = zookeeper ?? base.zookeeper
        out.node = node ?? base.node
        out.groups = groups ?? base.groups
        out.inlineAuth = inlineAuth || base.inlineAuth
        out.authFile = authFile ?? base.authFile
        out.operatorID = operatorID ?? base.operatorID
        out.publicKeys = publicKeys ?? base.publicKeys
        out.requireSignature = requireSignature ?? base.requireSignature
        out.allow = allow ?? base.allow
        out.sessionTimeout = sessionTimeout ?? base.sessionTimeout
        return out
    }
}

extension WatchSettings {
    /// The user-data's `:watch:` section as `watch` will read it, each key on its own so that
    /// `validate` names every mistake, not only the first.
    public static func problems(in userData: UserData, source: String) -> [YAMLProblem] {
        guard case .document(let node) = userData.content, case .mapping(let top) = node, let section = top["watch"] else { return [] }
        guard case .mapping(let keys) = section else {
            return [YAMLProblem(source: source, mark: section.mark, message: "watch: expected a mapping")]
        }
        return keys.compactMap { key, value in
            let one = Node.mapping(Node.Mapping([(key, value)], section.tag, .block, section.mark))
            do throws(YAMLProblem) { _ = try YAMLDecoding.decode(WatchSettings.self, from: one, source: source, keyPrefix: "watch.") } catch { return error }
            return nil
        }
    }
}
