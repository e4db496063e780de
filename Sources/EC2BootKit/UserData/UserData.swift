#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// An action from cloud-init's formats: its mapping (with `type:`), how its problems name its
/// part, and what its keys are under (`puppet.` for a mapped one, nothing for a module's own keys).
public struct CloudAction {
    public let node: Node
    public let source: String
    public var keyPrefix = ""
}

/// User-data, in every format cloud-init reads (MIME multipart, `#cloud-config`, `#!` scripts,
/// boothooks, per-boot/instance/once scripts; gzip) and in the Ruby tool's own: a YAML mapping
/// with `facts` (a mapping, written in order), `write_ec2_facts` and `actions` (a list of
/// mappings with a `type`). `UserDataParts` splits it; each part adds facts or actions here.
public struct UserData {
    public enum Content {
        case empty
        /// The whole user-data is one `#!` script.
        case script(String)
        /// Our own YAML document (the first, in a multipart user-data).
        case document(Node)
        /// cloud-init's formats: parts, cloud-config, scripts.
        case cloudInit
    }

    public var content: Content = .empty
    public var facts: [(name: String, value: String)] = []
    public var writeEC2Facts: Bool?
    /// Each action's mapping, in order; the actions engine gives them meaning.
    public var actions: [Node] = []
    /// Actions from cloud-init's formats (cloud-config modules, scripts), in cloud-init's order,
    /// with how their problems name their part; they run before `actions`.
    public var cloudActions: [CloudAction] = []
    /// The parts, in order (type and file name), for `validate` and the log.
    public var parts: [UserDataPart] = []
    /// Parts nobody here handles: passed over, each said once in the log.
    public var passedOver: [String] = []
    /// cloud-config keys we do not implement: warnings (`validate --strict` makes them errors).
    public var unsupported: [YAMLProblem] = []
    /// What is wrong with the user-data; the run ends with exit 2 when any.
    public var problems: [YAMLProblem] = []

    public init() {}

    public var isScript: Bool {
        if case .script = content { return true }
        return false
    }

    /// Never throws: a problem is recorded, and what could be read is kept. `limits` bound
    /// the inflated size and the nodes the YAML may expand to.
    /// `included`: what the fetch stage got for the user-data's `#include` URLs.
    /// `launchIndex`: the metadata's `ami-launch-index` (parts for other instances of the launch are left out).
    public static func parse(_ raw: Data?, source: String = "user-data", limits: UserDataSettings,
                             included: [String: UserDataParts.Included] = [:], launchIndex: Int? = nil) -> UserData {
        var result = UserData()
        guard var data = raw, !data.isEmpty else { return result }
        if data.count > limits.maxBytes {
            result.problems.append(YAMLProblem(source: source, mark: nil, message: limits.tooLarge))
            return result
        }
        if Gzip.isCompressed(data) {
            do { data = try Gzip.inflate(data, maxInflatedSize: limits.maxBytes) } catch {
                result.problems.append(error)
                return result
            }
        }
        guard String(data: data, encoding: .utf8) != nil else {
            result.problems.append(YAMLProblem(source: source, mark: nil, message: "not UTF-8 text"))
            return result
        }
        do {
            result.parts = UserDataParts.forLaunch(try UserDataParts.split(data, maxBytes: limits.maxBytes, source: source, included: included),
                                                   wanted: launchIndex)
        } catch {
            result.problems.append(error)
            return result
        }
        result.readParts(multipart: MIMEMessage.isMIME(data), source: source, limits: limits)
        return result
    }

    /// The keys of the Ruby tool's YAML (`:facts:` or `facts:`), and `watch` of ours.
    static let topLevelKeys = ["facts", "write_ec2_facts", "actions", "watch"]

    mutating func read(_ node: Node, source: String) {
        if case .scalar = node, YAMLDocument.scalarText(node) == nil { return }
        guard case .mapping(let top) = node else {
            problems.append(YAMLProblem(source: source, mark: node.mark,
                                        message: "expected a mapping (facts:, actions:), found \(YAMLDocument.kind(node))"))
            return
        }
        for (key, value) in top {
            switch key.string {
            case "facts": readFacts(value, source: source)
            case "write_ec2_facts":
                if YAMLDocument.scalarText(value) == nil { continue }
                guard let flag = value.bool else {
                    problems.append(YAMLProblem(source: source, mark: value.mark, message: "write_ec2_facts: expected true or false"))
                    continue
                }
                writeEC2Facts = flag
            case "actions": readActions(value, source: source)
            case "watch": continue  // read by `watch` (WatchTarget)
            default:
                // Said, never swallowed: `:action:` for `:actions:` would otherwise run nothing, silently.
                let name = key.string ?? YAMLDocument.scalarText(key) ?? "?"
                unsupported.append(YAMLProblem(source: source, mark: key.mark, message: "\(name) is not a key of ec2-boot-init's user-data "
                    + "(\(Self.topLevelKeys.joined(separator: ", "))); ignored" + Suggestion.hint(name, among: Self.topLevelKeys)))
            }
        }
    }

    private mutating func readFacts(_ node: Node, source: String) {
        if YAMLDocument.scalarText(node) == nil, case .scalar = node { return }
        guard case .mapping(let mapping) = node else {
            problems.append(YAMLProblem(source: source, mark: node.mark,
                                        message: "facts: expected a mapping of name: value, found \(YAMLDocument.kind(node))"))
            return
        }
        for (key, value) in mapping {
            guard let name = YAMLDocument.rubyText(key), !name.isEmpty else {
                problems.append(YAMLProblem(source: source, mark: key.mark, message: "facts: a fact name must be a non-empty string"))
                continue
            }
            switch value {
            case .scalar:
                facts.append((name, YAMLDocument.rubyText(value) ?? ""))
            default:
                problems.append(YAMLProblem(source: source, mark: value.mark,
                                            message: "facts.\(name): expected a single value, found \(YAMLDocument.kind(value))"))
            }
        }
    }

    private mutating func readActions(_ node: Node, source: String) {
        if YAMLDocument.scalarText(node) == nil, case .scalar = node { return }
        guard case .sequence(let list) = node else {
            problems.append(YAMLProblem(source: source, mark: node.mark,
                                        message: "actions: expected a list, found \(YAMLDocument.kind(node))"))
            return
        }
        for (index, action) in list.enumerated() {
            guard case .mapping(let mapping) = action else {
                problems.append(YAMLProblem(source: source, mark: action.mark,
                                            message: "actions[\(index)]: expected a mapping with a type, found \(YAMLDocument.kind(action))"))
                continue
            }
            guard let type = mapping["type"], let name = YAMLDocument.scalarText(type), !name.isEmpty else {
                problems.append(YAMLProblem(source: source, mark: action.mark, message: "actions[\(index)]: missing type"))
                continue
            }
            actions.append(action)
        }
    }

    /// The document as JSON-ready values, for `query --json`.
    public var json: JSONValue {
        switch content {
        case .empty: return .null
        case .script: return ["script": true]
        case .document(let node): return Self.json(node)
        case .cloudInit: return ["parts": .array(parts.map { ["type": .string($0.contentType), "filename": .string($0.filename)] })]
        }
    }

    /// JSON has no NaN or infinity: such a float stays the text it was.
    static func json(_ node: Node) -> JSONValue {
        switch node {
        case .scalar:
            guard let text = YAMLDocument.scalarText(node) else { return .null }
            if case .scalar(let scalar) = node, scalar.style == .plain {
                if let int = node.int { return .int(int) }
                if let bool = node.bool { return .bool(bool) }
                if let double = node.float, double.isFinite { return .double(double) }
            }
            return .string(text)
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping { object[key.string ?? "\(key)"] = json(value) }
            return .object(object)
        case .sequence(let sequence):
            return .array(sequence.map(json))
        }
    }
}
