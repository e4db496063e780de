/// The YAML this tool writes (Facter's external facts, Puppet's csr_attributes.yaml): block
/// mappings of double-quoted strings, which every reader takes as strings, written line by line.
enum YAMLWriting {
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

    /// A block mapping of mappings of strings, keys sorted (`section:\n  "key": "value"`).
    static func sections(_ sections: [String: [String: String]]) -> String {
        var text = ""
        for (name, entries) in sections.sorted(by: { $0.key < $1.key }) {
            text += quoted(name) + ":" + (entries.isEmpty ? " {}\n" : "\n")
            for (key, value) in entries.sorted(by: { $0.key < $1.key }) { text += "  " + quoted(key) + ": " + quoted(value) + "\n" }
        }
        return text
    }
}
