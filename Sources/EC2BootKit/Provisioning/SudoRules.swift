#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// The sudo rules ec2-boot-init gives accounts (the default user's `default_user.sudo`, each of
/// user-data's `users` with `sudo`), in one 0440 file of ours in /etc/sudoers.d, in cloud-init's
/// lines: `# User rules for NAME`, then `NAME RULE` per rule. Writing an account's rules replaces
/// its block and keeps the others'.
enum SudoRules {
    static let file = "/etc/sudoers.d/90-ec2-boot-init-users"
    static let header = "# Made by ec2-boot-init: default_user.sudo in config.yaml, sudo of user-data's users\n"

    struct LineBreak: Error, CustomStringConvertible {
        let name: String
        var description: String { "\(name)'s sudo rule holds a line break: one rule per line only" }
    }

    /// The file's text with `name`'s block made `rules` (none: its block removed).
    static func merged(_ text: String, name: String, rules: [String]) -> String {
        var blocks: [(name: String, lines: [String])] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("# Made by ") {
            if line.hasPrefix("# User rules for ") {
                blocks.append((String(line.dropFirst("# User rules for ".count)), []))
            } else if !blocks.isEmpty {
                blocks[blocks.count - 1].lines.append(String(line))
            }
        }
        let new = rules.map { "\(name) \($0)" }
        if let index = blocks.firstIndex(where: { $0.name == name }) { blocks[index].lines = new } else { blocks.append((name, new)) }
        return header + blocks.filter { !$0.lines.isEmpty }.map { "\n# User rules for \($0.name)\n" + $0.lines.joined(separator: "\n") + "\n" }.joined()
    }

    static func write(_ rules: [String], for name: String, paths: Paths) throws {
        if rules.contains(where: { $0.contains(where: \.isNewline) }) { throw LineBreak(name: name) }
        let path = paths.host(file)
        let current = FileSystem.readText(path)
        try AtomicFile.write(Data(merged(current, name: name, rules: rules).utf8), to: path, mode: 0o440, directoryMode: 0o750)
    }
}
