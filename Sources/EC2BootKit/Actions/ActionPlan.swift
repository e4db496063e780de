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
}

/// Turns user-data into the list of actions to run. Parameters are decoded into each type's
/// struct first, so a missing or mistyped one is reported (with the action's index and the
/// key's line) before anything runs. An unknown type is planned as an action that fails.
public enum ActionPlan {
    public static func make(_ userData: UserData, source: String = "user-data") -> (actions: [PlannedAction], problems: [YAMLProblem]) {
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
            let params = Node.Mapping(mapping.filter { !["type", "on_failure"].contains($0.key.string ?? "") },
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
                actions.append(planned(index, type, stop: stop, json: json) { _ in
                    ActionResult(.failed, message: "unknown action type \(type) (no built-in, nothing hosted in the actions folder)")
                })
                continue
            }
            do {
                let body = try actionType.prepare(.mapping(params), source: source, index: index)
                actions.append(planned(index, type, stop: stop, json: json, frequency: actionType.frequency, body: body))
            } catch {
                problems.append(error)
            }
        }
        return (actions, problems)
    }

    private static func planned(_ index: Int, _ type: String, stop: Bool, json: Any, hostable: Bool = true,
                                frequency: ActionFrequency = .perInstance,
                                body: @escaping @Sendable (ActionContext) async -> ActionResult) -> PlannedAction {
        let data = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])) ?? Data("{}".utf8)
        let digest = SHA256.hash(data: Data(type.utf8) + data).hex
        return PlannedAction(index: index, type: type, stopOnFailure: stop, fingerprint: digest, paramsJSON: data,
                             frequency: frequency, hostable: hostable, body: body)
    }
}

extension Action {
    /// Decodes and checks the parameters now; the returned closure runs the action later.
    static func prepare(_ node: Node, source: String, index: Int) throws(YAMLProblem) -> @Sendable (ActionContext) async -> ActionResult {
        let params = try YAMLDecoding.decode(Params.self, from: node, source: source, keyPrefix: "actions[\(index)].")
        return { context in await run(params, context: context) }
    }
}
