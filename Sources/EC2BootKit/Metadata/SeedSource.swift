#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// A local folder standing in for IMDS: `user-data` and `meta-data.json` (the metadata tree
/// as nested JSON), plus an optional `instance-identity.json`. For images built offline,
/// machines outside EC2, and the demo.
public struct SeedSource: MetadataSource {
    public let name = "seed"
    public let directory: String
    public let userDataMaxBytes: Int

    public init(directory: String, userDataMaxBytes: Int) {
        self.directory = directory
        self.userDataMaxBytes = userDataMaxBytes
    }

    public func load(logger: Logger, mirror: MirrorWriter?) async throws -> BootData {
        let metadataPath = directory + "/meta-data.json"
        guard FileSystem.isDirectory(directory) else {
            throw SourceUnavailable("the seed folder \(directory) does not exist")
        }
        guard let json = FileSystem.read(metadataPath) else {
            throw SourceUnavailable("the seed folder \(directory) has no readable meta-data.json")
        }
        let tree: MetadataTree
        do { tree = try MetadataTree(nestedJSON: json) } catch {
            throw SourceUnavailable("\(metadataPath) is not a JSON object of metadata: \(Self.describe(json, error))")
        }
        var userData: Data?
        var refused: String?
        switch FileSystem.read(directory + "/user-data", maxBytes: userDataMaxBytes) {
        case .data(let data): userData = data
        case .tooLarge: refused = UserDataSettings(maxBytes: userDataMaxBytes).tooLarge
        case .unreadable: userData = nil
        }
        return BootData(userData: userData, metadata: tree,
                        identityDocument: FileSystem.read(directory + "/instance-identity.json"), userDataRefused: refused)
    }

    /// Why `json` did not read, in one line with its line and column, not the decoder's dump.
    static func describe(_ json: Data, _ error: Error) -> String {
        guard case DecodingError.dataCorrupted = error else { return "\(error)" }
        let bytes = [UInt8](json)
        guard let offset = JSONSyntax.firstError(in: bytes) else { return "\(error)" }
        return "not valid JSON at " + JSONSyntax.place(offset, in: bytes)
    }
}
