#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `~/.ssh/authorized_keys` as cloud-init's `ssh_util.setup_user_keys` keeps it: a line whose key
/// (its base64 part) is given again is replaced, other lines kept, new keys appended; the file
/// 0600 and `.ssh` 0700, both the user's.
enum AuthorizedKeys {
    struct Account {
        let name: String
        let uid: uid_t
        let gid: gid_t
        let home: String
    }

    /// Accounts read from the root's `/etc/passwd` (so `--root` finds the image's users).
    struct Accounts {
        var entries: [Account] = []

        init(passwd path: String) {
            for line in FileSystem.readText(path).split(separator: "\n") {
                let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                guard fields.count >= 6, let uid = uid_t(fields[2]), let gid = gid_t(fields[3]), fields[5].hasPrefix("/") else { continue }
                entries.append(Account(name: fields[0], uid: uid, gid: gid, home: fields[5]))
            }
        }

        func find(_ name: String) -> Account? { entries.first { $0.name == name } }
    }

    /// cloud-init's `disable_root_opts`, for a root key when root logins are turned off.
    static func disabledRoot(user: String) -> String {
        "no-port-forwarding,no-agent-forwarding,no-X11-forwarding,command=\"echo 'Please login as the user \\\"\(user)\\\" "
            + "rather than the user \\\"root\\\".';echo;sleep 10;exit 142\""
    }

    /// Key lines as given (metadata, cloud-config): trimmed, without blanks and comments, each once.
    static func cleaned(_ keys: [String]) -> [String] {
        var seen = Set<String>()
        return keys.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty && !$0.hasPrefix("#") && seen.insert($0).inserted }
    }

    /// The base64 field of a key line, options in front or not.
    static func blob(_ line: String) -> String? {
        let words = line.split(separator: " ").map(String.init)
        guard let type = words.firstIndex(where: { $0.hasPrefix("ssh-") || $0.hasPrefix("ecdsa-") || $0.hasPrefix("sk-") }),
              type + 1 < words.count else { return nil }
        return words[type + 1]
    }

    static func install(_ keys: [String], for account: Account, paths: Paths) throws {
        let folder = paths.host(account.home) + "/.ssh"
        let file = folder + "/authorized_keys"
        let found = try FileSystem.readRegular(file, maxBytes: 1 << 20)
        let existing = found.map { String(decoding: $0.data, as: UTF8.self).split(separator: "\n").map(String.init) } ?? []
        var lines: [String] = []
        var given = keys
        for line in existing {
            if let blob = blob(line), let index = given.firstIndex(where: { self.blob($0) == blob }) {
                lines.append(given.remove(at: index))
            } else {
                lines.append(line)
            }
        }
        lines += given
        try FileSystem.makeDirectories(folder, mode: 0o700)
        // As cloud-init's ensure_dir: the folder is the user's and 0700, made or found.
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError.posix("open \(folder)", errno) }
        defer { close(fd) }
        guard fchown(fd, account.uid, account.gid) == 0, fchmod(fd, 0o700) == 0 else {
            throw FileSystemError.posix("set the owner and mode of \(folder)", errno)
        }
        let mode = found?.mode ?? 0o600
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: file, mode: mode, directoryMode: 0o700,
                             owner: (account.uid, account.gid))
    }
}
