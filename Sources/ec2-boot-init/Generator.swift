import EC2BootCLI
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `ec2-boot-init-generator`: systemd runs it early in boot (systemd.generator(7)), before any
/// unit, with the normal, early and late output folders. Off EC2 with nothing to read (see
/// `Platform`), it masks the data, actions and watch units, which wait for network-online.target, and
/// pulls in ec2-boot-init-offline.service instead, which writes the unprovisioned MOTD without
/// waiting for anything. Otherwise it writes nothing and the units run as installed.
enum Generator {
    /// The units that wait for network-online.target (the watcher needs the instance data there is none of).
    static let masked = ["ec2-boot-init.service", "ec2-boot-init-actions.service", "ec2-boot-init-watch.service"]
    static let offlineUnit = "ec2-boot-init-offline.service"

    static func run(_ folders: [String]) -> Int32 {
        guard folders.count == 3 else {
            printError("ec2-boot-init-generator: expected the three output folders systemd passes")
            return 2
        }
        let paths = Paths(root: ProcessInfo.processInfo.environment["EC2BOOT_ROOT"] ?? "/")
        // A config that cannot be read is the data unit's to report: run as installed.
        guard let config = try? Config.load(path: paths.configFile),
              case .offline(let reason) = Platform.decide(paths: paths, config: config) else { return 0 }
        let early = folders[1]
        do {
            try FileManager.default.createDirectory(atPath: early + "/multi-user.target.wants", withIntermediateDirectories: true)
            for unit in masked { try link(early + "/" + unit, to: "/dev/null") }
            try link(early + "/multi-user.target.wants/" + offlineUnit, to: "/lib/systemd/system/" + offlineUnit)
        } catch {
            printError("ec2-boot-init-generator: \(error)")
            return 1
        }
        printError("ec2-boot-init-generator: \(reason): the boot units are masked, \(offlineUnit) writes the MOTD")
        return 0
    }

    private static func link(_ path: String, to target: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }
}
