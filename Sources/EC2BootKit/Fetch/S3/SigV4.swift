import Crypto
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// AWS credentials: a key pair, and the session token that comes with a role's temporary keys.
public struct AWSCredentials: Sendable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// AWS Signature Version 4 for a request without a body (S3 GET and HEAD): the headers to send,
/// `Authorization` included. Hashing and HMAC are swift-crypto's; only the canonical form is ours.
public struct SigV4: Sendable {
    public var region: String
    public var service = "s3"

    public init(region: String, service: String = "s3") {
        self.region = region
        self.service = service
    }

    /// SHA-256 of an empty body: what a GET signs as its payload.
    static let emptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Headers to add to `method url`: host is signed as curl will send it; `extra` headers are
    /// signed too (names lower-cased).
    public func headers(method: String = "GET", url: URL, extra: [String: String] = [:], credentials: AWSCredentials,
                        date: Date = Date()) -> [String: String] {
        let stamp = Self.timestamp(date)
        var signed: [String: String] = [:]
        for (name, value) in extra { signed[name.lowercased()] = value.trimmingWhitespace() }
        signed["host"] = Self.hostHeader(url)
        signed["x-amz-date"] = stamp
        signed["x-amz-content-sha256"] = Self.emptyPayload
        if let token = credentials.sessionToken { signed["x-amz-security-token"] = token }
        let names = signed.keys.sorted()
        let canonical = [
            method,
            Self.canonicalPath(url),
            Self.canonicalQuery(url),
            names.map { "\($0):\(signed[$0]!)\n" }.joined(),
            names.joined(separator: ";"),
            Self.emptyPayload,
        ].joined(separator: "\n")
        let scope = "\(stamp.prefix(8))/\(region)/\(service)/aws4_request"
        let toSign = ["AWS4-HMAC-SHA256", stamp, scope, SHA256.hash(data: Data(canonical.utf8)).hex].joined(separator: "\n")
        let key = signingKey(day: String(stamp.prefix(8)), secret: credentials.secretAccessKey)
        let signature = HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key).hex
        var out = signed
        out["host"] = nil  // curl sends Host itself, from the same URL
        out["Authorization"] = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)"
        return out
    }

    func signingKey(day: String, secret: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// `20130524T000000Z`, UTC.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// The Host header as curl sends it: the port only when it is not the scheme's default.
    static func hostHeader(_ url: URL) -> String {
        let host = (url.host ?? "").lowercased()
        guard let port = url.port else { return host }
        let standard = url.scheme?.lowercased() == "https" ? 443 : 80
        return port == standard ? host : "\(host):\(port)"
    }

    /// S3 signs the path as sent, each byte outside RFC 3986's unreserved set percent-encoded once.
    static func canonicalPath(_ url: URL) -> String {
        let path = url.path(percentEncoded: false)
        return path.isEmpty ? "/" : encode(path, keepSlash: true)
    }

    static func canonicalQuery(_ url: URL) -> String {
        guard let items = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems else { return "" }
        return items.map { (encode($0.name, keepSlash: false), encode($0.value ?? "", keepSlash: false)) }
            .sorted { $0 < $1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    static func encode(_ text: String, keepSlash: Bool) -> String {
        PercentEncoding.encode(text) { PercentEncoding.isUnreserved($0) || (keepSlash && $0 == UInt8(ascii: "/")) }
    }
}
