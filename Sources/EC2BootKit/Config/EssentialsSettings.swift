/// config.yaml's `essentials:` and `default_user:`: what every new instance gets from an image
/// without cloud-init, under cloud-init's own names (`ssh_deletekeys`, `ssh_genkeytypes`,
/// `system_info.default_user`). See `Essentials`.
public struct EssentialsSettings: Sendable, Decodable {
    /// false: none of the essentials (an image that does them its own way).
    public var enabled = true
    /// Delete the image's SSH host keys on an instance's first boot.
    public var sshDeleteKeys = true
    /// The host key types made on an instance's first boot (when the image has an SSH server).
    public var sshGenKeyTypes = ["rsa", "ecdsa", "ed25519"]
    /// The key types ssh-keygen makes that cloud-init knows.
    static let keyTypes: Set<String> = ["rsa", "dsa", "ecdsa", "ed25519"]
    /// Every boot: the root's partition grown to the end of its disk (cloud-init's `growpart`).
    public var growpart = GrowpartSettings()
    /// Every boot: the root filesystem grown to its partition (cloud-init's `resize_rootfs`).
    public var resizeRootfs = true
    /// Every boot: the instance store (`block-device-mapping/ephemeralN`) in /etc/fstab and mounted.
    public var instanceStore = true
    /// cloud-init's `mount_default_fields`: fstab fields, of which the instance store's line takes
    /// the options, as cloud-init's default ephemeral0 entry does; `_netdev` orders the mount after the network,
    /// as our unit is, so the fstab line written on a new instance is in place before systemd mounts it.
    public var mountDefaultFields: [String?] = [nil, nil, "auto", "defaults,nofail,x-systemd.requires=ec2-boot-init.service,_netdev", "0", "2"]
    /// The user-data's `mounts` entries and `swap` (cloud-init's keys; not config.yaml's).
    public var mounts: [[String?]] = []
    public var swap: SwapSettings?
    /// The user-data's `ssh_keys`: the instance's host keys given, not made (secrets); given
    /// empty, none is made (as cloud-init).
    public var sshKeys: [String: String]?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, sshDeleteKeys = "ssh_deletekeys", sshGenKeyTypes = "ssh_genkeytypes", growpart
        case resizeRootfs = "resize_rootfs", instanceStore = "instance_store", mountDefaultFields = "mount_default_fields"
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = EssentialsSettings()
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? d.enabled
        sshDeleteKeys = try c.decodeIfPresent(Bool.self, forKey: .sshDeleteKeys) ?? d.sshDeleteKeys
        sshGenKeyTypes = try c.decodeIfPresent([String].self, forKey: .sshGenKeyTypes) ?? d.sshGenKeyTypes
        growpart = try c.decodeIfPresent(GrowpartSettings.self, forKey: .growpart) ?? d.growpart
        resizeRootfs = try c.decodeIfPresent(Bool.self, forKey: .resizeRootfs) ?? d.resizeRootfs
        instanceStore = try c.decodeIfPresent(Bool.self, forKey: .instanceStore) ?? d.instanceStore
        mountDefaultFields = try c.decodeIfPresent([String?].self, forKey: .mountDefaultFields) ?? d.mountDefaultFields
        guard Self.areDefaultFields(mountDefaultFields) else {
            throw DecodingError.dataCorruptedError(forKey: .mountDefaultFields, in: c, debugDescription: Self.defaultFieldsRule)
        }
        for type in sshGenKeyTypes where !Self.keyTypes.contains(type) {
            throw DecodingError.dataCorruptedError(forKey: .sshGenKeyTypes, in: c, debugDescription:
                "\(type) is not a host key type (\(Self.keyTypes.sorted().joined(separator: ", ")))")
        }
    }

    /// `mount_default_fields`: six fields, the last four set (an entry's line needs them).
    static func areDefaultFields(_ fields: [String?]) -> Bool {
        fields.count == 6 && fields.allSatisfy { $0.map(isField) ?? true } && fields[2...].allSatisfy { $0 != nil }
    }

    static let defaultFieldsRule = "six fstab fields (device, mount point, type, options, dump, pass); the last four words without spaces"

    /// A field of an fstab line: no spaces, tabs or line breaks, not empty.
    static func isField(_ text: String) -> Bool { !text.isEmpty && !text.contains { $0.isWhitespace } }
}

/// cloud-init's `growpart`: `mode` auto (sfdisk here) or off (false too), `devices` the mount
/// points whose partitions grow, and whether `/etc/growroot-disabled` is ignored.
public struct GrowpartSettings: Sendable, Decodable, Equatable {
    public var mode = "auto"
    public var devices = ["/"]
    public var ignoreGrowrootDisabled = false
    static let modes = ["auto", "growpart", "off"]

    public init() {}

    var enabled: Bool { mode != "off" }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, devices, ignoreGrowrootDisabled = "ignore_growroot_disabled"
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GrowpartSettings()
        if let off = try? c.decodeIfPresent(Bool.self, forKey: .mode), off == false {
            mode = "off"
        } else {
            mode = try c.decodeIfPresent(String.self, forKey: .mode) ?? d.mode
        }
        guard Self.modes.contains(mode) else {
            throw DecodingError.dataCorruptedError(forKey: .mode, in: c, debugDescription: "\(mode) is not a mode (auto, growpart, off)")
        }
        devices = try c.decodeIfPresent([String].self, forKey: .devices) ?? d.devices
        for device in devices where !device.hasPrefix("/") {
            throw DecodingError.dataCorruptedError(forKey: .devices, in: c, debugDescription: "\(device) is not a mount point (an absolute path)")
        }
        ignoreGrowrootDisabled = try c.decodeIfPresent(Bool.self, forKey: .ignoreGrowrootDisabled) ?? d.ignoreGrowrootDisabled
    }
}

/// cloud-init's `system_info.default_user`: the account made on an instance's first boot, which
/// the instance's key pair is for (Debian's AMIs: `admin`). No name: no account is made.
public struct DefaultUserSettings: Sendable, Decodable {
    public var name: String?
    public var gecos: String?
    /// Supplementary groups; one that does not exist is made (as cloud-init does).
    public var groups: [String] = []
    /// A sudoers rule, e.g. `ALL=(ALL) NOPASSWD:ALL`, written to /etc/sudoers.d/90-ec2-boot-init-users.
    public var sudo: String?
    public var shell = "/bin/bash"
    /// No password login (the account's password locked), as cloud-init's default.
    public var lockPasswd = true

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, gecos, groups, sudo, shell, lockPasswd = "lock_passwd"
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = DefaultUserSettings()
        name = try c.decodeIfPresent(String.self, forKey: .name)
        gecos = try c.decodeIfPresent(String.self, forKey: .gecos)
        groups = try c.decodeIfPresent([String].self, forKey: .groups) ?? d.groups
        sudo = try c.decodeIfPresent(String.self, forKey: .sudo)
        shell = try c.decodeIfPresent(String.self, forKey: .shell) ?? d.shell
        lockPasswd = try c.decodeIfPresent(Bool.self, forKey: .lockPasswd) ?? d.lockPasswd
        if let name, !AccountName.isValid(name) {
            throw DecodingError.dataCorruptedError(forKey: .name, in: c, debugDescription: "\(name) is not an account name (lower-case letters, digits, _ and -, starting with a letter or _)")
        }
        for group in groups where !AccountName.isValid(group) {
            throw DecodingError.dataCorruptedError(forKey: .groups, in: c, debugDescription: "\(group) is not a group name")
        }
    }
}

/// A user or group name that useradd takes and no option or path can hide in: Debian's
/// default rule, `[a-z_][a-z0-9_-]*[$]?`, at most 32 characters.
enum AccountName {
    static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 32,
              ("a"..."z").contains(first) || first == "_" else { return false }
        return name.unicodeScalars.dropFirst().allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }
}
