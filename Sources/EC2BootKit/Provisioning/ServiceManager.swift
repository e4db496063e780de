#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Enables and (re)starts the service a built-in action configured.
public struct ServiceManager: Sendable {
    public enum Kind: String, Sendable { case systemd, sysv, none }
    public let kind: Kind

    public init(_ context: RunContext) {
        switch context.config.services.manager {
        case .auto:
            if context.paths.root != "/" { kind = .none } else { kind = FileSystem.exists("/run/systemd/system") ? .systemd : .sysv }
        case .systemd: kind = .systemd
        case .sysv: kind = .sysv
        case .none: kind = .none
        }
    }

    /// Enables `name` at boot and restarts it, so it reads the config just written. Returns
    /// nil on success, or why not.
    public func enableAndRestart(_ name: String, context: ActionContext) async -> String? {
        let steps: [[String]]
        switch kind {
        case .none:
            context.logger.info("services.manager is none here: would enable and restart \(name)")
            return nil
        case .systemd: steps = [["systemctl", "enable", name], ["systemctl", "restart", name]]
        // SysV packages enable their own init scripts; `service` is on every such system.
        case .sysv: steps = [["service", name, "restart"]]
        }
        for argv in steps {
            if let failure = await SystemCommand.run(argv, context: context) { return failure }
        }
        return nil
    }
}
