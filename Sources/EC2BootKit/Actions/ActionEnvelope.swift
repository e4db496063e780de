#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// One entry of `actions:`, in user-data, a watch command or `validate`: the keys the engine
/// reads (`type`, `on_failure`, `frequency`) and the rest, the action's own parameters.
public struct ActionEnvelope: Sendable, Decodable {
    public enum OnFailure: String, Sendable { case stop, `continue` }

    /// The keys that are the engine's, never an action's parameters.
    public static let keys: Set<String> = ["type", "on_failure", "frequency"]

    public let type: String
    public let onFailure: OnFailure?
    public let frequency: ActionFrequency?
    /// Everything else, typed (what a hosted action gets as JSON).
    public let params: JSONValue

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        type = try c.decode(String.self, forKey: AnyCodingKey(stringValue: "type"))
        onFailure = try Self.word(c, "on_failure", expected: "stop or continue", OnFailure.init)
        frequency = try Self.word(c, "frequency", expected: "per-instance or per-boot", ActionFrequency.init)
        var params: [String: JSONValue] = [:]
        for key in c.allKeys where !Self.keys.contains(key.stringValue) {
            params[key.stringValue] = try c.decode(JSONValue.self, forKey: key)
        }
        self.params = .object(params)
    }

    private static func word<T>(_ c: KeyedDecodingContainer<AnyCodingKey>, _ name: String, expected: String,
                                _ make: (String) -> T?) throws -> T? {
        let key = AnyCodingKey(stringValue: name)
        guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let value = make(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected \(expected)")
        }
        return value
    }
}
