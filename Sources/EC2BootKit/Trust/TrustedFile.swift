#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Reads a file that decides what root does: the ZooKeeper password (`watch.auth_file`) or a
/// key whose signatures root obeys (`watch.public_keys` as a path). Whoever could change such a
/// file could make root run their commands, so it is read only when root (or we) own it and no
/// one else may write it, nor any folder on its way (a sticky 1777 folder is no exception: its
/// other users may still create the name before root does). The walk goes from `root` (`/`, or
/// `--root`'s image) with openat and O_NOFOLLOW: no symlink is followed, and each step is the
/// folder that was checked.
public enum TrustedFile {
    public enum Kind: Sendable {
        /// A password or secret key: root's, and nobody else may read it (0600).
        case secret
        /// A public key: root's, and nobody else may write it (0644 at most).
        case key
    }

    /// The file's bytes (at most `maxBytes`), or why it is refused; `name` is the setting that
    /// named it (`watch.auth_file`), `path` the path as on the host.
    public static func read(_ path: String, root: String, kind: Kind, name: String, maxBytes: Int = 64 * 1024) throws(FileSystemError) -> Data {
        let shown = "\(name) \(path)"
        guard path.hasPrefix("/") else { throw .refused("\(shown): expected an absolute path") }
        var fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .posix("open \(root)", errno) }
        defer { close(fd) }
        var walked = ""
        try checkFolder(fd, shown: shown, folder: "/")
        let parts = path.split(separator: "/").map(String.init)
        for part in parts.dropLast() {
            walked += "/" + part
            let next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { throw failure(errno, shown: shown, at: walked, file: false) }
            close(fd)
            fd = next
            try checkFolder(fd, shown: shown, folder: walked)
        }
        guard let last = parts.last else { throw .refused("\(shown): expected a file") }
        let file = openat(fd, last, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard file >= 0 else { throw failure(errno, shown: shown, at: path, file: true) }
        defer { close(file) }
        try checkFile(file, shown: shown, kind: kind)
        switch FileSystem.read(fd: file, maxBytes: maxBytes) {
        case .data(let data): return data
        case .tooLarge: throw .refused("\(shown) is larger than \(ByteCount(maxBytes))")
        case .unreadable(let code): throw .posix("read \(shown)", code)
        }
    }

    /// Root's or this process's: the owners a file or folder root trusts may have (SafeDirectory's symlinks too).
    static func ours(_ uid: uid_t) -> Bool { uid == 0 || uid == geteuid() }

    private static func checkFolder(_ fd: Int32, shown: String, folder: String) throws(FileSystemError) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .posix("inspect \(folder)", errno) }
        guard ours(info.st_uid), info.st_mode & 0o022 == 0 else {
            throw .refused("\(shown): its folder \(folder) is mode \(octal(info.st_mode)) owned by uid \(info.st_uid), so someone "
                           + "other than root may replace the file; keep it in a folder only root may write (such as /etc/ec2-boot-init)")
        }
    }

    private static func checkFile(_ fd: Int32, shown: String, kind: Kind) throws(FileSystemError) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .posix("inspect \(shown)", errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .refused("\(shown) is not a regular file") }
        let (others, fix) = kind == .secret ? (mode_t(0o077), "0600 and root's (chmod 600, chown root)")
                                            : (mode_t(0o022), "root's and writable by root alone (chmod 644, chown root)")
        guard ours(info.st_uid), info.st_mode & others == 0 else {
            throw .refused("\(shown) is mode \(octal(info.st_mode)) owned by uid \(info.st_uid); it must be \(fix)")
        }
    }

    private static func failure(_ code: Int32, shown: String, at path: String, file: Bool) -> FileSystemError {
        guard code == ELOOP || code == ENOTDIR else { return .posix("open \(shown) (at \(path))", code) }
        return .refused(file ? "\(shown) is a symlink; name the file itself"
                             : "\(shown): \(path) is a symlink or not a folder; name the file by its own path")
    }

    private static func octal(_ mode: mode_t) -> String { String(mode & 0o7777, radix: 8) }
}
