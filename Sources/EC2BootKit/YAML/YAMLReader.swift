import CYAML

/// Builds one document's `Node`s from the events of the system's libyaml (`yaml_parser_parse`).
///
/// While it reads, it counts the nodes the document has once its aliases are expanded: each
/// anchor's expanded size is remembered and an alias adds it. A "billion laughs" document (nine
/// levels of anchors, each a list of ten aliases of the one above) is 330 bytes and a billion
/// nodes: every walk of it (symbols, hashing keys, JSON for actions) would run out of memory, so
/// it is refused at the alias that crosses the budget, in one pass over the text.
struct YAMLReader {
    struct Limits {
        var maxNodes: Int
        /// The setting that sets `maxNodes`, named in the error.
        var setting: String
        /// Nesting deeper than this is refused: building and walking nodes recurses.
        var maxDepth = 1_000
    }

    private var parser = yaml_parser_t()
    private let dialect: YAMLDialect
    private let limits: Limits
    private let source: String
    private var anchors: [String: (node: Node, size: Int)] = [:]
    private var total = 0
    private var firstAlias: Mark?
    private var depth = 0

    /// The document's root, nil for an empty stream; a second document is an error.
    static func read(_ text: String, dialect: YAMLDialect, limits: Limits, source: String) throws(YAMLProblem) -> Node? {
        var reader = YAMLReader(dialect: dialect, limits: limits, source: source)
        guard yaml_parser_initialize(&reader.parser) == 1 else {
            throw YAMLProblem(source: source, mark: nil, message: "cannot start the YAML parser (out of memory)")
        }
        defer { yaml_parser_delete(&reader.parser) }
        var bytes = Array(text.utf8)
        return try bytes.withUnsafeMutableBufferPointer { (buffer) throws(YAMLProblem) -> Node? in
            yaml_parser_set_input_string(&reader.parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&reader.parser, YAML_UTF8_ENCODING)
            return try reader.stream(text)
        }
    }

    private init(dialect: YAMLDialect, limits: Limits, source: String) {
        (self.dialect, self.limits, self.source) = (dialect, limits, source)
    }

    private mutating func stream(_ text: String) throws(YAMLProblem) -> Node? {
        var event = try next(text)   // STREAM-START
        event = try next(text)
        guard event.type == YAML_DOCUMENT_START_EVENT else { return nil }
        let root = try node(try next(text), text).node
        _ = try next(text)           // DOCUMENT-END
        let after = try next(text)
        if after.type == YAML_DOCUMENT_START_EVENT {
            throw YAMLProblem(source: source, mark: after.mark, message: "invalid YAML: expected a single document in the stream at line "
                + "\(root.mark?.line ?? 1), column \(root.mark?.column ?? 1): but found another document at line \(after.mark.line), column \(after.mark.column)")
        }
        return root
    }

    /// One event, copied out of libyaml's (which is freed at once).
    private mutating func next(_ text: String) throws(YAMLProblem) -> Event {
        var raw = yaml_event_t()
        guard yaml_parser_parse(&parser, &raw) == 1 else { throw YAMLErrors.problem(parser, text: text, source: source) }
        defer { yaml_event_delete(&raw) }
        return Event(raw)
    }

    /// A node from its first event, with its expanded size.
    private mutating func node(_ event: Event, _ text: String) throws(YAMLProblem) -> (node: Node, size: Int) {
        let built: (node: Node, size: Int)
        switch event.type {
        case YAML_ALIAS_EVENT:
            if firstAlias == nil { firstAlias = event.mark }
            guard let anchored = anchors[event.anchor ?? ""] else {
                throw YAMLProblem(source: source, mark: event.mark, message: "invalid YAML: found undefined alias "
                    + "\(event.anchor ?? "") at line \(event.mark.line), column \(event.mark.column)")
            }
            try count(anchored.size, at: event.mark)
            return anchored
        case YAML_SCALAR_EVENT:
            try count(1, at: event.mark)
            built = (.scalar(scalar(event)), 1)
        case YAML_SEQUENCE_START_EVENT:
            built = try sequence(event, text)
        default:
            built = try mapping(event, text)
        }
        if let anchor = event.anchor { anchors[anchor] = built }
        return built
    }

    private func scalar(_ event: Event) -> Node.Scalar {
        let style = event.style
        let tag: Tag? = event.tag.map { Tag(rawValue: $0) } ?? (style == .plain ? nil : Tag(.str))
        return Node.Scalar(event.value, tag, style, event.mark, dialect: dialect)
    }

    private mutating func sequence(_ start: Event, _ text: String) throws(YAMLProblem) -> (node: Node, size: Int) {
        try count(1, at: start.mark)
        try enter(start.mark)
        defer { depth -= 1 }
        var items: [Node] = []
        var size = 1
        while true {
            let event = try next(text)
            if event.type == YAML_SEQUENCE_END_EVENT { break }
            let item = try node(event, text)
            items.append(item.node)
            size = min(size &+ item.size, limits.maxNodes + 1)
        }
        let tag = start.tag.map { Tag(rawValue: $0) } ?? Tag(.seq)
        return (.sequence(Node.Sequence(items, tag, start.flow ? .flow : .block, start.mark)), size)
    }

    private mutating func mapping(_ start: Event, _ text: String) throws(YAMLProblem) -> (node: Node, size: Int) {
        try count(1, at: start.mark)
        try enter(start.mark)
        defer { depth -= 1 }
        var pairs: [(Node, Node)] = []
        var size = 1
        while true {
            let event = try next(text)
            if event.type == YAML_MAPPING_END_EVENT { break }
            let key = try node(event, text)
            let value = try node(try next(text), text)
            pairs.append((key.node, value.node))
            size = min(size &+ key.size &+ value.size, limits.maxNodes + 1)
        }
        try YAMLMerge.checkDuplicates(pairs.map(\.0), source: source)
        let tag = start.tag.map { Tag(rawValue: $0) } ?? Tag(.map)
        return (.mapping(Node.Mapping(YAMLMerge.flatten(pairs), tag, start.flow ? .flow : .block, start.mark)), size)
    }

    private mutating func enter(_ mark: Mark) throws(YAMLProblem) {
        depth += 1
        guard depth <= limits.maxDepth else {
            throw YAMLProblem(source: source, mark: mark, message: "invalid YAML: nested deeper than \(limits.maxDepth) levels")
        }
    }

    /// `size` more nodes; throws when the total passes the budget.
    private mutating func count(_ size: Int, at mark: Mark) throws(YAMLProblem) {
        total = min(total &+ size, limits.maxNodes + 1)
        guard total > limits.maxNodes else { return }
        let place = firstAlias ?? mark
        throw YAMLProblem(source: source, mark: place, message: "expands to more than \(limits.setting) (\(limits.maxNodes)) YAML nodes "
            + "through its aliases (the first alias is here)")
    }

    /// What the reader keeps of a libyaml event.
    private struct Event {
        let type: yaml_event_type_t
        let mark: Mark
        var anchor: String?
        var tag: String?
        var value = ""
        var style = Node.Scalar.Style.any
        var flow = false

        init(_ raw: yaml_event_t) {
            type = raw.type
            mark = Mark(line: Int(raw.start_mark.line) + 1, column: Int(raw.start_mark.column) + 1)
            switch raw.type {
            case YAML_SCALAR_EVENT:
                let data = raw.data.scalar
                (anchor, tag) = (Self.string(data.anchor), Self.string(data.tag))
                value = String(decoding: UnsafeBufferPointer(start: data.value, count: data.length), as: UTF8.self)
                style = Self.style(data.style)
                // `! 12` (the non-specific tag) is resolved as if it had none, as both dialects do.
                if tag == "!" { tag = nil }
            case YAML_SEQUENCE_START_EVENT:
                let data = raw.data.sequence_start
                (anchor, tag, flow) = (Self.string(data.anchor), Self.string(data.tag), data.style == YAML_FLOW_SEQUENCE_STYLE)
            case YAML_MAPPING_START_EVENT:
                let data = raw.data.mapping_start
                (anchor, tag, flow) = (Self.string(data.anchor), Self.string(data.tag), data.style == YAML_FLOW_MAPPING_STYLE)
            case YAML_ALIAS_EVENT:
                anchor = Self.string(raw.data.alias.anchor)
            default:
                break
            }
        }

        private static func style(_ style: yaml_scalar_style_t) -> Node.Scalar.Style {
            switch style {
            case YAML_PLAIN_SCALAR_STYLE: .plain
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: .literal
            case YAML_FOLDED_SCALAR_STYLE: .folded
            default: .any
            }
        }

        private static func string(_ pointer: UnsafeMutablePointer<UInt8>?) -> String? {
            pointer.map { String(cString: $0) }
        }
    }
}
