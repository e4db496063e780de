#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials

/// Writes files so a reader (or a power cut) sees the old content or the new, never half:
/// a temp file beside the target, fsync, rename, fsync of the folder. The folder is opened
/// once (through `SafeDirectory`) and every step is relative to it, so a symlink swapped in
/// meanwhile cannot redirect the write; a symlink at the target itself is replaced.
public final class AtomicFileWriter {
    public let path: String
    private let name: String
    private let tempName: String
    private let dirFD: Int32
    private var fd: Int32
    private var finished = false

    /// Opens a temp file next to `path`, creating parent folders with `directoryMode`. With
    /// `ownedFolder`, the folder must be the agent's and is set to `directoryMode` (see
    /// `SafeDirectory`), checked on the same walk that opens it.
    /// With `owner`, the file gets that uid and gid (a merged config file keeps its owner).
    public init(path: String, mode: mode_t, directoryMode: mode_t = 0o755, ownedFolder: Bool = false,
                owner: (uid_t, gid_t)? = nil) throws {
        self.path = path
        let dir = path.parentFolder
        name = path.baseName
        dirFD = try SafeDirectory.open(dir.isEmpty ? "." : dir, mode: directoryMode, owned: ownedFolder)
        var fd: Int32 = -1
        var tempName = ""
        for _ in 0..<16 where fd < 0 {
            tempName = ".\(name).tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            fd = openat(dirFD, tempName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd < 0, errno != EEXIST { break }
        }
        guard fd >= 0 else {
            let err = errno
            close(dirFD)
            throw FileSystemError.posix("create a temp file for \(path)", err)
        }
        self.fd = fd
        self.tempName = tempName
        if let owner, fchown(fd, owner.0, owner.1) != 0 {
            let err = errno
            discard()
            throw FileSystemError.posix("set the owner of \(path)", err)
        }
        guard fchmod(fd, mode) == 0 else {
            let err = errno
            discard()
            throw FileSystemError.posix("set the mode of \(path)", err)
        }
    }

    deinit {
        discard()
        close(dirFD)
    }

    public func write(_ data: Data) throws {
        try FileSystem.writeAll(data, to: fd, path: path)
    }

    /// Makes the new content durable and visible under `path`.
    public func commit() throws {
        guard !finished else { return }
        finished = true
        defer { fd = -1 }
        guard fsync(fd) == 0 else {
            let err = errno
            close(fd); unlinkat(dirFD, tempName, 0)
            throw FileSystemError.posix("fsync \(path)", err)
        }
        close(fd)
        guard renameat(dirFD, tempName, dirFD, name) == 0 else {
            let err = errno
            unlinkat(dirFD, tempName, 0)
            throw FileSystemError.posix("rename into \(path)", err)
        }
        fsync(dirFD)
    }

    /// Drops the temp file; the target keeps its old content.
    public func discard() {
        guard !finished else { return }
        finished = true
        close(fd)
        unlinkat(dirFD, tempName, 0)
        fd = -1
    }
}

public enum AtomicFile {
    /// Replaces `path` with `data` atomically, with `mode`.
    public static func write(_ data: Data, to path: String, mode: mode_t, directoryMode: mode_t = 0o755,
                             ownedFolder: Bool = false, owner: (uid_t, gid_t)? = nil) throws {
        let writer = try AtomicFileWriter(path: path, mode: mode, directoryMode: directoryMode, ownedFolder: ownedFolder,
                                          owner: owner)
        try writer.write(data)
        try writer.commit()
    }

    public static func write(_ text: String, to path: String, mode: mode_t, directoryMode: mode_t = 0o755,
                             ownedFolder: Bool = false, owner: (uid_t, gid_t)? = nil) throws {
        try write(Data(text.utf8), to: path, mode: mode, directoryMode: directoryMode, ownedFolder: ownedFolder, owner: owner)
    }
}
