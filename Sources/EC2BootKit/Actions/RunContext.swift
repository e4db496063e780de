#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// What a run hands to the actions stage.
public struct RunContext: Sendable {
    public let paths: Paths
    public let config: Config
    /// This boot's instance metadata and facts (the built-in actions name the node and
    /// write MCollective's facts from them).
    public let metadata: MetadataTree
    public let facts: Facts
    /// Every action of the user-data, in order, so one action can take its defaults from
    /// another's parameters (mcollective_register from mcollective).
    public let actions: [PlannedAction]

    public init(paths: Paths, config: Config, metadata: MetadataTree = MetadataTree(), facts: Facts = Facts(),
                actions: [PlannedAction] = []) {
        self.paths = paths
        self.config = config
        self.metadata = metadata
        self.facts = facts
        self.actions = actions
    }
}

/// The outcome of the actions stage: what failed, for the exit code and the MOTD.
public struct ActionsReport: Sendable {
    public var failures: [String]
    public init(failures: [String] = []) { self.failures = failures }
}
