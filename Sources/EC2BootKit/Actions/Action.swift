#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// One action type: a typed parameter struct, decoded and checked before anything runs,
/// and one entry point. Each type lives in its own file and is listed in `ActionRegistry`.
public protocol Action: Sendable {
    associatedtype Params: Decodable & Sendable
    /// The `type:` that selects it in user-data.
    static var type: String { get }
    /// When it runs: on an instance's first boot only, or on every boot.
    static var frequency: ActionFrequency { get }
    /// Its parameters, declared once: the plan checks keys against it, `schema` prints it.
    static var schema: ActionSchema { get }
    static func run(_ params: Params, context: ActionContext) async -> ActionResult
    /// What a per-instance action repeats on each later boot (MCollective's facts); nil for most.
    static var everyBoot: (@Sendable (Params, ActionContext) async -> ActionResult)? { get }
}

extension Action {
    public static var everyBoot: (@Sendable (Params, ActionContext) async -> ActionResult)? { nil }
}

/// cloud-init's terms, which user-data's `frequency:` and `actions.default_frequency` take.
public enum ActionFrequency: String, Sendable, Codable, CaseIterable {
    /// On the first boot of an instance (and when an interrupted run resumes).
    case perInstance = "per-instance"
    /// On every boot (as the Ruby tool ran every action).
    case perBoot = "per-boot"
}

/// What an action gets: where things are, the run's data, and a logger that prefixes its lines.
public struct ActionContext: Sendable {
    public let run: RunContext
    public let index: Int
    public let type: String
    public let logger: Logger
    /// The action's parameters as given (what a hosted script gets as JSON on stdin).
    public let json: JSONValue
}

/// How one action ended.
public struct ActionResult: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable {
        case ok, failed, skipped
        case timedOut = "timed-out"
    }

    public var outcome: Outcome
    public var exitCode: Int32?
    public var message: String?

    enum CodingKeys: String, CodingKey { case outcome, exitCode = "exit_code", message }

    public init(_ outcome: Outcome, exitCode: Int32? = nil, message: String? = nil) {
        self.outcome = outcome
        self.exitCode = exitCode
        self.message = message
    }
}

/// Every action type, by name. A type not here is a failure of that action, not silence.
public enum ActionRegistry {
    public static let types: [any Action.Type] = [ShellAction.self, GetActionsAction.self, MCollectiveAction.self, PuppetAction.self,
                                           ChefAction.self, ChefRunAction.self, PuppetRunAction.self,
                                           MCollectiveRegisterAction.self, RabbitMQAction.self, ActiveMQAction.self, ScriptAction.self]
                                           + CloudConfig.modules

    /// Other names for a built-in: `getcommands` is what the Ruby tool's first releases
    /// called getactions, and its forks' READMEs still show it.
    static let aliases = ["getcommands": GetActionsAction.type]

    /// The built-in's own name for `type` (`getcommands` → `getactions`); others as they are.
    public static func canonicalName(_ type: String) -> String { aliases[type] ?? type }

    static func lookup(_ type: String) -> (any Action.Type)? {
        let name = aliases[type] ?? type
        return types.first { $0.type == name }
    }
}
