
/// cloud-init's mergers (`cloudinit/mergers`), on YAML nodes: how a `#cloud-config` part merges
/// into the ones before it. A part names its mergers in `merge_how` (else `merge_type`), as a
/// string (`list(append)+dict(recurse_array)+str()`) or a list, then in its `Merge-Type` (or
/// `X-Merge-Type`) header; for each kind of value the first merger of that kind wins; none
/// named: `dict(replace)+list()+str()`. A value of another kind (a number, true, null) keeps
/// what was there, as cloud-init's lookup does.
struct CloudConfigMerge {
    struct Merger: Equatable {
        let name: String
        let options: [String]
    }

    let mergers: [Merger]

    static let standard = CloudConfigMerge(mergers: [Merger(name: "dict", options: ["replace"]),
                                                     Merger(name: "list", options: []), Merger(name: "str", options: [])])

    /// `dict(replace)+list()+str()`: names lower-cased, `-` read as `_`, options split on commas.
    static func parse(_ text: String) throws(MergeError) -> [Merger] {
        var mergers: [Merger] = []
        for piece in text.split(separator: "+") {
            let item = piece.trimmingWhitespace().lowercased().replacing("-", with: "_")
            if item.isEmpty { continue }
            guard let open = item.firstIndex(of: "("), item.hasSuffix(")") else {
                throw MergeError(description: "merger \(item) is not in the form name(options)")
            }
            let options = item[item.index(after: open)..<item.index(before: item.endIndex)].split(separator: ",")
                .map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
            mergers.append(try merger(String(item[..<open]).trimmingWhitespace(), options))
        }
        return mergers
    }

    /// The list form: `[{name: list, settings: [append]}, [dict, recurse_array], …]`.
    static func parse(_ node: Node) throws(MergeError) -> [Merger] {
        if let text = node.string, case .scalar = node { return try parse(text) }
        guard case .sequence(let items) = node else { throw MergeError(description: "expected a string or a list of mergers") }
        var mergers: [Merger] = []
        for item in items {
            if case .mapping(let entry) = item, let name = entry["name"]?.string {
                let options = entry["settings"]?.sequence?.compactMap(\.string) ?? []
                mergers.append(try merger(name.replacing("-", with: "_").trimmingWhitespace(), options))
            } else if case .sequence(let words) = item, let name = words.first?.string {
                mergers.append(try merger(name, words.dropFirst().compactMap(\.string)))
            } else {
                throw MergeError(description: "a merger is {name, settings} or [name, options…]")
            }
        }
        return mergers
    }

    private static func merger(_ name: String, _ options: [String]) throws(MergeError) -> Merger {
        guard ["dict", "list", "str"].contains(name) else { throw MergeError(description: "unknown merger \(name) (known: dict, list, str)") }
        return Merger(name: name, options: options)
    }

    struct MergeError: Error, CustomStringConvertible { let description: String }

    /// The kinds of value Python sees, for the merger lookup.
    enum Kind { case dict, list, str, other }

    static func kind(_ node: Node) -> Kind {
        switch node {
        case .mapping: return .dict
        case .sequence: return .list
        case .scalar(let scalar):
            guard scalar.style == .plain else { return .str }
            let text = scalar.string
            if isNull(node) || YAML11.integer(text) != nil || node.bool != nil || node.float != nil {
                return .other
            }
            return .str
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private func options(_ name: String) -> [String]? { mergers.first { $0.name == name }?.options }

    /// `merge_with` merged into `value`.
    func merge(_ value: Node, _ mergeWith: Node) -> Node {
        switch Self.kind(value) {
        case .dict: return options("dict").map { onDict(value, mergeWith, $0) } ?? value
        case .list: return options("list").map { onList(value, mergeWith, $0) } ?? value
        case .str: return options("str").map { $0.contains("append") && Self.kind(mergeWith) == .str ? Self.joined(value, mergeWith) : mergeWith } ?? value
        case .other: return value
        }
    }

    private func onDict(_ value: Node, _ mergeWith: Node, _ options: [String]) -> Node {
        guard case .mapping(var merged) = value, case .mapping(let incoming) = mergeWith else { return value }
        let replace = options.contains("replace")
        let recurseArray = options.contains("recurse_array") || options.contains("recurse_list")
        for (key, new) in incoming {
            guard let old = merged[key] else { merged[key] = new; continue }
            if Self.isNull(new), options.contains("allow_delete") {
                merged[key] = nil
                continue
            }
            switch (replace, Self.kind(new)) {
            case (true, _): merged[key] = new
            case (false, .list) where recurseArray, (false, .str) where options.contains("recurse_str"), (false, .dict):
                merged[key] = merge(old, new)
            default: continue
            }
        }
        return .mapping(merged)
    }

    private func onList(_ value: Node, _ mergeWith: Node, _ options: [String]) -> Node {
        guard case .sequence(let old) = value else { return value }
        let method = ["append", "prepend", "replace", "no_replace"].first(where: options.contains) ?? "replace"
        guard case .sequence(let incoming) = mergeWith else { return method == "replace" ? mergeWith : value }
        switch method {
        case "prepend": return .sequence(Node.Sequence(Array(incoming) + Array(old), old.tag, old.style, old.mark))
        case "append": return .sequence(Node.Sequence(Array(old) + Array(incoming), old.tag, old.style, old.mark))
        case "no_replace": return value
        default: break
        }
        var items = Array(old)
        for index in 0..<min(items.count, incoming.count) {
            let new = incoming[incoming.index(incoming.startIndex, offsetBy: index)]
            switch Self.kind(new) {
            case .list where options.contains("recurse_array") || options.contains("recurse_list"),
                 .str where options.contains("recurse_str"), .dict where options.contains("recurse_dict"):
                items[index] = merge(items[index], new)
            default:
                items[index] = new
            }
        }
        return .sequence(Node.Sequence(items, old.tag, old.style, old.mark))
    }

    private static func joined(_ a: Node, _ b: Node) -> Node {
        .scalar(Node.Scalar((a.string ?? "") + (b.string ?? ""), Tag(.str), .doubleQuoted, a.mark))
    }
}
