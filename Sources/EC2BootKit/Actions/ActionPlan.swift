import Crypto
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// One action of the user-data, checked and ready to run.
public struct PlannedAction: Sendable {
    public let index: Int
    public let type: String
    /// `on_failure: stop`: later actions do not run when this one fails.
    public let stopOnFailure: Bool
    /// Tells a resumed run whether the action it finished is this same action.
    public let fingerprint: String
    /// The parameters as given (what a hosted script gets).
    public let json: JSONValue
    /// The built-in's decoded `Params` (nil for a hosted or unknown type), so one action can
    /// take its defaults from another's (mcollective_register from mcollective).
    public let params: (any Sendable)?
    public let frequency: ActionFrequency
    /// False for what a hosted file must not take over (the every-boot part of an action).
    let hostable: Bool
    /// A built-in's schema refused the parameters, but a hosted file of the type may take them
    /// (getactions runs before it, or one is in the actions folder): `validate` warns, and the
    /// action fails with this problem when no hosted file is there at run time.
    public internal(set) var unlessHosted: YAMLProblem?
    let body: @Sendable (ActionContext) async -> ActionResult
    let everyBoot: (@Sendable (ActionContext) async -> ActionResult)?

    /// On a later boot of the instance: the part of a per-instance action that runs again.
    var everyBootPart: PlannedAction? {
        guard frequency == .perInstance, let everyBoot else { return nil }
        return PlannedAction(index: index, type: type, stopOnFailure: stopOnFailure, fingerprint: fingerprint + "-every-boot",
                             json: json, params: params, frequency: .perBoot, hostable: false, body: everyBoot, everyBoot: nil)
    }
}

/// Turns user-data into the list of actions to run. Each entry is read as an `ActionEnvelope`,
/// its keys checked against the type's schema, then its parameters decoded into the type's
/// struct, so a missing or mistyped one is reported (with the action's index and the key's
/// line) before anything runs. An unknown type is planned as an action that fails.
public enum ActionPlan {
    /// cloud-init's actions first, in cloud-init's order (their keys are top-level cloud-config
    /// keys); then the user-data's `actions:`, per-instance ones first, then per-boot ones, each
    /// in user-data order. `defaultFrequency` is `actions.default_frequency`, for actions without `frequency:`.
    /// `actionsDir`: where hosted actions are looked for, so a built-in's type whose keys only a
    /// hosted file there takes is planned for it (see `PlannedAction.unlessHosted`).
    public static func make(_ userData: UserData, source: String = "user-data", defaultFrequency: ActionFrequency = .perInstance,
                            actionsDir: String? = nil) -> (actions: [PlannedAction], problems: [YAMLProblem]) {
        var cloud: [PlannedAction] = []
        var own: [PlannedAction] = []
        var problems: [YAMLProblem] = []
        for (index, entry) in userData.cloudActions.enumerated() {
            do { cloud.append(try plan(entry.node, index: index, source: entry.source, keyPrefix: entry.keyPrefix, defaultFrequency: defaultFrequency,
                                   hostable: false)) } catch {
                problems.append(contentsOf: error.all)
            }
        }
        for (position, node) in userData.actions.enumerated() {
            let index = cloud.count + position
            do {
                own.append(try plan(node, index: index, source: source, keyPrefix: "actions[\(position)].", defaultFrequency: defaultFrequency))
            } catch {
                let fetched = own.contains { ActionRegistry.canonicalName($0.type) == GetActionsAction.type }
                guard let hosted = forHosted(node, index: index, problem: error, fetched: fetched, actionsDir: actionsDir,
                                             defaultFrequency: defaultFrequency) else {
                    problems.append(contentsOf: error.all)
                    continue
                }
                own.append(hosted)
            }
        }
        return (cloud + own.filter { $0.frequency == .perInstance } + own.filter { $0.frequency == .perBoot }, problems)
    }

    /// `hostable: false` for cloud-init's actions: a hosted file of the same name (`runcmd`,
    /// `script`) must not take the user's own scripts and files over.
    private static func plan(_ node: Node, index: Int, source: String, keyPrefix prefix: String,
                             defaultFrequency: ActionFrequency, hostable: Bool = true) throws(YAMLProblem) -> PlannedAction {
        let envelope = try YAMLDecoding.decode(ActionEnvelope.self, from: node, source: source, keyPrefix: prefix)
        guard case .mapping(let mapping) = node else { throw YAMLProblem(source: source, mark: node.mark, message: "not a mapping") }
        let paramsNode = Node.Mapping(mapping.filter { !ActionEnvelope.keys.contains($0.key.string ?? "") },
                                      mapping.tag, mapping.style, mapping.mark)
        let stop = envelope.onFailure == .stop
        guard let actionType = ActionRegistry.lookup(envelope.type) else {
            // Looked up in the actions folder when it runs; its timeout is the engine's to read.
            _ = try YAMLDecoding.decode(HostedAction.Params.self, from: .mapping(paramsNode), source: source, keyPrefix: prefix)
            let type = envelope.type
            return planned(index, type, stop: stop, json: envelope.params, frequency: envelope.frequency ?? defaultFrequency) { _ in
                ActionResult(.failed, message: "unknown action type \(type) (no built-in, nothing hosted in the actions folder)")
            }
        }
        let params = try actionType.schema.resolvingAliases(paramsNode, source: source, keyPrefix: prefix)
        try actionType.schema.check(params, source: source, keyPrefix: prefix)
        let prepared = try actionType.prepare(.mapping(params), source: source, keyPrefix: prefix)
        let declared = actionType.frequency == .perBoot ? ActionFrequency.perBoot : defaultFrequency
        return planned(index, envelope.type, stop: stop, json: envelope.params, params: prepared.params, hostable: hostable,
                       frequency: envelope.frequency ?? declared, everyBoot: prepared.everyBoot, body: prepared.body)
    }

    /// A built-in's type with parameters its schema refuses, planned for a hosted file of that
    /// type when one may be there (fetched by an earlier getactions, or in the actions folder):
    /// the Ruby tool's fleets host their own `puppet.rb` with keys of their own.
    private static func forHosted(_ node: Node, index: Int, problem: YAMLProblem, fetched: Bool, actionsDir: String?,
                                  defaultFrequency: ActionFrequency) -> PlannedAction? {
        guard case .mapping(let mapping) = node, let type = mapping["type"]?.string, ActionRegistry.lookup(type) != nil,
              fetched || actionsDir.flatMap({ HostedAction.find(type, in: $0) }) != nil,
              let envelope = try? YAMLDecoding.decode(ActionEnvelope.self, from: node, source: "", keyPrefix: "") else { return nil }
        var action = planned(index, type, stop: envelope.onFailure == .stop, json: envelope.params,
                             frequency: envelope.frequency ?? defaultFrequency) { _ in
            ActionResult(.failed, message: "\(problem.message) (no hosted \(type) action took it)")
        }
        action.unlessHosted = problem
        return action
    }

    /// Actions whose type is neither built in nor in the actions folder (yet): `validate` warns,
    /// since getactions earlier in the run, or the image, may still provide them.
    public static func unprovided(_ actions: [PlannedAction], actionsDir: String) -> [PlannedAction] {
        actions.filter { $0.hostable && ActionRegistry.lookup($0.type) == nil && HostedAction.find($0.type, in: actionsDir) == nil }
    }

    private static func planned(_ index: Int, _ type: String, stop: Bool, json: JSONValue, params: (any Sendable)? = nil,
                                hostable: Bool = true, frequency: ActionFrequency = .perInstance,
                                everyBoot: (@Sendable (ActionContext) async -> ActionResult)? = nil,
                                body: @escaping @Sendable (ActionContext) async -> ActionResult) -> PlannedAction {
        let digest = SHA256.hash(data: Data(type.utf8) + json.encoded()).hex
        return PlannedAction(index: index, type: type, stopOnFailure: stop, fingerprint: digest, json: json, params: params,
                             frequency: frequency, hostable: hostable, body: body, everyBoot: everyBoot)
    }
}

/// A built-in's parameters decoded, and what runs them.
struct PreparedAction {
    let params: any Sendable
    let body: @Sendable (ActionContext) async -> ActionResult
    let everyBoot: (@Sendable (ActionContext) async -> ActionResult)?
}

extension Action {
    /// Decodes and checks the parameters now; the closures run the action (and its every-boot part) later.
    static func prepare(_ node: Node, source: String, keyPrefix: String) throws(YAMLProblem) -> PreparedAction {
        let params = try YAMLDecoding.decode(Params.self, from: node, source: source, keyPrefix: keyPrefix)
        let again = everyBoot.map { part in { @Sendable (context: ActionContext) in await part(params, context) } }
        return PreparedAction(params: params, body: { context in await run(params, context: context) }, everyBoot: again)
    }
}
