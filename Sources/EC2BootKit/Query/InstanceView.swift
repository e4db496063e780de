#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// One instance as every command sees it: its data (fetched, cached, or only user-data to
/// check), the user-data parsed with the plan's problems added, the actions planned, the facts.
/// The boot, `query`, `validate`, `watch` and its commands all read it here.
public struct InstanceView {
    public let data: BootData
    public let userData: UserData
    /// In the order they run: per-instance ones first, then per-boot ones.
    public let plan: [PlannedAction]
    public let facts: Facts

    /// `source`: how problems name the user-data (a file's path for `validate`); `actionsDir`:
    /// where hosted actions are (a built-in's type with keys only a hosted file there takes is planned for it).
    public init(_ data: BootData, config: Config, source: String = "user-data", actionsDir: String? = nil) {
        self.data = data
        var userData = UserData.parse(data.userData, source: source, limits: config.userData, included: data.included,
                                      launchIndex: data.metadata.leaves["ami-launch-index"].flatMap { Int($0.trimmingWhitespace(newlines: true)) })
        if let refused = data.userDataRefused { userData.problems.append(YAMLProblem(source: source, mark: nil, message: refused)) }
        let plan = ActionPlan.make(userData, source: source, defaultFrequency: config.actions.defaultFrequency, actionsDir: actionsDir)
        userData.problems += plan.problems
        self.userData = userData
        self.plan = plan.actions
        facts = Facts(userData: userData, metadata: data.metadata, writeEC2Facts: userData.writeEC2Facts ?? config.writeEC2Facts)
    }

    /// What the last run cached, read back without any network; nil when nothing is cached yet.
    public static func cached(paths: Paths, config: Config) throws -> InstanceView? {
        try CacheStore(directory: paths.cacheDir).read().map { InstanceView($0, config: config, actionsDir: paths.actionsDir) }
    }

    public var instanceID: String { data.instanceID ?? "unknown" }

    /// What the engine hands actions: this instance's metadata and facts, and `actions` (the
    /// user-data's, or a command's) in the order they were written.
    public func context(paths: Paths, config: Config, actions: [PlannedAction]? = nil) -> RunContext {
        RunContext(paths: paths, config: config, metadata: data.metadata, facts: facts,
                   actions: (actions ?? plan).sorted { $0.index < $1.index })
    }

    public var lookup: KeyLookup { KeyLookup(facts: facts, metadata: data.metadata) }


    /// The merged document: metadata tree, identity document, parsed user-data, facts.
    public func json() throws -> Data {
        let metadata = JSONValue(json: try MetadataTree(leaves: Facts.publicLeaves(data.metadata)).nestedJSON()) ?? [:]
        var document: [String: JSONValue] = [
            "metadata": metadata,
            "user_data": userData.json,
            "facts": .object(Dictionary(facts.entries.map { ($0.name, .string($0.value)) }, uniquingKeysWith: { $1 })),
        ]
        if let identity = data.identityDocument, let object = JSONValue(json: identity) {
            document["instance_identity"] = object
        }
        return JSONValue.object(document).encoded(pretty: true)
    }
}
