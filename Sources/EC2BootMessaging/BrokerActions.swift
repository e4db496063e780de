import EC2BootKit

/// The broker actions' bodies, which `ec2-boot-init-broker` runs for the boot path's engine: one
/// row for each `BrokerAction` type (a unit test holds them equal to the registry's).
public enum BrokerActions {
    typealias Body = @Sendable (PlannedAction, ActionContext) async -> ActionResult?

    static let bodies: [String: Body] = [
        RabbitMQAction.type: { action, context in
            guard let params = action.params as? RabbitMQAction.Params else { return nil }
            return await RabbitMQAction.perform(params, context: context)
        },
        ActiveMQAction.type: { action, context in
            guard let params = action.params as? ActiveMQAction.Params else { return nil }
            return await ActiveMQAction.perform(params, context: context)
        },
        MCollectiveRegisterAction.type: { action, context in
            guard let params = action.params as? MCollectiveRegisterAction.Params else { return nil }
            return await MCollectiveRegisterAction.perform(params, context: context)
        },
    ]

    /// The types this program runs.
    public static var types: Set<String> { Set(bodies.keys) }

    /// Runs `action` when it is one of ours; nil for any other type.
    public static func perform(_ action: PlannedAction, context: ActionContext) async -> ActionResult? {
        await bodies[action.type]?(action, context)
    }
}
