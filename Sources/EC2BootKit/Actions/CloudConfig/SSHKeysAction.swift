import Foundation
import Yams

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
        var keys: [String] = []
        if params.allow_public_ssh_keys?.value ?? true {
            keys += context.run.metadata.leaves.filter { $0.key.hasPrefix("public-keys/") && $0.key.hasSuffix("/openssh-key") }
                .sorted { $0.key < $1.key }.flatMap { $0.value.split(whereSeparator: \.isNewline).map(String.init) }
        }
        keys += params.ssh_authorized_keys ?? []
        keys = AuthorizedKeys.unique(keys.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty && !$0.hasPrefix("#") })
        guard !keys.isEmpty else { return ActionResult(.skipped, message: "no keys") }
        let accounts = AuthorizedKeys.Accounts(passwd: context.run.paths.host("/etc/passwd"))
        let user = defaultUsers.lazy.compactMap { accounts.find($0) }.first
        guard user != nil || accounts.find("root") != nil else {
            return ActionResult(.failed, message: "no account to install \(keys.count) keys for: \(context.run.paths.host("/etc/passwd")) "
                                + "has neither root nor a default user (\(defaultUsers.joined(separator: ", ")))")
        }
        do {
            if let user { try AuthorizedKeys.install(keys, for: user, paths: context.run.paths) }
            guard let root = accounts.find("root") else { return ActionResult(.ok, message: "\(keys.count) keys for \(user?.name ?? "root")") }
            let disabledFor = params.disable_root?.value ?? true ? user : nil
            let rootKeys = disabledFor.map { user in keys.map { AuthorizedKeys.disabledRoot(user: user.name) + " " + $0 } } ?? keys
            try AuthorizedKeys.install(rootKeys, for: root, paths: context.run.paths)
        } catch {
            return ActionResult(.failed, message: "\(error)")
        }
        if user == nil { context.logger.notice("no default user (\(defaultUsers.joined(separator: ", "))): the keys went to root") }
        return ActionResult(.ok, message: "\(keys.count) keys for \(user?.name ?? "root")")
    }
}
