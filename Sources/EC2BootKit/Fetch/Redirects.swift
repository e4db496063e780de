#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Which redirects a transfer may follow. Metadata and token requests follow none (real IMDS
/// never redirects, and the token must reach the metadata host alone); action lists, action
/// files and `fetch` follow a few, each hop checked before it is requested.
public struct RedirectPolicy: Sendable {
    public var maxHops: Int
    /// Hosts a hop may go to; empty: any.
    public var allowedHosts: [String]

    public static let never = RedirectPolicy(maxHops: 0, allowedHosts: [])

    public init(maxHops: Int, allowedHosts: [String]) {
        self.maxHops = maxHops
        self.allowedHosts = allowedHosts.map { $0.lowercased() }
    }

    /// The URL to request next, after `url` answered a redirect to `location` on hop `hop` (0 first).
    public func next(after url: URL, location: String?, hop: Int) throws(FetchError) -> URL {
        let from = url.redacted
        guard let location, let target = URL(string: location, relativeTo: url)?.absoluteURL else {
            throw .redirect(url: from, location: FetchError.shown(location), reason: "no usable Location")
        }
        let shown = target.redacted
        guard hop < maxHops else {
            throw .redirect(url: from, location: shown, reason: maxHops == 0 ? "this request never follows redirects"
                                                                              : "more than \(maxHops) redirects")
        }
        let scheme = target.scheme?.lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw .redirect(url: from, location: shown, reason: "only http and https")
        }
        if url.scheme?.lowercased() == "https", scheme == "http" {
            throw .redirect(url: from, location: shown, reason: "https may not lead to http")
        }
        if let refusal = Self.refusal(target, allowedHosts: allowedHosts) {
            throw .redirect(url: from, location: shown, reason: refusal)
        }
        return target
    }

    /// Why `url` may not be fetched under `allowedHosts`, or nil. Empty allows any host and file URLs.
    public static func refusal(_ url: URL, allowedHosts: [String]) -> String? {
        guard !allowedHosts.isEmpty else { return nil }
        guard url.scheme?.lowercased() != "file", let host = url.host?.lowercased(),
              allowedHosts.contains(where: { $0.lowercased() == host }) else {
            return "\(url.host ?? url.scheme ?? "it") is not on actions.allowed_hosts"
        }
        return nil
    }
}

/// What one answer was: done, or a redirect to follow.
enum Hop<T: Sendable>: Sendable {
    case done(T)
    case redirect(String?)
}

extension RedirectPolicy {
    /// Runs `attempt` on `url`, then on each hop the policy allows, until one is done.
    func follow<T: Sendable>(isolation: isolated (any Actor)? = #isolation, _ url: URL,
                             _ attempt: (URL) async throws(FetchError) -> Hop<T>) async throws(FetchError) -> T {
        var current = url
        var hop = 0
        while true {
            switch try await attempt(current) {
            case .done(let value): return value
            case .redirect(let location):
                current = try next(after: current, location: location, hop: hop)
                hop += 1
            }
        }
    }
}
