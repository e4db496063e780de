import Crypto
import Foundation
import Yams

/// One action of the user-data, checked and ready to run.
public struct PlannedAction: Sendable {
    public let index: Int
    public let type: String
    /// `on_failure: stop`: later actions do not run when this one fails.
    public let stopOnFailure: Bool
    /// Tells a resumed run whether the action it finished is this same action.
    public let fingerprint: String
    public let paramsJSON: Data
    public let frequency: ActionFrequency
    /// False for a `#!` user-data script: it is not a `type:` a hosted file could take over.
    let hostable: Bool
    let body: @Sendable (ActionContext) async -> ActionResult
    let everyBoot: (@Sendable (ActionContext) async -> ActionResult)?

    /// On a later boot of the instance: the part of a per-instance action that runs again.
    var everyBootPart: PlannedAction? {
        guard frequency == .perInstance, let everyBoot else { return nil }
        return PlannedAction(index: index, type: type, stopOnFailure: stopOnFailure, fingerprint: fingerprint + "-every-boot",
                             paramsJSON: paramsJSON, frequency: .perBoot, hostable: false, body: everyBoot, everyBoot: nil)
    }
}

/// Turns user-data into the list of actions to run. Parameters are decoded into each type's
/// struct first, so a missing or mistyped one is reported (with the action's index and the
/// key's line) before anything runs. An unknown type is planned as an action that fails.
public enum ActionPlan {
    /// Per-instance actions first, then per-boot ones, each in user-data order. `defaultFrequency`
    /// is `actions.default_frequency`, for actions without `frequency:`.
    public static func make(_ userData: UserData, source: String = "user-data",
                            defaultFrequency: ActionFrequency = .perInstance) -> (actions: [PlannedAction], problems: [YAMLProblem]) {
        if case .script(let text) = userData.content {
            let params: [String: Any] = ["command": text]
            return ([planned(0, "shell", stop: false, json: params, hostable: false) { context in
                // Run as the file it is, so its #! line picks the interpreter (bash, python3, …).
                await ActionEnvironment.executeScript(text, interpreter: nil, environment: ActionEnvironment.base(context),
                                                      directory: nil, timeout: nil, context: context)
            }], [])
        }
        var actions: [PlannedAction] = []
        var problems: [YAMLProblem] = []
        for (index, node) in userData.actions.enumerated() {
            guard case .mapping(let mapping) = node, let type = mapping["type"].flatMap(YAMLDocument.scalarText) else { continue }
            var stop = false
            if let onFailure = mapping["on_failure"] {
                switch YAMLDocument.scalarText(onFailure) {
                case "stop": stop = true
                case "continue": stop = false
                default:
                    problems.append(YAMLProblem(source: source, mark: onFailure.mark,
                                                message: "actions[\(index)].on_failure: expected stop or continue"))
                }
            }
            var frequency: ActionFrequency?
            if let node = mapping["frequency"] {
                frequency = YAMLDocument.scalarText(node).flatMap(ActionFrequency.init(rawValue:))
                if frequency == nil {
                    problems.append(YAMLProblem(source: source, mark: node.mark,
                                                message: "actions[\(index)].frequency: expected per-instance or per-boot"))
                }
            }
            let params = Node.Mapping(mapping.filter { !["type", "on_failure", "frequency"].contains($0.key.string ?? "") },
                                      mapping.tag, mapping.style, mapping.mark)
            let json = UserData.json(.mapping(params))
            guard let actionType = ActionRegistry.lookup(type) else {
                // A hosted action's only parameter the engine reads itself.
                if let timeout = params["timeout"] {
                    let seconds = YAMLDocument.scalarText(timeout).flatMap(Double.init)
                    if seconds.map({ !($0 > 0 && $0 <= Seconds.max) }) ?? true {
                        problems.append(YAMLProblem(source: source, mark: timeout.mark, message:
                            "actions[\(index)].timeout: expected a number of seconds above 0 and at most \(Int(Seconds.max))"))
                    }
                }
                actions.append(planned(index, type, stop: stop, json: json, frequency: frequency ?? defaultFrequency) { _ in
                    ActionResult(.failed, message: "unknown action type \(type) (no built-in, nothing hosted in the actions folder)")
                })
                continue
            }
            do {
                let (body, everyBoot) = try actionType.prepare(.mapping(params), source: source, index: index)
                let declared = actionType.frequency == .perBoot ? ActionFrequency.perBoot : defaultFrequency
                actions.append(planned(index, type, stop: stop, json: json, frequency: frequency ?? declared,
                                       everyBoot: everyBoot, body: body))
            } catch {
                problems.append(error)
            }
        }
        return (actions.filter { $0.frequency == .perInstance } + actions.filter { $0.frequency == .perBoot }, problems)
    }

    /// Actions whose type is neither built in nor in the actions folder (yet): `validate` warns,
    /// since getactions earlier in the run, or the image, may still provide them.
    public static func unprovided(_ actions: [PlannedAction], actionsDir: String) -> [PlannedAction] {
        actions.filter { $0.hostable && ActionRegistry.lookup($0.type) == nil && HostedAction.find($0.type, in: actionsDir) == nil }
    }

    private static func planned(_ index: Int, _ type: String, stop: Bool, json: Any, hostable: Bool = true,
                                frequency: ActionFrequency = .perInstance,
                                everyBoot: (@Sendable (ActionContext) async -> ActionResult)? = nil,
                                body: @escaping @Sendable (ActionContext) async -> ActionResult) -> PlannedAction {
        let data = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])) ?? Data("{}".utf8)
        let digest = SHA256.hash(data: Data(type.utf8) + data).hex
        return PlannedAction(index: index, type: type, stopOnFailure: stop, fingerprint: digest, paramsJSON: data,
                             frequency: frequency, hostable: hostable, body: body, everyBoot: everyBoot)
    }
}

extension Action {
    /// Decodes and checks the parameters now; the returned closures run the action (and its
    /// every-boot part) later.
    static func prepare(_ node: Node, source: String, index: Int) throws(YAMLProblem)
        -> (@Sendable (ActionContext) async -> ActionResult, (@Sendable (ActionContext) async -> ActionResult)?) {
        let params = try YAMLDecoding.decode(Params.self, from: node, source: source, keyPrefix: "actions[\(index)].")
        let again = everyBoot.map { part in { @Sendable (context: ActionContext) in await part(params, context) } }
        return ({ context in await run(params, context: context) }, again)
    }
}
