
/// `#cloud-config` parts: merged as cloud-init merges them (by default `dict(replace)`: a later
/// part's top-level key replaces an earlier one's; `merge_how` and `Merge-Type` as cloud-init
/// reads them, see `CloudConfigMerge`), then turned into the actions of the modules
/// we implement, in the order of cloud-init's stages (`CloudInitModules`), the user-data's
/// scripts among them (`ScriptFolders`); every other key is reported, never silently dropped.
enum CloudConfig {
    /// The modules we carry out (each runs where its cloud-init module stands in `CloudInitModules`).
    static let modules: [any CloudConfigModule.Type] = [
        BootcmdAction.self, WriteFilesAction.self, GrowpartAction.self, MountsAction.self, HostnameAction.self, UsersGroupsAction.self, HostKeysAction.self, SSHKeysAction.self,
        PackagesAction.self, WriteFilesDeferredAction.self, RuncmdAction.self,
    ]
    /// cloud-config keys given to our built-in actions (cloud-init's final stage runs these modules).
    static let mappings: [CloudConfigMapping] = [.puppet, .chef, .mcollective]
    /// The cloud-init modules whose work ec2-boot-init does: the modules', the mappings', the script folders'.
    static let carried = Set(modules.flatMap { $0.cloudInitModules } + mappings.map(\.key) + ScriptFolders.Folder.allCases.map(\.rawValue))
    /// The keys naming the stages' module lists, read by `CloudInitModules`.
    static let stageKeys = Set(CloudInitModules.stages.map(\.key))
    /// Keys that are about merging, read by the merge itself (`merge_type` stays when `merge_how` is there, as in cloud-init).
    static let mergeKeys: Set<String> = ["merge_how", "merge_type"]
    /// Keys of the user-data itself, read before any module (`launch-index`: see `UserDataParts.forLaunch`).
    static let userDataKeys: Set<String> = ["launch-index"]

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
        var actions: [CloudAction] = []
        var unsupported: [YAMLProblem] = []
        var problems: [YAMLProblem] = []
        /// What runs differently than asked, as cloud-init would too (a module left out of its stage's list).
        var notes: [String] = []
    }

    /// The modules' actions (`type:` and `frequency:` added to their keys) and the user-data's
    /// scripts, in the order of cloud-init's stages; the keys no module takes are reported.
    static func plan(_ parts: [Part], scripts: ScriptFolders) -> Planned {
        var planned = Planned()
        var merged: [(key: Node, value: Node, source: String)] = []
        do { merged = try parts.isEmpty ? [] : merge(parts) } catch {
            planned.problems.append(error)
            return planned
        }
        reportUnknownKeys(merged, into: &planned)
        let (entries, notes) = CloudInitModules.resolve(merged, carried: carried)
        planned.unsupported += notes
        var folders = scripts
        var placed: Set<String> = []
        for entry in entries {
            // The modules act on a cloud-config: without one, only the scripts run (ssh too runs only for a cloud-config).
            for module in modules where !parts.isEmpty && module.cloudInitModules.contains(entry.name) && !placed.contains(module.type) {
                placed.insert(module.type)
                let mine = given(module, merged)
                let frequency = runFrequency(module.frequency, names: module.cloudInitModules, entries: entries, planned: &planned)
                guard let node = action(module, mine.keys, frequency: frequency, mark: mine.keys.first?.key.mark) else { continue }
                let source = mine.source ?? parts.first?.source ?? "user-data"
                // runcmd's module writes its script; scripts_user runs it, among the user's scripts.
                if module.type == RuncmdAction.type { folders.addRuncmd(node.mapping ?? [:], source: source) } else {
                    planned.actions.append(CloudAction(node: node, source: source))
                }
            }
            if let mapping = mappings.first(where: { $0.key == entry.name }) {
                let frequency = runFrequency(.perInstance, names: [mapping.key], entries: entries, planned: &planned)
                planned.actions += mapped(mapping, merged, frequency: frequency, problems: &planned)
            }
            if let folder = ScriptFolders.Folder(rawValue: entry.name) {
                planned.actions += folders.sorted(folder).map { script(name: $0.name, file: $0.file, entry: entry) }
            }
        }
        noteLeftOut(merged, placed: placed, scripts: folders, entries: entries, into: &planned)
        return planned
    }

    /// The top-level keys no module of ours takes, each with its line (and a likely meant key).
    private static func reportUnknownKeys(_ merged: [(key: Node, value: Node, source: String)], into planned: inout Planned) {
        let known = Set(modules.flatMap { $0.cloudConfigKeys } + mappings.map(\.key)).union(mergeKeys).union(stageKeys).union(userDataKeys)
        for entry in merged {
            let key = entry.key.string ?? ""
            for module in modules where module.cloudConfigKeys.contains(key) {
                planned.unsupported += module.warnings(entry.value, key: key, source: entry.source)
            }
        }
        for entry in merged where !known.contains(entry.key.string ?? "") {
            let key = entry.key.string ?? "?"
            planned.unsupported.append(YAMLProblem(source: entry.source, mark: entry.key.mark, message:
                "\(key) is not supported by ec2-boot-init; ignored" + Suggestion.hint(key, among: known.sorted())))
        }
    }

    /// How often a module of ours runs: its own frequency unless a stage's list gives one to any
    /// of its cloud-init modules; then the most frequent of theirs (`once` is per instance here).
    private static func runFrequency(_ own: ActionFrequency, names: [String], entries: [CloudInitModules.Entry],
                                     planned: inout Planned) -> ActionFrequency {
        let listed = entries.filter { names.contains($0.name) }
        guard listed.contains(where: { $0.frequency != nil }) else { return own }
        let given = listed.map { $0.frequency ?? CloudInitModules.frequencies[$0.name] ?? .perInstance }
        if given.contains(.once) {
            planned.notes.append("\(names[0]): frequency once (once per machine) is once per instance for this module here")
        }
        return given.contains(.always) ? .perBoot : .perInstance
    }

    /// One file of a script folder as the action that runs it, at the frequency of the module running the folder.
    private static func script(name: String, file: ScriptFolders.File, entry: CloudInitModules.Entry) -> CloudAction {
        let frequency = entry.frequency ?? CloudInitModules.frequencies[entry.name] ?? .perInstance
        var node = file.node
        node["frequency"] = .scalar(.init(frequency == .always ? ActionFrequency.perBoot.rawValue : ActionFrequency.perInstance.rawValue))
        if frequency == .once {
            node["once"] = "true"  // a script's or runcmd's: cloud-init's once semaphore
            // Known by name in its folder: another folder's file of the same name is another script.
            if entry.name != ScriptFolders.Folder.perOnce.rawValue, node["type"]?.string == ScriptAction.type {
                node["name"] = .scalar(.init(entry.name + "/" + name))
            }
        }
        return CloudAction(node: .mapping(node), source: file.source)
    }

    /// The top-level keys of the merged cloud-config that `module` reads, and the part that gave the first.
    private static func given(_ module: any CloudConfigModule.Type, _ merged: [(key: Node, value: Node, source: String)])
        -> (keys: Node.Mapping, source: String?) {
        let mine = merged.filter { module.cloudConfigKeys.contains($0.key.string ?? "") }
        return (Node.Mapping(mine.map { ($0.key, $0.value) }), mine.first?.source)
    }

    /// What the user-data gives that a stage's list leaves out: said, as cloud-init would run none of it.
    private static func noteLeftOut(_ merged: [(key: Node, value: Node, source: String)], placed: Set<String>, scripts: ScriptFolders,
                                    entries: [CloudInitModules.Entry], into planned: inout Planned) {
        let names = Set(entries.map(\.name))
        for module in modules where !merged.isEmpty && !placed.contains(module.type) && module.applies(to: given(module, merged).keys) {
            planned.notes.append("\(module.cloudInitModules[0]) is in none of the stages' module lists: not run (as in cloud-init)")
        }
        for mapping in mappings where !names.contains(mapping.key) && merged.contains(where: { $0.key.string == mapping.key }) {
            planned.notes.append("\(mapping.key) is in none of the stages' module lists: not run (as in cloud-init)")
        }
        for folder in ScriptFolders.Folder.allCases where !names.contains(folder.rawValue) && !scripts.sorted(folder).isEmpty {
            planned.notes.append("\(folder.rawValue) is in none of the stages' module lists: its scripts (\(scripts.sorted(folder).map(\.name).joined(separator: ", "))) do not run (as in cloud-init)")
        }
    }

    /// The built-in action a mapping's key gives, when given; what does not map is reported as unsupported.
    private static func mapped(_ mapping: CloudConfigMapping, _ merged: [(key: Node, value: Node, source: String)], frequency: ActionFrequency,
                               problems planned: inout Planned) -> [CloudAction] {
        guard let entry = merged.first(where: { $0.key.string == mapping.key }) else { return [] }
        guard case .mapping(let value) = entry.value else {
            planned.problems.append(YAMLProblem(source: entry.source, mark: entry.key.mark,
                                                message: "\(mapping.key): expected a mapping, found \(YAMLDocument.kind(entry.value))"))
            return []
        }
        let (params, unmapped) = mapping.translate(value)
        for key in unmapped {
            planned.unsupported.append(YAMLProblem(source: entry.source, mark: key.mark,
                                                   message: "\(mapping.key).\(key.string ?? "?") is not supported by ec2-boot-init's \(mapping.type); ignored"))
        }
        // Once per instance unless a list says otherwise (cloud-init's chef runs every boot, but only to run it again: ours is a first boot).
        let pairs: [(Node, Node)] = [("type", .scalar(.init(mapping.type))), ("frequency", .scalar(.init(frequency.rawValue)))] + params
        return [CloudAction(node: .mapping(Node.Mapping(pairs, Tag(.map), .block, entry.key.mark)), source: entry.source,
                            keyPrefix: mapping.key + ".")]
    }

    /// The module's action: its keys, adapted, with `type:` and `frequency:`; nil when it has nothing to do.
    private static func action<Module: CloudConfigModule>(_ module: Module.Type, _ keys: Node.Mapping, frequency: ActionFrequency,
                                                          mark: Mark?) -> Node? {
        guard Module.applies(to: keys) else { return nil }
        var pairs: [(Node, Node)] = [("type", .scalar(.init(Module.type))), ("frequency", .scalar(.init(frequency.rawValue)))]
        pairs += Module.adapt(keys).map { ($0.key, $0.value) }
        return .mapping(Node.Mapping(pairs, Tag(.map), .block, mark))
    }
}
