import Crypto
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// GETs of what the operator hosts (action lists, action files, `fetch`): retried under one
/// deadline, redirects followed hop by hop under a `RedirectPolicy`, conditional when the caller
/// has validators from an earlier answer, and `s3://` URLs signed with the instance role's keys.
/// `http`, `https`, `file` and `s3` URLs.
public final class Download: Sendable {
    let client: HTTPClient
    let s3: S3Access?

    public init(maxConnections: Int = 8, s3: S3Access? = nil) {
        client = HTTPClient(maxConnections: maxConnections)
        self.s3 = s3
    }

    public static let schemes = ["http", "https", "file", "s3"]

    /// The body in memory (a list, a signature). With `validators`, a 304 answers `notModified`.
    /// `extraHeaders` (write_files' `source.headers`) go with each hop to the URL's own host, checked like ours.
    public func get(_ url: URL, validators: Validators? = nil, extraHeaders: [String: String] = [:], policy: RetryPolicy,
                    deadline: Deadline, cap: ByteCap, redirects: RedirectPolicy, logger: Logger) async throws(FetchError) -> Fetched<Data> {
        try await request(url, validators: validators, policy: policy, deadline: deadline, redirects: redirects,
                          logger: logger) { hop, headers, timeout throws(FetchError) in
            // Never to another host a redirect names: the headers may hold a token for this one.
            let sent = hop.host?.lowercased() == url.host?.lowercased() ? extraHeaders.merging(headers) { $1 } : headers
            let response = try await self.client.perform(hop, headers: sent, timeout: timeout, cap: cap)
            return (response, response.body)
        }
    }

    /// Streams the body to a temp file beside `destination`, hashed on the way, renamed into
    /// place only when whole and (if pinned) of the right sha256; the value is that sha256. On
    /// any failure, and on a 304, the destination keeps what it had. `deadline` bounds
    /// everything, transfers in progress included; `policy.requestTimeout` is how long a transfer may stall.
    @discardableResult
    public func fetch(_ url: URL, to destination: String, sha256 expected: String?, mode: mode_t, validators: Validators? = nil,
                      policy: RetryPolicy, deadline: Deadline, cap: ByteCap, redirects: RedirectPolicy,
                      logger: Logger) async throws(FetchError) -> Fetched<String> {
        let expected = expected?.lowercased()
        return try await request(url, validators: validators, policy: policy, deadline: deadline, redirects: redirects,
                                 logger: logger) { hop, headers, _ throws(FetchError) in
            let writer: AtomicFileWriter
            do { writer = try AtomicFileWriter(path: destination, mode: mode) } catch {
                throw FetchError.file("\(error)")
            }
            let hasher = StreamHasher()
            let response: HTTPResponse
            do throws(FetchError) {
                response = try await self.client.stream(hop, headers: headers, timeout: deadline.remaining, idle: policy.requestTimeout,
                                                        cap: cap) { chunk in
                    hasher.sha.update(bufferPointer: chunk)
                    try writer.write(Data(chunk))
                }
            } catch {
                writer.discard()
                throw error
            }
            guard CurlTransfer.succeeded(response.status) else {
                writer.discard()
                return (response, nil)
            }
            let actual = hasher.sha.finalize().hex
            if let expected, expected != actual {
                writer.discard()
                throw FetchError.digestMismatch(url: hop.redacted, expected: expected, actual: actual)
            }
            do { try writer.commit() } catch { throw FetchError.file("\(error)") }
            return (response, actual)
        }
    }

    /// The shared loop: resolve (an `s3://` URL to its endpoint and signer), follow redirects,
    /// retry, and read the status. `transfer` makes one attempt and gives the value of a 2xx.
    private func request<T: Sendable>(isolation: isolated (any Actor)? = #isolation, _ url: URL, validators: Validators?,
                                      policy: RetryPolicy, deadline: Deadline, redirects: RedirectPolicy, logger: Logger,
                                      _ transfer: (URL, [String: String], Double) async throws(FetchError) -> (HTTPResponse, T?))
        async throws(FetchError) -> Fetched<T> {
        guard let scheme = url.scheme?.lowercased(), Self.schemes.contains(scheme) else {
            throw FetchError.unsupportedURL(url.redacted)
        }
        var target = url
        var signer: S3Signer?
        if scheme == "s3" {
            guard let s3 else { throw FetchError.unsupportedURL(url.redacted) }
            (target, signer) = try await s3.resolve(url, logger: logger)
        }
        if let refusal = RedirectPolicy.refusal(target, allowedHosts: redirects.allowedHosts) {
            throw FetchError.notAllowed(url: url.scheme == "s3" ? "\(url.redacted) (\(target.redacted))" : url.redacted, reason: refusal)
        }
        // A signed request is for the one host it was signed for: S3 never needs a redirect followed.
        let hops = signer == nil ? redirects : RedirectPolicy(maxHops: 0, allowedHosts: redirects.allowedHosts)
        let conditional = validators?.requestHeaders ?? [:]
        return try await hops.follow(target) { hop throws(FetchError) in
            try await Retry.run(url: hop.redacted, policy: policy, deadline: deadline, logger: logger) { timeout throws(FetchError) -> Hop<Fetched<T>> in
                var headers = conditional
                if let signer { headers.merge(try await signer.headers(for: hop)) { $1 } }
                let (response, value) = try await transfer(hop, headers, timeout)
                if response.status == 304, let validators { return .done(Fetched(value: nil, validators: validators)) }
                if (300..<400).contains(response.status) { return .redirect(response.location) }
                guard let value, CurlTransfer.succeeded(response.status) else {
                    throw FetchError.answer(response.status, url: url.scheme == "s3" ? url.redacted : hop.redacted,
                                            headers: response.headers, body: response.errorBody)
                }
                return .done(Fetched(value: value, validators: Validators(response.headers)))
            }
        }
    }
}

/// What a GET brought: the value, or nil when the server said it had not changed (304); and the
/// answer's validators, to keep for the next conditional GET.
public struct Fetched<T: Sendable>: Sendable {
    public let value: T?
    public let validators: Validators

    public var notModified: Bool { value == nil }
}

/// An answer's `ETag` and `Last-Modified`, sent back as `If-None-Match` and `If-Modified-Since`
/// so an unchanged file costs no body. Kept only when they are plain header values.
public struct Validators: Codable, Sendable, Equatable {
    public var etag: String?
    public var lastModified: String?

    public init(etag: String? = nil, lastModified: String? = nil) {
        self.etag = etag.flatMap { HeaderValue.isToken($0, maxLength: 256) ? $0 : nil }
        self.lastModified = lastModified.flatMap { Self.isDate($0) ? $0 : nil }
    }

    init(_ headers: AnswerHeaders) {
        self.init(etag: headers.etag, lastModified: headers.lastModified)
    }

    /// Read back from the install records through the same checks as a server's answer.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(etag: try c.decodeIfPresent(String.self, forKey: .etag),
                  lastModified: try c.decodeIfPresent(String.self, forKey: .lastModified))
    }

    public var isEmpty: Bool { etag == nil && lastModified == nil }

    var requestHeaders: [String: String] {
        var headers: [String: String] = [:]
        if let etag { headers["If-None-Match"] = etag }
        if let lastModified { headers["If-Modified-Since"] = lastModified }
        return headers
    }

    /// An HTTP date is short printable ASCII (spaces allowed).
    static func isDate(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= 64 && value.utf8.allSatisfy { (0x20...0x7e).contains($0) }
    }
}

/// Updated only from the curl thread, read after the transfer ends.
private final class StreamHasher: @unchecked Sendable {
    var sha = SHA256()
}
