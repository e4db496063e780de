
/// A problem in a YAML document, with where it is.
public struct YAMLProblem: Error, CustomStringConvertible, Sendable {
    public let source: String
    public let line: Int?
    public let column: Int?
    public let message: String
    /// More problems found in the same pass (all of one action's, not only its first).
    public var also: [YAMLProblem] = []
    /// This problem and those found with it.
    public var all: [YAMLProblem] { [YAMLProblem(source: source, line: line, column: column, message: message)] + also }

    public init(source: String, mark: Mark?, message: String) {
        self.init(source: source, line: mark?.line, column: mark?.column, message: message)
    }

    public init(source: String, line: Int?, column: Int?, message: String) {
        self.source = source
        self.line = line
        self.column = column
        self.message = message
    }

    /// `FILE:LINE:COLUMN`, when the problem has a place.
    public var place: String? {
        guard let line, let column else { return nil }
        return "\(source):\(line):\(column)"
    }

    public var description: String { "\(place ?? source): \(message)" }
}

/// Parsing of the YAML the tool reads (user-data, config), in the Ruby tool's dialect:
/// `:facts:` and `facts:` mean the same key, `:getactions` and `getactions` the same value.
public enum YAMLDocument {
    /// Parses one document; nil for an empty one. A document that expands past `maxNodes`
    /// nodes through its aliases is refused at the alias that crosses it.
    /// `dialect: .python` reads it as cloud-init does (cloud-config, where `:x` is just text).
    public static func parse(_ text: String, source: String, maxNodes: Int, setting: String = "user_data.max_nodes",
                             dialect: YAMLDialect = .ruby) throws(YAMLProblem) -> Node? {
        let limits = YAMLReader.Limits(maxNodes: maxNodes, setting: setting)
        guard let node = try YAMLReader.read(text, dialect: dialect, limits: limits, source: source) else { return nil }
        return dialect == .ruby ? symbolsAsStrings(node) : node
    }

    /// Ruby symbols (`:name`, or tagged `!ruby/symbol name`) become plain strings, named as
    /// Psych names them: `::x` is `:x`, `:"a b"` is `a b`. Only plain (unquoted) scalars are
    /// symbols in Ruby, so `":x"` keeps its colon.
    static func symbolsAsStrings(_ node: Node) -> Node {
        switch node {
        case .scalar(var scalar):
            let name = scalar.tag.rawValue.hasPrefix("!ruby/sym") ? scalar.string
                : scalar.style == .plain && scalar.tag.name == .str ? symbolName(scalar.string) : nil
            if let name { scalar = Node.Scalar(name, Tag(.str), .plain, scalar.mark, dialect: scalar.dialect) }
            return .scalar(scalar)
        case .mapping(let mapping):
            let pairs = mapping.map { (symbolsAsStrings($0.key), symbolsAsStrings($0.value)) }
            return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
        case .sequence(let sequence):
            return .sequence(Node.Sequence(sequence.map(symbolsAsStrings), sequence.tag, sequence.style, sequence.mark))
        }
    }

    /// Psych's `^:.` → `symbolize`: the text after the colon, or inside the quotes of `:"…"`/`:'…'`.
    private static func symbolName(_ text: String) -> String? {
        guard text.count > 1, text.first == ":" else { return nil }
        let name = text.dropFirst()
        if let quote = name.first, quote == "\"" || quote == "'", name.count >= 2, let close = name.lastIndex(of: quote), close != name.startIndex {
            return String(name[name.index(after: name.startIndex)..<close])
        }
        return String(name)
    }

    /// Scalar text of a node, or nil for a mapping or sequence.
    public static func scalarText(_ node: Node) -> String? {
        guard case .scalar(let scalar) = node, !node.isNull else { return nil }
        return scalar.string
    }

    /// A scalar as the Ruby tool wrote it into facts.txt (`"#{k}=#{v}"`): for a plain scalar of a
    /// Ruby-dialect document, Ruby's `to_s` of the value Psych made of it (`yes` → `true`, `0x1F`
    /// → `31`, `3.10` → `3.1`, `~` → empty); otherwise its text. Nil for a mapping or a list.
    public static func rubyText(_ node: Node) -> String? {
        guard case .scalar(let scalar) = node else { return nil }
        guard scalar.dialect == .ruby, scalar.style == .plain, scalar.tag.name == Psych.resolve(scalar.string) else {
            return scalar.tag.name == .null ? "" : scalar.string
        }
        return Psych.rubyString(scalar.string)
    }

    /// A short name for what a node is, for error messages.
    public static func kind(_ node: Node) -> String {
        switch node {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}
