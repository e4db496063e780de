#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

extension KeyedDecodingContainer {
    /// A broker user's name: it goes into a URL path (RabbitMQ) or an XML attribute (ActiveMQ).
    func brokerUser(_ key: Key) throws -> String {
        let name = try decode(String.self, forKey: key)
        guard NameCheck.valid(name, marks: "_.@-") else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected letters, digits, _ . @ -")
        }
        return name
    }

    /// A value for activemq.xml: Spring would read `${…}` as a placeholder and put something else
    /// there, and XML 1.0 has no way to write most control characters.
    func springSafe(_ value: String, _ key: Key) throws {
        guard !value.contains("${") else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "must not contain ${ (a Spring placeholder)")
        }
        try checkLine(value, key)
    }
}
