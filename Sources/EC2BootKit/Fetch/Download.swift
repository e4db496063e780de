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

    /// Returns the sha256 (hex) of what was written.
    @discardableResult
    public func fetch(_ url: URL, to destination: String, sha256 expected: String?, mode: mode_t,
                      policy: RetryPolicy, logger: Logger) async throws(FetchError) -> String {
        guard let scheme = url.scheme?.lowercased(), ["http", "https", "file"].contains(scheme) else {
            throw FetchError.unsupportedURL(url.redacted)
        }
        let expected = expected?.lowercased()
        let deadline = Deadline(seconds: policy.deadline)
        return try await Retry.run(url: url.redacted, policy: policy, deadline: deadline, logger: logger) { timeout throws(FetchError) in
            let writer: AtomicFileWriter
            do { writer = try AtomicFileWriter(path: destination, mode: mode) } catch {
                throw FetchError.file("\(error)")
            }
            let hasher = StreamHasher()
            let status: Int
            do throws(FetchError) {
                status = try await client.stream(url, timeout: timeout) { chunk in
                    hasher.sha.update(bufferPointer: chunk)
                    try writer.write(Data(chunk))
                }
            } catch {
                writer.discard()
                throw error
            }
            guard CurlTransfer.succeeded(status) else {
                writer.discard()
                throw FetchError.status(status, url: url.redacted)
            }
            let actual = hasher.sha.finalize().hex
            if let expected, expected != actual {
                writer.discard()
                throw FetchError.digestMismatch(url: url.redacted, expected: expected, actual: actual)
            }
            do { try writer.commit() } catch { throw FetchError.file("\(error)") }
            return actual
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
