#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// The few response headers the client acts on, read as curl hands over each header line:
/// validators for a later conditional GET, and how long a busy server asks us to wait.
public struct AnswerHeaders: Sendable, Equatable {
    public var etag: String?
    public var lastModified: String?
    public var retryAfter: String?

    public init(etag: String? = nil, lastModified: String? = nil, retryAfter: String? = nil) {
        self.etag = etag
        self.lastModified = lastModified
        self.retryAfter = retryAfter
    }

    /// One header line; a status line starts a new answer (a 100 Continue before the real one).
    mutating func take(_ line: UnsafeRawBufferPointer) {
        guard line.count <= 1024 else { return }  // no header we read is long; a huge one is ignored
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix("HTTP/") {
            self = AnswerHeaders()
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = text[..<colon].lowercased()
        let value = text[text.index(after: colon)...].trimmingWhitespace(newlines: true)
        switch name {
        case "etag": etag = value
        case "last-modified": lastModified = value
        case "retry-after": retryAfter = value
        default: break
        }
    }

    /// Retry-After in seconds: a number of seconds, or an HTTP date (RFC 9110) from now.
    /// Nil when absent or unreadable; never negative.
    public func retryAfterSeconds(now: Date = Date()) -> Double? {
        guard let value = retryAfter, !value.isEmpty else { return nil }
        if value.utf8.allSatisfy({ (0x30...0x39).contains($0) }) { return Double(value.prefix(9)) }
        guard let date = Self.httpDate(value) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    /// IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`, the only form servers send today.
    static func httpDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let year = Int(parts[3]),
              let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].firstIndex(of: String(parts[2])) else {
            return nil
        }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        // Ranges first: a hostile date must not overflow the C fields below.
        guard clock.count == 3, (1970...9999).contains(year), (1...31).contains(day), (0...23).contains(clock[0]),
              (0...59).contains(clock[1]), (0...60).contains(clock[2]) else { return nil }
        var fields = tm()
        fields.tm_year = Int32(year - 1900)
        fields.tm_mon = Int32(month)
        fields.tm_mday = Int32(day)
        fields.tm_hour = Int32(clock[0])
        fields.tm_min = Int32(clock[1])
        fields.tm_sec = Int32(clock[2])
        return Date(timeIntervalSince1970: TimeInterval(timegm(&fields)))
    }
}
