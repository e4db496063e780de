#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

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
