#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials

/// `meta-data/`, one file per metadata path, built in a fresh folder beside it while the crawl
/// still waits on the network, then made durable by one syncfs and swapped in, so a reader never
/// sees a half-written tree nor keys left over from an earlier instance. Every file and folder is
/// made relative to the staging folder, which this process just made inside the cache folder it
/// owns, so no path is walked from `/` again for each of the tree's files.
public final class MirrorWriter: @unchecked Sendable {
    let cacheDir: String
    private let lock = Lock()
    private var staging: Int32
    private var folders: Set<String> = [""]
    private var written: Set<String> = []

    var mirrorDir: String { cacheDir + "/meta-data" }
    var stagingDir: String { cacheDir + "/.meta-data.new" }
    var oldDir: String { cacheDir + "/.meta-data.old" }

    /// Nothing is made until the first value: a crawl that fails first leaves no trace.
    init(cacheDir: String) {
        self.cacheDir = cacheDir
        staging = -1
    }

    /// Whether this writer made the cache folder (and so removes it again when it gives up).
    private var madeCache = false
    private var finished = false

    private func openStaging() throws {
        guard staging < 0 else { return }
        guard !finished else { throw FileSystemError.refused("the metadata mirror was already finished") }
        madeCache = !FileSystem.exists(cacheDir)
        try FileSystem.ownedDirectory(cacheDir, mode: 0o755)
        try FileSystem.remove(stagingDir)
        // A run that died between commit's two renames left the only tree aside: put it back.
        if !FileSystem.exists(mirrorDir), FileSystem.exists(oldDir) { rename(oldDir, mirrorDir) }
        try FileSystem.remove(oldDir)
        guard mkdir(stagingDir, 0o755) == 0 || errno == EEXIST else { throw FileSystemError.posix("make \(stagingDir)", errno) }
        staging = open(stagingDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard staging >= 0 else { throw FileSystemError.posix("open \(stagingDir)", errno) }
        fchmod(staging, 0o755)
    }

    deinit {
        lock.withLock { discardLocked() }
    }

    func holds(_ path: String) -> Bool { lock.withLock { written.contains(path) } }

    /// One value. Credentials go 0600 in a 0700 folder; the folders above stay readable.
    public func add(_ path: String, _ value: String) throws {
        try lock.withLock {
            try openStaging()
            let secret = MetadataTree.isSecret(path)
            var parts = path.split(separator: "/").map(String.init)
            parts.removeLast()
            var folder = ""
            for part in parts {
                folder += folder.isEmpty ? part : "/" + part
                if folders.insert(folder).inserted {
                    let mode: mode_t = secret && folder == parts.joined(separator: "/") ? 0o700 : 0o755
                    // The mode by fchmodat: mkdir honours the umask.
                    guard mkdirat(staging, folder, mode) == 0 || errno == EEXIST, fchmodat(staging, folder, mode, 0) == 0 else {
                        throw FileSystemError.posix("make \(stagingDir)/\(folder)", errno)
                    }
                }
            }
            let mode: mode_t = secret ? 0o600 : 0o644
            let fd = openat(staging, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode)
            guard fd >= 0 else { throw FileSystemError.posix("create \(stagingDir)/\(path)", errno) }
            defer { close(fd) }
            fchmod(fd, mode)  // the umask may have taken bits off
            try FileSystem.writeAll(Data(value.utf8), to: fd, path: path)
            written.insert(path)
        }
    }

    /// Durable, then swapped in; the old tree is removed.
    func commit() throws {
        try lock.withLock {
            try openStaging()
            finished = true
            FileSystem.syncFileSystem(of: stagingDir)
            close(staging)
            staging = -1
            if FileSystem.exists(mirrorDir), rename(mirrorDir, oldDir) != 0 {
                throw FileSystemError.posix("move aside \(mirrorDir)", errno)
            }
            guard rename(stagingDir, mirrorDir) == 0 else { throw FileSystemError.posix("rename into \(mirrorDir)", errno) }
            FileSystem.syncPath(cacheDir)
            try FileSystem.remove(oldDir)
        }
    }

    /// A crawl that failed leaves the cache as it was.
    private func discardLocked() {
        guard staging >= 0 else { return }
        close(staging)
        staging = -1
        finished = true
        try? FileSystem.remove(stagingDir)
        if madeCache { rmdir(cacheDir) }  // only when still empty
    }
}
