#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// The metadata's names for disks, as cloud-init's default `mounts` on EC2 use them: the instance
/// store disks `block-device-mapping` names (`ephemeral0: sdb`) found under the name the kernel
/// gave them (`/dev/sdb`, `/dev/xvdb`, `/dev/vdb`, or the Nth NVMe disk whose model is EC2's
/// instance storage; its first partition when it has one), each a default entry for `Mounts` as
/// cloud-init's ephemeral0 is (`auto`, `mount_default_fields`' options, `0 2`): ephemeral0 on
/// /mnt, as cloud-init does, ephemeralN on /media/ephemeralN. A disk without a filesystem (NVMe
/// instance store comes blank) is left out, never formatted; a device or mount point another
/// fstab line has, or a disk mounted elsewhere, is left to it.
enum InstanceStore {
    static let nvmeModel = "Amazon EC2 NVMe Instance Storage"

    /// `ephemeralN` of block-device-mapping, by N, with the device name the metadata gives.
    static func mapped(_ metadata: MetadataTree) -> [(number: Int, device: String)] {
        metadata.leaves.keys.compactMap { path -> (Int, String)? in
            guard path.hasPrefix("block-device-mapping/ephemeral"), let number = Int(path.dropFirst("block-device-mapping/ephemeral".count)),
                  number >= 0, number < 64, let name = deviceName(metadata, "ephemeral\(number)") else { return nil }
            return (number, name)
        }.sorted { $0.0 < $1.0 }
    }

    /// The device name the metadata maps `name` (ephemeral0, swap, ebs1, root) to, when a plain
    /// one (`sdb`, `/dev/` dropped): a name from the network never makes a path.
    static func deviceName(_ metadata: MetadataTree, _ name: String) -> String? {
        guard let value = metadata.leaves["block-device-mapping/" + name] else { return nil }
        let written = value.trimmingWhitespace(newlines: true)
        let device = written.hasPrefix("/dev/") ? String(written.dropFirst(5)) : written
        guard device.count <= 32, !device.isEmpty, device.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) }) else { return nil }
        return device
    }

    /// The disk the metadata maps `name` to, here (`Mounts.resolve`'s lookup): as `disk` finds it.
    static func disk(_ metadata: MetadataTree, _ name: String, nvme: [String], exists: (String) -> Bool) -> String? {
        guard let device = deviceName(metadata, name) else { return nil }
        let index = mapped(metadata).firstIndex { "ephemeral\($0.number)" == name } ?? nvme.count
        return disk(device, index: index, nvme: nvme, exists: exists)
    }

    static func mountPoint(_ number: Int) -> String { number == 0 ? "/mnt" : "/media/ephemeral\(number)" }

    /// The disk for a mapped name: as named, else `sd` as `xvd` or `vd` (cloud-init's remap), else
    /// the `index`th of the NVMe instance store disks.
    static func disk(_ name: String, index: Int, nvme: [String], exists: (String) -> Bool) -> String? {
        var candidates = [name]
        if name.hasPrefix("sd") { candidates += ["xvd", "vd"].map { $0 + name.dropFirst(2) } }
        if let disk = candidates.map({ "/dev/" + $0 }).first(where: exists) { return disk }
        return index < nvme.count ? "/dev/" + nvme[index] : nil
    }

    /// The node an instance store disk is mounted from: its first partition when it has one.
    static func node(_ name: String, index: Int, nvme: [String], exists: (String) -> Bool) -> String? {
        disk(name, index: index, nvme: nvme, exists: exists).map { Mounts.partition($0, "1", exists: exists) ?? $0 }
    }

    /// The NVMe disks whose model is EC2's instance storage, in the kernel's order (nvme1n1 before nvme10n1).
    static func nvmeDisks(sys: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: sys + "/block")) ?? []
        return names.filter { name in
            name.hasPrefix("nvme") && !name.contains("p")
                && FileSystem.read(sys + "/block/" + name + "/device/model").map { String(decoding: $0.prefix(256), as: UTF8.self).trimmingWhitespace(newlines: true) } == nvmeModel
        }.sorted { $0.count != $1.count ? $0.count < $1.count : $0 < $1 }
    }
}

extension InstanceStore {
    /// This boot's instance store disks as `Mounts`' default entries: each one mapped, here,
    /// with a filesystem, mounted nowhere else, on a mount point no other fstab line has.
    static func entries(_ settings: EssentialsSettings, metadata: MetadataTree, nvme: [String], fstab: String, paths: Paths,
                        logger: Logger) async -> [[String]] {
        guard settings.instanceStore else { return [] }
        let mountinfo = FileSystem.readText(paths.host("/proc/self/mountinfo"))
        let taken = Set(Mounts.others(inFstab: fstab).filter { $0.first?.hasPrefix("#") == false }.compactMap { $0.dropFirst().first })
        var entries: [[String]] = []
        for (index, (number, name)) in mapped(metadata).enumerated() where !taken.contains(mountPoint(number)) {
            guard let node = node(name, index: index, nvme: nvme, exists: { FileSystem.exists(paths.host($0)) }) else {
                logger.info("instance store: ephemeral\(number) (\(name)) has no device here")
                continue
            }
            if let device = deviceNumber(paths.host(node)), let elsewhere = mountedElsewhere(device, than: mountPoint(number), mountinfo: mountinfo) {
                logger.notice("instance store: ephemeral\(number) (\(node)) is mounted on \(elsewhere): left as it is")
                continue
            }
            // blkid exits 2 when it finds no filesystem: a blank disk, left unmounted (never formatted).
            guard await SystemCommand.capture(["blkid", "-p", "-s", "TYPE", paths.host(node)])?.0 == 0 else {
                logger.notice("instance store: ephemeral\(number) (\(node)) has no filesystem: not mounted (make one, e.g. mkfs.ext4, and the next boot mounts it)")
                continue
            }
            // As cloud-init's default ephemeral0 entry: only the options come from mount_default_fields.
            entries.append([node, mountPoint(number), "auto", settings.mountDefaultFields[3] ?? "defaults", "0", "2"])
        }
        return entries
    }

    /// Where the device (`major:minor`) is mounted when that is not `point` (the root disk a
    /// mapping names, one the image mounts its own way); nil when it is not mounted, or only there.
    static func mountedElsewhere(_ device: String, than point: String, mountinfo: String) -> String? {
        GrowRoot.mounts(mountinfo).first { $0.device == device && $0.point != point }?.point
    }

    /// A block device node's `major:minor`, as mountinfo gives it; nil for anything else (a file under a test's root).
    static func deviceNumber(_ node: String) -> String? {
        var info = stat()
        guard stat(node, &info) == 0, info.st_mode & S_IFMT == S_IFBLK else { return nil }
        let (major, minor) = FileSystem.deviceNumbers(UInt64(info.st_rdev))
        return "\(major):\(minor)"
    }
}
