#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `#cloud-config-archive`: a YAML list of parts, each a string (its content) or a mapping
/// with `content`, `type` (read from the content's header when absent; else text/cloud-config)
/// and `filename` (and a `Merge-Type`), as cloud-init's `_explode_archive` reads it.
enum CloudConfigArchive {
    struct Entry {
        let type: String
        let filename: String?
        let payload: Data
        /// A `Merge-Type` key, which cloud-init makes a header of the part like any other key.
        var mergeType: String?
        /// Its `launch-index` key, which becomes the part's `Launch-Index`.
        var launchIndex: String?
    }

    /// At most this many entries (the MIME reader's bound on parts).
    static let maxEntries = MIMEMessage.maxParts

    static func entries(_ payload: Data, source: String) throws(YAMLProblem) -> [Entry] {
        let text = String(decoding: payload, as: UTF8.self)
        guard let node = try YAMLDocument.parse(text, source: source, maxNodes: 100_000, dialect: .python) else { return [] }
        guard case .sequence(let list) = node else {
            throw YAMLProblem(source: source, mark: node.mark, message: "cloud-config-archive: expected a list of parts, found \(YAMLDocument.kind(node))")
        }
        guard list.count <= maxEntries else {
            throw YAMLProblem(source: source, mark: node.mark, message: "cloud-config-archive: more than \(maxEntries) parts")
        }
        return try list.map { item throws(YAMLProblem) in
            if case .scalar = item {
                let content = Data((YAMLDocument.scalarText(item) ?? "").utf8)
                return Entry(type: UserDataParts.detect(content) ?? "text/cloud-config", filename: nil, payload: content)
            }
            guard case .mapping(let entry) = item else {
                throw YAMLProblem(source: source, mark: item.mark, message: "cloud-config-archive: a part is a string or a mapping")
            }
            let content = Data((entry["content"].flatMap(YAMLDocument.scalarText) ?? "").utf8)
            let declared = entry["type"].flatMap(YAMLDocument.scalarText)
            let type = declared.flatMap { $0.isEmpty ? nil : $0 } ?? UserDataParts.detect(content) ?? "text/cloud-config"
            let merge = entry.first { ["merge-type", "x-merge-type"].contains(($0.key.string ?? "").lowercased()) }?.value
            return Entry(type: type, filename: entry["filename"].flatMap(YAMLDocument.scalarText), payload: content,
                         mergeType: merge.flatMap(YAMLDocument.scalarText), launchIndex: entry["launch-index"].flatMap(YAMLDocument.scalarText))
        }
    }
}
