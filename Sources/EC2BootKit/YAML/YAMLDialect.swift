/// The two readings of YAML 1.1 this tool must match, without regular expressions: which type a
/// plain scalar is, and its value.
/// - `python`: PyYAML's `SafeLoader`, as cloud-init reads cloud-config (and our config files).
/// - `ruby`: Psych's `ScalarScanner` (Ruby 3), as the Ruby tool read its user-data.
public enum YAMLDialect: Sendable {
    case python, ruby

    /// The tag a plain scalar gets.
    public func resolve(_ text: String) -> Tag.Name {
        switch self {
        case .python: PyYAML.resolve(text)
        case .ruby: Psych.resolve(text)
        }
    }

    /// The value of a scalar resolved as a boolean.
    public func bool(_ text: String) -> Bool? {
        switch self {
        case .python: YAML11.booleans.contains(text) ? ["yes", "true", "on"].contains(text.lowercased()) : nil
        case .ruby: Psych.bool(text)
        }
    }

    /// The value of a scalar resolved as an integer; nil past Int's range.
    public func int(_ text: String) -> Int? {
        switch self {
        case .python: YAML11.integer(text.replacing("_", with: ""))
        case .ruby: Psych.int(text)
        }
    }

    /// The value of a scalar resolved as a float.
    public func float(_ text: String) -> Double? {
        switch self {
        case .python: YAML11.explicitFloat(text)
        case .ruby: Psych.float(text)
        }
    }
}

/// Character tests on ASCII the matchers below share.
enum ASCIIClass {
    static func digits(_ text: Substring, _ allowed: String = "", radix: Int = 10) -> Bool {
        !text.isEmpty && text.allSatisfy { allowed.contains($0) || ($0.isASCII && $0.hexDigitValue.map { $0 < radix } == true) }
    }

    /// `text` without one leading `-` or `+`, and the sign.
    static func unsigned(_ text: String) -> (sign: Int, body: Substring) {
        let body = Substring(text)
        switch body.first {
        case "-": return (-1, body.dropFirst())
        case "+": return (1, body.dropFirst())
        default: return (1, body)
        }
    }
}

/// PyYAML's implicit resolvers (resolver.py), in its order: bool, float, int, merge, null, timestamp, value.
enum PyYAML {
    static func resolve(_ text: String) -> Tag.Name {
        if YAML11.booleans.contains(text) { return .bool }
        if YAML11.float(text) != nil { return .float }
        if isInteger(text) { return .int }
        switch text {
        case "<<": return .merge
        case "", "~", "null", "Null", "NULL": return .null
        case "=": return .value
        default: return YAML11.timestamp(text) != nil ? .timestamp : .str
        }
    }

    /// `[-+]?(0b[01_]+ | 0[0-7_]+ | 0 | [1-9][0-9_]* | 0x[0-9a-fA-F_]+ | [1-9][0-9_]*(:[0-5]?[0-9])+)`
    static func isInteger(_ text: String) -> Bool {
        let body = ASCIIClass.unsigned(text).body
        if body.hasPrefix("0b") { return ASCIIClass.digits(body.dropFirst(2), "_", radix: 2) }
        if body.hasPrefix("0x") { return ASCIIClass.digits(body.dropFirst(2), "_", radix: 16) }
        if body == "0" { return true }
        if body.first == "0" { return ASCIIClass.digits(body.dropFirst(), "_", radix: 8) }
        guard let first = body.first, first != "0", first.isASCII, first.isNumber else { return false }
        let groups = body.split(separator: ":", omittingEmptySubsequences: false)
        guard ASCIIClass.digits(groups[0], "_") else { return false }
        return groups.dropFirst().allSatisfy { $0.count <= 2 && ASCIIClass.digits($0) && ($0.count == 1 || $0.first! <= "5") }
    }
}
