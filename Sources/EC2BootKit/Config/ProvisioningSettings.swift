/// `packages:` in the config file.
public struct PackagesSettings: Sendable, Decodable {
    public enum Manager: String, Sendable, Decodable, CaseIterable { case auto, apt, dnf, yum, zypper, none }
    /// `auto` reads the root's os-release, and is `none` under a `--root` other than `/`, so
    /// tests and image builds never change the host's packages.
    public var manager = Manager.auto
    /// Seconds to wait for a package database another boot job holds (apt's dpkg lock).
    public var lockWait = 300.0

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case manager, lockWait = "lock_wait" }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        manager = try c.choice(.manager) ?? manager
        lockWait = try c.positive(.lockWait) ?? lockWait
    }
}

/// `services:` in the config file.
public struct ServicesSettings: Sendable, Decodable {
    public enum Manager: String, Sendable, Decodable, CaseIterable { case auto, systemd, sysv, none }
    /// `auto`: systemd when it runs (`/run/systemd/system`), else SysV's `service`; `none`
    /// under a `--root` other than `/`.
    public var manager = Manager.auto

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case manager }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        manager = try c.choice(.manager) ?? manager
    }
}
