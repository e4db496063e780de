#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// What a data source yields: everything the rest of the run is computed from.
public struct BootData: Sendable {
    /// User-data as served: maybe gzip, maybe a script, maybe YAML. Nil when there is none.
    public var userData: Data?
    public var metadata: MetadataTree
    /// `/latest/dynamic/instance-identity/document`, JSON, when the source has one.
    public var identityDocument: Data?
    /// Why user-data was not read (larger than `user_data.max_bytes`): the run treats it as
    /// invalid user-data, and goes on with the metadata.
    public var userDataRefused: String?
    /// What the user-data's `#include` URLs gave (fetched after the source was read; cached).
    public var included: [String: UserDataParts.Included] = [:]

    public init(userData: Data?, metadata: MetadataTree, identityDocument: Data?, userDataRefused: String? = nil) {
        self.userData = userData
        self.metadata = metadata
        self.identityDocument = identityDocument
        self.userDataRefused = userDataRefused
    }

    public var instanceID: String? { metadata.leaves["instance-id"] }
}

/// One provider per place boot data can come from (IMDS, a seed folder).
public protocol MetadataSource: Sendable {
    /// A short name for log lines (`imds`, `seed`).
    var name: String { get }
    /// With `mirror`, a source may write each metadata value there as it arrives, so the cache
    /// is written while it still waits on the network; what it does not write, the cache does.
    func load(logger: Logger, mirror: MirrorWriter?) async throws -> BootData
}

/// The source could not be read at all; the run may go on from the cache.
public struct SourceUnavailable: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
