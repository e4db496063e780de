import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging

public struct HTTPResponse: Sendable {
    public let status: Int
    public let body: Data
}

/// One URLSession (libcurl underneath) for the whole run: its connection pool keeps
/// connections alive between requests, and at most `maxConnections` are open to a host.
public final class HTTPClient: Sendable {
    let session: URLSession

    public init(maxConnections: Int) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maxConnections
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.connectionProxyDictionary = [:]
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// One attempt; any HTTP status comes back as a response, transport failures as `FetchError`.
    /// The timeout is ours: URLSession on Linux rounds it down to whole seconds.
    public func perform(_ request: URLRequest, timeout: Double) async throws(FetchError) -> HTTPResponse {
        let url = request.url?.redacted ?? "?"
        var request = request
        request.timeoutInterval = max(1, timeout.rounded(.up))
        do {
            return try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
                group.addTask { [session, request] in
                    let (data, response) = try await session.data(for: request)
                    guard let http = response as? HTTPURLResponse else {
                        throw FetchError.transport("not an HTTP response", url: url, retryable: false)
                    }
                    return HTTPResponse(status: http.statusCode, body: data)
                }
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
                    throw FetchError.timedOut(url: url)
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        } catch {
            throw FetchError.from(error, url: url)
        }
    }

    /// GET with retries: 2xx returns the body, 404 and other 4xx fail at once,
    /// 429/5xx/connection errors/timeouts are retried until the deadline.
    public func get(_ url: URL, headers: [String: String] = [:], policy: RetryPolicy, deadline: Deadline,
                    logger: Logger) async throws(FetchError) -> Data {
        try await Retry.run(url: url.redacted, policy: policy, deadline: deadline, logger: logger) { timeout throws(FetchError) in
            var request = URLRequest(url: url)
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            let response = try await self.perform(request, timeout: timeout)
            guard (200..<300).contains(response.status) else {
                throw FetchError.status(response.status, url: url.redacted)
            }
            return response.body
        }
    }
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
