/// `Redaction`'s rules as matchers over UTF-8 bytes: given the text and a position, each says
/// where a match starting there ends and what replaces it. They do what these expressions did
/// (NSRegularExpression, `(?i)` on all but the first; a test keeps them as the reference):
///
///     -----BEGIN [A-Z0-9 ]{1,64}-----[\s\S]*?(?:-----END [A-Z0-9 ]{1,64}-----|$)
///     (authorization["']?\s*[:=]\s*)[^\r\n]*
///     (://[^/\s:@]+:)[^/\s@]+(@)
///     (x-amz-(?:signature|credential|security-token)=)[^&\s"']+
///     ((?<![\w.-])--?NAME(?:=|\s+))("[^"]*"|'[^']*'|[^\s-]\S*)
///     ((?<![\w./-])NAME["']?\s*[:=]\s*)("[^"]*"|'[^']*'|\S+)
///
/// NAME is `[\w.-]{0,64}CORE[\w.-]{0,64}`, CORE one of `pass(word|wd)?`, `psk`, `secret`, `token`,
/// `api[_-]?key`, `private[_-]?key`, `credentials?`, `access[_-]?key`. Two differences, both
/// towards hiding more: `\s` is ASCII's white space here (a value runs on past U+00A0 or U+2028),
/// and names fold ASCII case only (ICU's `(?i)` also folds `ſ` and the Kelvin sign).
enum RedactionRules {
    typealias Match = (end: Int, replacement: [UInt8])
    typealias Rule = (_ text: [UInt8], _ at: Int) -> Match?

    static let redacted = Array("<redacted>".utf8)

    /// Every match of `rule`, left to right, replaced: as a regular expression's global replace.
    static func replacing(_ text: [UInt8], _ rule: Rule) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if let match = rule(text, i), match.end > i {
                out += match.replacement
                i = match.end
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }

    static func pemBlock(_ t: [UInt8], _ at: Int) -> Match? {
        guard t[at] == UInt8(ascii: "-"), has(t, at, "-----BEGIN "), let opened = label(t, at + 11) else { return nil }
        let replacement = Array("-----BEGIN … <redacted PEM block>".utf8)
        for i in opened..<t.count where t[i] == UInt8(ascii: "-") && has(t, i, "-----END ") {
            if let end = label(t, i + 9) { return (end, replacement) }
        }
        // No end line: up to `$`, the end of the text or before its final line break.
        var end = t.count
        if end > opened, t[end - 1] == 0x0A || t[end - 1] == 0x0D {
            end -= (end - 2 >= opened && t[end - 2] == 0x0D && t[end - 1] == 0x0A) ? 2 : 1
        }
        return (end, replacement)
    }

    /// `[A-Z0-9 ]{1,64}-----` from `i`: where it ends.
    private static func label(_ t: [UInt8], _ i: Int) -> Int? {
        var j = i
        while j < t.count, j - i <= 64, (0x41...0x5A).contains(t[j]) || (0x30...0x39).contains(t[j]) || t[j] == 0x20 { j += 1 }
        guard j > i, j - i <= 64, has(t, j, "-----") else { return nil }
        return j + 5
    }

    static func authorization(_ t: [UInt8], _ at: Int) -> Match? {
        guard t[at] | 0x20 == UInt8(ascii: "a"), has(t, at, "authorization", caseless: true) else { return nil }
        var i = at + 13
        if i < t.count, t[i] == UInt8(ascii: "\"") || t[i] == UInt8(ascii: "'") { i += 1 }
        i = skipSpace(t, i)
        guard i < t.count, t[i] == UInt8(ascii: ":") || t[i] == UInt8(ascii: "=") else { return nil }
        i = skipSpace(t, i + 1)
        var end = i
        while end < t.count, t[end] != 0x0D, t[end] != 0x0A { end += 1 }
        return (end, Array(t[at..<i]) + redacted)
    }

    static func urlPassword(_ t: [UInt8], _ at: Int) -> Match? {
        guard t[at] == UInt8(ascii: ":"), has(t, at, "://") else { return nil }
        let user = at + 3
        var i = user
        while i < t.count, !isSpace(t[i]), !"/:@".utf8.contains(t[i]) { i += 1 }
        guard i > user, i < t.count, t[i] == UInt8(ascii: ":") else { return nil }
        let password = i + 1
        i = password
        while i < t.count, !isSpace(t[i]), t[i] != UInt8(ascii: "/"), t[i] != UInt8(ascii: "@") { i += 1 }
        guard i > password, i < t.count, t[i] == UInt8(ascii: "@") else { return nil }
        return (i + 1, Array(t[at..<password]) + redacted + [UInt8(ascii: "@")])
    }

    static func presignedPart(_ t: [UInt8], _ at: Int) -> Match? {
        guard t[at] | 0x20 == UInt8(ascii: "x"), has(t, at, "x-amz-", caseless: true) else { return nil }
        guard let name = ["signature=", "credential=", "security-token="].first(where: { has(t, at + 6, $0, caseless: true) }) else { return nil }
        let value = at + 6 + name.utf8.count
        var end = value
        while end < t.count, !isSpace(t[end]), !"&\"'".utf8.contains(t[end]) { end += 1 }
        return end > value ? (end, Array(t[at..<value]) + redacted) : nil
    }

    /// `--password VALUE`, `--token=VALUE`: a value never starts with `-` (the next option).
    static func flag(_ t: [UInt8], _ at: Int) -> Match? {
        guard t[at] == UInt8(ascii: "-"), at == 0 || !isNameByte(t, at - 1) else { return nil }
        let end = runEnd(t, at)
        let dashes = at + 1 < end && t[at + 1] == UInt8(ascii: "-") ? 2 : 1
        guard hasCore(t, from: at + dashes, to: end) || (dashes == 2 && hasCore(t, from: at + 1, to: end)) else { return nil }
        var i = end
        if i < t.count, t[i] == UInt8(ascii: "=") {
            i += 1
        } else {
            guard i < t.count, isSpace(t[i]) else { return nil }
            i = skipSpace(t, i)
        }
        guard let valueEnd = value(t, i, dashFirst: false) else { return nil }
        return (valueEnd, Array(t[at..<i]) + redacted)
    }

    /// `name=value`, `name: value`, `"name" : "value"`, not after a `/` (a URL's path).
    static func assignment(_ t: [UInt8], _ at: Int) -> Match? {
        guard isNameByte(t, at), at == 0 || !(isNameByte(t, at - 1) || t[at - 1] == UInt8(ascii: "/")) else { return nil }
        let end = runEnd(t, at)
        guard hasCore(t, from: at, to: end) else { return nil }
        var i = end
        if i < t.count, t[i] == UInt8(ascii: "\"") || t[i] == UInt8(ascii: "'") { i += 1 }
        i = skipSpace(t, i)
        guard i < t.count, t[i] == UInt8(ascii: ":") || t[i] == UInt8(ascii: "=") else { return nil }
        i = skipSpace(t, i + 1)
        guard let valueEnd = value(t, i, dashFirst: true) else { return nil }
        return (valueEnd, Array(t[at..<i]) + redacted)
    }
}

extension RedactionRules {
    /// `"[^"]*"`, `'[^']*'`, else a run of non-space (`[^\s-]\S*` without `dashFirst`): its end.
    private static func value(_ t: [UInt8], _ i: Int, dashFirst: Bool) -> Int? {
        guard i < t.count, !isSpace(t[i]), dashFirst || t[i] != UInt8(ascii: "-") else { return nil }
        if t[i] == UInt8(ascii: "\"") || t[i] == UInt8(ascii: "'"), let close = t[(i + 1)...].firstIndex(of: t[i]) {
            return close + 1
        }
        var end = i
        while end < t.count, !isSpace(t[end]) { end += 1 }
        return end
    }

    /// Where the run of name bytes from `at` ends, looked at no further than a name can reach.
    private static func runEnd(_ t: [UInt8], _ at: Int) -> Int {
        var end = at
        while end < t.count, end - at <= maxName, isNameByte(t, end) { end += 1 }
        return end
    }

    /// Two dashes, 64 characters of up to 4 bytes, the longest core, 64 more: a longer run holds no name.
    private static let maxName = 4 * (2 + 64 + 64) + 11

    /// Whether `t[from..<to]` is a NAME: a core with at most 64 characters before and after it.
    private static func hasCore(_ t: [UInt8], from: Int, to: Int) -> Bool {
        guard to - from <= maxName, !(to < t.count && isNameByte(t, to)) else { return false }
        // before[k]: the characters in t[from..<from + k] (a character starts at each byte not 10xxxxxx).
        var before = [0]
        for i in from..<to { before.append(before.last! + (t[i] & 0xC0 == 0x80 ? 0 : 1)) }
        for p in from..<to where before[p - from] <= 64 {
            for length in coreLengths(t, p, to) where before[to - from] - before[p + length - from] <= 64 { return true }
        }
        return false
    }

    /// The lengths of every core that starts at `p` and ends by `to`.
    private static func coreLengths(_ t: [UInt8], _ p: Int, _ to: Int) -> [Int] {
        var found: [Int] = []
        for core in ["password", "passwd", "pass", "psk", "secret", "token", "credentials", "credential"] where has(t, p, core, caseless: true) {
            found.append(core.utf8.count)
        }
        for word in ["api", "private", "access"] where has(t, p, word, caseless: true) {
            let j = p + word.utf8.count
            if has(t, j, "key", caseless: true) { found.append(j + 3 - p) }
            if j < t.count, t[j] == UInt8(ascii: "_") || t[j] == UInt8(ascii: "-"), has(t, j + 1, "key", caseless: true) { found.append(j + 4 - p) }
        }
        return found.filter { p + $0 <= to }
    }

    static func has(_ t: [UInt8], _ at: Int, _ word: String, caseless: Bool = false) -> Bool {
        var i = at
        for expected in word.utf8 {
            guard i < t.count else { return false }
            let byte = caseless && (0x41...0x5A).contains(t[i]) ? t[i] | 0x20 : t[i]
            guard byte == expected else { return false }
            i += 1
        }
        return true
    }

    private static func skipSpace(_ t: [UInt8], _ i: Int) -> Int {
        var i = i
        while i < t.count, isSpace(t[i]) { i += 1 }
        return i
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

    /// `[\w.-]` at byte `i`: ASCII letters, digits, `_`, `.`, `-`, and the bytes of a character
    /// ICU's `\w` takes (letters of every script, marks, digits, connector punctuation, ZWJ/ZWNJ).
    static func isNameByte(_ t: [UInt8], _ i: Int) -> Bool {
        let b = t[i]
        guard b >= 0x80 else {
            return (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || b == 0x5F || b == 0x2E || b == 0x2D
        }
        var start = i
        while start > 0, t[start] & 0xC0 == 0x80, i - start < 3 { start -= 1 }
        guard let scalar = String(decoding: t[start..<min(start + 4, t.count)], as: UTF8.self).unicodeScalars.first else { return false }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .decimalNumber, .nonspacingMark, .spacingMark, .enclosingMark, .connectorPunctuation: return true
        default: return properties.isAlphabetic || properties.isJoinControl
        }
    }
}
