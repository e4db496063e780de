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
