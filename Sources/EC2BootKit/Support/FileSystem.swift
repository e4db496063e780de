#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials
import CBootSystem

public enum FileSystemError: Error, CustomStringConvertible {
    case posix(String, Int32)
    case refused(String)

    public var description: String {
        switch self {
        case let .posix(what, code): return "cannot \(what): \(String(cString: strerror(code)))"
        case let .refused(why): return why
        }
    }
}

/// Small POSIX helpers the writers share.
public enum FileSystem {
    /// Linux's dev_t split: the major number in bits 8-19 and 32-43, the minor in 0-7 and 20-31.
    public static func deviceNumbers(_ dev: UInt64) -> (major: UInt64, minor: UInt64) {
        (((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff), (dev & 0xff) | ((dev >> 12) & ~0xff))
    }

    /// `mkdir -p`: a folder made gets `mode`, folders made above it `parentMode`; an existing
    /// one is left as it is. No symlink another user could have planted is followed.
    public static func makeDirectories(_ path: String, mode: mode_t, parentMode: mode_t = 0o755) throws {
        close(try SafeDirectory.open(path, mode: mode, parentMode: parentMode))
    }

    /// A folder the tool owns (cache, state, actions): made if missing, refused when another
    /// user owns it or it is reached through an untrusted symlink, and set to `mode`.
    public static func ownedDirectory(_ path: String, mode: mode_t, parentMode: mode_t = 0o755) throws {
        close(try SafeDirectory.open(path, mode: mode, parentMode: parentMode, owned: true))
    }

    public static func syncPath(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    public static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// A folder (or a symlink to one) is at `path`.
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    public static func read(_ path: String) -> Data? {
        FileManager.default.contents(atPath: path)
    }

    /// A file's text (UTF-8, bad bytes replaced); empty when it is missing or unreadable, for
    /// files whose absence means "nothing there" (fstab, /proc's tables).
    public static func readText(_ path: String) -> String {
        String(decoding: read(path) ?? Data(), as: UTF8.self)
    }

    /// Reads at most `maxBytes`: nil when the file cannot be read, `.tooLarge` past the bound,
    /// found while reading (a file that grows, or a pipe, is never loaded whole).
    public static func read(_ path: String, maxBytes: Int) -> BoundedRead {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .unreadable(errno) }
        defer { close(fd) }
        return read(fd: fd, maxBytes: maxBytes)
    }

    /// A regular file's bytes, not through a symlink at `path` and at most `maxBytes`; nil when
    /// there is none. For files someone else may have put there (a user's authorized_keys, a file
    /// write_files appends to): a symlink, a device or a fifo is refused, not read.
    public static func readRegular(_ path: String, maxBytes: Int) throws -> (data: Data, mode: mode_t)? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0, errno == ENOENT { return nil }
        guard fd >= 0 else { throw FileSystemError.posix("open \(path) (not a symlink)", errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw FileSystemError.refused("\(path) is not a regular file; refusing to read it")
        }
        switch read(fd: fd, maxBytes: maxBytes) {
        case .data(let data): return (data, info.st_mode & 0o7777)
        case .tooLarge: throw FileSystemError.refused("\(path) is larger than \(ByteCount(maxBytes))")
        case .unreadable(let code): throw FileSystemError.posix("read \(path)", code)
        }
    }

    public static func read(fd: Int32, maxBytes: Int) -> BoundedRead {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .unreadable(errno)
            }
            if count == 0 { return .data(data) }
            guard data.count + count <= maxBytes else { return .tooLarge }
            data.append(contentsOf: buffer[..<count])
        }
    }

    public enum BoundedRead {
        case data(Data)
        case tooLarge
        case unreadable(Int32)

        /// What was read; nil when too large or unreadable.
        public var data: Data? {
            if case .data(let data) = self { return data }
            return nil
        }
    }

    /// `rm -rf`; a missing path is fine.
    public static func remove(_ path: String) throws {
        guard exists(path) else { return }
        do { try FileManager.default.removeItem(atPath: path) } catch {
            throw FileSystemError.posix("remove \(path)", errno == 0 ? EIO : errno)
        }
    }
}

extension FileSystem {
    /// write(2) until all of `data` is written.
    public static func writeAll(_ data: Data, to fd: Int32, path: String) throws {
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileSystemError.posix("write \(path)", errno)
                }
                offset += n
            }
        }
    }

    /// One syncfs(2) for a batch of files: cheaper than an fsync for each.
    static func syncFileSystem(of path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { sync(); return }
        defer { close(fd) }
        if CBootSystem.syncfs(fd) != 0 { sync() }
    }
}
