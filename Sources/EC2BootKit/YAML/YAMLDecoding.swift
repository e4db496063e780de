
/// Decodes a typed struct from a YAML node and turns a `DecodingError` into a message that
/// names the key and where it stands (`config.yaml:4:3: imds.deadline: expected a number`).
public enum YAMLDecoding {
    public static func decode<T: Decodable>(_ type: T.Type, from node: Node, source: String,
                                            keyPrefix: String = "") throws(YAMLProblem) -> T {
        do {
            return try NodeDecoder(node: node, codingPath: []).decode(type)
        } catch let error as DecodingError {
            throw problem(error, in: node, source: source, keyPrefix: keyPrefix)
        } catch let error as YAMLProblem {
            throw error
        } catch {
            throw YAMLProblem(source: source, mark: node.mark, message: "\(error)")
        }
    }

    static func problem(_ error: DecodingError, in node: Node, source: String, keyPrefix: String) -> YAMLProblem {
        let path: [CodingKey]
        let message: String
        switch error {
        case let .typeMismatch(type, context):
            path = context.codingPath
            message = "expected \(describe(type))"
        case let .valueNotFound(type, context):
            path = context.codingPath
            message = "expected \(describe(type)), found nothing"
        case let .keyNotFound(key, context):
            path = context.codingPath + [key]
            message = "missing (required)"
        case let .dataCorrupted(context):
            path = context.codingPath
            message = context.debugDescription
        @unknown default:
            path = []
            message = "\(error)"
        }
        let name = keyPrefix + path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }
            .joined().trimmingPrefix(".")
        let mark = locate(path, in: node) ?? node.mark
        return YAMLProblem(source: source, mark: mark, message: name.isEmpty ? message : "\(name): \(message)")
    }

    /// Where the deepest part of `path` that exists stands: a mapping entry's key (that is
    /// the line a person looks for), a list item.
    static func locate(_ path: [CodingKey], in node: Node) -> Mark? {
        var current = node
        var mark = node.mark
        for key in path {
            if let index = key.intValue, case .sequence(let seq) = current, index < seq.count {
                current = seq[index]
                mark = current.mark
            } else if case .mapping(let map) = current,
                      let pair = map.first(where: { $0.key.string == key.stringValue }) {
                current = pair.value
                mark = pair.key.mark
            } else {
                break
            }
        }
        return mark
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Bool.Type: return "true or false"
        case is Int.Type, is Double.Type: return "a number"
        case is String.Type: return "a string"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") { return "a mapping" }
            if name.hasSuffix("Scalar") { return "a single value" }
            return name
        }
    }
}

/// A coding key that accepts any name, to see every key a mapping holds.
public struct AnyCodingKey: CodingKey, Hashable {
    public var stringValue: String
    public var intValue: Int?
    public init(stringValue: String) { self.stringValue = stringValue }
    public init(intValue: Int) { self.stringValue = "\(intValue)"; self.intValue = intValue }
}

extension Decoder {
    /// Throws for a key that `Keys` does not name: a typo in a config must not pass silently.
    public func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        let known = Set(Keys.allCases.map(\.stringValue))
        for key in container.allKeys where !known.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(.init(
                codingPath: codingPath + [key],
                debugDescription: "unknown key (known: \(known.sorted().joined(separator: ", ")))"
                    + Suggestion.hint(key.stringValue, among: known.sorted())))
        }
    }
}

extension KeyedDecodingContainer {
    /// A number of seconds above zero and at most `Seconds.max` (about 11 days): anything
    /// larger is a mistake, and would overflow where it becomes milliseconds.
    public func positive(_ key: Key) throws -> Double? {
        let expected = "expected a number of seconds above 0 and at most \(Int(Seconds.max))"
        let value: Double?
        do { value = try decodeIfPresent(Double.self, forKey: key) } catch DecodingError.typeMismatch {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: expected)
        }
        guard let value else { return nil }
        guard value > 0, value <= Seconds.max else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: expected)
        }
        return value
    }

    /// A whole number within `range`.
    public func integer(_ key: Key, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = try decodeIfPresent(Int.self, forKey: key) else { return nil }
        guard range.contains(value) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription:
                "expected \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// One of a string enum's cases, the error listing them.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: Key) throws -> T? where T.RawValue == String {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let value = T(rawValue: text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription:
                "expected one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}

public enum Seconds {
    /// The longest timeout or deadline any setting takes.
    public static let max = 1_000_000.0
}
