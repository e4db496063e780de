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
