#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Whether this machine is EC2, decided from DMI before any network is waited for, so an image
/// booted elsewhere does not wait out the metadata deadline (cloud-init decides the same way, in
/// a systemd generator). The rules are ds-identify's for AWS (canonical/cloud-init,
/// tools/ds-identify at 0066a6b, `ec2_identify_platform`), plus the vendor Nitro reports:
/// 1. `/sys/hypervisor/uuid` starts with `ec2` (Xen instances);
/// 2. DMI `product_uuid` and `product_serial` both start with `ec2`, any case, and are equal
///    ignoring case (Nitro instances);
/// 3. DMI `sys_vendor` is `Amazon EC2` (AWS's documented identification of Nitro instances).
/// DMI readable and none of these: not EC2. No DMI at all (a container, a chroot, a test root):
/// unknown, and the run reads the metadata service as before.
public enum Platform {
    /// `platform:` in config.yaml, and `ec2-boot-init.platform=` on the kernel command line (which wins).
    public enum Setting: String, Sendable, Decodable, CaseIterable {
        case auto, ec2, none
    }

    public enum Identity: Equatable, Sendable {
        case ec2(String)
        case notEC2(String)
        case unknown(String)
    }

    /// What a boot run does: read the metadata service (or the seed), or write the
    /// unprovisioned MOTD and stop, with the reason either way.
    public enum Decision: Equatable, Sendable {
        case proceed(String)
        case offline(String)
    }

    public static func decide(paths: Paths, config: Config) -> Decision {
        if config.seed != nil { return .proceed("a seed folder is set") }
        if config.metadataURL != Config().metadataURL { return .proceed("metadata_url is set to \(config.metadataURL)") }
        if let setting = kernelSetting(paths) {
            return setting == .none ? .offline("ec2-boot-init.platform=none on the kernel command line")
                : .proceed("ec2-boot-init.platform=\(setting.rawValue) on the kernel command line")
        }
        switch config.platform {
        case .ec2: return .proceed("platform: ec2 in config.yaml")
        case .none: return .offline("platform: none in config.yaml")
        case .auto:
            switch identify(paths) {
            case .ec2(let why), .unknown(let why): return .proceed(why)
            case .notEC2(let why): return .offline("not EC2: \(why)")
            }
        }
    }

    public static func identify(_ paths: Paths) -> Identity {
        if let uuid = read(paths.host("/sys/hypervisor/uuid")), uuid.hasPrefix("ec2") {
            return .ec2("/sys/hypervisor/uuid starts with ec2")
        }
        let dmi = paths.host("/sys/class/dmi/id")
        guard FileSystem.exists(dmi) else { return .unknown("no DMI (\(dmi))") }
        let uuid = read(dmi + "/product_uuid")?.lowercased() ?? ""
        let serial = read(dmi + "/product_serial")?.lowercased() ?? ""
        if uuid.hasPrefix("ec2"), serial.hasPrefix("ec2"), uuid == serial {
            return .ec2("DMI product_uuid and product_serial start with ec2")
        }
        let vendor = read(dmi + "/sys_vendor") ?? ""
        if vendor == "Amazon EC2" { return .ec2("DMI sys_vendor is Amazon EC2") }
        return .notEC2("DMI sys_vendor is \(vendor.isEmpty ? "unreadable" : Printable.escape(vendor)), product_uuid does not start with ec2")
    }

    /// `ec2-boot-init.platform=ec2|none|auto` from /proc/cmdline; nil when absent or not one of those.
    static func kernelSetting(_ paths: Paths) -> Setting? {
        let prefix = "ec2-boot-init.platform="
        return kernelCommandLine(paths).last { $0.hasPrefix(prefix) }.flatMap { Setting(rawValue: String($0.dropFirst(prefix.count))) }
    }

    /// The kernel command line's words (the root's /proc/cmdline); none when unreadable.
    static func kernelCommandLine(_ paths: Paths) -> [String] {
        (read(paths.host("/proc/cmdline")) ?? "").split(separator: " ").map(String.init)
    }

    /// A small sysfs or proc file's first line, trimmed; nil when unreadable.
    private static func read(_ path: String) -> String? {
        guard case .data(let data) = FileSystem.read(path, maxBytes: 4096) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n").first.map { $0.trimmingWhitespace() } ?? ""
    }
}
