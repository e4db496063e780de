import Yams

/// `#cloud-config` parts: merged as cloud-init merges them (by default `dict(replace)`: a later
/// part's top-level key replaces an earlier one's; `merge_how` and `Merge-Type` as cloud-init
/// reads them, see `CloudConfigMerge`), then turned into the actions of the modules
/// we implement, in cloud-init's order; every other key is reported, never silently dropped.
enum CloudConfig {
    /// The modules, in the order cloud-init's stages run them (init: bootcmd, write_files,
    /// set_hostname, ssh; final: packages, write_files_deferred, puppet, chef, mcollective,
    /// the user's scripts, then runcmd's script, which scripts_user runs after them).
    static let modules: [any CloudConfigModule.Type] = [
        BootcmdAction.self, WriteFilesAction.self, HostnameAction.self, SSHKeysAction.self,
        PackagesAction.self, WriteFilesDeferredAction.self, RuncmdAction.self,
    ]
    /// cloud-config keys given to our built-in actions, planned after write_files_deferred (as
    /// cloud-init's final stage runs puppet, chef, mcollective after it).
    static let mappings: [CloudConfigMapping] = [.puppet, .chef, .mcollective]
    static let mappedAfter = WriteFilesDeferredAction.type
    /// Modules whose action runs after the user-data's scripts (cloud-init's scripts_user runs
    /// the part scripts, named part-NNN, before the one named runcmd).
    static let afterScripts: Set<String> = [RuncmdAction.type]
    /// Keys that are about merging, read by the merge itself (`merge_type` stays when `merge_how` is there, as in cloud-init).
    static let mergeKeys: Set<String> = ["merge_how", "merge_type"]

    /// One part's mapping, how its problems name it, and its `Merge-Type` header.
    struct Part {
        let mapping: Node.Mapping
        let source: String
        var mergeHeader: String?
    }

    /// The merged document, as cloud-init's cloud-config handler merges the parts in order
    /// (`CloudConfigMerge`): each top-level key with its value and the last part that changed it.
    static func merge(_ parts: [Part]) throws(YAMLProblem) -> [(key: Node, value: Node, source: String)] {
        var buffer = Node.Mapping([])
        var sources: [Node: String] = [:]
        for part in parts {
            var mapping = part.mapping
            var mergers: [CloudConfigMerge.Merger] = []
            do {
                // As cloud-init: merge_how is taken out, else merge_type; then the header's.
                if let how = mapping["merge_how"] ?? mapping["merge_type"] {
                    mapping[mapping["merge_how"] != nil ? "merge_how" : "merge_type"] = nil
                    mergers = try CloudConfigMerge.parse(how)
                }
                if let header = part.mergeHeader { mergers += try CloudConfigMerge.parse(header) }
            } catch {
                throw YAMLProblem(source: part.source, mark: mapping.mark, message: "merge_how: \(error)")
            }
            let merger = mergers.isEmpty ? CloudConfigMerge.standard : CloudConfigMerge(mergers: mergers)
            let before = buffer
            buffer = merger.merge(.mapping(buffer), .mapping(mapping)).mapping ?? buffer
            for (key, value) in buffer where before[key] != value { sources[key] = part.source }
        }
        return buffer.map { ($0.key, $0.value, sources[$0.key] ?? parts[0].source) }
    }

    struct Planned {
        var beforeScripts: [CloudAction] = []
        var afterScripts: [CloudAction] = []
        var unsupported: [YAMLProblem] = []
        var problems: [YAMLProblem] = []
    }

    /// The modules' actions (`type:` and `frequency:` added to their keys), and the keys no module takes.
    static func plan(_ parts: [Part]) -> Planned {
        var planned = Planned()
        guard !parts.isEmpty else { return planned }
        let merged: [(key: Node, value: Node, source: String)]
        do { merged = try merge(parts) } catch {
            planned.problems.append(error)
            return planned
        }
        let known = Set(modules.flatMap { $0.cloudConfigKeys } + mappings.map(\.key)).union(mergeKeys)
        for entry in merged where ["write_files", "write_files_deferred"].contains(entry.key.string ?? "") {
            planned.unsupported += FileWriting.schemaWarnings(entry.value, key: entry.key.string ?? "", source: entry.source)
        }
        for entry in merged where !known.contains(entry.key.string ?? "") {
            let key = entry.key.string ?? "?"
            planned.unsupported.append(YAMLProblem(source: entry.source, mark: entry.key.mark, message:
                "\(key) is not supported by ec2-boot-init; ignored" + Suggestion.hint(key, among: known.sorted())))
        }
        for module in modules {
            defer { if module.type == mappedAfter { planned.beforeScripts += mapped(merged, problems: &planned) } }
            let mine = merged.filter { module.cloudConfigKeys.contains($0.key.string ?? "") }
            guard let node = action(module, Node.Mapping(mine.map { ($0.key, $0.value) }), mark: mine.first?.key.mark) else { continue }
            let entry = CloudAction(node: node, source: mine.first?.source ?? parts[0].source)
            if afterScripts.contains(module.type) { planned.afterScripts.append(entry) } else { planned.beforeScripts.append(entry) }
        }
        return planned
    }

    /// The actions of `mappings` whose key is given; what does not map is reported as unsupported.
    private static func mapped(_ merged: [(key: Node, value: Node, source: String)], problems planned: inout Planned) -> [CloudAction] {
        var actions: [CloudAction] = []
        for mapping in mappings {
            guard let entry = merged.first(where: { $0.key.string == mapping.key }) else { continue }
            guard case .mapping(let value) = entry.value else {
                planned.problems.append(YAMLProblem(source: entry.source, mark: entry.key.mark,
                                                    message: "\(mapping.key): expected a mapping, found \(YAMLDocument.kind(entry.value))"))
                continue
            }
            let (params, unmapped) = mapping.translate(value)
            for key in unmapped {
                planned.unsupported.append(YAMLProblem(source: entry.source, mark: key.mark,
                                                       message: "\(mapping.key).\(key.string ?? "?") is not supported by ec2-boot-init's \(mapping.type); ignored"))
            }
            // cloud-init runs these once per instance (chef on every boot, but only to run it again: ours is a first boot).
            let pairs: [(Node, Node)] = [("type", .scalar(.init(mapping.type))), ("frequency", "per-instance")] + params
            actions.append(CloudAction(node: .mapping(Node.Mapping(pairs, .implicit, .block, entry.key.mark)), source: entry.source,
                                       keyPrefix: mapping.key + "."))
        }
        return actions
    }

    /// The module's action: its keys, adapted, with `type:` and `frequency:`; nil when it has nothing to do.
    private static func action<Module: CloudConfigModule>(_ module: Module.Type, _ keys: Node.Mapping, mark: Mark?) -> Node? {
        guard Module.applies(to: keys) else { return nil }
        var pairs: [(Node, Node)] = [("type", .scalar(.init(Module.type))), ("frequency", .scalar(.init(Module.frequency.rawValue)))]
        pairs += Module.adapt(keys).map { ($0.key, $0.value) }
        return .mapping(Node.Mapping(pairs, .implicit, .block, mark))
    }
}
