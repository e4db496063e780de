#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `s3:` in the config file: where `s3://bucket/key` URLs go. Every key is optional; the
/// defaults reach AWS's S3 in the instance's own region.
public struct S3Settings: Sendable, Decodable {
    /// An S3-compatible store (`http://127.0.0.1:9000`, `https://minio.internal`); default AWS's
    /// regional endpoint, `https://s3.<region>.amazonaws.com`.
    public var endpoint: String?
    /// Default: the instance's region, from its metadata.
    public var region: String?
    public var addressing = Addressing.auto

    public enum Addressing: String, Sendable, Decodable, CaseIterable {
        /// Virtual-hosted (`bucket.s3.<region>.amazonaws.com/key`) on AWS for a bucket name
        /// without dots (a dot would break the wildcard certificate); path-style otherwise.
        case auto
        case virtual
        /// `endpoint/bucket/key`, as most S3-compatible stores expect.
        case path
    }

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case endpoint, region, addressing
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        endpoint = try c.decodeIfPresent(String.self, forKey: .endpoint)
        region = try c.decodeIfPresent(String.self, forKey: .region)
        addressing = try c.choice(.addressing) ?? addressing
        if let endpoint {
            guard let url = URL(string: endpoint), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil,
                  url.path.isEmpty || url.path == "/", url.query == nil, url.user == nil else {
                throw DecodingError.dataCorruptedError(forKey: .endpoint, in: c, debugDescription:
                    "expected an http or https URL of a host (and port), without a path")
            }
        }
        if let region, !S3Access.isRegion(region) {
            throw DecodingError.dataCorruptedError(forKey: .region, in: c, debugDescription: "expected a region name such as eu-west-1")
        }
    }
}
