import CYaml
import Yams

/// Counts the nodes a YAML document has once its aliases are expanded, from libyaml's event
/// stream, before anything is built from it. A "billion laughs" document (nine levels of
/// anchors, each a list of ten aliases of the one above) is 330 bytes and a billion nodes:
/// every walk of it (symbol normalising, hashing keys, JSON for actions) would run out of
/// memory. Here each anchor's expanded size is remembered and an alias adds it, so the count
/// costs one pass over the text, however large the expansion.
enum YAMLBudget {
    /// Throws when the document expands past `maxNodes` nodes.
    static func check(_ text: String, maxNodes: Int, setting: String, source: String) throws(YAMLProblem) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLProblem(source: source, mark: nil, message: "cannot start the YAML parser")
        }
        defer { yaml_parser_delete(&parser) }
        var utf8 = Array(text.utf8)
        try utf8.withUnsafeMutableBufferPointer { (buffer) throws(YAMLProblem) in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var counter = Counter(maxNodes: maxNodes)
            while true {
                var event = yaml_event_t()
                // A syntax error: left for the composer, which reports it with its mark.
                guard yaml_parser_parse(&parser, &event) == 1 else { return }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return }
                if let over = counter.take(event) {
                    let first = counter.firstAlias ?? over
                    throw YAMLProblem(source: source, line: first.line, column: first.column,
                                      message: "expands to more than \(setting) (\(maxNodes)) YAML nodes "
                                          + "through its aliases (the first alias is here)")
                }
            }
        }
    }

    private struct Counter {
        let maxNodes: Int
        /// Every node counted so far, open collections included (saturating past the budget).
        var total = 0
        /// Nodes in each open collection so far, and its anchor.
        var open: [(count: Int, anchor: String?)] = []
        var anchors: [String: Int] = [:]
        var firstAlias: (line: Int, column: Int)?

        init(maxNodes: Int) { self.maxNodes = maxNodes }

        /// Counts one event; returns where the count went past the budget, if it did.
        mutating func take(_ event: yaml_event_t) -> (line: Int, column: Int)? {
            let mark = (line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
            switch event.type {
            case YAML_SCALAR_EVENT:
                add(1, anchor: Self.string(event.data.scalar.anchor))
            case YAML_SEQUENCE_START_EVENT:
                open.append((0, Self.string(event.data.sequence_start.anchor)))
                add(1, anchor: nil)
            case YAML_MAPPING_START_EVENT:
                open.append((0, Self.string(event.data.mapping_start.anchor)))
                add(1, anchor: nil)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                // The collection's nodes are counted already; its size goes to its anchor and its parent.
                if let done = open.popLast() {
                    if let anchor = done.anchor { anchors[anchor] = done.count }
                    if !open.isEmpty { open[open.count - 1].count = min(open[open.count - 1].count &+ done.count, maxNodes + 1) }
                }
            case YAML_ALIAS_EVENT:
                if firstAlias == nil { firstAlias = mark }
                // An undefined alias is the composer's error to report.
                let size = Self.string(event.data.alias.anchor).flatMap { anchors[$0] } ?? 1
                add(size, anchor: nil)
            default:
                return nil
            }
            return total > maxNodes ? mark : nil
        }

        /// `size` more nodes: in the total, and in the innermost open collection.
        private mutating func add(_ size: Int, anchor: String?) {
            let size = min(size, maxNodes + 1)
            if let anchor { anchors[anchor] = size }
            total = min(total &+ size, maxNodes + 1)
            if !open.isEmpty { open[open.count - 1].count = min(open[open.count - 1].count &+ size, maxNodes + 1) }
        }

        private static func string(_ pointer: UnsafeMutablePointer<UInt8>?) -> String? {
            pointer.map { String(cString: $0) }
        }
    }
}
