#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// One part of user-data, as cloud-init's user-data processor splits it: a MIME multipart
/// message gives one part per leaf, anything else is one part; each part's type is read from
/// its first line when it has one of cloud-init's headers (`#cloud-config`, `#!`, …).
public struct UserDataPart: Sendable, Equatable {
    public var contentType: String
    /// The part's file name (its Content-Disposition's, else `part-001`, … as cloud-init names them).
    public var filename: String
    public var payload: Data
    /// A MIME part's `Merge-Type` header (how a cloud-config part merges into the ones before it).
    public var mergeType: String?
    /// An `#include` URL the fetch stage has not fetched yet (the part stands for it). An
    /// `#include` inside a `#cloud-config-archive` has none: cloud-init does not expand it.
    public var url: String?
    /// Its `Launch-Index` (a MIME header, an archive entry's `launch-index`): for one instance of a launch.
    public var launchIndex: String?

    public var text: String { String(decoding: payload, as: UTF8.self) }
}

public enum UserDataParts {
    /// Our own YAML (`facts:`, `actions:`): a user-data without any header, or a MIME part of this type.
    public static let ownType = "text/x-ec2-boot-init"
    /// What a part without a recognised header is, as cloud-init calls it.
    static let plain = "text/plain"

    /// cloud-init's headers, matched case-insensitively after leading whitespace, longest first.
    static let headers: [(prefix: String, type: String)] = [
        ("## template: jinja", "text/jinja2"),
        ("#cloud-config-archive", "text/cloud-config-archive"),
        ("#cloud-config-jsonp", "text/cloud-config-jsonp"),
        ("#cloud-boothook", "text/cloud-boothook"),
        ("#include-once", "text/x-include-once-url"),
        ("#part-handler", "text/part-handler"),
        ("#cloud-config", "text/cloud-config"),
        ("#include", "text/x-include-url"),
        ("#!", "text/x-shellscript"),
    ]

    /// Part types whose payload's header decides their type (a part sent as text/plain or as
    /// a script may start with `#cloud-config`), as cloud-init re-reads them.
    static let redetected: Set<String> = ["text/plain", "text/x-not-multipart", "text/x-shellscript"]

    /// Declared types that mean "gzip": the payload is inflated and its type read from its header.
    static let gzipTypes: Set<String> = [
        "application/gzip", "application/gzip-compressed", "application/gzipped", "application/x-compress",
        "application/x-compressed", "application/x-gunzip", "application/x-gzip", "application/x-gzip-compressed",
    ]

    /// The type a payload's first characters give it, or nil.
    static func detect(_ payload: Data) -> String? {
        let head = String(String(decoding: payload.prefix(4096), as: UTF8.self).lowercased().drop { $0.isWhitespace })
        return headers.first { head.hasPrefix($0.prefix) }?.type
    }

    /// What an `#include` URL gave when the fetch stage fetched it.
    public enum Included: Sendable, Equatable, Codable {
        case body(Data)
        case failed(String)
    }

    static let includeTypes: Set<String> = ["text/x-include-url", "text/x-include-once-url"]
    /// How deep included user-data may include more, and how many URLs in all.
    static let maxIncludeDepth = 8
    public static let maxIncludes = 64

    /// Splits user-data (already inflated) into its parts. `maxBytes` bounds each part's
    /// inflated payload; a malformed MIME message is a problem, not a guess. An `#include`'s
    /// URLs are replaced by the parts of what `included` has for them (cloud-init processes an
    /// included document as user-data of its own); one not fetched stays a part of its include
    /// type whose payload is the URL; one that failed is a problem, as it is to cloud-init.
    public static func split(_ data: Data, maxBytes: Int, source: String, included: [String: Included] = [:]) throws(YAMLProblem) -> [UserDataPart] {
        var parts: [UserDataPart] = []
        var budget = Budget(bytes: maxBytes)
        try add(data, to: &parts, budget: &budget, source: source, included: included, depth: 0)
        return parts
    }

    /// What the whole user-data may still expand to: its parts' bytes together (gzip parts and
    /// included documents count as inflated) within `user_data.max_bytes`, and at most
    /// `maxIncludes` URLs expanded in all, so repeated or nested includes stay bounded.
    struct Budget {
        var bytes: Int
        var includes = UserDataParts.maxIncludes

        mutating func spend(_ count: Int, source: String) throws(YAMLProblem) {
            bytes -= count
            guard bytes >= 0 else {
                throw YAMLProblem(source: source, mark: nil, message: "user-data's parts add up to more than user_data.max_bytes")
            }
        }
    }

    /// The parts for the instance of a launch whose metadata says `ami-launch-index` is `wanted`,
    /// as cloud-init's launch_index filter keeps them: a part without a Launch-Index (its header,
    /// an archive entry's `launch-index`, or a text/cloud-config part's own `launch-index:` key,
    /// the header winning) is for every instance; one with another index, or one that is not a
    /// number, for none. Without an index in the metadata every part is kept.
    public static func forLaunch(_ parts: [UserDataPart], wanted: Int?) -> [UserDataPart] {
        guard let wanted else { return parts }
        return parts.filter { part in
            guard let index = part.launchIndex ?? configLaunchIndex(part) else { return true }
            return Int(index.trimmingWhitespace(newlines: true)) == wanted
        }
    }

    /// A text/cloud-config part's top-level `launch-index:`; nil when it has none or is not YAML.
    static func configLaunchIndex(_ part: UserDataPart) -> String? {
        // Parsed here only when the key is in the text: the plan parses every part once anyway.
        guard part.contentType == "text/cloud-config", part.payload.firstRange(of: Data("launch-index".utf8)) != nil,
              case .mapping(let top)? = try? YAMLDocument.parse(part.text, source: "", maxNodes: 100_000, dialect: .python) else { return nil }
        return top["launch-index"].flatMap(YAMLDocument.scalarText)
    }

    /// The `#include` URLs of the user-data that `included` has nothing for yet, and whether each is `#include-once`.
    public static func pendingIncludes(_ data: Data, maxBytes: Int, included: [String: Included]) -> [(url: String, once: Bool)] {
        let parts = (try? split(data, maxBytes: maxBytes, source: "user-data", included: included)) ?? []
        return parts.compactMap { part in part.url.map { ($0, part.contentType.contains("once")) } }
    }

    private static func add(_ raw: Data, to parts: inout [UserDataPart], budget: inout Budget, source: String,
                            included: [String: Included], depth: Int) throws(YAMLProblem) {
        let maxBytes = max(budget.bytes, 0)
        let data = depth > 0 && Gzip.isCompressed(raw) ? try Gzip.inflate(raw, maxInflatedSize: maxBytes) : raw
        var leaves: [MIMEMessage.Leaf] = []
        // A gzip part is rebuilt keeping only its file name and Launch-Index, as cloud-init's
        // _process_msg rebuilds it: its Merge-Type is not applied.
        if MIMEMessage.isMIME(data) {
            leaves = try MIMEMessage.parse(data, source: source).leaves(source: source)
        } else {
            leaves = [MIMEMessage.Leaf(type: detect(data) ?? (depth == 0 ? ownType : "text/x-not-multipart"), filename: nil, body: data)]
        }
        for leaf in leaves {
            var type = leaf.type
            var payload = leaf.body
            var mergeType = leaf.mergeType
            if gzipTypes.contains(type) {
                payload = try Gzip.inflate(payload, maxInflatedSize: maxBytes)
                type = plain
                mergeType = nil
            }
            if redetected.contains(type), let found = detect(payload) { type = found }
            if type == "text/cloud-config-archive" {
                for entry in try CloudConfigArchive.entries(payload, source: source) {
                    try budget.spend(entry.payload.count, source: source)
                    parts.append(UserDataPart(contentType: entry.type, filename: entry.filename ?? name(parts.count), payload: entry.payload,
                                              mergeType: entry.mergeType, launchIndex: entry.launchIndex))
                }
            } else if includeTypes.contains(type) {
                try include(payload, type: type, to: &parts, budget: &budget, source: source, included: included, depth: depth)
            } else {
                if depth > 0 || leaves.count > 1 { try budget.spend(payload.count, source: source) }
                parts.append(UserDataPart(contentType: type, filename: leaf.filename ?? name(parts.count), payload: payload,
                                          mergeType: mergeType, launchIndex: leaf.launchIndex))
            }
            guard parts.count <= MIMEMessage.maxParts else {
                throw YAMLProblem(source: source, mark: nil, message: "user-data has more than \(MIMEMessage.maxParts) parts")
            }
        }
    }

    private static func include(_ payload: Data, type: String, to parts: inout [UserDataPart], budget: inout Budget, source: String,
                                included: [String: Included], depth: Int) throws(YAMLProblem) {
        for (url, once) in includeURLs(String(decoding: payload, as: UTF8.self)) {
            budget.includes -= 1
            guard budget.includes >= 0 else {
                throw YAMLProblem(source: source, mark: nil, message: "#include: more than \(maxIncludes) URLs in all")
            }
            switch included[url] {
            case .body(let body)?:
                guard depth < maxIncludeDepth else {
                    throw YAMLProblem(source: source, mark: nil, message: "#include: included user-data nests deeper than \(maxIncludeDepth) levels")
                }
                try add(body, to: &parts, budget: &budget, source: "\(source) (#include \(shown(url)))",
                        included: included, depth: depth + 1)
            case .failed(let reason)?:
                throw YAMLProblem(source: source, mark: nil, message: "#include \(shown(url)): \(reason)")
            case nil:
                let kind = once ? "text/x-include-once-url" : "text/x-include-url"
                parts.append(UserDataPart(contentType: kind, filename: name(parts.count), payload: Data(url.utf8), url: url))
            }
        }
    }

    /// A URL for messages: without what may be a secret in it (a presigned query, a password).
    static func shown(_ url: String) -> String { URL(string: url)?.redacted ?? "<url>" }

    /// An include part's URLs as cloud-init's `_do_include` reads them: `#include` and
    /// `#include-once` lines switch the mode (a URL may follow on the same line), other `#`
    /// lines are comments, blank lines are skipped.
    static func includeURLs(_ text: String) -> [(url: String, once: Bool)] {
        var once = false
        var urls: [(String, Bool)] = []
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            var line = String(raw)
            if line.lowercased().hasPrefix("#include-once") {
                line = String(line.dropFirst("#include-once".count).drop { $0.isWhitespace })
                once = true
            } else if line.lowercased().hasPrefix("#include") {
                line = String(line.dropFirst("#include".count).drop { $0.isWhitespace })
                once = false
            }
            if line.hasPrefix("#") { continue }
            let url = line.trimmingWhitespace(newlines: true)
            if !url.isEmpty { urls.append((url, once)) }
        }
        return urls
    }

    /// cloud-init's name for the part at `index` that has none of its own.
    static func name(_ index: Int) -> String { "part-" + NumberText.padded(index + 1, 3) }
}
