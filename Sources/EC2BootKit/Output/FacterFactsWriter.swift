/// The same facts as a Facter external facts file (`/etc/facter/facts.d/ec2_boot_init.yaml`).
/// Every value is a double-quoted YAML string, so `true`, `0755` or a multi-line value
/// reach Facter exactly as they are, and as strings.
///
/// Written line by line rather than through Yams' serializer: that builds a node tree of
/// every fact first (1.5 GB for half a million facts), while a double-quoted scalar is a
/// few escapes, checked by reading the file back with Yams and with the real Facter.
public struct FacterFactsWriter: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func write(_ facts: Facts) throws {
        var seen = Set<String>()
        var text = "# Written by ec2-boot-init; changes are lost on its next run.\n"
        for fact in facts.entries where seen.insert(fact.name).inserted {
            text += Self.quoted(fact.name) + ": " + Self.quoted(fact.value) + "\n"
        }
        if seen.isEmpty { text += "{}\n" }
        try AtomicFile.write(text, to: path, mode: 0o644)
    }

    /// A YAML double-quoted scalar: `\` and `"` escaped, and every character YAML does not
    /// print as itself (control characters, NEL, line and paragraph separators, BOM) as an escape.
    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{20}"..."\u{7E}", "\u{A0}"..."\u{2027}", "\u{202A}"..."\u{D7FF}", "\u{E000}"..."\u{FEFE}",
                 "\u{FF00}"..."\u{FFFD}", "\u{10000}"..."\u{10FFFF}":
                out.unicodeScalars.append(scalar)
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += scalar.value <= 0xFF ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                                            : "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out + "\""
    }
}
