#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// cloud-init's `swap`: a swap file (`filename`, default /swap.img) of `size` bytes (`512M`,
/// `2G`, or `auto`: cloud-init's suggestion from the memory, at most `maxsize` and a quarter of
/// the free space), made once, after the mounts (its folder may be on one): under a temporary
/// name, mode 0600 before a byte is in it (`fallocate`, or `dd` on btrfs and where fallocate
/// fails, never past the free space), `mkswap`, renamed into place, then in /etc/fstab and
/// `swapon`. An existing file is never made anew (cloud-init remakes one not in use: here systemd
/// may be turning it on).
public struct SwapSettings: Sendable, Decodable, Equatable {
    public enum Size: Sendable, Equatable {
        case bytes(UInt64)
        case auto
    }

    public var filename = "/swap.img"
    public var size: Size = .bytes(0)
    public var maxsize: UInt64?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case filename, size, maxsize }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        filename = try c.decodeIfPresent(String.self, forKey: .filename) ?? filename
        guard filename.hasPrefix("/"), !filename.contains(where: \.isNewline), !filename.contains(" "), !filename.contains("\t") else {
            throw DecodingError.dataCorruptedError(forKey: .filename, in: c, debugDescription: "\(filename) is not an absolute path without spaces")
        }
        if let text = try? c.decodeIfPresent(String.self, forKey: .size), text == "auto" {
            size = .auto
        } else if let bytes = try Self.bytes(c, .size) {
            size = .bytes(bytes)
        }
        maxsize = try Self.bytes(c, .maxsize)
    }

    /// A size in bytes: a number, or cloud-init's human form (`512M`, `1.5G`, `64MB`).
    private static func bytes(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> UInt64? {
        if let number = try? c.decodeIfPresent(UInt64.self, forKey: key) { return number }
        guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let bytes = parse(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(text) is not a size (bytes, or a number and B, K, M, G or T: 512M, 2G\(key == .size ? ", or auto" : ""))")
        }
        return bytes
    }

    /// cloud-init's human2bytes: a number (decimals too), then B, K, M, G or T, a B after any.
    static func parse(_ text: String) -> UInt64? {
        var body = Substring(text)
        if body.hasSuffix("B") { body = body.dropLast() }
        let units: [Character: Double] = ["B": 1, "K": 0x400, "M": 0x10_0000, "G": 0x4000_0000, "T": 0x100_0000_0000]
        var multiplier = 1.0
        if let last = body.last, let unit = units[last] { multiplier = unit; body = body.dropLast() }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let number = Double(body),
              number >= 0, number * multiplier < 0x1p63 else { return nil }
        return UInt64(number * multiplier)
    }
}

enum SwapFile {
    static let gib: UInt64 = 1 << 30

    /// cloud-init's suggested_swapsize: the memory (at most 4 GiB; the square root of its GiB
    /// beyond 16 GiB), no more than `maxsize` (else twice the memory and a quarter of the free space), nor 90% of the free space.
    static func suggested(memory: UInt64, maxsize: UInt64?, free: UInt64) -> UInt64 {
        var limit = maxsize ?? min(free / 4, memory * 2)
        if let maxsize, Double(maxsize) > Double(free) * 0.9 { limit = UInt64(Double(free) * 0.9) }
        let wanted: UInt64 = memory < 4 * gib ? memory : memory < 16 * gib ? 4 * gib
            : UInt64((Double(memory) / Double(gib)).squareRoot().rounded(.toNearestOrEven)) * gib
        return min(wanted, limit)
    }

    /// Makes the missing swap file: its size (`auto` measured in its folder, made first), then
    /// filled under a temporary name and renamed into place, so a boot cut off midway never leaves
    /// a file that looks made. Whether it was made; why not, in `problems` (or the log, for a size under 1 MiB).
    static func make(_ settings: SwapSettings, paths: Paths, deadline: Deadline, logger: Logger, problems: inout [String]) async -> Bool {
        let path = paths.host(settings.filename)
        let folder = path.parentFolder
        do { try FileSystem.makeDirectories(folder, mode: 0o755) } catch {
            problems.append("swap: cannot make \(folder): \(error)")
            return false
        }
        let free = freeBytes(folder)
        var bytes: UInt64
        switch settings.size {
        case .bytes(let size): bytes = size
        case .auto: bytes = suggested(memory: memory(paths), maxsize: settings.maxsize, free: free)
        }
        let mebibytes = bytes >> 20
        guard mebibytes > 0 else {
            logger.notice("swap: \(bytes) bytes is less than 1 MiB: no swap file")
            return false
        }
        guard mebibytes << 20 < free else {
            problems.append("swap: \(settings.filename) needs \(mebibytes) MiB, its filesystem has \(free >> 20) MiB free: not made")
            return false
        }
        if let problem = await fill(path, mebibytes: mebibytes, dd: fsType(of: folder, paths: paths) == "btrfs", deadline: deadline) {
            problems.append("swap: " + problem)
            return false
        }
        logger.notice("swap: \(settings.filename) made, \(mebibytes) MiB")
        return true
    }

    /// The file made beside `path` (created empty, mode 0600, before a byte is in it), filled,
    /// given a swap signature, renamed to `path`; the temporary one removed on failure.
    private static func fill(_ path: String, mebibytes: UInt64, dd: Bool, deadline: Deadline) async -> String? {
        let name = path.baseName, folder = path.parentFolder
        let work = folder + "/." + name + ".ec2-boot-init"
        try? FileSystem.remove(work)
        let fd = open(work, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "cannot create \(work): \(String(cString: strerror(errno)))" }
        close(fd)
        let zeros = ["dd", "if=/dev/zero", "of=\(work)", "bs=1M", "count=\(mebibytes)", "status=none"]
        // dd where fallocate cannot (btrfs, as cloud-init; or fallocate refused): the room was checked first.
        var problem = await SystemCommand.failure(dd ? zeros : ["fallocate", "-l", "\(mebibytes)M", work], timeout: deadline.remaining)
        if problem != nil, !dd, !deadline.passed { problem = await SystemCommand.failure(zeros, timeout: deadline.remaining) }
        if problem == nil { problem = await SystemCommand.failure(["mkswap", work], timeout: max(1, deadline.remaining)) }
        if problem == nil, rename(work, path) != 0 { problem = "cannot rename \(work) to \(path): \(String(cString: strerror(errno)))" }
        if problem != nil { try? FileSystem.remove(work) } else { FileSystem.syncPath(folder) }
        return problem
    }

    /// MemTotal of /proc/meminfo, in bytes.
    static func memory(_ paths: Paths) -> UInt64 {
        let text = FileSystem.readText(paths.host("/proc/meminfo"))
        let line = text.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
        return (line?.split(separator: " ").dropFirst().first.flatMap { UInt64($0) } ?? 0) * 1024
    }

    /// The free bytes of the filesystem holding `folder` (0 when it cannot be read).
    static func freeBytes(_ folder: String) -> UInt64 {
        var info = statvfs()
        guard statvfs(folder, &info) == 0 else { return 0 }
        return UInt64(info.f_frsize) * UInt64(info.f_bfree)
    }

    /// The type of the filesystem `folder` is on (the longest mount point above it).
    static func fsType(of folder: String, paths: Paths) -> String? {
        let mountinfo = FileSystem.readText(paths.host("/proc/self/mountinfo"))
        return GrowRoot.mounts(mountinfo).filter { folder == $0.point || folder.hasPrefix($0.point == "/" ? "/" : $0.point + "/") }
            .max { $0.point.count < $1.point.count }?.fsType
    }

    /// Whether /proc/swaps lists what an fstab spec names (a file, a device, its link, `LABEL=`, `UUID=`).
    static func inUse(_ spec: String) -> Bool {
        let text = FileSystem.readText("/proc/swaps")
        let active = Set(text.split(separator: "\n").dropFirst().compactMap { $0.split(separator: " ").first.map { canonical(String($0)) } })
        return active.contains(canonical(spec))
    }

    /// The path a spec comes to: `LABEL=x` and `UUID=x` through /dev/disk's links, every link followed.
    static func canonical(_ spec: String) -> String {
        var path = spec
        for (tag, folder) in [("LABEL=", "by-label"), ("UUID=", "by-uuid"), ("PARTUUID=", "by-partuuid"), ("PARTLABEL=", "by-partlabel")] where spec.hasPrefix(tag) {
            path = "/dev/disk/\(folder)/" + spec.dropFirst(tag.count)
        }
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
