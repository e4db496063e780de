import Foundation
import Logging

/// cloud-init's default `mounts` on EC2, every boot: the instance store disks the metadata's
/// `block-device-mapping` names (`ephemeral0: sdb`) found under the name the kernel gave them
/// (`/dev/sdb`, `/dev/xvdb`, `/dev/vdb`, or the Nth NVMe disk whose model is EC2's instance
/// storage; its first partition when it has one), written to /etc/fstab as cloud-init's default
/// entry (`auto`, `mount_default_fields`' options, `0 2`) with `comment=ec2-boot-init` (our lines, rewritten each boot, as an
/// instance store can change with the instance type), and mounted: ephemeral0 on /mnt, as
/// cloud-init does, ephemeralN on /media/ephemeralN. A disk without a filesystem (NVMe instance
/// store comes blank) is left out, never formatted; a device or mount point another fstab line
/// has is left to it.
enum InstanceStore {
    static let comment = "comment=ec2-boot-init"
    static let nvmeModel = "Amazon EC2 NVMe Instance Storage"

    /// `ephemeralN` of block-device-mapping, by N, with the device name the metadata gives.
    static func mapped(_ metadata: MetadataTree) -> [(number: Int, device: String)] {
        metadata.leaves.compactMap { path, value -> (Int, String)? in
            guard path.hasPrefix("block-device-mapping/ephemeral"), let number = Int(path.dropFirst("block-device-mapping/ephemeral".count)),
                  number >= 0, number < 64 else { return nil }
            let name = value.trimmingWhitespace(newlines: true).replacingOccurrences(of: "/dev/", with: "", options: .anchored)
            guard name.count <= 32, !name.isEmpty, name.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) }) else { return nil }
            return (number, name)
        }.sorted { $0.0 < $1.0 }
    }

    static func mountPoint(_ number: Int) -> String { number == 0 ? "/mnt" : "/media/ephemeral\(number)" }

    /// The node for a mapped name: as named, else `sd` as `xvd` or `vd` (cloud-init's remap), else
    /// the `index`th of the NVMe instance store disks; then its first partition when it has one.
    static func node(_ name: String, index: Int, nvme: [String], exists: (String) -> Bool) -> String? {
        var candidates = [name]
        if name.hasPrefix("sd") { candidates += ["xvd", "vd"].map { $0 + name.dropFirst(2) } }
        var disk = candidates.map { "/dev/" + $0 }.first(where: exists)
        if disk == nil, index < nvme.count { disk = "/dev/" + nvme[index] }
        guard let disk else { return nil }
        let first = disk.last?.isNumber == true ? disk + "p1" : disk + "1"
        return exists(first) ? first : disk
    }

    /// The NVMe disks whose model is EC2's instance storage, in the kernel's order (nvme1n1 before nvme10n1).
    static func nvmeDisks(sys: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: sys + "/block")) ?? []
        return names.filter { name in
            name.hasPrefix("nvme") && !name.contains("p")
                && FileSystem.read(sys + "/block/" + name + "/device/model").map { String(decoding: $0.prefix(256), as: UTF8.self).trimmingWhitespace(newlines: true) } == nvmeModel
        }.sorted { $0.count != $1.count ? $0.count < $1.count : $0 < $1 }
    }

    /// /etc/fstab with our lines replaced by `lines` (tab-separated fields); a line of another's
    /// for the same device or mount point keeps it, and ours is left out. Whether ours changed.
    static func fstab(_ text: String, lines: [[String]]) -> (text: String, ours: [[String]], changed: Bool) {
        var kept: [Substring] = [], old: [String] = []
        let all = text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0)
        for line in all {
            if line.contains(comment) { old.append(String(line)) } else { kept.append(line) }
        }
        let taken = kept.filter { !$0.hasPrefix("#") }.flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).prefix(2).map(String.init) }
        let ours = lines.filter { !taken.contains($0[0]) && !taken.contains($0[1]) }
        let new = ours.map { $0.joined(separator: "\t") }
        let body = (kept.map(String.init) + new).joined(separator: "\n")
        return (body.isEmpty ? "" : body + "\n", ours, new != old)
    }
}

extension InstanceStore {
    /// This boot's instance store: fstab, then each disk mounted (on the real root); the problems.
    static func run(_ settings: EssentialsSettings, metadata: MetadataTree, paths: Paths, logger: Logger) async -> [String] {
        guard settings.instanceStore else { return [] }
        let nvme = nvmeDisks(sys: paths.host("/sys"))
        let mountinfo = String(decoding: FileSystem.read(paths.host("/proc/self/mountinfo")) ?? Data(), as: UTF8.self)
        var lines: [[String]] = []
        for (index, (number, name)) in mapped(metadata).enumerated() {
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
            lines.append([node, mountPoint(number), "auto", (settings.mountDefaultFields[3] ?? "defaults") + "," + comment, "0", "2"])
        }
        let path = paths.host("/etc/fstab")
        let current = String(decoding: FileSystem.read(path) ?? Data(), as: UTF8.self)
        let merged = fstab(current, lines: lines)
        if merged.changed {
            do { try AtomicFile.write(Data(merged.text.utf8), to: path, mode: 0o644) } catch { return ["cannot write \(path): \(error)"] }
            logger.notice("instance store: /etc/fstab has \(merged.ours.isEmpty ? "no line" : merged.ours.map { "\($0[0]) on \($0[1])" }.joined(separator: ", ")) of ours")
        }
        return await mount(merged.ours, reload: merged.changed, paths: paths, logger: logger)
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
        // Linux's dev_t: the major number in bits 8-19 and 32-43, the minor in 0-7 and 20-31.
        let rdev = UInt64(info.st_rdev)
        let major: UInt64 = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfff)
        let minor: UInt64 = (rdev & 0xff) | ((rdev >> 12) & ~0xff)
        return "\(major):\(minor)"
    }

    /// Each line's mount point made and mounted when it is not already (systemd told of a changed fstab first).
    private static func mount(_ lines: [[String]], reload: Bool, paths: Paths, logger: Logger) async -> [String] {
        var problems: [String] = []
        for line in lines {
            do { try FileSystem.makeDirectories(paths.host(line[1]), mode: 0o755) } catch { problems.append("cannot make \(line[1]): \(error)") }
        }
        guard paths.root == "/" else { return problems }
        if reload, FileSystem.isDirectory("/run/systemd/system"), let problem = await SystemCommand.failure(["systemctl", "daemon-reload"]) {
            problems.append(problem)
        }
        let mountinfo = String(decoding: FileSystem.read("/proc/self/mountinfo") ?? Data(), as: UTF8.self)
        for line in lines where GrowRoot.mounted(at: line[1], mountinfo: mountinfo) == nil {
            if let problem = await SystemCommand.failure(["mount", line[1]]) { problems.append(problem) } else {
                logger.notice("instance store: \(line[0]) mounted on \(line[1])")
            }
        }
        return problems
    }
}
