#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// `ssh_authorized_keys`: cloud-init's ssh module's keys: the instance's key pair from metadata
/// (`public-keys/*/openssh-key`) and the cloud-config's `ssh_authorized_keys`, into the default
/// user's `~/.ssh/authorized_keys` (a key already there is replaced, others kept), and root's
/// with `disable_root`'s "login as" command in front unless `disable_root: false`. Planned for
/// every cloud-config user-data, as cloud-init's ssh module runs on every instance.
public struct SSHKeysAction: CloudConfigModule {
    public static let type = "ssh_authorized_keys"
    public static let frequency = ActionFrequency.perInstance
    static let cloudConfigKeys = ["ssh_authorized_keys", "disable_root", "allow_public_ssh_keys"]
    static let cloudInitModules = ["ssh"]
    /// Whom a cloud image's default user is, in order (Debian's images: admin).
    static let defaultUsers = ["admin", "debian", "ec2-user", "ubuntu", "centos", "rocky", "almalinux", "fedora", "cloud-user"]

    public static let schema = ActionSchema("Installs SSH keys (metadata's key pair and ssh_authorized_keys) for the default user and root (cloud-init's ssh).",
                                            example: """
        ssh_authorized_keys:
          - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ8e example@host
        """, [
            .optional("ssh_authorized_keys", .strings, "keys added to the instance's key pair"),
            .optional("disable_root", .boolean, default: "true", "root's keys only say to log in as the default user"),
            .optional("allow_public_ssh_keys", .boolean, default: "true", "use the key pair from the instance metadata"),
        ])

    public struct Params: Decodable, Sendable {
        public var ssh_authorized_keys: [String]?
        var disable_root: LooseBool?
        var allow_public_ssh_keys: LooseBool?
    }

    static func applies(to keys: Node.Mapping) -> Bool { true }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        var keys = params.allow_public_ssh_keys?.value ?? true ? keyPair(context.run.metadata) : []
        keys += params.ssh_authorized_keys ?? []
        keys = AuthorizedKeys.cleaned(keys)
        guard !keys.isEmpty else { return ActionResult(.skipped, message: "no keys") }
        do {
            let message = try install(keys, disableRoot: params.disable_root?.value ?? true, defaultUser: context.run.config.defaultUser.name,
                                      paths: context.run.paths, logger: context.logger)
            return ActionResult(.ok, message: message)
        } catch {
            return ActionResult(.failed, message: "\(error)")
        }
    }

    /// The instance's key pair from the metadata (`public-keys/N/openssh-key`), in key order.
    static func keyPair(_ metadata: MetadataTree) -> [String] {
        metadata.leaves.filter { $0.key.hasPrefix("public-keys/") && $0.key.hasSuffix("/openssh-key") }
            .sorted { $0.key < $1.key }.flatMap { $0.value.split(whereSeparator: \.isNewline).map(String.init) }
    }

    struct NoAccount: Error, CustomStringConvertible {
        let description: String
    }

    /// `keys` for the default user (the configured one, else the first of `defaultUsers` the
    /// image has) and root, behind the "Please login as" command when `disableRoot`; what was done, in a line.
    static func install(_ keys: [String], disableRoot: Bool, defaultUser configured: String?, paths: Paths, logger: Logger) throws -> String {
        let accounts = AuthorizedKeys.Accounts(passwd: paths.host("/etc/passwd"))
        let user = ((configured.map { [$0] } ?? []) + defaultUsers).lazy.compactMap { accounts.find($0) }.first
        guard let root = accounts.find("root") else {
            guard let user else {
                throw NoAccount(description: "no account to install \(keys.count) keys for: \(paths.host("/etc/passwd")) "
                                + "has neither root nor a default user (\(defaultUsers.joined(separator: ", ")))")
            }
            try AuthorizedKeys.install(keys, for: user, paths: paths)
            return "\(keys.count) keys for \(user.name)"
        }
        if let user { try AuthorizedKeys.install(keys, for: user, paths: paths) }
        let rootKeys = disableRoot ? user.map { user in keys.map { AuthorizedKeys.disabledRoot(user: user.name) + " " + $0 } } ?? keys : keys
        try AuthorizedKeys.install(rootKeys, for: root, paths: paths)
        if user == nil { logger.notice("no default user (\(defaultUsers.joined(separator: ", "))): the keys went to root") }
        return "\(keys.count) keys for \(user?.name ?? "root")"
    }
}
