/// Values for files a person or a terminal reads (facts.txt, the Facter file, the MOTD):
/// control characters (C0, DEL, C1) and the Unicode line and paragraph separators become a
/// space, so no value can split a line or send a terminal escape. Instance tags, which anyone
/// with ec2:CreateTags sets, reach the MOTD this way. ZooKeeper data that `push` and `nodes`
/// print is escaped the same way.
public enum Printable {
    /// The value with every unsafe character replaced, or nil when it had none.
    public static func cleaned(_ value: String) -> String? {
        guard value.unicodeScalars.contains(where: isUnsafe) else { return nil }
        var out = String.UnicodeScalarView()
        for scalar in value.unicodeScalars { out.append(isUnsafe(scalar) ? " " : scalar) }
        return String(out)
    }

    /// For a log line or a terminal: each unsafe character shown as `\xNN` (so the reader sees
    /// it was there), and at most `limit` characters.
    public static func escape(_ text: String, limit: Int = 80) -> String {
        var out = ""
        for (count, scalar) in text.unicodeScalars.enumerated() {
            if count >= limit { return out + "…" }
            out += isUnsafe(scalar) ? "\\x" + String(scalar.value, radix: 16) : String(scalar)
        }
        return out
    }

    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029: return true
        default: return false
        }
    }
}
