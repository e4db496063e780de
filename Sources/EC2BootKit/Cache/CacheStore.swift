#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `/var/spool/ec2boot`, laid out as the Ruby tool did so its users' scripts still work:
/// `user-data.raw`, and `meta-data/` with one file per metadata path; plus
/// `meta-data.json` (the tree, which `query` and later runs read) and
/// `instance-identity.json`. Like the Ruby tool (and cloud-init's split), metadata is
/// world-readable (folders 0755, files 0644: monitoring and applications read it as other
/// users); what came from user-data or can hold a secret is 0600: `user-data.raw`, and with
/// `metadata.include_credentials` the credentials (their folder 0700) and `meta-data.json`.
/// `user-data.refused` says why user-data was refused unread (over its bound), so the actions
/// stage, which reads only the cache, refuses it too.
public struct CacheStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    var userDataFile: String { directory + "/user-data.raw" }
    var metadataJSONFile: String { directory + "/meta-data.json" }
    var identityFile: String { directory + "/instance-identity.json" }
    var userDataRefusedFile: String { directory + "/user-data.refused" }
    /// What the user-data's `#include` URLs gave, as JSON (0600: it is user-data).
    var includedFile: String { directory + "/user-data.included.json" }
    var mirrorDir: String { directory + "/meta-data" }

    public var exists: Bool { FileSystem.exists(metadataJSONFile) }

    /// A mirror to fill while the source is still being read (see `MirrorWriter`).
    public func startMirror() -> MirrorWriter {
        MirrorWriter(cacheDir: directory)
    }

    /// Writes the cache; with `mirror`, the leaves it already holds are not written again.
    public func write(_ data: BootData, mirror: MirrorWriter? = nil) throws {
        try FileSystem.ownedDirectory(directory, mode: 0o755)
        let mirror = mirror ?? startMirror()
        for (path, value) in data.metadata.leaves where !mirror.holds(path) { try mirror.add(path, value) }
        try mirror.commit()
        if let userData = data.userData {
            try AtomicFile.write(userData, to: userDataFile, mode: 0o600)
        } else {
            try FileSystem.remove(userDataFile)
        }
        if let refused = data.userDataRefused {
            try AtomicFile.write(Data(refused.utf8), to: userDataRefusedFile, mode: 0o600)
        } else {
            try FileSystem.remove(userDataRefusedFile)
        }
        if data.included.isEmpty {
            try FileSystem.remove(includedFile)
        } else {
            try AtomicFile.write(try JSONEncoder().encode(data.included), to: includedFile, mode: 0o600)
        }
        if let identity = data.identityDocument {
            try AtomicFile.write(identity, to: identityFile, mode: 0o644)
        } else {
            try FileSystem.remove(identityFile)
        }
        // Written last: its presence means the cache is whole.
        let secret = data.metadata.leaves.keys.contains(where: MetadataTree.isSecret)
        try AtomicFile.write(try data.metadata.nestedJSON(), to: metadataJSONFile, mode: secret ? 0o600 : 0o644)
    }

    public func read() throws -> BootData? {
        guard let json = FileSystem.read(metadataJSONFile) else { return nil }
        var data = BootData(userData: FileSystem.read(userDataFile), metadata: try MetadataTree(nestedJSON: json),
                            identityDocument: FileSystem.read(identityFile),
                            userDataRefused: FileSystem.read(userDataRefusedFile).map { String(decoding: $0, as: UTF8.self) })
        if let included = FileSystem.read(includedFile) {
            data.included = try JSONDecoder().decode([String: UserDataParts.Included].self, from: included)
        }
        return data
    }

    /// When the cache was last written.
    public var modified: Date? {
        (try? FileManager.default.attributesOfItem(atPath: metadataJSONFile))?[.modificationDate] as? Date
    }
}
