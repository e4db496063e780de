#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

extension URL {
    /// The URL without user, password, query or fragment: those may hold secrets
    /// (presigned URLs, basic auth), and log lines must not.
    public var redacted: String {
        guard var parts = URLComponents(url: self, resolvingAgainstBaseURL: false) else { return "<url>" }
        parts.user = nil
        parts.password = nil
        let hadQuery = parts.query != nil
        parts.query = nil
        parts.fragment = nil
        return (parts.string ?? "<url>") + (hadQuery ? "?…" : "")
    }
}
