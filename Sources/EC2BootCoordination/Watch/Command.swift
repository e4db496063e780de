import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// A command read from a `command` znode, checked before anything runs. It is either the Chef
/// form (`{"run_list": [...], other first-boot attributes}`, which runs `chef_run`) or an action
/// list as in user-data's `:actions:` (a list, or `{actions: [...], rerun_if_interrupted: true}`),
/// JSON or YAML. Every action's type must be in `allow` and its parameters must decode.
public struct Command: Sendable {
    public let actions: [PlannedAction]
    /// Run again after the watcher was stopped mid-run (default: reported as interrupted only).
    public let rerunIfInterrupted: Bool
    /// The actions' types, for logs and results.
    public var summary: String { actions.map(\.type).joined(separator: ",") }

    /// ZooKeeper's default limit is 1 MB; a command is a run list or a few actions.
    public static let maxBytes = 64 * 1024
    /// A signed command: the command, its header lines and the signature.
    public static let maxEnvelopeBytes = maxBytes + SignedCommand.headerBytes + 256
    /// The action types a command may run when `allow` is not set: re-runs of the
    /// configuration tool against the server the node was set up with.
    public static let defaultAllow = [ChefRunAction.type, PuppetRunAction.type]

    /// Nil when the data is empty (no command: the node cleared it).
    /// `size`: the znode's data length, when only its first bytes were read.
    /// `allow` nil: any type (push checks the form; the node checks its own list).
    public static func parse(_ data: Data, size: Int? = nil, allow: [String]?) throws(CommandRefused) -> Command? {
        let size = size ?? data.count
        guard size <= maxBytes, data.count <= maxBytes else {
            throw CommandRefused("the command is \(max(size, data.count)) bytes; at most \(maxBytes) are read")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw CommandRefused("the command is not UTF-8 text") }
        if text.allSatisfy(\.isWhitespace) { return nil }
        let node: Node
        do {
            guard let parsed = try YAMLDocument.parse(text, source: "command", maxNodes: 10_000) else { return nil }
            node = parsed
        } catch {
            throw CommandRefused("\(error)")
        }
        var rerun = false
        let list: [Node]
        switch node {
        case .sequence(let items):
            list = Array(items)
        case .mapping(let mapping) where mapping["actions"] != nil:
            for key in mapping.keys.compactMap(\.string) where !["actions", "rerun_if_interrupted"].contains(key) {
                throw CommandRefused("command.\(key): unknown key (known: actions, rerun_if_interrupted)")
            }
            guard case .sequence(let items)? = mapping["actions"] else { throw CommandRefused("command.actions: expected a list") }
            list = Array(items)
            if let flag = mapping["rerun_if_interrupted"] {
                guard let value = flag.bool else { throw CommandRefused("command.rerun_if_interrupted: expected true or false") }
                rerun = value
            }
        case .mapping(let mapping) where mapping["run_list"] != nil:
            list = [chefRun(mapping)]
        default:
            throw CommandRefused("expected {\"run_list\": [...]}, a list of actions, or {actions: [...]}")
        }
        guard !list.isEmpty else { throw CommandRefused("the command has no actions") }
        for (index, action) in list.enumerated() {
            guard case .mapping(let mapping) = action, let type = mapping["type"].flatMap(YAMLDocument.scalarText) else {
                throw CommandRefused("actions[\(index)]: expected a mapping with a type")
            }
            if let allow, !allow.contains(ActionRegistry.canonicalName(type)) && !allow.contains(type) {
                throw CommandRefused("actions[\(index)]: type \(type) is not allowed (watch.allow: \(allow.joined(separator: ", ")))")
            }
        }
        var userData = UserData()
        userData.content = .document(node)
        userData.actions = list
        let plan = ActionPlan.make(userData, source: "command", defaultFrequency: .perBoot)
        if let problem = plan.problems.first { throw CommandRefused("\(problem)") }
        return Command(actions: plan.actions.sorted { $0.index < $1.index }, rerunIfInterrupted: rerun)
    }

    /// `{"run_list": [...], rest}` → `{type: chef_run, run_list: [...], attributes: {rest}}`.
    static func chefRun(_ mapping: Node.Mapping) -> Node {
        let rest = mapping.filter { $0.key.string != "run_list" }
        var pairs: [(Node, Node)] = [(Node("type"), Node(ChefRunAction.type)), (Node("run_list"), mapping["run_list"]!)]
        if !rest.isEmpty { pairs.append((Node("attributes"), .mapping(Node.Mapping(rest.map { ($0.key, $0.value) })))) }
        return .mapping(Node.Mapping(pairs))
    }
}

/// Why a command was not run: it goes to the result, and nothing runs.
public struct CommandRefused: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
