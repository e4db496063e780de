import Logging

/// What a run hands to the actions stage.
public struct RunContext: Sendable {
    public let paths: Paths
    public let config: Config
}

/// The outcome of the actions stage: what failed, for the exit code and the MOTD.
public struct ActionsReport: Sendable {
    public var failures: [String]
    public init(failures: [String] = []) { self.failures = failures }
}

/// Where the actions engine plugs into a run: after facts are written, before the MOTD.
public protocol ActionsStage: Sendable {
    func run(_ userData: UserData, data: BootData, context: RunContext, logger: Logger) async -> ActionsReport
}

/// This version has no actions engine yet: it says so instead of pretending they ran.
public struct ActionsNotSupported: ActionsStage {
    public init() {}

    public func run(_ userData: UserData, data: BootData, context: RunContext, logger: Logger) async -> ActionsReport {
        let count = userData.actions.count + (userData.isScript ? 1 : 0)
        guard count > 0 else { return ActionsReport() }
        logger.error("user-data lists actions, but this version of ec2-boot-init cannot run actions yet",
                     metadata: ["actions": "\(count)"])
        return ActionsReport(failures: ["\(count) action(s) not run: no actions engine in this version"])
    }
}
