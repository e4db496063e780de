#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Why a request failed, and whether trying again can help.
public enum FetchError: Error, CustomStringConvertible, Sendable {
    /// An HTTP status that is not success; `retryAfter` is what the server asked us to wait,
    /// `detail` what it said (S3's error code and message).
    case status(Int, url: String, retryAfter: Double? = nil, detail: String? = nil)
    case transport(String, url: String, retryable: Bool)
    case timedOut(url: String)
    case deadline(url: String, last: String)
    case digestMismatch(url: String, expected: String, actual: String)
    case unsupportedURL(String)
    case file(String)
    /// The body, or its announced length, passed the transfer's byte cap.
    case tooLarge(url: String, cap: Int, setting: String)
    /// A 3xx that may not be followed: metadata never redirects; elsewhere the hop broke the policy.
    case redirect(url: String, location: String, reason: String)
    /// A URL `actions.allowed_hosts` does not allow (the first one; a hop is a `redirect`).
    case notAllowed(url: String, reason: String)
    /// A bound on the shape of what a server offers (folder depth, leaves, requests, list entries).
    case bound(String)
    /// SIGTERM or SIGINT came while the request or its retries were waited for.
    case interrupted(url: String, signal: Int32)

    public var retryable: Bool {
        switch self {
        case .status(let code, _, _, _): return code == 429 || code >= 500
        case .transport(_, _, let retryable): return retryable
        case .timedOut: return true
        default: return false
        }
    }

    public var isNotFound: Bool {
        if case .status(404, _, _, _) = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case let .status(code, url, retryAfter, detail):
            let said = detail.map { " (\($0))" } ?? ""
            let wait = retryAfter.map { ", Retry-After \(Self.seconds($0))" } ?? ""
            return "\(url): HTTP \(code)\(said)\(wait)"
        case let .transport(message, url, _): return "\(url): \(message)"
        case let .timedOut(url): return "\(url): timed out"
        case let .deadline(url, last): return "\(url): gave up at the deadline (last error: \(last))"
        case let .digestMismatch(url, expected, actual):
            return "\(url): sha256 is \(actual), expected \(expected)"
        case let .unsupportedURL(url): return "\(url): only http, https and file URLs are supported"
        case let .file(message): return message
        case let .tooLarge(url, cap, setting): return "\(url): more than \(ByteCount(cap)) (\(setting))"
        case let .redirect(url, location, reason): return "\(url): redirect to \(location) refused: \(reason)"
        case let .notAllowed(url, reason): return "\(url): \(reason)"
        case let .bound(message): return message
        case let .interrupted(url, signal): return "\(url): stopped by signal \(signal) while waiting for it"
        }
    }

    /// What a server asked us to wait before the next attempt.
    public var retryAfter: Double? {
        if case .status(_, _, let after, _) = self { return after }
        return nil
    }

    /// A non-success answer as an error: with its Retry-After (for 429 and 503) and what an
    /// S3-style XML error body says.
    static func answer(_ status: Int, url: String, headers: AnswerHeaders, body: Data) -> FetchError {
        let after = status == 429 || status == 503 ? headers.retryAfterSeconds() : nil
        return .status(status, url: url, retryAfter: after, detail: S3ErrorBody.summary(body))
    }

    static func seconds(_ value: Double) -> String {
        value >= 1 ? "\(Int(min(value, 1e9).rounded())) s" : "\(Int(value * 1000)) ms"
    }

    /// A Location for a message: redacted like any URL.
    static func shown(_ location: String?) -> String {
        guard let location else { return "nowhere" }
        return URL(string: location)?.redacted ?? MetadataPath.printable(location)
    }

    /// A `FetchError` as is; anything else (cancellation) as a failure not worth retrying.
    static func wrap(_ error: Error, url: String) -> FetchError {
        if let error = error as? FetchError { return error }
        if let signal = Interruption.signal { return .interrupted(url: url, signal: signal) }
        return .transport("\(error)", url: url, retryable: false)
    }
}
