#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// UTC timestamps in ISO 8601, without Foundation's date formatting machinery
/// (a formatter costs a megabyte of memory at start-up).
public enum Timestamp {
    public static func now(milliseconds: Bool = false) -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let base = seconds(now.tv_sec)
        return milliseconds ? base + "." + NumberText.padded(Int(now.tv_nsec / 1_000_000), 3) + "Z" : base + "Z"
    }

    /// `2026-12-05T10:00:00Z`.
    public static func string(_ date: Date) -> String {
        seconds(time_t(date.timeIntervalSince1970.rounded(.down))) + "Z"
    }

    /// `2026-12-05T10:00:00`, UTC, without the zone letter.
    private static func seconds(_ time: time_t) -> String {
        var seconds = time
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let date = [(Int(parts.tm_year) + 1900, 4), (Int(parts.tm_mon) + 1, 2), (Int(parts.tm_mday), 2)]
        let time = [Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)]
        return date.map { NumberText.padded($0.0, $0.1) }.joined(separator: "-") + "T"
            + time.map { NumberText.padded($0, 2) }.joined(separator: ":")
    }

    /// An RFC 3339 time (`2026-12-05T10:00:00Z`, or with an offset), or nil. Only `watch` reads
    /// times (a signed command's expiry), so the parser is paid for there, never on the boot path.
    public static func parse(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle().parse(text)
    }
}
