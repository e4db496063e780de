/// Where a JSON text (RFC 8259) stops being JSON, for a message with its line and column:
/// FoundationEssentials' JSONDecoder says only "not valid JSON". Syntax only: no values are built.
enum JSONSyntax {
    /// The byte offset of the first byte that is not JSON (the length when the text stops
    /// short); nil when the whole text is one JSON value.
    static func firstError(in bytes: [UInt8]) -> Int? {
        var scanner = Scanner(bytes: bytes)
        guard scanner.value(depth: 0) else { return scanner.at }
        scanner.skipSpace()
        return scanner.at == bytes.count ? nil : scanner.at
    }

    /// "line L, column C" of a byte offset (both from 1; the column counts bytes).
    static func place(_ offset: Int, in bytes: [UInt8]) -> String {
        let before = bytes.prefix(offset)
        let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        return "line \(before.filter { $0 == 0x0A }.count + 1), column \(offset - lineStart + 1)"
    }

    private struct Scanner {
        let bytes: [UInt8]
        var at = 0
        var byte: UInt8? { at < bytes.count ? bytes[at] : nil }

        mutating func skipSpace() { while let b = byte, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { at += 1 } }
        mutating func take(_ b: UInt8) -> Bool { if byte == b { at += 1; return true }; return false }
        mutating func digits() -> Bool {
            let start = at
            while let b = byte, (0x30...0x39).contains(b) { at += 1 }
            return at > start
        }

        mutating func value(depth: Int) -> Bool {
            skipSpace()
            guard depth < 512, let b = byte else { return false }
            switch b {
            case UInt8(ascii: "{"): return members(close: UInt8(ascii: "}"), depth: depth, keyed: true)
            case UInt8(ascii: "["): return members(close: UInt8(ascii: "]"), depth: depth, keyed: false)
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return word("true")
            case UInt8(ascii: "f"): return word("false")
            case UInt8(ascii: "n"): return word("null")
            default: return number()
            }
        }

        mutating func members(close: UInt8, depth: Int, keyed: Bool) -> Bool {
            at += 1
            skipSpace()
            if take(close) { return true }
            repeat {
                if keyed {
                    skipSpace()
                    guard byte == UInt8(ascii: "\""), string() else { return false }
                    skipSpace()
                    guard take(UInt8(ascii: ":")) else { return false }
                }
                guard value(depth: depth + 1) else { return false }
                skipSpace()
            } while take(UInt8(ascii: ","))
            return take(close)
        }

        mutating func string() -> Bool {
            at += 1
            while let b = byte, b != UInt8(ascii: "\"") {
                guard b >= 0x20 else { return false }
                at += 1
                guard b == UInt8(ascii: "\\") else { continue }
                guard let escaped = byte, "\"\\/bfnrtu".utf8.contains(escaped) else { return false }
                at += 1
                if escaped == UInt8(ascii: "u") {
                    for _ in 0..<4 {
                        guard let h = byte, (0x30...0x39).contains(h) || (0x61...0x66).contains(h | 0x20) else { return false }
                        at += 1
                    }
                }
            }
            return take(UInt8(ascii: "\""))
        }

        mutating func word(_ text: String) -> Bool {
            for expected in text.utf8 { guard take(expected) else { return false } }
            return true
        }

        mutating func number() -> Bool {
            _ = take(UInt8(ascii: "-"))
            if !take(UInt8(ascii: "0")) { guard digits() else { return false } }
            if take(UInt8(ascii: ".")) { guard digits() else { return false } }
            if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
                _ = take(UInt8(ascii: "+")) || take(UInt8(ascii: "-"))
                guard digits() else { return false }
            }
            return true
        }
    }
}
