import EC2BootKit

/// The broker actions' bodies, which `ec2-boot-init-broker` runs for the boot path's engine.
public enum BrokerActions {
    /// Runs `action` when it is one of ours; nil for any other type.
    public static func perform(_ action: PlannedAction, context: ActionContext) async -> ActionResult? {
        switch action.params {
        case let params as RabbitMQAction.Params: return await RabbitMQAction.perform(params, context: context)
        case let params as ActiveMQAction.Params: return await ActiveMQAction.perform(params, context: context)
        case let params as MCollectiveRegisterAction.Params: return await MCollectiveRegisterAction.perform(params, context: context)
        default: return nil
        }
    }
}
