#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials
import Logging

public struct LockTimeout: Error, CustomStringConvertible {
    public let path: String
    public let seconds: Double
    /// The pid the holder wrote into the lock file, if it wrote one.
    public var holder: Int? = nil
    public var description: String {
        "another ec2-boot-init run holds \(path); gave up after waiting \(Int(seconds)) s"
    }
}

/// An exclusive flock(2) held for the life of the object, so two runs never interleave.
/// The holder writes its pid into the lock file, so a run that has to wait can say for whom.
/// Sendable: its one fd is fixed at init and closed once, in deinit.
public final class FileLock: Sendable {
    private let fd: Int32

    /// Waits up to `timeout` seconds for the lock, saying at once who holds it and how long
    /// the wait may last, then every `reminderInterval`.
    public init(path: String, timeout: Double, logger: Logger? = nil, reminderInterval: Duration = .seconds(30)) throws {
        try FileSystem.makeDirectories(path.parentFolder, mode: 0o755)
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw FileSystemError.posix("open lock \(path)", errno) }
        let start = ContinuousClock.now
        var nextReminder = start
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let err = errno
                close(fd)
                throw FileSystemError.posix("lock \(path)", err)
            }
            let waited = ContinuousClock.now - start
            if waited >= .milliseconds(Int64(timeout * 1000)) {
                let holder = Self.holder(fd)
                close(fd)
                throw LockTimeout(path: path, seconds: timeout, holder: holder)
            }
            if let logger, ContinuousClock.now >= nextReminder {
                let holder = Self.holder(fd).map { "pid \($0)" } ?? "another process"
                logger.notice("waiting for the lock: \(holder) holds \(path)", metadata: [
                    "waited_s": "\(Int(waited / .seconds(1)))", "timeout_s": "\(Int(timeout))",
                ])
                nextReminder += reminderInterval
            }
            usleep(50_000)
        }
        self.fd = fd
        let pid = "\(getpid())\n"
        ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// The pid the holder wrote, if it wrote one.
    private static func holder(_ fd: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int(String(decoding: buffer[..<count], as: UTF8.self).trimmingWhitespace(newlines: true))
    }
}

/// Whether a run holds the lock right now.
public enum RunLock {
    public static func isHeld(_ paths: Paths) -> Bool {
        let fd = open(paths.lockFile, O_RDONLY | O_CLOEXEC)
        // A user who is not root may not open the lock (root's, 0600), but may read /proc/locks.
        guard fd >= 0 else { return errno == EACCES && isListed(paths.lockFile, in: FileSystem.readText("/proc/locks")) }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }

    /// Whether `locks` (/proc/locks) has a lock on `path`: its lines name the file by device
    /// and inode, `1: FLOCK  ADVISORY  WRITE 812 00:1a:1043 0 EOF` (major and minor in hex).
    static func isListed(_ path: String, in locks: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let (major, minor) = FileSystem.deviceNumbers(UInt64(info.st_dev))
        func hex(_ value: UInt64) -> String { let text = String(value, radix: 16); return text.count < 2 ? "0" + text : text }
        let id = hex(major) + ":" + hex(minor) + ":" + String(info.st_ino)
        return locks.split(separator: "\n").contains { $0.split(separator: " ").contains { $0 == id } }
    }
}
