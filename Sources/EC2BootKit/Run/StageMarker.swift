import Foundation
import Logging

/// Whether the data stage left actions for the actions stage, on this boot: `status --wait`
/// waits while they are pending. The boot id (the kernel's, new each boot) tells a marker left
/// by a boot whose actions stage never ran from this boot's.
public enum StageMarker: String, Sendable {
    case actionsPending = "actions-pending"
    case done

    static func file(_ paths: Paths) -> String { paths.stateDir + "/stage" }

    static var bootID: String {
        ((try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func write(_ marker: StageMarker, paths: Paths, logger: Logger) {
        do {
            try AtomicFile.write("\(marker.rawValue) \(bootID)\n", to: file(paths), mode: 0o644, directoryMode: 0o700, ownedFolder: true)
        } catch {
            logger.warning("cannot record the stage: \(error)")
        }
    }

    /// True when this boot's data stage left actions that have not finished yet.
    public static func actionsPending(_ paths: Paths) -> Bool {
        guard let data = FileSystem.read(file(paths)) else { return false }
        let words = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).map(String.init)
        return words.first == actionsPending.rawValue && words.dropFirst().first == bootID
    }
}
