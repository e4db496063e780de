/// Where a node starts in its text: line and column from 1, as editors and cloud-init count.
public struct Mark: Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public init(line: Int, column: Int) { (self.line, self.column) = (line, column) }
    public var description: String { "\(line):\(column)" }
}

/// A node's tag, resolved: written (`!!int "017"`, `!ruby/symbol x`), or what the dialect reads a
/// plain scalar as, or `str` for a quoted or block one.
public struct Tag: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: Name) { rawValue = name.rawValue }

    /// YAML 1.1's types, as both dialects read them.
    public enum Name: String, Sendable {
        case str = "tag:yaml.org,2002:str", int = "tag:yaml.org,2002:int", float = "tag:yaml.org,2002:float"
        case bool = "tag:yaml.org,2002:bool", null = "tag:yaml.org,2002:null", timestamp = "tag:yaml.org,2002:timestamp"
        case binary = "tag:yaml.org,2002:binary", merge = "tag:yaml.org,2002:merge", value = "tag:yaml.org,2002:value"
        case map = "tag:yaml.org,2002:map", seq = "tag:yaml.org,2002:seq"
    }

    public var name: Name? { Name(rawValue: rawValue) }
    public var description: String { rawValue }
}

/// A YAML node as `YAMLReader` builds it: aliases are already the node they name (shared, not
/// copied: the reader's node budget bounds what a walk over them costs).
public enum Node: Hashable, Sendable {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence(Sequence)

    public struct Scalar: Hashable, Sendable {
        public enum Style: Sendable { case any, plain, singleQuoted, doubleQuoted, literal, folded }
        public var string: String
        public var tag: Tag
        public var style: Style
        public var mark: Mark?
        /// Whose rules read its value (`bool`, `int`, `float`): the dialect of its document.
        public var dialect: YAMLDialect

        /// A scalar; without a tag, tagged as a plain one of `dialect` would be.
        public init(_ string: String, _ tag: Tag? = nil, _ style: Style = .any, _ mark: Mark? = nil, dialect: YAMLDialect = .python) {
            self.string = string
            self.tag = tag ?? Tag(dialect.resolve(string))
            self.style = style
            self.mark = mark
            self.dialect = dialect
        }

        // Equal by text and tag (PyYAML's keys `1` and `"1"` differ), not by place or style.
        public static func == (lhs: Scalar, rhs: Scalar) -> Bool { lhs.string == rhs.string && lhs.tag == rhs.tag }
        public func hash(into hasher: inout Hasher) { hasher.combine(string); hasher.combine(tag) }
    }

    public struct Mapping: Hashable, Sendable, RandomAccessCollection, MutableCollection, ExpressibleByDictionaryLiteral {
        public enum Style: Sendable { case any, block, flow }
        private var pairs: [Pair]
        public var tag: Tag
        public var style: Style
        public var mark: Mark?

        public init(_ pairs: [(Node, Node)], _ tag: Tag = Tag(.map), _ style: Style = .any, _ mark: Mark? = nil) {
            self.pairs = pairs.map { Pair(key: $0.0, value: $0.1) }
            (self.tag, self.style, self.mark) = (tag, style, mark)
        }

        public init(dictionaryLiteral elements: (Node, Node)...) { self.init(elements) }

        public typealias Element = (key: Node, value: Node)
        public var startIndex: Int { pairs.startIndex }
        public var endIndex: Int { pairs.endIndex }
        public subscript(position: Int) -> Element {
            get { (pairs[position].key, pairs[position].value) }
            set { pairs[position] = Pair(key: newValue.key, value: newValue.value) }
        }

        public var keys: [Node] { pairs.map(\.key) }
        public var values: [Node] { pairs.map(\.value) }

        /// The value of a key (the last, as YAML readers keep it); nil removes the key.
        public subscript(key: Node) -> Node? {
            get { pairs.last { $0.key == key }?.value }
            set {
                let index = pairs.lastIndex { $0.key == key }
                switch (index, newValue) {
                case let (index?, value?): pairs[index] = Pair(key: key, value: value)
                case let (nil, value?): pairs.append(Pair(key: key, value: value))
                case let (index?, nil): pairs.remove(at: index)
                case (nil, nil): break
                }
            }
        }

        public subscript(key: String) -> Node? {
            get { self[Node(key)] }
            set { self[Node(key)] = newValue }
        }

        public static func == (lhs: Mapping, rhs: Mapping) -> Bool { lhs.pairs == rhs.pairs && lhs.tag == rhs.tag }
        public func hash(into hasher: inout Hasher) { hasher.combine(pairs); hasher.combine(tag) }

        private struct Pair: Hashable, Sendable { var key: Node; var value: Node }
    }

    public struct Sequence: Hashable, Sendable, RandomAccessCollection, MutableCollection, RangeReplaceableCollection,
                            ExpressibleByArrayLiteral {
        public enum Style: Sendable { case any, block, flow }
        private var nodes: [Node]
        public var tag: Tag
        public var style: Style
        public var mark: Mark?

        public init() { self.init([]) }
        public init(arrayLiteral elements: Node...) { self.init(elements) }
        public init(_ nodes: [Node], _ tag: Tag = Tag(.seq), _ style: Style = .any, _ mark: Mark? = nil) {
            (self.nodes, self.tag, self.style, self.mark) = (nodes, tag, style, mark)
        }

        public var startIndex: Int { nodes.startIndex }
        public var endIndex: Int { nodes.endIndex }
        public subscript(position: Int) -> Node {
            get { nodes[position] }
            set { nodes[position] = newValue }
        }
        public mutating func replaceSubrange<C: Collection>(_ range: Range<Int>, with new: C) where C.Element == Node {
            nodes.replaceSubrange(range, with: new)
        }

        public static func == (lhs: Sequence, rhs: Sequence) -> Bool { lhs.nodes == rhs.nodes && lhs.tag == rhs.tag }
        public func hash(into hasher: inout Hasher) { hasher.combine(nodes); hasher.combine(tag) }
    }
}

extension Node: ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    /// A scalar tagged as a plain one of PyYAML's reading (`Node("1")` is an int).
    public init(_ string: String, _ tag: Tag? = nil) { self = .scalar(Scalar(string, tag)) }
    public init(_ pairs: [(Node, Node)]) { self = .mapping(Mapping(pairs)) }
    public init(_ nodes: [Node]) { self = .sequence(Sequence(nodes)) }
    public init(stringLiteral value: String) { self.init(value) }
    public init(arrayLiteral elements: Node...) { self.init(elements) }
    public init(dictionaryLiteral elements: (Node, Node)...) { self.init(elements) }
}

extension Node {
    public var tag: Tag {
        switch self {
        case .scalar(let scalar): scalar.tag
        case .mapping(let mapping): mapping.tag
        case .sequence(let sequence): sequence.tag
        }
    }

    public var mark: Mark? {
        switch self {
        case .scalar(let scalar): scalar.mark
        case .mapping(let mapping): mapping.mark
        case .sequence(let sequence): sequence.mark
        }
    }

    public var scalar: Scalar? { if case .scalar(let scalar) = self { scalar } else { nil } }
    public var mapping: Mapping? { if case .mapping(let mapping) = self { mapping } else { nil } }
    public var sequence: Sequence? { if case .sequence(let sequence) = self { sequence } else { nil } }

    /// A scalar's text, whatever its type; nil for a mapping or a list.
    public var string: String? { scalar?.string }
    /// The value of a scalar its dialect reads as a boolean (`yes`, `on`, `true`…).
    public var bool: Bool? { scalar.flatMap { $0.tag.name == .bool ? $0.dialect.bool($0.string) : nil } }
    /// The value of a scalar its dialect reads as an integer (`0x1F`, `0644`, `1_000`, `1:30`).
    public var int: Int? { scalar.flatMap { $0.tag.name == .int ? $0.dialect.int($0.string) : nil } }
    /// The value of a scalar its dialect reads as a number, integer or not.
    public var float: Double? {
        guard let scalar else { return nil }
        switch scalar.tag.name {
        case .float: return scalar.dialect.float(scalar.string)
        case .int: return scalar.dialect.int(scalar.string).map(Double.init)
        default: return nil
        }
    }
    /// True for a null scalar (`~`, `null`, nothing).
    public var isNull: Bool { scalar?.tag.name == .null }

    public subscript(key: String) -> Node? { mapping?[key] }
    public subscript(key: Node) -> Node? { mapping?[key] }
}
