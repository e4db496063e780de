#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// The broker actions run in `ec2-boot-init-broker`, so a boot never loads SwiftNIO and TLS.
/// The engine's side sends a `Request` on the helper's stdin (never in its environment or argv:
/// it holds passwords); the helper logs in our own format, which the engine relays as the
/// action's lines, and answers with its result, as JSON, on descriptor 3: a channel of its own,
/// so nothing the action logs (a broker's reply, a package manager's output) can forge it or
/// hide it.
/// An action whose body is in `ec2-boot-init-broker`: conforming is what makes its `run` hand
/// the context to that program, and `BrokerActions` there has one row for each (a unit test
/// holds the two lists equal).
public protocol BrokerAction: Action {}

extension BrokerAction {
    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        await BrokerHelper.run(context)
    }
}

public enum BrokerHelper {
    /// The descriptor the helper answers on.
    public static let resultFD: Int32 = 3

    static func run(_ context: ActionContext) async -> ActionResult {
        let path: String
        switch HelperProgram.broker.locate() {
        case .success(let found): path = found
        case .failure(let missing): return ActionResult(.failed, message: "\(missing)")
        }
        let reported = Reported()
        let ended = await ActionEnvironment.execute([path], environment: ActionEnvironment.base(context), directory: nil,
                                                    stdin: Request(context).encoded(), timeout: nil, context: context) { reported.data = $0 }
        guard ended.outcome == .ok else { return ended }
        guard let data = reported.data, let result = try? JSONDecoder().decode(ActionResult.self, from: data) else {
            return ActionResult(.failed, message: "\(HelperProgram.broker.rawValue) ended without a result")
        }
        return result
    }

    /// What the helper needs to run one action as the engine would have.
    public struct Request: Codable, Sendable {
        var root: String
        var configFile: String?
        var logLevel: String
        var index: Int
        /// The action, and every action of its user-data or command (mcollective_register takes
        /// its defaults from mcollective's), as user-data entries.
        var action: JSONValue
        var actions: [JSONValue]
        var metadata: [String: String]
        var facts: [[String]]

        init(_ context: ActionContext) {
            let run = context.run
            root = run.paths.root
            configFile = run.config.file
            logLevel = run.config.logLevel.rawValue
            index = context.index
            action = Self.entry(type: context.type, params: context.json)
            actions = run.actions.map { Self.entry(type: $0.type, params: $0.json) }
            metadata = run.metadata.leaves
            facts = run.facts.entries.map { [$0.name, $0.value] }
        }

        public var level: Logger.Level { Logger.Level(rawValue: logLevel) ?? .info }

        func encoded() -> Data { (try? JSONEncoder().encode(self)) ?? Data() }

        private static func entry(type: String, params: JSONValue) -> JSONValue {
            var object = params.object ?? [:]
            object["type"] = .string(type)
            return .object(object)
        }

        /// The action planned again from its entry (so its parameters are checked here too),
        /// and its context; a `YAMLProblem` when the entry does not plan.
        public func planned(logger: Logger) throws -> (PlannedAction, ActionContext) {
            var config = try configFile.map { try Config.load(path: $0) } ?? Config()
            config.logLevel = level
            let mine = Self.plan([action], config: config)
            guard let action = mine.actions.first else {
                throw mine.problems.first ?? YAMLProblem(source: "the broker request", mark: nil, message: "no action")
            }
            let others = Self.plan(actions, config: config).actions.sorted { $0.index < $1.index }
            let run = RunContext(paths: Paths(root: root), config: config, metadata: MetadataTree(leaves: metadata),
                                 facts: Facts(entries: facts.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }), actions: others)
            return (action, ActionContext(run: run, index: index, type: action.type, logger: logger, json: action.json))
        }

        private static func plan(_ entries: [JSONValue], config: Config) -> (actions: [PlannedAction], problems: [YAMLProblem]) {
            let text = JSONValue.object(["actions": .array(entries)]).encoded()
            let userData = UserData.parse(text, source: "the broker request", limits: config.userData)
            return ActionPlan.make(userData, source: "the broker request", defaultFrequency: config.actions.defaultFrequency)
        }
    }
}

/// The result, once the helper's channel has been read.
private final class Reported: @unchecked Sendable {
    private let lock = Lock()
    private var value: Data?
    var data: Data? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
