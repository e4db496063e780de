#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// The instance metadata as leaf paths (`placement/availability-zone`) and their values.
public struct MetadataTree: Sendable, Equatable {
    public var leaves: [String: String]

    public init(leaves: [String: String] = [:]) {
        self.leaves = leaves
    }

    /// The Ruby tool's flat view: path parts joined with `_`, `-` as `_`, and a multi-line
    /// value split into `key_0`, `key_1`, … Characters outside `[A-Za-z0-9_:.]` become `_`
    /// too, so a key read from the network cannot break a `key=value` line.
    public func flattened() -> [String: String] {
        var flat: [String: String] = [:]
        for (path, value) in leaves {
            let key = Self.flatKey(path)
            var text = value
            if text.hasSuffix("\r\n") { text.removeLast(2) } else if text.hasSuffix("\n") { text.removeLast() }
            if text.contains("\n") {
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                while lines.last?.isEmpty == true { lines.removeLast() }
                for (index, line) in lines.enumerated() { flat["\(key)_\(index)"] = String(line) }
            } else {
                flat[key] = text
            }
        }
        return flat
    }

    public static func flatKey(_ path: String) -> String {
        Facts.safeName(String(String.UnicodeScalarView(path.unicodeScalars.map { $0 == "-" || $0 == "/" ? "_" : $0 })))
    }

    /// Leaves that hold credentials: kept out of facts, MOTD and logs whatever the config says.
    public static func isSecret(_ path: String) -> Bool {
        path.split(separator: "/").contains("security-credentials")
    }

    /// The region: `placement/region` when IMDS has it, else the zone without its letter.
    public var region: String? {
        if let region = leaves["placement/region"], !region.isEmpty { return region }
        guard var zone = leaves["placement/availability-zone"], !zone.isEmpty else { return nil }
        zone.removeLast()
        return zone
    }

    // MARK: nested JSON (meta-data.json)

    /// The tree as nested JSON objects with string leaves, keys sorted.
    public func nestedJSON() throws -> Data {
        var root = JSONTree.folder([:])
        for (path, value) in leaves {
            root.insert(path.split(separator: "/").map(String.init)[...], value: value)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(root)
    }

    /// Reads nested JSON; numbers and booleans become their text, lists become lines.
    public init(nestedJSON data: Data) throws {
        guard case .folder(let top) = try JSONDecoder().decode(JSONTree.self, from: data) else {
            throw SourceUnavailable("metadata JSON is not an object")
        }
        var leaves: [String: String] = [:]
        Self.collect(top, prefix: "", into: &leaves)
        self.leaves = leaves
    }

    private static func collect(_ folder: [String: JSONTree], prefix: String, into leaves: inout [String: String]) {
        for (key, value) in folder where MetadataPath.isSafeName(key) {
            let path = prefix.isEmpty ? key : prefix + "/" + key
            switch value {
            case .folder(let children): collect(children, prefix: path, into: &leaves)
            case .leaf(let text): leaves[path] = text
            }
        }
    }
}

/// The metadata tree as JSON: an object per folder, a string per leaf.
enum JSONTree: Codable {
    case leaf(String)
    case folder([String: JSONTree])

    mutating func insert(_ parts: ArraySlice<String>, value: String) {
        guard let first = parts.first else { self = .leaf(value); return }
        guard case .folder(var children) = self else { return }  // a leaf and a folder clash: the leaf stays
        var child = children[first] ?? .folder([:])
        child.insert(parts.dropFirst(), value: value)
        children[first] = child
        self = .folder(children)
    }

    init(from decoder: Decoder) throws {
        if let object = try? decoder.container(keyedBy: AnyCodingKey.self) {
            var children: [String: JSONTree] = [:]
            for key in object.allKeys { children[key.stringValue] = try object.decode(JSONTree.self, forKey: key) }
            self = .folder(children)
        } else if var list = try? decoder.unkeyedContainer() {
            var lines: [String] = []
            while !list.isAtEnd {
                guard case .leaf(let line) = try list.decode(JSONTree.self) else {
                    throw DecodingError.dataCorruptedError(in: list, debugDescription: "a list may hold only values")
                }
                lines.append(line)
            }
            self = .leaf(lines.joined(separator: "\n"))
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() { self = .leaf("") }
            else if let text = try? value.decode(String.self) { self = .leaf(text) }
            else if let flag = try? value.decode(Bool.self) { self = .leaf(flag ? "true" : "false") }
            else if let whole = try? value.decode(Int64.self) { self = .leaf(String(whole)) }
            else { self = .leaf(String(try value.decode(Double.self))) }
        }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .leaf(let text): try container.encode(text)
        case .folder(let children): try container.encode(children)
        }
    }
}

/// Names that are safe as a path part in the cache folder.
public enum MetadataPath {
    /// Not empty, not `.` or `..`, no `/`, no control characters, at most 255 bytes.
    public static func isSafeName(_ name: String) -> Bool {
        guard !name.isEmpty, name != ".", name != "..", name.utf8.count <= 255 else { return false }
        return !name.unicodeScalars.contains { $0 == "/" || $0.value < 0x20 || $0.value == 0x7f }
    }

    /// A name fit for a log line: control characters escaped, length cut.
    public static func printable(_ name: String) -> String { Printable.escape(name) }
}
