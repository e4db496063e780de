import Foundation
import Yams

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
    /// nodes through its aliases is refused before it is built.
    /// `rubySymbols: false` reads it as plain YAML (cloud-config, where `:x` is just text).
    public static func parse(_ text: String, source: String, maxNodes: Int, setting: String = "user_data.max_nodes",
                             rubySymbols: Bool = true) throws(YAMLProblem) -> Node? {
        try YAMLBudget.check(text, maxNodes: maxNodes, setting: setting, source: source)
        do {
            guard let node = try Yams.compose(yaml: text) else { return nil }
            return normalizing(node, symbols: rubySymbols)
        } catch let error as YamlError {
            throw problem(from: error, source: source)
        } catch {
            throw YAMLProblem(source: source, mark: nil, message: "\(error)")
        }
    }

    /// Ruby symbols (`:name`, or tagged `!ruby/symbol name`) become plain strings.
    /// Only plain (unquoted) scalars are symbols in Ruby, so `":x"` keeps its colon.
    /// A base-60 number too large for an Int is kept as quoted text (see `overflowsBase60`).
    static func normalizing(_ node: Node, symbols: Bool = true) -> Node {
        switch node {
        case .scalar(var scalar):
            let rubySymbolTag = symbols && scalar.tag.rawValue.hasPrefix("!ruby/sym")
            if rubySymbolTag || (symbols && scalar.style == .plain && isSymbol(scalar.string)) {
                var text = scalar.string
                if !rubySymbolTag {
                    text.removeFirst()
                    if text.hasSuffix(":") { text.removeLast() }
                }
                scalar = Node.Scalar(text, Tag(.str), .plain, scalar.mark)
            } else if scalar.style == .plain && overflowsBase60(scalar.string) {
                scalar = Node.Scalar(scalar.string, Tag(.str), .singleQuoted, scalar.mark)
            }
            return .scalar(scalar)
        case .mapping(let mapping):
            let pairs = mapping.map { (normalizing($0.key, symbols: symbols), normalizing($0.value, symbols: symbols)) }
            return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
        case .sequence(let sequence):
            return .sequence(Node.Sequence(sequence.map { normalizing($0, symbols: symbols) }, sequence.tag, sequence.style, sequence.mark))
        case .alias:
            return node
        }
    }

    /// YAML 1.1 reads `1:30` as base 60 (90), as Ruby does, and so do Yams's number readers,
    /// which trap when the number overflows an Int (`8999999999:99:9` stops the process).
    /// True for a plain scalar whose base-60 reading overflows on the way, so it stays text.
    static func overflowsBase60(_ text: String) -> Bool {
        var digits = Substring(text.replacingOccurrences(of: "_", with: ""))
        if digits.first == "-" || digits.first == "+" { digits.removeFirst() }
        guard digits.contains(":") else { return false }
        var (base, value) = (1, 0)
        for part in digits.split(separator: ":", omittingEmptySubsequences: false).reversed() {
            // Not a number at all: Yams gives up without arithmetic.
            guard let digit = Int(part, radix: 10) else { return false }
            let (product, productOverflow) = digit.multipliedReportingOverflow(by: base)
            let (sum, sumOverflow) = value.addingReportingOverflow(product)
            let (next, baseOverflow) = base.multipliedReportingOverflow(by: 60)
            if productOverflow || sumOverflow || baseOverflow { return true }
            (base, value) = (next, sum)
        }
        // The sign is applied last: -Int.min overflows too.
        return value == Int.min
    }

    private static func isSymbol(_ text: String) -> Bool {
        text.count > 1 && text.first == ":" && text.dropFirst().first != ":"
    }

    static func problem(from error: YamlError, source: String) -> YAMLProblem {
        switch error {
        case let .scanner(context, problem, mark, yaml):
            return located(source, context, problem, mark, yaml, startsThere: true)
        case let .parser(context, problem, mark, yaml), let .composer(context, problem, mark, yaml):
            return located(source, context, problem, mark, yaml, startsThere: false)
        case let .duplicatedKeysInMapping(duplicates, context):
            return YAMLProblem(source: source, mark: context.mark,
                               message: "duplicate keys: \(duplicates.joined(separator: ", "))")
        default:
            return YAMLProblem(source: source, mark: nil, message: "invalid YAML: \(error)")
        }
    }

    /// Both marks, as cloud-init prints them. The place given is where the mistake is: for the
    /// scanner, where its context starts (an unclosed quote's line, not the end of the text where
    /// it was noticed); for the parser, where it noticed (its context is the enclosing mapping).
    private static func located(_ source: String, _ context: YamlError.Context?, _ problem: String, _ mark: Mark, _ yaml: String,
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

    /// Scalar text of a node, or nil for a mapping or sequence.
    public static func scalarText(_ node: Node) -> String? {
        guard case .scalar(let scalar) = node, node.tag.rawValue != Tag.Name.null.rawValue else { return nil }
        return scalar.string
    }

    /// A short name for what a node is, for error messages.
    public static func kind(_ node: Node) -> String {
        switch node {
        case .scalar: return "a scalar"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}
