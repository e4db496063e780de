#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// cloud-init's mounts module (`mounts`, `mount_default_fields`, `swap`), every boot in the data
/// stage, so the actions find their disks mounted: the user-data's entries, then the default
/// ones (the instance store, `InstanceStore`; the metadata's `swap` device) whose device no entry
/// has, then the swap file (`SwapFile`), written to /etc/fstab as our lines (`comment=ec2-boot-init`,
/// rewritten each boot) and mounted. The lines are cc_mounts' (the truth tests compare them).
/// Where we differ, on purpose: a metadata name with no device here (`ephemeral1` on an instance
/// without one) is passed over, not written as given; a kernel name (`xvdf`) is always written
/// as `/dev/xvdf`; an existing swap file is never made anew.
enum Mounts {
    static let comment = "comment=ec2-boot-init"

    /// A cloud-config entry: up to six fstab fields, nil where mount_default_fields' is taken.
    typealias Entry = [String?]

    /// `host:/export`: a network filesystem, written as given, mounted when the network is up.
    static func isNetwork(_ spec: String) -> Bool {
        guard let colon = spec.firstIndex(of: ":") else { return false }
        return colon != spec.startIndex
    }

    /// A name the metadata's block-device-mapping gives a device for (cloud-init's list).
    static func isMetadataName(_ name: String) -> Bool {
        ["ami", "root", "swap"].contains(name) || (["ephemeral", "ebs"].contains { name.hasPrefix($0) } && !name.contains(":"))
    }

    /// A kernel's disk name, which fstab takes with /dev/ in front (cloud-init's DEVICE_NAME_FILTER).
    static func isKernelName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        let letters = scalars.prefix { ("a"..."z").contains($0) }
        if letters.count >= 2, letters.first == "s", letters.dropFirst().first == "r" {
            return letters.count == 2 && scalars.count > 2 && scalars.dropFirst(2).allSatisfy { ("0"..."9").contains($0) }
        }
        var rest = scalars[...]
        if rest.first == "x" { rest = rest.dropFirst() }
        guard rest.count >= 3, ["s", "h", "v"].contains(rest.first!), rest.dropFirst().first == "d", ("a"..."z").contains(rest.dropFirst(2).first!) else { return false }
        return rest.dropFirst(3).allSatisfy { ("0"..."9").contains($0) }
    }

    /// The partition `number` of `disk` as the kernel names it (`sdb1`, `nvme1n1p1`, `…-part1`), when it exists.
    static func partition(_ disk: String, _ number: String, exists: (String) -> Bool) -> String? {
        ["", "p", "-part"].map { disk + $0 + number }.first(where: exists)
    }

    /// What an entry's first field becomes in fstab (cloud-init's sanitize_devname): a network
    /// resource as given; a metadata name (`ephemeral0`, `.2` a partition) the device the
    /// metadata maps it to (nil when there is none); a kernel name under /dev; then the
    /// partition asked for, or the disk's first partition when it has one; anything else
    /// (`LABEL=`, `tmpfs`) as given.
    static func resolve(_ spec: String, mapped: (String) -> String?, exists: (String) -> Bool) -> String? {
        if isNetwork(spec) { return spec }
        let dot = spec.lastIndex(of: ".")
        var name = dot.map { String(spec[..<$0]) } ?? spec
        let number = dot.map { String(spec[spec.index(after: $0)...]) }
        if spec == "ephemeral" { name = "ephemeral0" }
        let device: String
        if isMetadataName(name) {
            guard let found = mapped(name) else { return nil }
            device = found
        } else {
            device = isKernelName(spec) ? "/dev/" + name : name
        }
        // Partitions of device nodes only: `/srv/www` is no disk, whatever `/srv/www1` is.
        let node = device.hasPrefix("/dev/")
        if let number {
            return (node ? partition(device, number, exists: exists) : nil) ?? (isMetadataName(name) ? nil : spec)
        }
        return (node ? partition(device, "1", exists: exists) : nil) ?? device
    }
}

extension Mounts {
    /// cc_mounts' lines from the user's entries (resolved; passed over when nil), the default
    /// fields filled in, an entry whose mount point is null dropping the entries of its device so
    /// far; then each default entry whose device no entry and no other fstab line has; then
    /// `swap` (a file's line); our comment added to the options.
    static func lines(_ entries: [Entry], defaults: [String?], defaultEntries: [[String]], swap: String?,
                      fstabDevices: Set<String>, resolve: (String) -> String?) -> [[String]] {
        var list: [Entry] = entries.compactMap { entry in
            guard let spec = entry.first ?? nil, let device = resolve(spec) else { return nil }
            return [device] + entry.dropFirst()
        }
        for i in list.indices {
            for j in defaults.indices {
                if list[i].count <= j { list[i].append(defaults[j]) } else if list[i][j] == nil { list[i][j] = defaults[j] }
            }
            if list[i][1] == nil {
                for j in 0..<i where list[j][0] == list[i][0] { list[j][1] = nil }
            }
        }
        for entry in defaultEntries where !fstabDevices.contains(entry[0]) && !list.contains(where: { $0[0] == entry[0] }) {
            list.append(entry)
        }
        var lines = list.compactMap { entry -> [String]? in
            guard entry[1] != nil, entry.prefix(6).allSatisfy({ $0 != nil }) else { return nil }
            return entry.prefix(6).map { $0! }
        }
        if let swap { lines.append([swap, "none", "swap", "sw", "0", "0"]) }
        return lines.map { line in line.enumerated().map { $0.offset == 3 ? $0.element + "," + comment : $0.element } }
    }

    /// The fields of each line in /etc/fstab that is not ours.
    static func others(inFstab text: String) -> [[String]] {
        text.split(separator: "\n").filter { !$0.contains(comment) }.map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) }
    }

    /// The first field of each line that is not ours: the devices cloud-init leaves to them.
    static func devices(inFstab text: String) -> Set<String> {
        Set(others(inFstab: text).compactMap(\.first))
    }

    /// /etc/fstab with our lines replaced by `lines` (tab-separated fields); whether ours changed.
    static func fstab(_ text: String, lines: [[String]]) -> (text: String, changed: Bool) {
        var kept: [Substring] = [], old: [String] = []
        let all = text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0)
        for line in all {
            if line.contains(comment) { old.append(String(line)) } else { kept.append(line) }
        }
        let new = lines.map { $0.joined(separator: "\t") }
        let body = (kept.map(String.init) + new).joined(separator: "\n")
        return (body.isEmpty ? "" : body + "\n", new != old)
    }
}

extension Mounts {
    /// How long this step may take in all (the data stage's unit has 180 s, the metadata most of
    /// them): what is not mounted by then is a problem named, and the boot goes on.
    static let budget = 60.0

    /// This boot's fstab: the user-data's entries, the instance store, the swap file; written
    /// when ours changed, then each mounted (on the real root); the problems. A new swap file is
    /// made after the mounts (its folder may be on one of them), then its line added.
    static func run(_ settings: EssentialsSettings, metadata: MetadataTree, paths: Paths, logger: Logger) async -> [String] {
        let deadline = Deadline(seconds: budget)
        let current = FileSystem.readText(paths.host("/etc/fstab"))
        let nvme = InstanceStore.nvmeDisks(sys: paths.host("/sys"))
        let exists = { (node: String) in FileSystem.exists(paths.host(node)) }
        var defaults = await InstanceStore.entries(settings, metadata: metadata, nvme: nvme, fstab: current, paths: paths, logger: logger)
        let device = { (spec: String) -> String? in
            resolve(spec, mapped: { InstanceStore.disk(metadata, $0, nvme: nvme, exists: exists) }, exists: exists)
        }
        if settings.instanceStore, let swap = device("swap") { defaults.append([swap, "none", "swap", "sw", "0", "0"]) }
        let swapFile = settings.swap.flatMap { $0.size == .bytes(0) ? nil : $0.filename }
        let made = swapFile.map { FileSystem.exists(paths.host($0)) } ?? false
        let lines = { (swap: String?) in
            Self.lines(settings.mounts, defaults: settings.mountDefaultFields, defaultEntries: defaults, swap: swap,
                       fstabDevices: devices(inFstab: current)) { spec in
                let found = device(spec)
                if found == nil { logger.notice("mounts: \(spec) names no device here (block-device-mapping): its entry is passed over") }
                return found
            }
        }
        let first = lines(made ? swapFile : nil)
        var (changed, problems) = write(first, paths: paths, logger: logger)
        problems += await activate(first, reload: changed, deadline: deadline, paths: paths, logger: logger)
        guard let settings = settings.swap, let swapFile, !made else { return problems }
        guard await SwapFile.make(settings, paths: paths, deadline: deadline, logger: logger, problems: &problems) else { return problems }
        let withSwap = lines(swapFile)
        let second = write(withSwap, paths: paths, logger: logger)
        (changed, problems) = (second.changed, problems + second.problems)
        return problems + (await activate(withSwap.filter { $0[0] == swapFile }, reload: changed, deadline: deadline, paths: paths, logger: logger))
    }

    /// /etc/fstab with `lines` as ours, written atomically when they changed: whether, and the problem.
    private static func write(_ lines: [[String]], paths: Paths, logger: Logger) -> (changed: Bool, problems: [String]) {
        let path = paths.host("/etc/fstab")
        let merged = fstab(FileSystem.readText(path), lines: lines)
        guard merged.changed else { return (false, []) }
        do { try AtomicFile.write(Data(merged.text.utf8), to: path, mode: 0o644) } catch { return (false, ["cannot write \(path): \(error)"]) }
        logger.notice("mounts: /etc/fstab has \(lines.isEmpty ? "no line" : lines.map { "\($0[0]) on \($0[1])" }.joined(separator: ", ")) of ours")
        return (true, [])
    }

    /// A network filesystem's line: mounted by its unit when the network is up, never waited for here.
    static func isRemote(_ line: [String]) -> Bool {
        isNetwork(line[0]) || line[0].hasPrefix("//")
            || ["nfs", "nfs4", "cifs", "smb3", "smbfs", "glusterfs", "ceph", "sshfs", "fuse.sshfs", "davfs"].contains(line[2])
    }

    /// Each line's mount point made; then, on the real root, systemd told of fstab, swap turned
    /// on, each local filesystem mounted when it is not, each network one started as its mount
    /// unit without waiting (it needs the network, which this stage does not wait for); all
    /// within `deadline`.
    static func activate(_ lines: [[String]], reload: Bool, deadline: Deadline, paths: Paths, logger: Logger) async -> [String] {
        var problems: [String] = []
        for line in lines where line[1].hasPrefix("/") {
            do { try FileSystem.makeDirectories(paths.host(line[1]), mode: 0o755) } catch { problems.append("cannot make \(line[1]): \(error)") }
        }
        guard paths.root == "/" else { return problems }
        let systemd = FileSystem.isDirectory("/run/systemd/system")
        if reload, systemd, let problem = await SystemCommand.failure(["systemctl", "daemon-reload"], timeout: deadline.remaining) { problems.append(problem) }
        let mountinfo = FileSystem.readText("/proc/self/mountinfo")
        for line in lines {
            guard let argv = command(line, systemd: systemd, mountinfo: mountinfo) else { continue }
            guard !deadline.passed else {
                problems.append("out of time (\(Int(budget)) s for the mounts): \(argv.joined(separator: " ")) not run")
                continue
            }
            if let problem = await SystemCommand.failure(argv, timeout: deadline.remaining) { problems.append(problem) } else {
                logger.notice("mounts: \(argv.joined(separator: " "))")
            }
        }
        return problems
    }

    /// What turns a line on, when it is not on already: `swapon`, `mount`, or its unit started.
    static func command(_ line: [String], systemd: Bool, mountinfo: String) -> [String]? {
        if line[2] == "swap" { return SwapFile.inUse(line[0]) ? nil : ["swapon", line[0]] }
        let point = line[1].count > 1 && line[1].hasSuffix("/") ? String(line[1].reversed().drop { $0 == "/" }.reversed()) : line[1]
        guard point.hasPrefix("/"), GrowRoot.mounted(at: point, mountinfo: mountinfo) == nil else { return nil }
        return isRemote(line) && systemd ? ["systemctl", "start", "--no-block", unit(point)] : ["mount", point]
    }

    /// systemd's mount unit for a mount point (`systemd-escape --path --suffix=mount`).
    static func unit(_ point: String) -> String {
        let trimmed = point.split(separator: "/").joined(separator: "/")
        guard !trimmed.isEmpty else { return "-.mount" }
        var out = ""
        for (i, byte) in trimmed.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "/"): out += "-"
            case UInt8(ascii: ".") where i == 0: out += "\\x2e"
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"):
                out.append(Character(UnicodeScalar(byte)))
            default: out += "\\x" + [byte].hex
            }
        }
        return out + ".mount"
    }
}
