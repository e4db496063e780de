import Foundation
import Logging

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
        if let text = try c.decodeIfPresent(String.self, forKey: .addressing) {
            guard let value = Addressing(rawValue: text) else {
                throw DecodingError.dataCorruptedError(forKey: .addressing, in: c, debugDescription:
                    "expected one of \(Addressing.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            addressing = value
        }
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

/// Turns `s3://bucket/key` into the endpoint's URL and a signer holding the instance role's keys.
public final class S3Access: Sendable {
    let settings: S3Settings
    let credentials: InstanceCredentials
    /// The region the instance's metadata names, when the caller already has it.
    let metadataRegion: String?

    public init(settings: S3Settings, credentials: InstanceCredentials, metadataRegion: String? = nil) {
        self.settings = settings
        self.credentials = credentials
        self.metadataRegion = metadataRegion.flatMap { Self.isRegion($0) ? $0 : nil }
    }

    func resolve(_ url: URL, logger: Logger) async throws(FetchError) -> (URL, S3Signer) {
        guard let bucket = url.host, Self.isBucket(bucket) else {
            throw FetchError.unsupportedURL("\(url.redacted) (not a valid bucket name)")
        }
        var key = url.path(percentEncoded: false)
        if key.hasPrefix("/") { key.removeFirst() }  // the one after the bucket; a key may itself start with /
        guard !key.isEmpty else { throw FetchError.unsupportedURL("\(url.redacted) (no object key)") }
        // curl would squash these segments, and the request would no longer be the one signed.
        guard !key.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." }) else {
            throw FetchError.unsupportedURL("\(url.redacted) (a key with . or .. segments)")
        }
        // The request carries the key in the very encoding the signature covers.
        key = SigV4.encode(key, keepSlash: true)
        let region: String
        if let configured = settings.region ?? metadataRegion { region = configured } else { region = try await credentials.region() }
        let endpoint = settings.endpoint.flatMap(URL.init(string:)) ?? URL(string: "https://s3.\(region).amazonaws.com")!
        let virtual = switch settings.addressing {
        case .virtual: true
        case .path: false
        case .auto: settings.endpoint == nil && !bucket.contains(".")
        }
        let scheme = endpoint.scheme!.lowercased()
        let host = endpoint.host!.lowercased() + (endpoint.port.map { ":\($0)" } ?? "")
        let text = virtual ? "\(scheme)://\(bucket).\(host)/\(key)" : "\(scheme)://\(host)/\(bucket)/\(key)"
        guard let target = URL(string: text) else { throw FetchError.unsupportedURL(url.redacted) }
        logger.debug("s3 object", metadata: ["url": "\(url.redacted)", "endpoint": "\(target.redacted)", "region": "\(region)"])
        return (target, S3Signer(sigv4: SigV4(region: region), credentials: credentials))
    }

    /// S3's rules: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit.
    static func isBucket(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func alnum(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x61...0x7a).contains(b) }
        return (3...63).contains(bytes.count) && alnum(bytes.first!) && alnum(bytes.last!)
            && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static func isRegion(_ name: String) -> Bool {
        (2...32).contains(name.utf8.count)
            && name.utf8.allSatisfy { $0 == UInt8(ascii: "-") || (0x30...0x39).contains($0) || (0x61...0x7a).contains($0) }
    }
}

/// Signs each attempt afresh: a new date, and the keys as they are now (refreshed before expiry).
struct S3Signer: Sendable {
    let sigv4: SigV4
    let credentials: InstanceCredentials

    func headers(for url: URL) async throws(FetchError) -> [String: String] {
        sigv4.headers(url: url, credentials: try await credentials.credentials())
    }
}

extension Download {
    /// A download that takes `s3://` URLs too, signed with the instance role's keys (IMDS is
    /// asked for them only when such a URL is used).
    public convenience init(config: Config, maxConnections: Int, metadataRegion: String? = nil, logger: Logger) {
        let s3 = URL(string: config.metadataURL).map {
            S3Access(settings: config.s3, credentials: InstanceCredentials(baseURL: $0, settings: config.imds, logger: logger),
                     metadataRegion: metadataRegion)
        }
        self.init(maxConnections: maxConnections, s3: s3)
    }
}
