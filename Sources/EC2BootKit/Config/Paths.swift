/// Every host path the tool touches, under one root (`--root`), so tests and image
/// builders can run it against a folder instead of `/`.
public struct Paths: Sendable {
    public let root: String

    public init(root: String = "/") {
        var root = root.isEmpty ? "/" : root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    /// `path` (absolute, as on a real host) under the root.
    public func host(_ path: String) -> String {
        root == "/" ? path : root + path
    }

    public var configDir: String { host("/etc/ec2-boot-init") }
    public var configFile: String { configDir + "/config.yaml" }
    public var actionsDir: String { configDir + "/actions" }
    public var motdProvisionedTemplate: String { configDir + "/motd.provisioned" }
    public var motdUnprovisionedTemplate: String { configDir + "/motd.unprovisioned" }
    /// The Ruby tool's cache folder, kept so its users' scripts still find the data.
    public var cacheDir: String { host("/var/spool/ec2boot") }
    public var stateDir: String { host("/var/lib/ec2-boot-init") }
    /// 0700: scripts and downloads of a running action that nobody else may read.
    public var privateDir: String { stateDir + "/private" }
    public var factsFile: String { host("/etc/facts.txt") }
    public var facterFactsFile: String { host("/etc/facter/facts.d/ec2_boot_init.yaml") }
    public var motdFile: String { host("/etc/motd") }
    public var lockFile: String { host("/run/ec2-boot-init.lock") }
    /// Present while this boot's actions stage has actions to run (see `StageMarker`).
    public var actionsPendingFile: String { host("/run/ec2-boot-init/actions-pending") }
    /// The last run's summary for every user (0644; no action's output or message, errors redacted),
    /// as cloud-init's /run/cloud-init/status.json: what `status` shows a user who is not root.
    public var publicStatusFile: String { host("/run/ec2-boot-init/status.json") }
    /// Held by the one `watch` of this root.
    public var watchLockFile: String { host("/run/ec2-boot-init-watch.lock") }
}
