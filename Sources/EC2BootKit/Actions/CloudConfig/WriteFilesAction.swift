#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `write_files`: cloud-init's module, with its semantics: each entry's `path` (made absolute),
/// `content` decoded by `encoding`, or fetched from `source.uri`, `permissions` (default 0644),
/// `owner` (default root:root), `append`; entries with `defer: true` are left to
/// `write_files_deferred`, which runs after packages are installed. Written atomically (cloud-init
/// writes in place), parents made 0755.
public struct WriteFilesAction: CloudConfigModule {
    public static let type = "write_files"
    public static let frequency = ActionFrequency.perInstance
    static let cloudConfigKeys = ["write_files"]

    public static let schema = ActionSchema("Writes files (cloud-init's write_files; entries with defer: true wait for write_files_deferred).",
                                            example: """
        write_files:
          - path: /etc/motd.d/role
            content: web
            permissions: '0644'
            owner: root:root
        """, [
            .required("write_files", .mappings, "the files: path, content, source (uri, headers), encoding (b64, gzip, gz+b64), "
                      + "permissions (default 0644), owner (default root:root), append, defer"),
        ])

    public struct Params: Decodable, Sendable {
        public var write_files: [FileEntry]
    }

    public struct FileEntry: Decodable, Sendable {
        public struct Source: Decodable, Sendable {
            public var uri: String?
            public var headers: [String: String]?
        }

        public var path: String?
        public var content: String?
        public var source: Source?
        public var encoding: String?
        public var permissions: String?
        public var owner: String?
        var append: LooseBool?
        var `defer`: LooseBool?

        var deferred: Bool { self.defer?.value ?? false }
    }

    /// Planned unless every entry waits for write_files_deferred (a value of the wrong shape is planned, to be refused).
    static func applies(to keys: Node.Mapping) -> Bool {
        guard let value = keys["write_files"] else { return false }
        guard case .sequence(let list) = value else { return true }
        return list.contains { !isDeferred($0) }
    }

    static func adapt(_ keys: Node.Mapping) -> Node.Mapping { FileWriting.adaptEntries(keys) }

    static func warnings(_ value: Node, key: String, source: String) -> [YAMLProblem] {
        FileWriting.schemaWarnings(value, key: key, source: source)
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        await FileWriting.write(params.write_files.enumerated().filter { !$0.element.deferred }, context: context)
    }

    static func entries(_ keys: Node.Mapping) -> [Node] { keys["write_files"]?.sequence.map(Array.init) ?? [] }

    static func isDeferred(_ entry: Node) -> Bool {
        guard let flag = entry.mapping?["defer"] else { return false }
        return flag.bool ?? LooseBool.isTrue(flag.string ?? "")
    }
}
