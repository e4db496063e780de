/// Numbers as text, the few ways this tool prints them, without `String(format:)` (Foundation's,
/// not in FoundationEssentials).
public enum NumberText {
    /// `value` with leading zeros to `width` digits (`7`, 3 → `007`), as `%0Nd` for values ≥ 0.
    public static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// `value` with `places` decimals, rounded half away from zero (`1.25`, 1 → `1.3`), as `%.Nf`.
    public static func fixed(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * Double(scale)).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e15 else { return "\(value)" }
        let whole = Int(scaled) / scale, fraction = Int(scaled) % scale
        let sign = value < 0 && scaled > 0 ? "-" : ""
        return sign + String(whole) + (places > 0 ? "." + padded(fraction, places) : "")
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hex, as `sha256sum` prints it.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
