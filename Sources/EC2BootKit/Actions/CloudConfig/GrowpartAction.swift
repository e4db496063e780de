
/// `growpart` and `resize_rootfs`: cloud-init's growpart and resizefs modules. The work is the
/// data stage's, every boot before the facts (`GrowRoot`, one of the essentials): these keys
/// change it for this instance as config.yaml's `essentials:` does for the image, and this
/// action's row in `status` says what the data stage did (`Essentials.report`).
public struct GrowpartAction: CloudConfigModule {
    public static let type = "growpart"
    public static let frequency = ActionFrequency.perBoot
    static let cloudConfigKeys = ["growpart", "resize_rootfs"]
    static let cloudInitModules = ["growpart", "resizefs"]

    public static let schema = ActionSchema("Grows the root partition and filesystem to the disk, every boot, in the data stage (cloud-init's growpart and resizefs).",
                                            example: """
        growpart:
          mode: auto
          devices: [/]
          ignore_growroot_disabled: false
        resize_rootfs: true
        """, [
            .optional("growpart", .mapping, default: "{mode: auto, devices: [/]}", "mode (auto, growpart, off or false), devices (mount points), ignore_growroot_disabled"),
            .optional("resize_rootfs", .boolean, default: "true", "grow the root filesystem online (cloud-init's noblock counts as true)"),
        ])

    public struct Params: Decodable, Sendable {
        var growpart: GrowpartSettings?
        var resize_rootfs: ResizeRootfs?
    }

    /// true, false, or cloud-init's `noblock` (true here).
    struct ResizeRootfs: Decodable, Sendable {
        let value: Bool

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let text = try? c.decode(String.self), text == "noblock" { value = true } else { value = try c.decode(LooseBool.self).value }
        }
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        Essentials.report([.growpart], what: "the partition and filesystem growing", context: context)
    }
}

/// `ssh_deletekeys`, `ssh_genkeytypes`, `no_ssh_fingerprints`: cloud-init's ssh module's host-key
/// keys. The host keys are the data stage's, on an instance's first boot before sshd starts
/// (`HostKeys`, one of the essentials): these keys change it for this instance, and this action's
/// row says what the data stage did.
public struct HostKeysAction: CloudConfigModule {
    public static let type = "ssh_host_keys"
    public static let frequency = ActionFrequency.perInstance
    static let cloudConfigKeys = ["ssh_deletekeys", "ssh_genkeytypes", "ssh_keys", "no_ssh_fingerprints"]
    static let cloudInitModules = ["ssh"]

    public static let schema = ActionSchema("Makes the instance's own SSH host keys on its first boot, in the data stage before sshd (cloud-init's ssh).",
                                            example: """
        ssh_deletekeys: true
        ssh_genkeytypes: [ed25519, ecdsa]
        """, [
            .optional("ssh_deletekeys", .boolean, default: "true", "delete the image's host keys first"),
            .optional("ssh_genkeytypes", .strings, default: "[rsa, ecdsa, ed25519]", "the key types made (rsa, dsa, ecdsa, ed25519)"),
            .optional("ssh_keys", .mapping, secret: true, "the host keys given, not made: TYPE_private, TYPE_public, TYPE_certificate (TYPE rsa, dsa, ecdsa, ed25519)"),
            .optional("no_ssh_fingerprints", .boolean, default: "false", "accepted: the authorized keys' fingerprints are never printed here"),
        ])

    public struct Params: Decodable, Sendable {
        var ssh_deletekeys: LooseBool?
        var ssh_genkeytypes: [String]?
        var no_ssh_fingerprints: LooseBool?
        var ssh_keys: [String: String]?

        enum CodingKeys: String, CodingKey { case ssh_deletekeys, ssh_genkeytypes, ssh_keys, no_ssh_fingerprints }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            ssh_deletekeys = try c.decodeIfPresent(LooseBool.self, forKey: .ssh_deletekeys)
            ssh_genkeytypes = try c.decodeIfPresent([String].self, forKey: .ssh_genkeytypes)
            no_ssh_fingerprints = try c.decodeIfPresent(LooseBool.self, forKey: .no_ssh_fingerprints)
            ssh_keys = try c.decodeIfPresent([String: String].self, forKey: .ssh_keys)
            // The key's name only: its value is a secret.
            for key in (ssh_keys ?? [:]).keys.sorted() where HostKeys.file(forKey: key) == nil {
                throw DecodingError.dataCorruptedError(forKey: .ssh_keys, in: c, debugDescription:
                    "\(key) is not a host key name (TYPE_private, TYPE_public or TYPE_certificate; TYPE one of \(EssentialsSettings.keyTypes.sorted().joined(separator: ", ")))")
            }
            for type in ssh_genkeytypes ?? [] where !EssentialsSettings.keyTypes.contains(type) {
                throw DecodingError.dataCorruptedError(forKey: .ssh_genkeytypes, in: c, debugDescription:
                    "\(type) is not a host key type (\(EssentialsSettings.keyTypes.sorted().joined(separator: ", ")))")
            }
        }
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        Essentials.report([.hostKeys], what: "the host keys", context: context)
    }
}

extension EssentialsSettings {
    /// config.yaml's essentials with what the user-data's cloud-config changes for this instance.
    func applying(_ plan: [PlannedAction]) -> EssentialsSettings {
        var settings = self
        for params in plan.compactMap({ $0.params as? GrowpartAction.Params }) {
            if let growpart = params.growpart { settings.growpart = growpart }
            if let resize = params.resize_rootfs { settings.resizeRootfs = resize.value }
        }
        for params in plan.compactMap({ $0.params as? HostKeysAction.Params }) {
            if let delete = params.ssh_deletekeys { settings.sshDeleteKeys = delete.value }
            if let types = params.ssh_genkeytypes { settings.sshGenKeyTypes = types }
            if let keys = params.ssh_keys { settings.sshKeys = keys }  // {}: none made, as cloud-init
        }
        for params in plan.compactMap({ $0.params as? MountsAction.Params }) {
            if let mounts = params.mounts { settings.mounts = mounts }
            if let fields = params.mount_default_fields { settings.mountDefaultFields = fields }
            if let swap = params.swap { settings.swap = swap }
        }
        return settings
    }
}
