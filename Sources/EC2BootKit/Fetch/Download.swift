import Crypto
import Foundation
import Logging

/// Downloads a URL to a file: streamed to a temp file beside it, hashed on the way,
/// renamed into place only when whole and (if pinned) of the right sha256. On any
/// failure the destination keeps what it had. `http`, `https` and `file` URLs.
public final class Download: Sendable {
    let client: HTTPClient

    public init(maxConnections: Int = 8) {
        client = HTTPClient(maxConnections: maxConnections)
    }

    /// Returns the sha256 (hex) of what was written. `deadline` bounds everything, transfers
    /// in progress included; `policy.requestTimeout` is how long a transfer may stall.
    @discardableResult
    public func fetch(_ url: URL, to destination: String, sha256 expected: String?, mode: mode_t,
                      policy: RetryPolicy, deadline: Deadline, cap: ByteCap, redirects: RedirectPolicy,
                      logger: Logger) async throws(FetchError) -> String {
        guard let scheme = url.scheme?.lowercased(), ["http", "https", "file"].contains(scheme) else {
            throw FetchError.unsupportedURL(url.redacted)
        }
        let expected = expected?.lowercased()
        return try await redirects.follow(url) { hop throws(FetchError) in
            try await Retry.run(url: hop.redacted, policy: policy, deadline: deadline, logger: logger) { _ throws(FetchError) -> Hop<String> in
                let writer: AtomicFileWriter
                do { writer = try AtomicFileWriter(path: destination, mode: mode) } catch {
                    throw FetchError.file("\(error)")
                }
                let hasher = StreamHasher()
                let answer: (status: Int, location: String?)
                do throws(FetchError) {
                    answer = try await client.stream(hop, timeout: deadline.remaining, idle: policy.requestTimeout, cap: cap) { chunk in
                        hasher.sha.update(bufferPointer: chunk)
                        try writer.write(Data(chunk))
                    }
                } catch {
                    writer.discard()
                    throw error
                }
                if (300..<400).contains(answer.status) {
                    writer.discard()
                    return .redirect(answer.location)
                }
                guard CurlTransfer.succeeded(answer.status) else {
                    writer.discard()
                    throw FetchError.status(answer.status, url: hop.redacted)
                }
                let actual = hasher.sha.finalize().hex
                if let expected, expected != actual {
                    writer.discard()
                    throw FetchError.digestMismatch(url: hop.redacted, expected: expected, actual: actual)
                }
                do { try writer.commit() } catch { throw FetchError.file("\(error)") }
                return .done(actual)
            }
        }
    }
}

extension SHA256.Digest {
    /// Lower-case hex, as `sha256sum` prints it.
    public var hex: String { map { String(format: "%02x", $0) }.joined() }
}

/// Updated only from the curl thread, read after the transfer ends.
private final class StreamHasher: @unchecked Sendable {
    var sha = SHA256()
}
