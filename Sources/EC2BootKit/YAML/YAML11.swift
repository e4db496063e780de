/// YAML 1.1's reading of plain scalars as Python's YAML (PyYAML, which cloud-init uses) does it:
/// the values behind `PyYAML.resolve`'s types, and what Python prints for them.
enum YAML11 {
    /// A value cloud-init's schema takes as a boolean: a plain scalar PyYAML reads as one.
    static func isBoolean(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return booleans.contains(scalar.string)
    }

    /// PyYAML's int: `0b1010`, `0644` (octal), `0x1F`, `1_000`, `1:30` (base 60), with a sign.
    static func integer(_ text: String) -> Int? {
        let (sign, body) = ASCIIClass.unsigned(text)
        guard let first = body.first, first.isASCII, first.isNumber else { return nil }
        let digits = String(body.replacing("_", with: ""))
        let value: Int?
        if body.hasPrefix("0b") {
            value = Int(digits.dropFirst(2), radix: 2)
        } else if body.hasPrefix("0x") {
            value = Int(digits.dropFirst(2), radix: 16)
        } else if body.contains(":") {
            value = first == "0" ? nil : sexagesimal(digits)
        } else if body.count > 1, first == "0" {
            value = Int(digits.dropFirst(), radix: 8)
        } else {
            value = digits.allSatisfy { $0.isASCII && $0.isNumber } ? Int(digits) : nil
        }
        return value.map { $0 * sign }
    }

    private static func sexagesimal(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard let head = Int(parts[0]) else { return nil }
        var value = head
        for part in parts.dropFirst() {
            guard (1...2).contains(part.count), let digit = Int(part), digit < 60 else { return nil }
            let (times, overflow) = value.multipliedReportingOverflow(by: 60)
            guard !overflow else { return nil }
            value = times + digit
        }
        return value
    }
}

/// What Python's `str()` prints for the value PyYAML's SafeLoader makes of a plain scalar, as
/// cloud-init's `shellify` quotes each word of a runcmd/bootcmd list: `1.20` → `1.2`, `0644` →
/// `420`, `yes` → `True`, `~` → `None`, `2001-12-14` → itself; nil for a string (its text as written).
extension YAML11 {
    /// The same for a scalar as PyYAML constructs it: a plain one is resolved as `pythonString`
    /// does; a quoted one is its text (nil), unless an explicit tag (`!!int "017"`, `!!float
    /// '1.20'`, `!!bool 'yes'`) has its constructor decide. (A plain scalar is read by its
    /// text, as `pythonString(_: String)` does.)
    static func pythonString(_ scalar: Node.Scalar) -> String? {
        let text = scalar.string
        guard scalar.style != .plain else { return pythonString(text) }
        switch scalar.tag.rawValue {
        case "tag:yaml.org,2002:int": return integer(text.replacing("_", with: "")).map(String.init)
        case "tag:yaml.org,2002:float": return explicitFloat(text)?.description
        case "tag:yaml.org,2002:bool": return booleans.contains(text.lowercased()) ? pythonString(text.lowercased()) : nil
        case "tag:yaml.org,2002:null": return "None"
        case "tag:yaml.org,2002:timestamp": return timestamp(text)
        default: return nil
        }
    }

    /// PyYAML's `construct_yaml_float` for a `!!float`: underscores dropped, lower case, a sign,
    /// `.inf`/`.nan`, base 60, else Python's `float()` (which takes `1e3`, unlike the resolver).
    static func explicitFloat(_ text: String) -> Double? {
        var value = Substring(text.replacing("_", with: "").lowercased())
        let sign: Double = value.hasPrefix("-") ? -1 : 1
        if value.hasPrefix("-") || value.hasPrefix("+") { value = value.dropFirst() }
        if value == ".inf" { return sign * .infinity }
        if value == ".nan" { return .nan }
        if value.contains(":") { return float(String(value)).map { sign * $0 } }
        return Double(String(value).trimmingWhitespace(newlines: true)).map { sign * $0 }
    }

    static func pythonString(_ text: String) -> String? {
        if booleans.contains(text) { return ["yes", "true", "on"].contains(text.lowercased()) ? "True" : "False" }
        if ["", "~", "null", "Null", "NULL"].contains(text) { return "None" }
        if let value = float(text) { return value.description }
        if let value = integer(text) { return String(value) }
        return timestamp(text)
    }

    /// PyYAML's booleans (not YAML 1.1's y and n, which it reads as strings).
    static let booleans: Set<String> = ["yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
                                        "on", "On", "ON", "off", "Off", "OFF"]

    /// PyYAML's float: `1.5`, `1.`, `.5` (no sign), `1.0e+2` (the exponent's sign required), `1:30.5`
    /// (base 60), `.inf` with a sign, `.nan`; underscores ignored. `1e5` has no dot: a string.
    static func float(_ text: String) -> Double? {
        if [".nan", ".NaN", ".NAN"].contains(text) { return .nan }
        let (signum, body) = ASCIIClass.unsigned(text)
        let sign = Double(signum)
        if [".inf", ".Inf", ".INF"].contains(body) { return sign * .infinity }
        let isDigit: (Character) -> Bool = { $0.isASCII && $0.isNumber }
        let leadingDot = body.first == "." && body.count == text.count && body.dropFirst().first.map(isDigit) == true
        guard leadingDot || body.first.map(isDigit) == true else { return nil }
        var rest = body.drop { isDigit($0) || $0 == "_" }
        var groups: [Substring] = [body[body.startIndex..<rest.startIndex]]
        while rest.first == ":" {
            let digits = rest.dropFirst().prefix(while: isDigit)
            guard digits.count == 1 || (digits.count == 2 && digits.first! <= "5") else { return nil }
            groups.append(digits)
            rest = rest.dropFirst(1 + digits.count)
        }
        guard rest.first == "." else { return nil }
        let fraction = rest.dropFirst().prefix { isDigit($0) || $0 == "_" }
        rest = rest.dropFirst(1 + fraction.count)
        if groups.count == 1, let mark = rest.first, mark == "e" || mark == "E" {
            let exponent = rest.dropFirst(2)
            guard let exponentSign = rest.dropFirst().first, exponentSign == "+" || exponentSign == "-",
                  !exponent.isEmpty, exponent.allSatisfy(isDigit) else { return nil }
            rest = rest.dropFirst(rest.count)
        }
        guard rest.isEmpty else { return nil }
        let cleaned = String(body.filter { $0 != "_" }).lowercased()
        guard groups.count > 1 else { return Double(cleaned).map { sign * $0 } }
        let parts = cleaned.split(separator: ":").compactMap { Double($0) }
        return sign * parts.reduce(0.0) { $0 * 60 + $1 }
    }
}

extension YAML11 {
    /// PyYAML's timestamp as Python prints it: `2001-12-14` (a date) as it is; `2001-12-14t21:59:43.10-05:00`
    /// (a datetime) as `2001-12-14 21:59:43.100000-05:00`. Nil when not one, or not a real date or time.
    static func timestamp(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count, !range.isEmpty, bytes[range].allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            return bytes[range].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        guard let year = number(0..<4), bytes.count >= 8, bytes[4] == 0x2D else { return nil }
        if bytes.count == 10, bytes[7] == 0x2D, let month = number(5..<7), let day = number(8..<10) {
            return validDate(year, month, day) ? text : nil
        }
        // The full form: month and day of one or two digits, then T, t or blanks, then the time.
        var at = 5
        func field(_ maxDigits: Int, _ separator: UInt8?) -> Int? {
            var end = at
            while end < bytes.count, end - at < maxDigits, (0x30...0x39).contains(bytes[end]) { end += 1 }
            guard let value = number(at..<end) else { return nil }
            if let separator { guard end < bytes.count, bytes[end] == separator else { return nil }; end += 1 }
            at = end
            return value
        }
        guard let month = field(2, 0x2D), let day = field(2, nil), at < bytes.count else { return nil }
        if bytes[at] == 0x54 || bytes[at] == 0x74 { at += 1 } else {
            guard bytes[at] == 0x20 || bytes[at] == 0x09 else { return nil }
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x09 { at += 1 }
        }
        guard let hour = field(2, 0x3A), let minute = number(at..<at + 2), bytes.count > at + 2, bytes[at + 2] == 0x3A,
              let second = number(at + 3..<at + 5) else { return nil }
        at += 5
        return dateTime(bytes, at: at, date: (year, month, day), time: (hour, minute, second))
    }

    /// The rest of a datetime (its fraction, its zone) and how Python prints it all.
    private static func dateTime(_ bytes: [UInt8], at start: Int, date: (Int, Int, Int), time: (Int, Int, Int)) -> String? {
        var at = start
        var fraction = ""
        if at < bytes.count, bytes[at] == 0x2E {
            at += 1
            while at < bytes.count, (0x30...0x39).contains(bytes[at]) { fraction.append(Character(Unicode.Scalar(bytes[at]))); at += 1 }
        }
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x09 { at += 1 }
        var zone = ""
        if at < bytes.count {
            let rest = String(decoding: bytes[at...], as: UTF8.self)
            guard let offset = zoneOffset(rest) else { return nil }
            zone = offset
        } else if start < bytes.count, bytes[start...].contains(where: { $0 == 0x20 || $0 == 0x09 }) {
            return nil   // blanks must be followed by a zone
        }
        guard validDate(date.0, date.1, date.2), time.0 < 24, time.1 < 60, time.2 < 60 else { return nil }
        let micro = String((fraction.prefix(6) + String(repeating: "0", count: max(0, 6 - fraction.count))))
        var printed = "\(NumberText.padded(date.0, 4))-\(NumberText.padded(date.1, 2))-\(NumberText.padded(date.2, 2)) \(NumberText.padded(time.0, 2)):\(NumberText.padded(time.1, 2)):\(NumberText.padded(time.2, 2))"
        if Int(micro) ?? 0 != 0 { printed += "." + micro }
        return printed + zone
    }

    /// `Z` is +00:00; `-5`, `+05:30`: as Python prints a fixed offset (`-05:00`, `+05:30`).
    private static func zoneOffset(_ text: String) -> String? {
        if text == "Z" { return "+00:00" }
        guard let sign = text.first, sign == "+" || sign == "-" else { return nil }
        let parts = text.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), (1...2).contains(parts[0].count), parts.count == 1 || parts[1].count == 2,
              let hours = Int(parts[0]), let minutes = parts.count == 2 ? Int(parts[1]) : 0,
              parts.joined().allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let total = hours * 60 + minutes
        guard total < 24 * 60 else { return nil }
        let shownSign = sign == "-" && total != 0 ? "-" : "+"
        return shownSign + NumberText.padded(total / 60, 2) + ":" + NumberText.padded(total % 60, 2)
    }


    private static func validDate(_ year: Int, _ month: Int, _ day: Int) -> Bool {
        year >= 1 && (1...12).contains(month) && day >= 1 && day <= PsychTime.daysIn(month, year)
    }
}
