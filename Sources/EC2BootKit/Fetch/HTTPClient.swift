#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

public struct HTTPResponse: Sendable {
    public let status: Int
    /// A 2xx body (empty when it was streamed elsewhere).
    public let body: Data
    /// Where a 3xx answer points, resolved against the request URL.
    public let location: String?
    public let headers: AnswerHeaders
    /// The start of a non-2xx body, for the error message.
    public let errorBody: Data
}

/// HTTP for the whole run through libcurl's multi interface: one connection cache, so
/// connections stay alive between requests and at most `maxConnections` are open to a host.
/// Nothing here follows a redirect by itself; `Download` follows them under a `RedirectPolicy`.
public final class HTTPClient: Sendable {
    /// Nil when libcurl cannot be loaded: every request then fails with the reason.
    let multi: CurlMulti?

    public init(maxConnections: Int) {
        multi = CurlMulti(maxConnections: maxConnections)
    }

    deinit { multi?.shutdown() }

    private func loaded(_ url: URL) throws(FetchError) -> CurlMulti {
        guard let multi else {
            throw .transport("libcurl cannot be loaded (is libcurl4 installed?): \(CurlMulti.unavailable ?? "no multi handle")",
                             url: url.redacted, retryable: false)
        }
        return multi
    }

    /// One attempt with a total timeout and a byte cap; any HTTP status comes back as a
    /// response, transport failures as `FetchError`.
    public func perform(_ url: URL, method: String? = nil, headers: [String: String] = [:], body: Data? = nil,
                        timeout: Double, cap: ByteCap) async throws(FetchError) -> HTTPResponse {
        try HeaderValue.check(headers, url: url)
        let multi = try loaded(url)
        let transfer = CurlTransfer(url: url, method: method, headers: headers, body: body, timeout: timeout, cap: cap)
        let body = BodyBuffer()
        transfer.sink = { body.data.append(contentsOf: $0) }
        let status = try await transfer.run(on: multi)
        return HTTPResponse(status: status, body: body.data, location: transfer.location, headers: transfer.answer,
                            errorBody: transfer.errorBody)
    }

    /// One attempt that streams a 2xx body to `sink`. `timeout` bounds the whole transfer,
    /// `idle` how long it may go without a byte. The status is 0 for a file URL.
    public func stream(_ url: URL, headers: [String: String] = [:], timeout: Double, idle: Double, cap: ByteCap,
                       to sink: @escaping (UnsafeRawBufferPointer) throws -> Void) async throws(FetchError) -> HTTPResponse {
        try HeaderValue.check(headers, url: url)
        let multi = try loaded(url)
        let transfer = CurlTransfer(url: url, headers: headers, timeout: timeout, idle: idle, cap: cap)
        transfer.sink = sink
        let status = try await transfer.run(on: multi)
        return HTTPResponse(status: status, body: Data(), location: transfer.location, headers: transfer.answer,
                            errorBody: transfer.errorBody)
    }
}

/// Written only from the curl thread, read after the transfer ends.
private final class BodyBuffer: @unchecked Sendable {
    var data = Data()
}

/// Header values we send. Values a server gave us and we send back (the IMDSv2 token, later
/// ETags) must be plain tokens: a CR or LF in one would add headers or smuggle a request.
public enum HeaderValue {
    /// Printable ASCII without spaces, 1 to `maxLength` characters.
    public static func isToken(_ value: String, maxLength: Int = 512) -> Bool {
        !value.isEmpty && value.utf8.count <= maxLength && value.utf8.allSatisfy { (0x21...0x7e).contains($0) }
    }

    /// The last guard before anything is sent: no control characters in any value.
    static func check(_ headers: [String: String], url: URL) throws(FetchError) {
        for (name, value) in headers where value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            throw .transport("refusing to send header \(name): its value holds control characters", url: url.redacted, retryable: false)
        }
    }
}
