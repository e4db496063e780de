#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// A free-form value from user-data or a command (Chef's attributes, a hosted action's
/// parameters), held typed: read once from YAML or JSON, never re-parsed from bytes.
/// Decoding keeps YAML's own typing: `8080` is a number, `"8080"` a string, `yes` true.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        if var list = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !list.isAtEnd { items.append(try list.decode(JSONValue.self)) }
            self = .array(items)
        } else if let map = try? decoder.container(keyedBy: AnyCodingKey.self) {
            var object: [String: JSONValue] = [:]
            for key in map.allKeys { object[key.stringValue] = try map.decode(JSONValue.self, forKey: key) }
            self = .object(object)
        } else {
            self = try Self.scalar(decoder.singleValueContainer())
        }
    }

    /// In YAML's order of resolution: integer, boolean, float, then text.
    private static func scalar(_ c: SingleValueDecodingContainer) throws -> JSONValue {
        if c.decodeNil() { return .null }
        if let int = try? c.decode(Int.self) { return .int(int) }
        if let bool = try? c.decode(Bool.self) { return .bool(bool) }
        // JSON has no NaN or infinity: such a YAML float stays the text it was.
        if let double = try? c.decode(Double.self), double.isFinite { return .double(double) }
        return .string(try c.decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let value): try c.encode(value)
        case .int(let value): try c.encode(value)
        case .double(let value): try c.encode(value)
        case .string(let value): try c.encode(value)
        case .array(let value): try c.encode(value)
        case .object(let value): try c.encode(value)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var object: [String: JSONValue]? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// A scalar as text (what a hosted action gets in `EC2BOOT_PARAM_<NAME>`); nil otherwise.
    public var scalarText: String? {
        switch self {
        case .string(let text): return text
        case .int(let value): return String(value)
        case .double(let value): return "\(value)"
        case .bool(let value): return value ? "true" : "false"
        case .null, .array, .object: return nil
        }
    }

    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var number: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// JSON with sorted keys: the same value always gives the same bytes (the same bytes
    /// JSONSerialization gave, so a status written by an earlier release keeps its fingerprints).
    public func encoded(pretty: Bool = false) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        // Every case encodes: no NaN or infinity is ever held.
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    /// The JSON document in `data`; nil when it is not JSON.
    public init?(json data: Data) {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
        self = value
    }
}

/// Literals, so a document is written as it reads: `["type": .string(kind), "durable": true]`.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
