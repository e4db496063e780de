import EC2BootKit
import Foundation

/// The actions this target adds; the program registers them at start.
public enum MessagingActions {
    public static let all: [any Action.Type] = [MCollectiveRegisterAction.self, RabbitMQAction.self, ActiveMQAction.self]
}

extension KeyedDecodingContainer {
    /// A broker user's name: it goes into a URL path (RabbitMQ) or an XML attribute (ActiveMQ).
    func brokerUser(_ key: Key) throws -> String {
        let name = try decode(String.self, forKey: key)
        guard NameCheck.valid(name, marks: "_.@-") else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected letters, digits, _ . @ -")
        }
        return name
    }
}
