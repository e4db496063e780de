import Foundation

/// What the last run cached, read back without any network: for `query` and `validate`.
public struct CachedView {
    public let data: BootData
    public let userData: UserData
    public let facts: Facts

    /// Nil when no run has cached anything yet.
    public init?(paths: Paths, config: Config) throws {
        guard let data = try CacheStore(directory: paths.cacheDir).read() else { return nil }
        self.data = data
        userData = UserData.parse(data.userData, limits: config.userData)
        facts = Facts(userData: userData, metadata: data.metadata,
                      writeEC2Facts: userData.writeEC2Facts ?? config.writeEC2Facts)
    }

    public var lookup: KeyLookup { KeyLookup(facts: facts, metadata: data.metadata) }


    /// The merged document: metadata tree, identity document, parsed user-data, facts.
    public func json() throws -> Data {
        let metadata = try JSONSerialization.jsonObject(with: try MetadataTree(leaves: Facts.publicLeaves(data.metadata)).nestedJSON())
        var document: [String: Any] = [
            "metadata": metadata,
            "user_data": userData.jsonObject,
            "facts": Dictionary(facts.entries.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }),
        ]
        if let identity = data.identityDocument, let object = try? JSONSerialization.jsonObject(with: identity) {
            document["instance_identity"] = object
        }
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
    }
}
