#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Each part's meaning, by its type, as cloud-init's handlers give it.
extension UserData {
    mutating func readParts(multipart: Bool, source: String, limits: UserDataSettings) {
        var cloudConfig: [CloudConfig.Part] = []
        var boothooks: [CloudAction] = []
        var scripts = ScriptFolders()
        for part in parts {
            let label = multipart || parts.count > 1 ? "\(source) (\(part.filename))" : source
            switch part.contentType {
            case UserDataParts.ownType, "text/x-not-multipart":
                readOwn(part, source: label, limits: limits)
            case "text/cloud-config":
                if let mapping = readCloudConfig(part, source: label, limits: limits) { cloudConfig.append(CloudConfig.Part(mapping: mapping, source: label, mergeHeader: part.mergeType)) }
            case "text/cloud-boothook":
                let node = Self.boothook(part)
                boothooks.append(CloudAction(node: .mapping(node), source: label))
                if let warning = Self.boothookWarning(node["content"]?.string ?? "") {
                    unsupported.append(YAMLProblem(source: label, mark: nil, message: warning))
                }
            case let type where ScriptFolders.types[type] != nil:
                let folder = ScriptFolders.types[type] ?? .user
                scripts.add(part, to: folder, source: label)
                if folder == .perOnce {
                    // Where we differ on purpose (docs/cloud-init.md): a warning, so --strict names it.
                    unsupported.append(YAMLProblem(source: label, mark: nil, message: "\(ScriptFolders.cleanName(part.filename)) (per-once): runs "
                        + "once on this machine by its name; cloud-init runs its per-once folder once per machine, whatever it holds then, "
                        + "so a new name on a later instance runs here and not in cloud-init"))
                }
            case _ where part.url != nil:
                passedOver.append("#include \(UserDataParts.shown(part.url ?? "")): not fetched here (a boot's fetch stage fetches it)")
            default:
                passedOver.append("\(part.filename) (\(part.contentType)): no handler for this type; passed over")
            }
        }
        if parts.count == 1, parts[0].contentType == "text/x-shellscript" { content = .script(parts[0].text) }
        if case .empty = content, !parts.isEmpty { content = .cloudInit }
        let planned = CloudConfig.plan(cloudConfig, scripts: scripts)
        unsupported += planned.unsupported
        problems += planned.problems
        passedOver += planned.notes
        cloudActions = boothooks + planned.actions
    }

    /// A boothook part as a `script` action run on every boot (cloud-init's handler runs it as the part is consumed).
    static func boothook(_ part: UserDataPart) -> Node.Mapping {
        var node = ScriptFolders.script(part)
        node["frequency"] = .scalar(.init(ActionFrequency.perBoot.rawValue))
        return node
    }

    /// What a boothook does not do as its author may think, said before it runs.
    static func boothookWarning(_ content: String) -> String? {
        guard let body = ScriptAction.boothookBody(content) else {
            return content.hasPrefix("#!") ? nil : "the boothook does not start with #cloud-boothook or #! (it fails, as in cloud-init)"
        }
        if body.isEmpty { return "the boothook has nothing to run after its #cloud-boothook line (it fails)" }
        return body.hasPrefix("#!") ? nil : "the boothook has no #! after its header: /bin/sh runs it here (cloud-init fails to run it)"
    }

    private mutating func readOwn(_ part: UserDataPart, source: String, limits: UserDataSettings) {
        do {
            guard let node = try YAMLDocument.parse(part.text, source: source, maxNodes: limits.maxNodes) else { return }
            if case .empty = content { content = .document(node) }
            read(node, source: source)
        } catch {
            problems.append(error)
        }
    }

    private mutating func readCloudConfig(_ part: UserDataPart, source: String, limits: UserDataSettings) -> Node.Mapping? {
        do {
            // Parsed as YAML, without the Ruby dialect: `:name` means nothing special to cloud-init.
            guard let node = try YAMLDocument.parse(part.text, source: source, maxNodes: limits.maxNodes, dialect: .python) else { return nil }
            if case .scalar = node, YAMLDocument.scalarText(node) == nil { return nil }
            guard case .mapping(let mapping) = node else {
                // cloud-init loads it, finds no mapping and goes on without it (its own archive example has such parts).
                passedOver.append("\(part.filename) (text/cloud-config): \(YAMLDocument.kind(node)), not a mapping of modules; passed over")
                return nil
            }
            return mapping
        } catch {
            problems.append(error)
        }
        return nil
    }
}
