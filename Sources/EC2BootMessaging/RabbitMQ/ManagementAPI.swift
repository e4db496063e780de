import Crypto
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// The RabbitMQ management HTTP API, as much as the rabbitmq action needs: JSON GET, PUT and
/// DELETE with basic auth. Every failure names the object and the HTTP status; a password is
/// never part of a message.
final class ManagementAPI: @unchecked Sendable {
    let base: URL
    let logger: Logger
    let client = HTTPClient(maxConnections: 2)
    /// Who the requests authenticate as: `guest` on a fresh broker, the admin once it exists.
    var credentials = (user: "guest", password: "guest")

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    init(base: URL, logger: Logger) {
        self.base = base
        self.logger = logger
    }

    /// `/` and other reserved characters percent-encoded, as the API wants names in paths.
    static func segment(_ name: String) -> String {
        PercentEncoding.encode(name, keeping: PercentEncoding.isUnreserved)
    }

    /// Waits until the API answers, then picks the credentials: the admin when it already
    /// exists (a later run), else guest (a fresh broker, from loopback only).
    func waitUntilUp(admin: (user: String, password: String), seconds: Double) async throws {
        let deadline = Deadline(seconds: seconds)
        var last = ""
        while !deadline.passed {
            do {
                credentials = admin
                if try await status("whoami") == 200 { return }
                credentials = ("guest", "guest")
                let guest = try await status("whoami")
                if guest == 200 { return }
                throw Failure("the management API refuses both \(admin.user) and guest (HTTP \(guest))")
            } catch let error as FetchError {
                last = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw Failure("the management API at \(base.absoluteString) did not answer within \(Int(seconds)) s: \(last)")
    }

    private func status(_ path: String) async throws(FetchError) -> Int {
        try await request("GET", path, body: nil).status
    }

    /// The object, or nil for 404.
    func get(_ path: String) async throws -> [String: JSONValue]? {
        let response = try await request("GET", path, body: nil)
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw Failure("reading \(Self.describe(path)): HTTP \(response.status)") }
        return JSONValue(json: response.body)?.object ?? [:]
    }

    func put(_ path: String, _ object: JSONValue, what: String) async throws {
        let body = object.encoded()
        let response = try await request("PUT", path, body: body)
        guard [200, 201, 204].contains(response.status) else {
            throw Failure("cannot create or update \(what): HTTP \(response.status)\(Self.reason(response.body))")
        }
        logger.info("RabbitMQ: set \(what)")
    }

    func delete(_ path: String, what: String) async throws {
        let response = try await request("DELETE", path, body: nil)
        guard [200, 204, 404].contains(response.status) else { throw Failure("cannot delete \(what): HTTP \(response.status)") }
        logger.info("RabbitMQ: deleted \(what)")
    }

    private func request(_ method: String, _ path: String, body: Data?) async throws(FetchError) -> HTTPResponse {
        // Path segments are encoded already: appended as text, not through appendingPathComponent.
        guard let url = URL(string: base.absoluteString.trimmingSuffix("/") + "/api/" + path) else {
            throw FetchError.unsupportedURL(base.absoluteString + "/api/…")
        }
        let auth = Data("\(credentials.user):\(credentials.password)".utf8).base64EncodedString()
        var headers = ["Authorization": "Basic \(auth)"]
        if body != nil { headers["Content-Type"] = "application/json" }
        return try await client.perform(url, method: method, headers: headers, body: body, timeout: 30,
                                        cap: ByteCap(4 << 20, setting: "the management API's 4 MiB bound"))
    }

    /// The API's own `reason`, which names what it refused (never our request's values).
    static func reason(_ body: Data) -> String {
        guard let reason = JSONValue(json: body)?["reason"]?.string else { return "" }
        return ": " + Redaction.redact(String(reason.prefix(300)))
    }

    static func describe(_ path: String) -> String { PercentEncoding.decode(path) ?? path }

    /// Whether `password` is the one the broker stores: its hash is base64(salt + H(salt + password)),
    /// salt 4 bytes, H by `hashing_algorithm` (SHA-256 by default, SHA-512, or MD5 on old brokers).
    static func passwordMatches(_ user: [String: JSONValue], _ password: String) -> Bool {
        guard let text = user["password_hash"]?.string, let hash = Data(base64Encoded: text), hash.count > 4 else { return false }
        let salt = hash.prefix(4), stored = Data(hash.dropFirst(4))
        let input = salt + Data(password.utf8)
        switch user["hashing_algorithm"]?.string ?? "rabbit_password_hashing_sha256" {
        case "rabbit_password_hashing_sha512": return Data(SHA512.hash(data: input)) == stored
        case "rabbit_password_hashing_md5": return Data(Insecure.MD5.hash(data: input)) == stored
        default: return Data(SHA256.hash(data: input)) == stored
        }
    }

    /// Tags as a set: a list on newer brokers, a comma-separated string on older ones.
    static func tags(_ user: [String: JSONValue]) -> Set<String> {
        if case .array(let list)? = user["tags"] { return Set(list.compactMap(\.string)) }
        return Set((user["tags"]?.string ?? "").split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty })
    }
}
