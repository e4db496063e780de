import Foundation
import Logging

/// cloud-init's `swap`: a swap file (`filename`, default /swap.img) of `size` bytes (`512M`,
/// `2G`, or `auto`: cloud-init's suggestion from the memory, at most `maxsize` and a quarter of
/// the free space), made once: created mode 0600 before a byte is in it (`fallocate`, or `dd`
/// on btrfs and where fallocate fails), `mkswap`, then in /etc/fstab and `swapon`. An existing
/// file is never made anew (cloud-init remakes one not in use: here systemd may be turning it on).
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

    /// The swap file's line for fstab: made when missing, nil when there is none to have (size 0,
    /// or it could not be made: the problem in `problems`).
    static func ensure(_ settings: SwapSettings?, paths: Paths, logger: Logger, problems: inout [String]) async -> String? {
        guard let settings, settings.size != .bytes(0) else { return nil }
        let path = paths.host(settings.filename)
        if FileSystem.exists(path) { return settings.filename }
        let folder = (path as NSString).deletingLastPathComponent
        var bytes: UInt64
        switch settings.size {
        case .bytes(let size): bytes = size
        case .auto: bytes = suggested(memory: memory(paths), maxsize: settings.maxsize, free: free(folder))
        }
        let mebibytes = bytes >> 20
        guard mebibytes > 0 else {
            logger.notice("swap: \(bytes) bytes is less than 1 MiB: no swap file")
            return nil
        }
        if let problem = await make(path, mebibytes: mebibytes, dd: fsType(of: folder, paths: paths) == "btrfs") {
            problems.append(problem)
            return nil
        }
        logger.notice("swap: \(settings.filename) made, \(mebibytes) MiB")
        return settings.filename
    }

    /// The file created empty with mode 0600, filled, given a swap signature; removed on failure.
    private static func make(_ path: String, mebibytes: UInt64, dd: Bool) async -> String? {
        let folder = (path as NSString).deletingLastPathComponent
        do { try FileSystem.makeDirectories(folder, mode: 0o755) } catch { return "cannot make \(folder): \(error)" }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "cannot create \(path): \(String(cString: strerror(errno)))" }
        close(fd)
        let fill = ["dd", "if=/dev/zero", "of=\(path)", "bs=1M", "count=\(mebibytes)", "status=none"]
        var problem = dd ? await SystemCommand.failure(fill, timeout: 600) : await SystemCommand.failure(["fallocate", "-l", "\(mebibytes)M", path])
        if problem != nil, !dd { problem = await SystemCommand.failure(fill, timeout: 600) }
        if problem == nil { problem = await SystemCommand.failure(["mkswap", path]) }
        if problem != nil { try? FileSystem.remove(path) }
        return problem
    }

    /// MemTotal of /proc/meminfo, in bytes.
    static func memory(_ paths: Paths) -> UInt64 {
        let text = String(decoding: FileSystem.read(paths.host("/proc/meminfo")) ?? Data(), as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
        return (line?.split(separator: " ").dropFirst().first.flatMap { UInt64($0) } ?? 0) * 1024
    }

    /// The free bytes of the filesystem holding `folder` (0 when it cannot be read).
    static func free(_ folder: String) -> UInt64 {
        var info = statvfs()
        guard statvfs(folder, &info) == 0 else { return 0 }
        return UInt64(info.f_frsize) * UInt64(info.f_bfree)
    }

    /// The type of the filesystem `folder` is on (the longest mount point above it).
    static func fsType(of folder: String, paths: Paths) -> String? {
        let mountinfo = String(decoding: FileSystem.read(paths.host("/proc/self/mountinfo")) ?? Data(), as: UTF8.self)
        return GrowRoot.mounts(mountinfo).filter { folder == $0.point || folder.hasPrefix($0.point == "/" ? "/" : $0.point + "/") }
            .max { $0.point.count < $1.point.count }?.fsType
    }

    /// Whether /proc/swaps lists `file` (in use).
    static func inUse(_ file: String) -> Bool {
        let text = String(decoding: FileSystem.read("/proc/swaps") ?? Data(), as: UTF8.self)
        return text.split(separator: "\n").dropFirst().contains { $0.split(separator: " ").first.map(String.init) == file }
    }
}
