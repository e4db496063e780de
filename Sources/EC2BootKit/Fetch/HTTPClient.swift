import Foundation
import Logging

public struct HTTPResponse: Sendable {
    public let status: Int
    public let body: Data
}

/// HTTP for the whole run through libcurl's multi interface: one connection cache, so
/// connections stay alive between requests and at most `maxConnections` are open to a host.
public final class HTTPClient: Sendable {
    let multi: CurlMulti

    public init(maxConnections: Int) {
        multi = CurlMulti(maxConnections: maxConnections)
    }

    deinit { multi.shutdown() }

    /// One attempt with a total timeout; any HTTP status comes back as a response,
    /// transport failures as `FetchError`.
    public func perform(_ url: URL, method: String? = nil, headers: [String: String] = [:],
                        timeout: Double) async throws(FetchError) -> HTTPResponse {
        let transfer = CurlTransfer(url: url, method: method, headers: headers, timeout: timeout, idleTimeout: false)
        let body = BodyBuffer()
        transfer.sink = { body.data.append(contentsOf: $0) }
        let status = try await transfer.run(on: multi)
        return HTTPResponse(status: status, body: body.data)
    }

    /// One attempt that streams a 2xx body to `sink`; `timeout` is how long the transfer
    /// may go without a byte arriving. Returns the status (0 for a file URL).
    public func stream(_ url: URL, timeout: Double,
                       to sink: @escaping (UnsafeRawBufferPointer) throws -> Void) async throws(FetchError) -> Int {
        let transfer = CurlTransfer(url: url, headers: [:], timeout: timeout, idleTimeout: true)
        transfer.sink = sink
        return try await transfer.run(on: multi)
    }

    /// GET with retries: 2xx returns the body, 404 and other 4xx fail at once,
    /// 429/5xx/connection errors/timeouts are retried until the deadline.
    public func get(_ url: URL, headers: [String: String] = [:], policy: RetryPolicy, deadline: Deadline,
                    logger: Logger) async throws(FetchError) -> Data {
        try await Retry.run(url: url.redacted, policy: policy, deadline: deadline, logger: logger) { timeout throws(FetchError) in
            let response = try await self.perform(url, headers: headers, timeout: timeout)
            guard CurlTransfer.succeeded(response.status) else {
                throw FetchError.status(response.status, url: url.redacted)
            }
            return response.body
        }
    }
}

/// Written only from the curl thread, read after the transfer ends.
private final class BodyBuffer: @unchecked Sendable {
    var data = Data()
}

/// The retry loop every fetch shares.
public enum Retry {
    public static func run<T>(isolation: isolated (any Actor)? = #isolation,
                              url: String, policy: RetryPolicy, deadline: Deadline, logger: Logger,
                              _ attempt: (_ timeout: Double) async throws(FetchError) -> T) async throws(FetchError) -> T {
        var attempts = 0
        while true {
            let timeout = min(policy.requestTimeout, deadline.remaining)
            do {
                return try await attempt(timeout)
            } catch {
                guard error.retryable else { throw error }
                let wait = policy.delay(afterAttempt: attempts)
                attempts += 1
                guard deadline.remaining > wait + 0.01, !Task.isCancelled else {
                    throw FetchError.deadline(url: url, last: error.description)
                }
                logger.debug("retrying after error", metadata: [
                    "url": "\(url)", "error": "\(error)", "attempt": "\(attempts)",
                    "wait_ms": "\(Int(wait * 1000))",
                ])
                try? await Task.sleep(nanoseconds: UInt64(wait * 1e9))
            }
        }
    }
}
