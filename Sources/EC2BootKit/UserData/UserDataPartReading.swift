import Foundation
import Yams

/// Each part's meaning, by its type, as cloud-init's handlers give it.
extension UserData {
    /// Script part types in the order cloud-init's final stage runs them (scripts_per_once,
    /// scripts_per_boot, scripts_per_instance, scripts_user), and how often (per-once: once per machine).
    static let scriptTypes: [(type: String, frequency: ActionFrequency, once: Bool)] = [
        ("text/x-shellscript-per-once", .perInstance, true),
        ("text/x-shellscript-per-boot", .perBoot, false),
        ("text/x-shellscript-per-instance", .perInstance, false),
        ("text/x-shellscript", .perInstance, false),
    ]

    mutating func readParts(multipart: Bool, source: String, limits: UserDataSettings) {
        var cloudConfig: [CloudConfig.Part] = []
        var boothooks: [CloudAction] = []
        var scripts: [[CloudAction]] = Self.scriptTypes.map { _ in [] }
        for part in parts {
            let label = multipart || parts.count > 1 ? "\(source) (\(part.filename))" : source
            switch part.contentType {
            case UserDataParts.ownType, "text/x-not-multipart":
                readOwn(part, source: label, limits: limits)
            case "text/cloud-config":
                if let mapping = readCloudConfig(part, source: label, limits: limits) { cloudConfig.append(CloudConfig.Part(mapping: mapping, source: label, mergeHeader: part.mergeType)) }
            case "text/cloud-boothook":
                boothooks.append(CloudAction(node: Self.script(part, frequency: .perBoot, once: false), source: label))
            case let type where Self.scriptTypes.contains { $0.type == type }:
                for (kind, script) in Self.scriptTypes.enumerated() where script.type == type {
                    scripts[kind].append(CloudAction(node: Self.script(part, frequency: script.frequency, once: script.once), source: label))
                }
            case let type where UserDataParts.includeTypes.contains(type):
                passedOver.append("#include \(UserDataParts.shown(part.text)): not fetched here (a boot's fetch stage fetches it)")
            default:
                passedOver.append("\(part.filename) (\(part.contentType)): no handler for this type; passed over")
            }
        }
        if parts.count == 1, parts[0].contentType == "text/x-shellscript" { content = .script(parts[0].text) }
        if case .empty = content, !parts.isEmpty { content = .cloudInit }
        let planned = CloudConfig.plan(cloudConfig)
        unsupported += planned.unsupported
        problems += planned.problems
        cloudActions = boothooks + planned.beforeScripts + scripts.joined() + planned.afterScripts
    }

    /// A script part as a `script` action.
    static func script(_ part: UserDataPart, frequency: ActionFrequency, once: Bool) -> Node {
        var pairs: [(Node, Node)] = [("type", "script"), ("frequency", .scalar(.init(frequency.rawValue))),
                                     ("name", .scalar(.init(part.filename, Tag(.str), .singleQuoted))),
                                     ("content", .scalar(.init(part.text, Tag(.str), .literal)))]
        if once { pairs.append(("once", "true")) }
        return .mapping(Node.Mapping(pairs))
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
            guard let node = try YAMLDocument.parse(part.text, source: source, maxNodes: limits.maxNodes, rubySymbols: false) else { return nil }
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
