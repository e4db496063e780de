import Foundation
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
        do { _ = try JSONSerialization.jsonObject(with: json) } catch {
            // "Invalid value around character 35." → "Invalid value around line 2, column 13"
            let said = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "not valid JSON"
            guard let mark = said.range(of: "character "), let offset = Int(said[mark.upperBound...].prefix(while: \.isNumber)) else { return said }
            let before = json.prefix(offset)
            let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
            return said[..<mark.lowerBound] + "line \(before.filter { $0 == 0x0A }.count + 1), column \(offset - lineStart + 1)"
        }
        return "\(error)"
    }
}
