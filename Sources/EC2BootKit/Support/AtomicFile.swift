#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes files so a reader (or a power cut) sees the old content or the new, never half:
/// a temp file beside the target, fsync, rename, fsync of the folder.
public final class AtomicFileWriter {
    public let path: String
    private let tempPath: String
    private var fd: Int32
    private var finished = false

    /// Opens a temp file next to `path`, creating parent folders with `directoryMode`.
    public init(path: String, mode: mode_t, directoryMode: mode_t = 0o755) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        try FileSystem.makeDirectories(dir.isEmpty ? "." : dir, mode: directoryMode)
        var template = ((dir.isEmpty ? "." : dir) + "/.\((path as NSString).lastPathComponent).tmp-XXXXXX").utf8CString
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw FileSystemError.posix("create a temp file for \(path)", errno) }
        self.fd = fd
        self.tempPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        guard fchmod(fd, mode) == 0 else {
            let err = errno
            discard()
            throw FileSystemError.posix("set the mode of \(path)", err)
        }
    }

    deinit { discard() }

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
            close(fd); unlink(tempPath)
            throw FileSystemError.posix("fsync \(path)", err)
        }
        close(fd)
        guard rename(tempPath, path) == 0 else {
            let err = errno
            unlink(tempPath)
            throw FileSystemError.posix("rename into \(path)", err)
        }
        FileSystem.syncDirectory(of: path)
    }

    /// Drops the temp file; the target keeps its old content.
    public func discard() {
        guard !finished else { return }
        finished = true
        close(fd)
        unlink(tempPath)
        fd = -1
    }
}

public enum AtomicFile {
    /// Replaces `path` with `data` atomically, with `mode`.
    public static func write(_ data: Data, to path: String, mode: mode_t, directoryMode: mode_t = 0o755) throws {
        let writer = try AtomicFileWriter(path: path, mode: mode, directoryMode: directoryMode)
        try writer.write(data)
        try writer.commit()
    }

    public static func write(_ text: String, to path: String, mode: mode_t, directoryMode: mode_t = 0o755) throws {
        try write(Data(text.utf8), to: path, mode: mode, directoryMode: directoryMode)
    }
}
