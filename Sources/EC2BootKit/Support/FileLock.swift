#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

public struct LockTimeout: Error, CustomStringConvertible {
    public let path: String
    public let seconds: Double
    public var description: String {
        "another ec2-boot-init run holds \(path); gave up after waiting \(Int(seconds)) s"
    }
}

/// An exclusive flock(2) held for the life of the object, so two runs never interleave.
public final class FileLock {
    private let fd: Int32

    /// Waits up to `timeout` seconds for the lock.
    public init(path: String, timeout: Double) throws {
        try FileSystem.makeDirectories((path as NSString).deletingLastPathComponent, mode: 0o755)
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSystemError.posix("open lock \(path)", errno) }
        let start = ContinuousClock.now
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let err = errno
                close(fd)
                throw FileSystemError.posix("lock \(path)", err)
            }
            if ContinuousClock.now - start >= .milliseconds(Int(timeout * 1000)) {
                close(fd)
                throw LockTimeout(path: path, seconds: timeout)
            }
            usleep(50_000)
        }
        self.fd = fd
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
