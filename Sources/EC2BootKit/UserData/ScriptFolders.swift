#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// cloud-init's script folders, as its part handlers fill them and its final stage runs them:
/// each script part is written under its file name (cleaned as `util.clean_filename` cleans it;
/// a later part of the same name replaces the earlier one; an unnamed part is part-001, …),
/// runcmd's script is the file `runcmd` beside the user's scripts, and each folder runs sorted
/// by name (`runparts`, in code point order: `01-disks.sh`, `Join.sh`, `node-init.sh`, `runcmd`).
struct ScriptFolders {
    /// The folders, each run by the final-stage module of this name.
    enum Folder: String, CaseIterable, Sendable {
        case perOnce = "scripts_per_once"
        case perBoot = "scripts_per_boot"
        case perInstance = "scripts_per_instance"
        case user = "scripts_user"
    }

    /// The part types cloud-init writes into each folder.
    static let types: [String: Folder] = [
        "text/x-shellscript": .user, "text/x-shellscript-per-boot": .perBoot,
        "text/x-shellscript-per-instance": .perInstance, "text/x-shellscript-per-once": .perOnce,
    ]

    /// One file: its action's keys without `frequency:` (the module running the folder gives it).
    struct File {
        let node: Node.Mapping
        let source: String
    }

    private var files: [Folder: [String: File]] = [:]

    /// A script part, into its folder (replacing one of the same name).
    mutating func add(_ part: UserDataPart, to folder: Folder, source: String) {
        let node = Self.script(part)
        files[folder, default: [:]][node["name"]?.string ?? ""] = File(node: node, source: source)
    }

    /// A script part (or a boothook) as a `script` action's keys, as cloud-init's handlers write
    /// the file: named by its cleaned file name, CRLF made LF when its first line ends so (`dos2unix`).
    static func script(_ part: UserDataPart) -> Node.Mapping {
        let text = String(decoding: dos2unix(part.payload), as: UTF8.self)
        return Node.Mapping([("type", .scalar(.init(ScriptAction.type))), ("name", .scalar(.init(cleanName(part.filename), Tag(.str), .singleQuoted))),
                             ("content", .scalar(.init(text, Tag(.str), .literal)))])
    }

    /// runcmd's action, as the file `runcmd` among the user's scripts (replacing a part of that name, as cc_runcmd does).
    mutating func addRuncmd(_ node: Node.Mapping, source: String) {
        files[.user, default: [:]]["runcmd"] = File(node: node, source: source)
    }

    /// A folder's files in the order `runparts` runs them.
    func sorted(_ folder: Folder) -> [(name: String, file: File)] {
        (files[folder] ?? [:]).sorted { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }.map { ($0.key, $0.value) }
    }

    /// `util.clean_filename`: `/` becomes `_`, characters outside `_-.()`, digits and ASCII letters go, then whitespace at the ends.
    static func cleanName(_ name: String) -> String {
        let allowed = Set("_-.()0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".unicodeScalars)
        let kept = name.unicodeScalars.map { $0 == "/" ? "_" : $0 }.filter(allowed.contains)
        return String(String.UnicodeScalarView(kept))
    }

    /// `util.dos2unix`: every CRLF made LF, when the first line ends with CRLF (else the bytes as they are).
    static func dos2unix(_ data: Data) -> Data {
        guard let newline = data.firstIndex(of: 0x0A), newline > data.startIndex, data[newline - 1] == 0x0D else { return data }
        var out = Data(capacity: data.count)
        var previous: UInt8?
        for byte in data {
            if byte == 0x0A, previous == 0x0D { out[out.count - 1] = 0x0A } else { out.append(byte) }
            previous = byte
        }
        return out
    }
}
