#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// cloud-init's `growpart` and `resizefs`, every boot: an instance launched with a larger root
/// volume than its image gets the whole disk. The partition under each grown mount point (`/`)
/// is grown to the end of its disk with `sfdisk -N` (util-linux, in every Debian image, and what
/// `growpart` itself drives; it moves GPT's backup header to the new end on write), the kernel
/// told with `partx --update`, then the filesystem grown online (`resize2fs`, `xfs_growfs`,
/// `btrfs filesystem resize`). A partition that fills its disk is left alone, so a reboot costs
/// one `sfdisk --json` and one no-op resize. Only on the real root (`--root /`).
enum GrowRoot {
    /// A filesystem as /proc/self/mountinfo shows it.
    struct Mounted: Equatable {
        /// The device's `major:minor`, the key to its folder in /sys/dev/block.
        let device: String
        let point: String
        let fsType: String
        let source: String
    }

    /// Every line of /proc/self/mountinfo, in its order (a later one on the same point is on top).
    static func mounts(_ mountinfo: String) -> [Mounted] {
        mountinfo.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count > 6, let dash = fields.firstIndex(of: "-"), fields.index(dash, offsetBy: 2) < fields.endIndex else { return nil }
            return Mounted(device: String(fields[2]), point: String(fields[4]), fsType: String(fields[dash + 1]), source: String(fields[dash + 2]))
        }
    }

    /// The filesystem mounted at `point` (the last line for it: the one on top).
    static func mounted(at point: String, mountinfo: String) -> Mounted? {
        mounts(mountinfo).last { $0.point == point }
    }

    /// The disk under a filesystem: its device, and the partition's number (nil: the whole disk).
    struct Disk: Equatable {
        let device: String
        let partition: Int?
        let partitionDevice: String
        /// The disk's size, as /sys gives it (512-byte units whatever the sector size).
        let bytes: UInt64
    }

    /// From /sys/dev/block/MAJOR:MINOR (under `sys`): the partition's number and its disk's folder.
    static func disk(of device: String, sys: String) -> Disk? {
        let link = sys + "/dev/block/" + device
        guard let folder = try? FileManager.default.destinationOfSymbolicLink(atPath: link) else { return nil }
        let resolved = URL(fileURLWithPath: folder, relativeTo: URL(fileURLWithPath: sys + "/dev/block/")).standardizedFileURL.path
        guard let name = devName(resolved) else { return nil }
        guard let partition = readNumber(resolved + "/partition") else {
            guard let sectors = readNumber(resolved + "/size") else { return nil }
            return Disk(device: "/dev/" + name, partition: nil, partitionDevice: "/dev/" + name, bytes: UInt64(sectors) * 512)
        }
        let parent = resolved.parentFolder
        guard let diskName = devName(parent), let sectors = readNumber(parent + "/size") else { return nil }
        return Disk(device: "/dev/" + diskName, partition: partition, partitionDevice: "/dev/" + name, bytes: UInt64(sectors) * 512)
    }

    private static func readNumber(_ path: String) -> Int? {
        FileSystem.read(path).flatMap { Int(String(decoding: $0.prefix(32), as: UTF8.self).trimmingWhitespace(newlines: true)) }
    }

    /// `DEVNAME=` of a /sys block folder's uevent: the node's name under /dev (`vda1`, `nvme0n1p1`).
    private static func devName(_ folder: String) -> String? {
        let text = String(decoding: (FileSystem.read(folder + "/uevent") ?? Data()).prefix(4096), as: UTF8.self)
        let name = text.split(separator: "\n").first { $0.hasPrefix("DEVNAME=") }.map { String($0.dropFirst(8)) }
        guard let name, !name.isEmpty, !name.contains(".."), name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "/" || $0 == "-" || $0 == "_" }) else { return nil }
        return name
    }
}

extension GrowRoot {
    /// `sfdisk --json`'s table, the parts the decision reads.
    struct Table: Decodable, Equatable {
        struct Partition: Decodable, Equatable {
            let node: String
            let start: UInt64
            let size: UInt64
            /// The number at the end of the node's name (`vda2`, `nvme0n1p2`, `disk.img2`).
            var number: Int? { Int(String(node.reversed().prefix { $0.isNumber }.reversed())) }
        }
        let label: String
        let sectorsize: UInt64?
        let partitions: [Partition]

        private enum Outer: String, CodingKey { case partitiontable }
        private enum CodingKeys: String, CodingKey { case label, sectorsize, partitions }

        init(label: String, sectorsize: UInt64?, partitions: [Partition]) {
            (self.label, self.sectorsize, self.partitions) = (label, sectorsize, partitions)
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Outer.self).nestedContainer(keyedBy: CodingKeys.self, forKey: .partitiontable)
            label = try c.decode(String.self, forKey: .label)
            sectorsize = try c.decodeIfPresent(UInt64.self, forKey: .sectorsize)
            partitions = try c.decodeIfPresent([Partition].self, forKey: .partitions) ?? []
        }
    }

    enum Plan: Equatable {
        case grow
        case nothing(String)
    }

    /// Whether partition `number` of a disk of `bytes` can grow: the last on its disk, primary on
    /// MBR (below 2 TiB there), and at least 1 MiB free after it (alignment crumbs are not worth
    /// a table write).
    static func plan(_ table: Table, number: Int, bytes: UInt64) -> Plan {
        let sector = table.sectorsize ?? 512
        guard let part = table.partitions.first(where: { $0.number == number }) else { return .nothing("partition \(number) is not in the table") }
        guard table.label == "gpt" || table.label == "dos" else { return .nothing("a \(table.label) table is not grown") }
        if table.label == "dos", number > 4 { return .nothing("partition \(number) is a logical partition, not grown") }
        if let next = table.partitions.first(where: { $0.start > part.start }) {
            return .nothing("partition \(number) is followed by \(next.node)")
        }
        let sectors = bytes / sector
        // GPT keeps its backup header and entries (33 sectors) at the disk's end; MBR counts in 32 bits.
        let lastUsable = table.label == "gpt" ? sectors &- 34 : min(sectors, 1 << 32) &- 1
        let end = part.start + part.size - 1
        guard lastUsable > end, (lastUsable - end) * sector >= 1 << 20 else { return .nothing("partition \(number) fills its disk") }
        return .grow
    }
}

extension GrowRoot {
    static let sfdisk = "sfdisk"

    /// This boot's growing: the partitions under `growpart.devices`, then the root filesystem;
    /// the problems, each in a line.
    static func run(_ settings: EssentialsSettings, paths: Paths, logger: Logger) async -> [String] {
        guard settings.growpart.enabled || settings.resizeRootfs else { return [] }
        guard paths.root == "/" else {
            logger.debug("growpart and resize_rootfs work on the running system's own disks only (--root is \(paths.root))")
            return []
        }
        var growpart = settings.growpart.enabled
        if growpart, !settings.growpart.ignoreGrowrootDisabled, FileSystem.exists("/etc/growroot-disabled") {
            logger.info("/etc/growroot-disabled is there: no partition grown")
            growpart = false
        }
        let mountinfo = FileSystem.readText("/proc/self/mountinfo")
        var problems: [String] = []
        for point in growpart ? settings.growpart.devices : [] {
            guard let mounted = mounted(at: point, mountinfo: mountinfo), let disk = disk(of: mounted.device, sys: "/sys") else {
                logger.info("growpart: \(point) is not a mounted disk: nothing to grow")
                continue
            }
            guard let number = disk.partition else { continue }   // a whole disk: only its filesystem grows
            if let problem = await growPartition(disk.device, number: number, bytes: disk.bytes, backups: paths.stateDir + "/growpart", logger: logger) {
                problems.append(problem)
            }
        }
        if settings.resizeRootfs, let mounted = mounted(at: "/", mountinfo: mountinfo), let disk = disk(of: mounted.device, sys: "/sys"),
           let problem = await resize(mounted.fsType, device: disk.partitionDevice, at: "/", logger: logger) {
            problems.append(problem)
        }
        return problems
    }

    /// Grows partition `number` of `device` (a disk, or a disk image file) to the end of its
    /// `bytes`, the old table kept in `backups` (sfdisk's `--backup`); nil when done or nothing to do.
    static func growPartition(_ device: String, number: Int, bytes: UInt64, backups: String, logger: Logger) async -> String? {
        // sfdisk's warnings (a GPT whose backup header is not at the new end) go to stderr: dropped, not parsed.
        let read = await SystemCommand.capture(["/bin/sh", "-c", "exec \"$0\" --json \"$1\" 2>/dev/null", sfdisk, device])
        guard let (status, json) = read, status == 0 else {
            if read?.0 == 127 { return "sfdisk is not installed (Debian's fdisk package): \(device) not grown (growpart: {mode: off} to leave it)" }
            return "\(sfdisk) --json \(device) failed: its partition table not read"
        }
        guard let table = try? JSONDecoder().decode(Table.self, from: Data(json.utf8)) else { return "\(sfdisk) --json \(device): not a table it printed" }
        if case .nothing(let why) = plan(table, number: number, bytes: bytes) {
            logger.info("growpart: \(device) partition \(number): \(why)")
            return nil
        }
        do { try FileSystem.makeDirectories(backups, mode: 0o700) } catch { return "cannot make \(backups): \(error)" }
        let backup = backups + "/" + device.split(separator: "/").joined(separator: "_")
        let argv = [sfdisk, "--no-reread", "--no-tell-kernel", "--backup", "--backup-file", backup, "-N", "\(number)", device]
        if let problem = await SystemCommand.failure(argv, stdin: Data(", +\n".utf8)) { return problem }
        var info = stat()
        // The partition is in use (mounted): the kernel is told its new size only, as growpart does.
        if stat(device, &info) == 0, info.st_mode & S_IFMT == S_IFBLK,
           let problem = await SystemCommand.failure(["partx", "--update", "--nr", "\(number)", device]) {
            return problem + " (the kernel sees the new size after a reboot)"
        }
        logger.notice("growpart: grew \(device) partition \(number) to the end of its disk (the old table in \(backup)-*.bak)")
        return nil
    }

    /// Grows a mounted filesystem to its device, online; nil when done, not needed, or not a kind we grow.
    static func resize(_ fsType: String, device: String, at point: String, logger: Logger) async -> String? {
        let argv: [String]
        switch fsType {
        case "ext2", "ext3", "ext4": argv = ["resize2fs", device]
        case "xfs": argv = ["xfs_growfs", "-d", point]
        case "btrfs": argv = ["btrfs", "filesystem", "resize", "max", point]
        default:
            logger.info("resize_rootfs: a \(fsType) filesystem is not grown")
            return nil
        }
        guard let (status, output) = await SystemCommand.capture(argv, timeout: 600) else { return "\(argv[0]) could not start" }
        guard status == 0 else { return "\(argv.joined(separator: " ")) exited \(status): \(LogFormat.oneLine(output))" }
        if output.contains("Nothing to do") { logger.debug("resize_rootfs: \(point) fills \(device)") } else { logger.notice("resize_rootfs: grew \(point) (\(fsType)) to fill \(device)") }
        return nil
    }
}
