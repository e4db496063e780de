#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Merges settings into a config file that others edit too (the package's defaults, an
/// operator's comments): a key we set is replaced where it stands, a key we do not set is
/// left alone, a missing one is added at the end of its section. Two layouts:
/// `key = value` lines (MCollective's server.cfg) and INI sections (puppet.conf).
public enum ConfigMerge {
    public struct Setting: Sendable, Equatable {
        /// The INI section (`main`, `agent`, …); nil for a file without sections.
        public var section: String?
        public var key: String
        public var value: String

        public init(_ section: String?, _ key: String, _ value: String) {
            self.section = section
            self.key = key
            self.value = value
        }
    }

    /// `text` with `settings` merged in. Later duplicates of a key we set are dropped, so the
    /// program reading the file cannot pick an older value.
    public static func merge(_ text: String, _ settings: [Setting]) -> String {
        var lines = text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        // A key given twice (a default, then the user's value): the later one wins, written once.
        var pending: [Setting] = []
        for setting in settings {
            pending.removeAll { $0.section == setting.section && $0.key == setting.key }
            pending.append(setting)
        }
        var seen: Set<String> = []
        var section: String?
        var output: [String] = []
        // Where each section's last setting line went, to add its missing keys after it.
        var sectionEnd: [String: Int] = [:]
        for line in lines {
            if let name = sectionName(line) {
                section = name
                output.append(line)
                sectionEnd[name] = output.count
                continue
            }
            guard let key = settingKey(line) else {
                output.append(line)
                continue
            }
            let id = (section ?? "") + "\u{0}" + key
            if let found = pending.firstIndex(where: { $0.section == section && $0.key == key }) {
                output.append(value(of: line) == pending[found].value ? line : "\(key) = \(pending[found].value)")
                pending.remove(at: found)
                seen.insert(id)
            } else if seen.contains(id) {
                continue  // a duplicate of a key we just set
            } else {
                output.append(line)
            }
            if let section { sectionEnd[section] = output.count }
        }
        // Missing keys: after their section's last setting, or in a new section at the end.
        var appendAtEnd: [(String?, [String])] = []
        for setting in pending {
            let line = "\(setting.key) = \(setting.value)"
            if let section = setting.section, let end = sectionEnd[section] {
                output.insert(line, at: end)
                for (name, position) in sectionEnd where position >= end && name != section { sectionEnd[name] = position + 1 }
                sectionEnd[section] = end + 1
            } else if let index = appendAtEnd.firstIndex(where: { $0.0 == setting.section }) {
                appendAtEnd[index].1.append(line)
            } else {
                appendAtEnd.append((setting.section, [line]))
            }
        }
        for (section, added) in appendAtEnd {
            if let section {
                if let last = output.last, !last.trimmingWhitespace().isEmpty { output.append("") }
                output.append("[\(section)]")
            }
            output += added
        }
        return output.isEmpty ? "" : output.joined(separator: "\n") + "\n"
    }

    /// Merges `settings` into the file at `path`, atomically. A file we change for the first
    /// time is kept as `<path>.orig`. An existing file keeps its owner and, unless `mode` is
    /// given, its mode; a new one gets `mode` or 0644. Returns whether anything changed, so a
    /// second run with the same user-data writes nothing.
    @discardableResult
    public static func apply(_ settings: [Setting], to path: String, mode: mode_t? = nil) throws -> Bool {
        let existing = FileSystem.read(path)
        let old = existing.map { String(decoding: $0, as: UTF8.self) } ?? ""
        let new = merge(old, settings)
        if existing != nil && new == old { return false }
        var info = stat()
        let present = existing != nil && stat(path, &info) == 0
        let owner = present ? (info.st_uid, info.st_gid) : nil
        let fileMode = mode ?? (present ? info.st_mode & 0o7777 : 0o644)
        if let existing, !FileSystem.exists(path + ".orig") {
            try AtomicFile.write(existing, to: path + ".orig", mode: present ? info.st_mode & 0o7777 : 0o600, owner: owner)
        }
        try AtomicFile.write(new, to: path, mode: fileMode, owner: owner)
        return true
    }

    /// `[name]` (puppet.conf's section headers).
    static func sectionName(_ line: String) -> String? {
        let trimmed = line.trimmingWhitespace()
        guard trimmed.hasPrefix("["), trimmed.hasSuffix("]"), trimmed.count > 2 else { return nil }
        return String(trimmed.dropFirst().dropLast()).trimmingWhitespace()
    }

    /// The key of a `key = value` line; nil for comments, blanks and anything else.
    static func settingKey(_ line: String) -> String? {
        let trimmed = line.trimmingWhitespace()
        guard let first = trimmed.first, first != "#", first != ";", let equals = trimmed.firstIndex(of: "=") else { return nil }
        let key = trimmed[..<equals].trimmingWhitespace()
        return key.isEmpty ? nil : key
    }

    static func value(of line: String) -> String {
        guard let equals = line.firstIndex(of: "=") else { return "" }
        return line[line.index(after: equals)...].trimmingWhitespace()
    }
}
