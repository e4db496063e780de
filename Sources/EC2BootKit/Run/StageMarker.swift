#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// Whether the data stage left actions for the actions stage, on this boot: `status --wait`
/// waits while they are pending, and the actions unit runs only then
/// (`ConditionPathExists=/run/ec2-boot-init/actions-pending`). The file is in /run, gone at each
/// boot; it holds the boot id (the kernel's, new each boot) too, for a root that is not `/`.
public enum StageMarker: String, Sendable {
    case actionsPending = "actions-pending"
    case done

    static var bootID: String {
        ((try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? "").trimmingWhitespace(newlines: true)
    }

    static func write(_ marker: StageMarker, paths: Paths, logger: Logger) {
        let file = paths.actionsPendingFile
        do {
            switch marker {
            case .actionsPending:
                try AtomicFile.write(bootID + "\n", to: file, mode: 0o644, directoryMode: 0o755, ownedFolder: true)
            case .done:
                guard unlink(file) == 0 || errno == ENOENT else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            }
        } catch {
            logger.warning("cannot record the stage in \(file): \(error)")
        }
    }

    /// True when this boot's data stage left actions that have not finished yet.
    public static func actionsPending(_ paths: Paths) -> Bool {
        guard let data = FileSystem.read(paths.actionsPendingFile) else { return false }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).first.map(String.init) == bootID
    }
}
