/// Psych's `ScalarScanner#tokenize` (Ruby 3's YAML, which the Ruby tool's users run), as
/// plain matching: the type of a plain scalar, its value, and the text Ruby's `to_s` gives it,
/// which is what the Ruby tool wrote into facts.txt (`monitoring: yes` → `monitoring=true`).
enum Psych {
    enum Value: Equatable {
        case null, bool(Bool), int(Int), float(Double), date(String), time(String), string(String)
    }

    static func resolve(_ text: String) -> Tag.Name {
        if text == "<<" { return .merge }   // revive_hash's merge key
        return switch value(text) {
        case .null: .null
        case .bool: .bool
        case .int: .int
        case .float: .float
        case .date, .time: .timestamp
        case .string: .str
        }
    }

    static func bool(_ text: String) -> Bool? { if case .bool(let flag) = value(text) { flag } else { nil } }
    static func int(_ text: String) -> Int? { if case .int(let number) = value(text) { number } else { nil } }
    static func float(_ text: String) -> Double? {
        switch value(text) {
        case .float(let number): number
        case .int(let number): Double(number)
        default: nil
        }
    }

    /// What Ruby prints for the value of a plain scalar (`"#{v}"`): `true`, `31`, `3.1`, `` for nil.
    static func rubyString(_ text: String) -> String {
        switch value(text) {
        case .null: ""
        case .bool(let flag): flag ? "true" : "false"
        case .int(let number): String(number)
        case .float(let number): RubyFloat.string(number)
        case .date(let shown), .time(let shown): shown
        case .string(let shown): shown
        }
    }

    /// tokenize's decisions in its order. An integer past Int's range stays text (Ruby's bignum
    /// prints as written for plain decimals, the common case).
    static func value(_ text: String) -> Value {
        if text.isEmpty { return .null }
        if looksLikeWord(text) { return word(text) }
        if let time = PsychTime.time(text) { return time }
        if let date = PsychTime.date(text) { return date }
        let lower = text.lowercased()
        if lower == ".inf" || lower == "+.inf" { return .float(.infinity) }
        if lower == "-.inf" { return .float(-.infinity) }
        if lower == ".nan" { return .float(.nan) }
        if text.hasPrefix(":"), text.count > 1 { return .string(text) }   // a symbol: YAMLDocument's to read
        if let number = base60(text) { return number }
        if let number = decimalFloat(text) { return number }
        if let number = integer(text) { return number }
        return .string(text)
    }

    /// `^[^\d.:-]?[[:alpha:]_\s!@#$%^&*(){}<>|/\\~;=]+`: text that starts like a word.
    private static func looksLikeWord(_ text: String) -> Bool {
        let inSet: (Character) -> Bool = { $0.isLetter || $0.isWhitespace || "_!@#$%^&*(){}<>|/\\~;=".contains($0) }
        let chars = Array(text.prefix(2))
        if inSet(chars[0]) { return true }
        guard chars.count == 2, !(chars[0].isASCII && chars[0].isNumber), !".:-".contains(chars[0]) else { return false }
        return inSet(chars[1])
    }

    /// Longer than five characters, or not one of the null and boolean words: text.
    private static func word(_ text: String) -> Value {
        guard text.count <= 5 else { return .string(text) }
        switch text.lowercased() {
        case "~", "null": return .null
        case "yes", "true", "on": return .bool(true)
        case "no", "false", "off": return .bool(false)
        default: return .string(text)
        }
    }

    /// `^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}(\.[0-9_]*)?$`, summed as Psych sums it: part e of
    /// n is worth 60^|e-2|, so `1:30` is 5400 (Psych's own arithmetic, not YAML's 90), and the
    /// sign belongs to the first part only (`-1:30` is -3600 + 1800).
    private static func base60(_ text: String) -> Value? {
        let (sign, body) = ASCIIClass.unsigned(text)
        var parts = body.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), let first = parts[0].first, first.isASCII, first.isNumber,
              ASCIIClass.digits(parts[0], "_") else { return nil }
        var fraction: Substring?
        if let dot = parts[parts.count - 1].firstIndex(of: ".") {
            fraction = parts[parts.count - 1][dot...].dropFirst()
            parts[parts.count - 1] = parts[parts.count - 1][..<dot]
            guard fraction!.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == "_" }) else { return nil }
        }
        guard parts.dropFirst().allSatisfy({ (1...2).contains($0.count) && ASCIIClass.digits($0) && ($0.count == 1 || $0.first! <= "5") })
        else { return nil }
        guard var values = Optional(parts.compactMap { Int($0.filter { $0 != "_" }) }), values.count == parts.count else { return .string(text) }
        values[0] *= sign
        if let fraction {
            let last = Double("\(values.last!).\(fraction.filter { $0 != "_" })0") ?? 0
            let whole = zip(values.dropLast() + [0], 0...).reduce(0.0) { $0 + Double($1.0) * pow60($1.1) }
            return .float(whole + last * pow60(parts.count - 1))
        }
        var sum = 0
        for (value, place) in zip(values, 0...) {
            let (part, overflow) = value.multipliedReportingOverflow(by: Int(pow60(place)))
            let (next, overflowSum) = sum.addingReportingOverflow(part)
            guard !overflow, !overflowSum else { return .string(text) }   // Ruby's bignum; kept as written
            sum = next
        }
        return .int(sum)
    }

    private static func pow60(_ place: Int) -> Double { [1.0, 60, 3600][abs(place - 2)] }

    /// `^[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?$`, not a lone `.`: Ruby's Float of it
    /// with `,` and `_` dropped and a dot before the exponent or the end dropped.
    private static func decimalFloat(_ text: String) -> Value? {
        let body = ASCIIClass.unsigned(text).body
        guard let dot = body.firstIndex(of: ".") else { return nil }
        let whole = body[..<dot]
        guard whole.isEmpty || (whole.first!.isASCII && whole.first!.isNumber && ASCIIClass.digits(whole, "_,")) else { return nil }
        var rest = body[dot...].dropFirst()
        let fraction = rest.prefix { $0.isASCII && $0.isNumber }
        rest = rest.dropFirst(fraction.count)
        if !rest.isEmpty {
            guard rest.count >= 3, "eE".contains(rest.first!), "+-".contains(rest.dropFirst().first!),
                  ASCIIClass.digits(rest.dropFirst(2)) else { return nil }
        }
        if whole.isEmpty && fraction.isEmpty && rest.isEmpty { return .string(text) }
        let cleaned = String(text.filter { $0 != "_" && $0 != "," })
        guard let number = Double(cleaned.replacing(".e", with: "e").replacing(".E", with: "E"))
                ?? Double(cleaned + "0") else { return .string(text) }
        return .float(number)
    }

    /// INTEGER: `[-+]?(0b[01_,]+ | 0[0-7_,]+ | 0 | [1-9]([0-9]|,[0-9]|_[0-9])* | 0x[0-9a-fA-F_,]+)`.
    private static func integer(_ text: String) -> Value? {
        let (sign, body) = ASCIIClass.unsigned(text)
        let digits = String(body.filter { $0 != "_" && $0 != "," })
        let parsed: Int?
        if body.hasPrefix("0b"), ASCIIClass.digits(body.dropFirst(2), "_,", radix: 2) {
            parsed = Int(digits.dropFirst(2), radix: 2)
        } else if body.hasPrefix("0x"), ASCIIClass.digits(body.dropFirst(2), "_,", radix: 16) {
            parsed = Int(digits.dropFirst(2), radix: 16)
        } else if body == "0" {
            parsed = 0
        } else if body.first == "0", ASCIIClass.digits(body.dropFirst(), "_,", radix: 8) {
            parsed = digits.count > 1 ? Int(digits.dropFirst(), radix: 8) : 0
        } else if let first = body.first, first != "0", first.isASCII, first.isNumber, separatorsBetweenDigits(body) {
            parsed = Int(digits)
        } else {
            return nil
        }
        return parsed.map { .int(sign * $0) } ?? .string(text)
    }

    /// `[0-9]|,[0-9]|_[0-9]` repeated: every `,` or `_` followed by a digit.
    private static func separatorsBetweenDigits(_ body: Substring) -> Bool {
        var afterSeparator = false
        for character in body {
            if character == "_" || character == "," {
                if afterSeparator { return false }
                afterSeparator = true
            } else if character.isASCII && character.isNumber {
                afterSeparator = false
            } else {
                return false
            }
        }
        return !afterSeparator
    }
}

/// Ruby's `Float#to_s`: the shortest digits that read back (as Swift's), fixed notation for
/// 1e-4 ≤ |x| < 1e15, else `d.ddde+XX`; always a digit after the dot.
enum RubyFloat {
    static func string(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let (digits, exponent) = shortestDigits(abs(value))
        let sign = value < 0 ? "-" : ""
        let point = exponent + 1   // digits before the decimal point
        if point > 15 || point < -3 {
            let rest = digits.dropFirst()
            let shown = exponent < 0 ? "-" + NumberText.padded(-exponent, 2) : "+" + NumberText.padded(exponent, 2)
            return sign + String(digits.first!) + "." + (rest.isEmpty ? "0" : String(rest)) + "e" + shown
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) + ".0" }
        return sign + digits.prefix(point) + "." + digits.dropFirst(point)
    }

    /// The significant digits of a positive finite value and its decimal exponent
    /// (1234.5 → ("12345", 3)), from Swift's own shortest round-trip printing.
    static func shortestDigits(_ value: Double) -> (String, Int) {
        let text = value.description   // "1234.5", "1e-05", "1.2345e+16"
        let parts = text.split(separator: "e")
        var exponent = parts.count > 1 ? Int(parts[1])! : 0
        let mantissa = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(mantissa[0]), fraction = mantissa.count > 1 ? String(mantissa[1]) : ""
        var digits = whole + fraction
        exponent += whole.count - 1
        while digits.first == "0", digits.count > 1 { digits.removeFirst(); exponent -= 1 }
        while digits.last == "0", digits.count > 1 { digits.removeLast() }
        return (digits, exponent)
    }

}
