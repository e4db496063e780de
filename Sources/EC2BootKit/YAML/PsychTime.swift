#if canImport(Glibc)
import Glibc
#endif

/// Psych's dates and times, as Ruby prints them: a `Date` as `2001-12-14`; a `Time` as
/// `2001-12-14 21:59:43 -0500`, `… UTC` for `Z`, and with no zone in the machine's time zone,
/// which is UTC on a cloud image (`+0000`; Ruby under another TZ prints that zone instead).
enum PsychTime {
    /// `^\d{4}-(1[012]|0\d|\d)-([12]\d|3[01]|0\d|\d)$`, a real day (Ruby's `strptime`), else nil.
    static func date(_ text: String) -> Psych.Value? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, ASCIIClass.digits(parts[0]),
              (1...2).contains(parts[1].count), (1...2).contains(parts[2].count),
              ASCIIClass.digits(parts[1]), ASCIIClass.digits(parts[2]),
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month, year) else { return .string(text) }
        return .date(NumberText.padded(year, 4) + "-" + NumberText.padded(month, 2) + "-" + NumberText.padded(day, 2))
    }

    /// TIME: `-?YYYY-M-D` then `T`, `t` or blanks, `H:MM:SS`, an optional fraction, then an
    /// optional zone (`Z`, `-5`, `+05:30`, `+0530`) after optional blanks.
    static func time(_ text: String) -> Psych.Value? {
        var scanner = Scanner(Array(text.utf8))
        scanner.skip("-")
        guard let year = scanner.number(4...4), scanner.skip("-"), let month = scanner.number(1...2), scanner.skip("-"),
              let day = scanner.number(1...2) else { return nil }
        guard scanner.skip("T") || scanner.skip("t") || scanner.blanks() > 0 else { return nil }
        guard let hour = scanner.number(1...2), scanner.skip(":"), let minute = scanner.number(2...2), scanner.skip(":"),
              let second = scanner.number(2...2) else { return nil }
        if scanner.skip(".") { _ = scanner.number(0...Int.max) }
        scanner.blanks()
        var zone: Int?   // seconds east of UTC; nil: none; Int.min: Z
        if scanner.skip("Z") { zone = Int.min } else if let sign = scanner.sign() {
            guard let hours = scanner.number(1...2) else { return nil }
            scanner.skip(":")
            let minutes = scanner.number(2...2) ?? 0
            zone = sign * (hours * 3600 + minutes * 60)
        }
        guard scanner.atEnd else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour <= 24, minute <= 59, second <= 60, !text.hasPrefix("-")
        else { return .string(text) }
        return .time(shown(year, month, day, hour, minute, second, zone: zone))
    }

    private static func shown(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int, zone: Int?) -> String {
        // Time.utc normalises (February 30 is March 2, 24:00 the next day), as timegm does.
        var fields = tm()
        (fields.tm_year, fields.tm_mon, fields.tm_mday) = (Int32(year - 1900), Int32(month - 1), Int32(day))
        (fields.tm_hour, fields.tm_min, fields.tm_sec) = (Int32(hour), Int32(minute), Int32(second))
        var seconds = timegm(&fields)
        var out = tm()
        gmtime_r(&seconds, &out)
        let clock = NumberText.padded(Int(out.tm_year) + 1900, 4) + "-" + NumberText.padded(Int(out.tm_mon) + 1, 2) + "-" + NumberText.padded(Int(out.tm_mday), 2)
            + " " + NumberText.padded(Int(out.tm_hour), 2) + ":" + NumberText.padded(Int(out.tm_min), 2) + ":" + NumberText.padded(Int(out.tm_sec), 2)
        guard let zone else { return clock + " +0000" }
        if zone == Int.min { return clock + " UTC" }
        return clock + " " + (zone < 0 ? "-" : "+") + NumberText.padded(abs(zone) / 3600, 2) + NumberText.padded(abs(zone) % 3600 / 60, 2)
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// A cursor over ASCII bytes.
    private struct Scanner {
        let bytes: [UInt8]
        var at = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { at == bytes.count }

        @discardableResult mutating func skip(_ character: Character) -> Bool {
            guard at < bytes.count, bytes[at] == character.asciiValue! else { return false }
            at += 1
            return true
        }

        @discardableResult mutating func blanks() -> Int {
            let start = at
            while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D, 0x0C, 0x0B].contains(bytes[at]) { at += 1 }
            return at - start
        }

        mutating func sign() -> Int? {
            if skip("-") { return -1 }
            return skip("+") ? 1 : nil
        }

        /// Digits, as many as `count` allows (greedy), or nil when fewer than its lower bound.
        mutating func number(_ count: ClosedRange<Int>) -> Int? {
            var end = at
            while end < bytes.count, end - at < count.upperBound, (0x30...0x39).contains(bytes[end]) { end += 1 }
            guard end - at >= count.lowerBound else { return nil }
            defer { at = end }
            return bytes[at..<end].reduce(0) { $0 &* 10 &+ Int($1 - 0x30) }
        }
    }
}
