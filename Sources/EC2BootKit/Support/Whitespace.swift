extension StringProtocol {
    /// Foundation's `trimmingCharacters(in: .whitespaces)` (or `.whitespacesAndNewlines` with
    /// `newlines`), by the standard library's own Unicode tables: Foundation's predefined
    /// CharacterSets build an ICU set on first use, and the crawl trims every listing line.
    public func trimmingWhitespace(newlines: Bool = false) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !Whitespace.contains($0, newlines: newlines) }) else { return "" }
        let last = scalars.lastIndex(where: { !Whitespace.contains($0, newlines: newlines) })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    /// The text without any of `characters` at either end (`"'rhel'"`, `"'` → `rhel`).
    public func trimming(_ characters: String) -> Substring {
        let text = Substring(self)
        guard let first = text.firstIndex(where: { !characters.contains($0) }),
              let last = text.lastIndex(where: { !characters.contains($0) }) else { return "" }
        return text[first...last]
    }

    /// Spaces added up to `width` characters, as a column of a table (longer text is left whole).
    public func padded(to width: Int) -> String {
        String(self) + String(repeating: " ", count: Swift.max(0, width - count))
    }
}

enum Whitespace {
    /// `.whitespaces`: general category Zs, U+0009 and (as CoreFoundation defines it) U+200B;
    /// `.whitespacesAndNewlines` adds Zl, Zp, U+000A to U+000D and U+0085.
    static func contains(_ scalar: Unicode.Scalar, newlines: Bool) -> Bool {
        switch scalar.properties.generalCategory {
        case .spaceSeparator: return true
        case .lineSeparator, .paragraphSeparator: return newlines
        default: return scalar == "\t" || scalar.value == 0x200B || (newlines && ((0x0A...0x0D).contains(scalar.value) || scalar.value == 0x85))
        }
    }
}
