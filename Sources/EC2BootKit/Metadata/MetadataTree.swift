import Foundation

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
        Facts.safeName(path.replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: "/", with: "_"))
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
        var root = TreeNode()
        for (path, value) in leaves {
            root.insert(path.split(separator: "/").map(String.init)[...], value: value)
        }
        return try JSONSerialization.data(withJSONObject: root.object, options: [.sortedKeys, .prettyPrinted])
    }

    /// Reads nested JSON; numbers and booleans become their text, lists become lines.
    public init(nestedJSON data: Data) throws {
        let object = try JSONSerialization.jsonObject(with: data)
        guard let dictionary = object as? [String: Any] else {
            throw SourceUnavailable("metadata JSON is not an object")
        }
        var leaves: [String: String] = [:]
        Self.collect(dictionary, prefix: "", into: &leaves)
        self.leaves = leaves
    }

    private static func collect(_ dictionary: [String: Any], prefix: String, into leaves: inout [String: String]) {
        for (key, value) in dictionary {
            guard MetadataPath.isSafeName(key) else { continue }
            let path = prefix.isEmpty ? key : prefix + "/" + key
            switch value {
            case let nested as [String: Any]: collect(nested, prefix: path, into: &leaves)
            case let list as [Any]: leaves[path] = list.map { "\($0)" }.joined(separator: "\n")
            case let text as String: leaves[path] = text
            case is NSNull: leaves[path] = ""
            case let number as NSNumber: leaves[path] = number.stringValue
            default: leaves[path] = "\(value)"
            }
        }
    }

    private struct TreeNode {
        var value: String?
        var children: [String: TreeNode] = [:]

        mutating func insert(_ parts: ArraySlice<String>, value: String) {
            guard let first = parts.first else { self.value = value; return }
            children[first, default: TreeNode()].insert(parts.dropFirst(), value: value)
        }

        var object: Any {
            if children.isEmpty { return value ?? "" }
            return children.mapValues(\.object)
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
    public static func printable(_ name: String) -> String {
        let escaped = name.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "\\x\(String($0.value, radix: 16))" : String($0) }
            .joined()
        return escaped.count > 80 ? String(escaped.prefix(80)) + "…" : escaped
    }
}
