#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// The one way folders are opened and made as root. It walks the path from `/` (or the working
/// folder) with openat, so every step is the folder it checked:
/// - a symlink is followed only when root or we own it and the folder holding it is not
///   writable by others (or is sticky, like /tmp): what fs.protected_symlinks allows;
/// - a folder is made with mkdirat and its mode set with fchmod on what was opened, never by
///   path, so no chmod lands on a file a symlink points at;
/// - a folder the tool owns (cache, state, actions) must be ours and is set to its documented
///   mode, tightened if someone loosened it.
enum SafeDirectory {
    /// Opens `path` (O_DIRECTORY), creating what is missing: the folder with `mode`, folders
    /// above it with `parentMode`. With `owned`, the folder must belong to us and gets `mode`.
    static func open(_ path: String, mode: mode_t, parentMode: mode_t = 0o755, owned: Bool = false) throws -> Int32 {
        var fd = Glibc.open(path.hasPrefix("/") ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError.posix("open \(path)", errno) }
        let parts = path.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }
        for (index, part) in parts.enumerated() {
            let last = index == parts.count - 1
            do {
                let next = try step(fd, part, mode: last ? mode : parentMode, shown: path)
                close(fd)
                fd = next
            } catch {
                close(fd)
                throw error
            }
        }
        if owned {
            var info = stat()
            guard fstat(fd, &info) == 0 else { close(fd); throw FileSystemError.posix("inspect \(path)", errno) }
            guard info.st_uid == geteuid() else {
                close(fd)
                throw FileSystemError.refused("\(path) belongs to uid \(info.st_uid), not to this process (uid \(geteuid())); refusing to use it")
            }
            if info.st_mode & 0o7777 != mode { fchmod(fd, mode) }
        }
        return fd
    }

    /// One step down: `name` inside the folder `parent`, made when missing.
    private static func step(_ parent: Int32, _ name: String, mode: mode_t, shown: String) throws -> Int32 {
        let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC
        var fd = openat(parent, name, flags | O_NOFOLLOW)
        if fd >= 0 { return fd }
        switch errno {
        case ENOENT:
            if mkdirat(parent, name, mode) != 0, errno != EEXIST {
                throw FileSystemError.posix("create folder \(name) in \(shown)", errno)
            }
            fd = openat(parent, name, flags | O_NOFOLLOW)
            guard fd >= 0 else { throw FileSystemError.posix("open folder \(name) in \(shown)", errno) }
            fchmod(fd, mode)  // mkdir honours the umask; the mode asked for is the mode wanted
            return fd
        case ELOOP, ENOTDIR:
            var link = stat()
            var holder = stat()
            guard fstatat(parent, name, &link, AT_SYMLINK_NOFOLLOW) == 0, (link.st_mode & S_IFMT) == S_IFLNK else {
                throw FileSystemError.posix("open folder \(name) in \(shown)", ENOTDIR)
            }
            guard fstat(parent, &holder) == 0, trusted(link: link, holder: holder) else {
                throw FileSystemError.refused("\(shown): \(name) is a symlink that uid \(link.st_uid) could have planted; refusing to follow it")
            }
            fd = openat(parent, name, flags)
            guard fd >= 0 else { throw FileSystemError.posix("open folder \(name) in \(shown)", errno) }
            return fd
        default:
            throw FileSystemError.posix("open folder \(name) in \(shown)", errno)
        }
    }

    /// Nobody but root or us could have made the link, nor can swap it before it is opened: its
    /// folder is ours or root's and writable by no one else, or sticky (where only the link's
    /// owner may replace it).
    private static func trusted(link: stat, holder: stat) -> Bool {
        guard TrustedFile.ours(link.st_uid) else { return false }
        if holder.st_mode & S_ISVTX != 0 { return true }
        return TrustedFile.ours(holder.st_uid) && holder.st_mode & 0o022 == 0
    }
}
