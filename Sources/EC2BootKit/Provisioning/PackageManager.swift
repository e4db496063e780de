#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// Installs the packages a built-in action needs, only those missing, with the system's
/// package manager: argv only (never a shell), no prompts.
public struct PackageManager: Sendable {
    public enum Kind: String, Sendable { case apt, dnf, yum, zypper, none }
    public let kind: Kind
    let lockWait: Double

    public init(_ context: RunContext) {
        let settings = context.config.packages
        lockWait = settings.lockWait
        switch settings.manager {
        case .auto: kind = context.paths.root == "/" ? Self.detect(osRelease: context.paths.host("/etc/os-release")) : .none
        case .apt: kind = .apt
        case .dnf: kind = .dnf
        case .yum: kind = .yum
        case .zypper: kind = .zypper
        case .none: kind = .none
        }
    }

    /// The manager of the distribution `/etc/os-release` names (`ID`, then each of `ID_LIKE`).
    static func detect(osRelease path: String) -> Kind {
        guard let data = FileSystem.read(path) else { return .none }
        var ids: [String] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0] == "ID" || parts[0] == "ID_LIKE" else { continue }
            let words = parts[1].trimming("\"'").split(separator: " ").map(String.init)
            if parts[0] == "ID" { ids.insert(contentsOf: words, at: 0) } else { ids += words }
        }
        for id in ids {
            switch id {
            case "debian", "ubuntu": return .apt
            case "fedora", "rhel", "centos", "rocky", "almalinux", "amzn": return FileSystem.exists("/usr/bin/dnf") ? .dnf : .yum
            case "suse", "opensuse", "sles", "opensuse-leap", "opensuse-tumbleweed": return .zypper
            default: continue
            }
        }
        return .none
    }

    /// Installs `name` (at `version` when given) unless it is installed already. Returns nil
    /// on success, or why not.
    public func ensure(_ name: String, version: String?, context: ActionContext) async -> String? {
        let logger = context.logger
        let wanted = version.map { "\(name) \($0)" } ?? name
        guard kind != .none else {
            logger.info("packages.manager is none here: would install \(wanted) if missing")
            return nil
        }
        if await installed(name, version: version, context: context) {
            logger.info("package \(wanted) is installed")
            return nil
        }
        logger.info("installing package \(wanted) with \(kind.rawValue)")
        var environment = ActionEnvironment.base(context)
        environment["DEBIAN_FRONTEND"] = "noninteractive"
        // A fresh cloud image often has no package lists yet: apt would know no package at all.
        if kind == .apt && !Self.hasPackageLists(context.run.paths.host("/var/lib/apt/lists")) {
            logger.info("no apt package lists yet: apt-get update first")
            _ = await ActionEnvironment.execute(["apt-get", "update", "-q"], environment: environment, directory: nil,
                                                timeout: nil, context: context)
        }
        let deadline = Deadline(seconds: lockWait)
        var pause = 2.0
        while true {
            let result = await ActionEnvironment.execute(installArgv(name, version: version), environment: environment,
                                                         directory: nil, timeout: nil, context: context)
            if result.outcome == .ok { return nil }
            let message = result.message ?? result.outcome.rawValue
            guard isLocked(result), pause < deadline.remaining, Interruption.signal == nil else {
                return "cannot install \(wanted): \(message)"
            }
            logger.notice("the package database is locked by another job; trying again in \(Int(pause)) s")
            try? await Task.sleep(for: .seconds(pause))
            pause = min(pause * 2, 30)
        }
    }

    /// Refreshes the package lists (`apt-get update`); nil on success, or why not.
    public func refresh(context: ActionContext) async -> String? {
        await system(refreshArgv, what: "refresh the package lists", context: context)
    }

    /// Upgrades every package (`apt-get dist-upgrade`, as cloud-init does); nil on success, or why not.
    public func upgrade(context: ActionContext) async -> String? {
        await system(upgradeArgv, what: "upgrade the packages", context: context)
    }

    var refreshArgv: [String] {
        switch kind {
        case .apt: return ["apt-get", "update", "-q"]
        case .dnf, .yum: return [kind.rawValue, "makecache", "-y"]
        case .zypper: return ["zypper", "--non-interactive", "refresh"]
        case .none: return []
        }
    }

    var upgradeArgv: [String] {
        switch kind {
        case .apt: return ["apt-get", "dist-upgrade", "-y", "-q", "-o", "Dpkg::Options::=--force-confold"]
        case .dnf, .yum: return [kind.rawValue, "upgrade", "-y"]
        case .zypper: return ["zypper", "--non-interactive", "update"]
        case .none: return []
        }
    }

    private func system(_ argv: [String], what: String, context: ActionContext) async -> String? {
        guard kind != .none else {
            context.logger.info("packages.manager is none here: would \(what)")
            return nil
        }
        var environment = ActionEnvironment.base(context)
        environment["DEBIAN_FRONTEND"] = "noninteractive"
        let result = await ActionEnvironment.execute(argv, environment: environment, directory: nil, timeout: nil, context: context)
        return result.outcome == .ok ? nil : "cannot \(what): \(result.message ?? result.outcome.rawValue)"
    }

    static func hasPackageLists(_ folder: String) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).contains { $0.hasSuffix("_Packages") || $0.contains("_Packages.") }
    }

    func installArgv(_ name: String, version: String?) -> [String] {
        switch kind {
        case .apt: return ["apt-get", "install", "-y", "-q", "-o", "Dpkg::Options::=--force-confold", version.map { "\(name)=\($0)" } ?? name]
        case .dnf, .yum: return [kind.rawValue, "install", "-y", version.map { "\(name)-\($0)" } ?? name]
        case .zypper: return ["zypper", "--non-interactive", "install", version.map { "\(name)=\($0)" } ?? name]
        case .none: return []
        }
    }

    /// apt exits 100 saying it could not get the lock; zypper exits 7 when another holds it.
    private func isLocked(_ result: ActionResult) -> Bool {
        switch kind {
        case .apt: return result.exitCode == 100 && (result.message ?? "").contains("lock")
        case .zypper: return result.exitCode == 7
        default: return false
        }
    }

    private func installed(_ name: String, version: String?, context: ActionContext) async -> Bool {
        let argv: [String]
        switch kind {
        case .apt: argv = ["dpkg-query", "-W", "-f", "${Status} ${Version}", name]
        default: argv = ["rpm", "-q", "--qf", "installed %{VERSION}-%{RELEASE}", name]
        }
        guard let (status, output) = await SystemCommand.capture(argv, context: context), status == 0 else { return false }
        let words = output.split(separator: " ").map(String.init)
        if kind == .apt && !output.hasPrefix("install ok installed") { return false }
        guard let version else { return true }
        return words.last == version || words.last?.hasPrefix(version + "-") == true
    }
}
