import CYAML

/// libyaml's errors as cloud-init prints PyYAML's (the same C messages): both marks, the
/// context's and the problem's ("while scanning a quoted scalar at line 6, column 12: found
/// unexpected end of stream at line 9, column 1").
enum YAMLErrors {
    static func problem(_ parser: yaml_parser_t, text: String, source: String) -> YAMLProblem {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        switch parser.error {
        case YAML_READER_ERROR:
            let mark = mark(atByte: Int(parser.problem_offset), in: text)
            return YAMLProblem(source: source, mark: mark, message: "invalid YAML: \(problem) at line \(mark.line), column \(mark.column)")
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR:
            let context = parser.context.map { (String(cString: $0), Self.mark(parser.context_mark)) }
            return located(source, context, problem, Self.mark(parser.problem_mark), text, startsThere: parser.error == YAML_SCANNER_ERROR)
        default:
            return YAMLProblem(source: source, mark: nil, message: "invalid YAML: \(problem)")
        }
    }

    private static func mark(_ raw: yaml_mark_t) -> Mark { Mark(line: Int(raw.line) + 1, column: Int(raw.column) + 1) }

    /// The place given is where the mistake is: for the scanner, where its context starts (an
    /// unclosed quote's line, not the end of the text where it was noticed); for the parser,
    /// where it noticed (its context is the enclosing mapping).
    private static func located(_ source: String, _ context: (text: String, mark: Mark)?, _ problem: String, _ mark: Mark, _ yaml: String,
                                startsThere: Bool) -> YAMLProblem {
        let tab = character(at: mark, in: yaml) == "\t" ? " (a tab: YAML indents with spaces, never tabs)" : ""
        guard let context else { return YAMLProblem(source: source, mark: mark, message: "invalid YAML: \(problem)\(tab)") }
        return YAMLProblem(source: source, mark: startsThere ? context.mark : mark, message: "invalid YAML: \(context.text) at line "
                           + "\(context.mark.line), column \(context.mark.column): \(problem) at line \(mark.line), column \(mark.column)\(tab)")
    }

    /// The character at `mark` (1-based line and column) of `text`, or nil past its end.
    static func character(at mark: Mark, in text: String) -> Character? {
        guard let line = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(mark.line - 1).first,
              mark.column >= 1, mark.column <= line.count else { return nil }
        return line[line.index(line.startIndex, offsetBy: mark.column - 1)]
    }

    /// Line and column (from 1, in characters) of a byte offset.
    static func mark(atByte offset: Int, in text: String) -> Mark {
        let before = text.utf8.prefix(offset)
        let lines = before.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        return Mark(line: lines.count, column: String(decoding: lines.last.map { Array($0) } ?? [], as: UTF8.self).count + 1)
    }
}

/// Merge keys (`<<: *base`) as PyYAML's `flatten_mapping` and Psych read them, and the
/// duplicate-key check, which comes first: a key given twice by hand is a mistake (PyYAML keeps
/// the last silently); a key given by hand over a merged one is what merging is for.
enum YAMLMerge {
    static func checkDuplicates(_ keys: [Node], source: String) throws(YAMLProblem) {
        var seen = Set<Node>()
        var duplicates: [Node: Node] = [:]   // each key given twice, at its first place
        for key in keys where key.tag.name != .merge {
            let (new, first) = seen.insert(key)
            if !new { duplicates[key] = first }
        }
        guard !duplicates.isEmpty else { return }
        let sorted = duplicates.values.sorted { ($0.string ?? "") < ($1.string ?? "") }
        throw YAMLProblem(source: source, mark: sorted[0].mark, message: "duplicate keys: "
                          + sorted.map { $0.string ?? "<a collection>" }.joined(separator: ", "))
    }

    /// The pairs with merged mappings first (of a list of them, the first wins), then the
    /// mapping's own; one entry per key, where it first appears, with its last value.
    static func flatten(_ pairs: [(Node, Node)]) -> [(Node, Node)] {
        guard pairs.contains(where: { $0.0.tag.name == .merge }) else { return pairs }
        var merged: [(Node, Node)] = []
        var own: [(Node, Node)] = []
        for (key, value) in pairs {
            guard key.tag.name == .merge else { own.append((key, value)); continue }
            switch value {
            case .mapping(let mapping): merged += mapping.map { ($0.key, $0.value) }
            case .sequence(let list):
                for case .mapping(let mapping) in list.reversed() { merged += mapping.map { ($0.key, $0.value) } }
            case .scalar: own.append((key, value))   // not a mapping: kept as written, for the schema to name
            }
        }
        var order: [Node] = []
        var values: [Node: Node] = [:]
        for (key, value) in merged + own {
            if values.updateValue(value, forKey: key) == nil { order.append(key) }
        }
        return order.map { ($0, values[$0]!) }
    }
}
