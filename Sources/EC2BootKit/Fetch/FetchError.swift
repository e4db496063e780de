import Foundation

/// Why a request failed, and whether trying again can help.
public enum FetchError: Error, CustomStringConvertible, Sendable {
    case status(Int, url: String)
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
    /// A bound on the shape of what a server offers (folder depth, leaves, requests, list entries).
    case bound(String)

    public var retryable: Bool {
        switch self {
        case .status(let code, _): return code == 429 || code >= 500
        case .transport(_, _, let retryable): return retryable
        case .timedOut: return true
        default: return false
        }
    }

    public var isNotFound: Bool {
        if case .status(404, _) = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case let .status(code, url): return "\(url): HTTP \(code)"
        case let .transport(message, url, _): return "\(url): \(message)"
        case let .timedOut(url): return "\(url): timed out"
        case let .deadline(url, last): return "\(url): gave up at the deadline (last error: \(last))"
        case let .digestMismatch(url, expected, actual):
            return "\(url): sha256 is \(actual), expected \(expected)"
        case let .unsupportedURL(url): return "\(url): only http, https and file URLs are supported"
        case let .file(message): return message
        case let .tooLarge(url, cap, setting): return "\(url): more than \(ByteCount(cap)) (\(setting))"
        case let .redirect(url, location, reason): return "\(url): redirect to \(location) refused: \(reason)"
        case let .bound(message): return message
        }
    }

    /// A Location for a message: redacted like any URL.
    static func shown(_ location: String?) -> String {
        guard let location else { return "nowhere" }
        return URL(string: location)?.redacted ?? MetadataPath.printable(location)
    }

    /// A `FetchError` as is; anything else (cancellation) as a failure not worth retrying.
    static func wrap(_ error: Error, url: String) -> FetchError {
        (error as? FetchError) ?? .transport("\(error)", url: url, retryable: false)
    }
}
