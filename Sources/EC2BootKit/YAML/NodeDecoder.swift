/// `Decodable` types (the config, `:watch:`, action parameters) straight from a `Node`, typed
/// as its dialect reads it: a string from any scalar (`port: 80` is also the string "80"), a
/// number or boolean only from one the dialect resolves so. Errors are `DecodingError`s with
/// their coding path, which `YAMLDecoding` turns into a key and a line.
///
/// Our own rather than `JSONDecoder` over a converted tree: JSON would fix each scalar's type
/// before the decoder knows what the field wants, so `name: 123` could no longer be a string.
struct NodeDecoder: Decoder {
    let node: Node
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let mapping) = node else { throw mismatch([String: Any].self) }
        return KeyedDecodingContainer(Keyed<Key>(mapping: mapping, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let list) = node else { throw mismatch([Any].self) }
        return Unkeyed(list: list, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func mismatch(_ type: Any.Type) -> DecodingError {
        .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "found \(YAMLDocument.kind(node))"))
    }

    /// A scalar's value as `T` for the types a scalar can be; nil for other types.
    func scalarValue<T>(_ type: T.Type) throws -> T? {
        let value: Any?
        switch type {
        case is String.Type: value = node.string
        case is Bool.Type: value = node.bool
        case is Double.Type: value = node.float
        case is Float.Type: value = node.float.map { Float($0) }
        case is Int.Type: value = node.int
        case is Int64.Type: value = node.int.map { Int64($0) }
        case is UInt.Type, is UInt64.Type, is UInt32.Type, is Int32.Type, is UInt16.Type, is UInt8.Type:
            value = try node.int.map { number throws -> Any in
                guard let fitted = Self.fit(number, as: type) else {
                    throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(number) is out of range"))
                }
                return fitted
            }
        default: return nil
        }
        guard let typed = value as? T else { throw mismatch(type) }
        return typed
    }

    private static func fit(_ number: Int, as type: Any.Type) -> Any? {
        switch type {
        case is UInt.Type: UInt(exactly: number)
        case is UInt64.Type: UInt64(exactly: number)
        case is UInt32.Type: UInt32(exactly: number)
        case is Int32.Type: Int32(exactly: number)
        case is UInt16.Type: UInt16(exactly: number)
        default: UInt8(exactly: number)
        }
    }

}

extension NodeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { node.isNull }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let value = try scalarValue(type) { return value }
        return try T(from: self)
    }
}

extension NodeDecoder {
    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let mapping: Node.Mapping
        let codingPath: [any CodingKey]

        var allKeys: [Key] { mapping.compactMap { $0.key.string.flatMap(Key.init(stringValue:)) } }
        func contains(_ key: Key) -> Bool { value(key) != nil }

        private func value(_ key: Key) -> Node? { mapping.last { $0.key.string == key.stringValue }?.value }

        private func required(_ key: Key) throws -> Node {
            guard let node = value(key) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
            }
            return node
        }

        func decodeNil(forKey key: Key) throws -> Bool { try required(key).isNull }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try NodeDecoder(node: try required(key), codingPath: codingPath + [key]).decode(type)
        }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try NodeDecoder(node: try required(key), codingPath: codingPath + [key]).container(keyedBy: type)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try NodeDecoder(node: try required(key), codingPath: codingPath + [key]).unkeyedContainer()
        }
        func superDecoder() throws -> any Decoder { NodeDecoder(node: .mapping(mapping), codingPath: codingPath) }
        func superDecoder(forKey key: Key) throws -> any Decoder { NodeDecoder(node: try required(key), codingPath: codingPath + [key]) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let list: Node.Sequence
        let codingPath: [any CodingKey]
        var currentIndex = 0
        var count: Int? { list.count }
        var isAtEnd: Bool { currentIndex >= list.count }

        init(list: Node.Sequence, codingPath: [any CodingKey]) { (self.list, self.codingPath) = (list, codingPath) }

        /// The current item, the index moving past it only when `read` succeeds (as JSONDecoder's:
        /// `try? list.decode(String.self)` then another type reads the same item).
        private mutating func take<T>(_ read: (Node, [any CodingKey]) throws -> T) throws -> T {
            let key = AnyCodingKey(intValue: currentIndex)
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath + [key], debugDescription: "the list ended"))
            }
            let value = try read(list[currentIndex], codingPath + [key])
            currentIndex += 1
            return value
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, list[currentIndex].isNull else { return false }
            currentIndex += 1
            return true
        }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try take { try NodeDecoder(node: $0, codingPath: $1).decode(type) }
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            try take { try NodeDecoder(node: $0, codingPath: $1).container(keyedBy: type) }
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try take { try NodeDecoder(node: $0, codingPath: $1).unkeyedContainer() }
        }
        mutating func superDecoder() throws -> any Decoder {
            try take { NodeDecoder(node: $0, codingPath: $1) }
        }
    }
}
