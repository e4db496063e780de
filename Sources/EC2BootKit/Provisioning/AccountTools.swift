#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// Groups and users as cloud-init's distro makes them (`create_group`, `add_user`,
/// `create_user`): the commands are a pure value (`commands`), compared with cloud-init's own in
/// the truth tests, then run with the shadow tools (`--prefix ROOT` under a `--root`).
enum AccountTools {
    /// cloud-init's user keys we do not carry out (warned at validate, named in the log).
    static let unsupported = ["ssh_import_id", "snapuser", "doas", "ssh_redirect_user"]

    struct Group: Sendable, Equatable {
        let name: String
        let members: [String]
    }

    /// One of `users`, as cloud-init reads it (its defaults: lock_passwd and create_groups true).
    struct User: Sendable, Equatable {
        var name: String
        var gecos: String?
        var groups: [String] = []
        var primaryGroup: String?
        /// nil: no rule written (absent, null, or false).
        var sudo: [String]?
        var shell: String?
        var lockPasswd = true
        /// A hash for useradd's --password (only when the account is made).
        var passwd: String?
        var hashedPasswd: String?
        var plainTextPasswd: String?
        var sshAuthorizedKeys: [String] = []
        var system = false
        var uid: String?
        var homedir: String?
        var noCreateHome = false
        var noUserGroup = false
        var noLogInit = false
        var expiredate: String?
        var inactive: String?
        var createGroups = true
        var selinuxUser: String?
        /// cloud-init's keys we do not carry out (ssh_import_id, snapuser, doas, ssh_redirect_user).
        var unsupported: [String] = []
    }

    /// The accounts the root's /etc/passwd and /etc/group hold, kept up to date as commands run.
    struct State {
        var users: Set<String>
        var groups: Set<String>
    }

    /// `create_group`: groupadd when missing, then each member that exists added with usermod.
    static func commands(for group: Group, state: inout State) -> [[String]] {
        var argv: [[String]] = []
        if state.groups.insert(group.name).inserted { argv.append(["groupadd", group.name]) }
        for member in group.members where state.users.contains(member) { argv.append(["usermod", "-a", "-G", group.name, member]) }
        return argv
    }

    /// `add_user` (nothing when the account exists) and the lock of `create_user`.
    static func commands(for user: User, state: inout State) -> [[String]] {
        var argv: [[String]] = []
        if !state.users.contains(user.name) {
            if user.createGroups {
                for group in user.groups + (user.groups.isEmpty ? [] : [user.primaryGroup].compactMap { $0 }) where state.groups.insert(group).inserted {
                    argv.append(["groupadd", group])
                }
            }
            argv.append(useradd(user))
            state.users.insert(user.name)
        }
        if user.lockPasswd { argv.append(["usermod", "--lock", user.name]) }
        return argv
    }

    /// useradd's arguments in cloud-init's order: its options sorted by their cloud-config names, then -M or -m.
    static func useradd(_ user: User) -> [String] {
        let options: [(String, String?)] = [
            ("--expiredate", user.expiredate), ("--comment", user.gecos),
            ("--groups", user.groups.isEmpty ? nil : user.groups.joined(separator: ",")), ("--home", user.homedir),
            ("--inactive", user.inactive), ("--no-log-init", user.noLogInit ? "" : nil), ("--no-user-group", user.noUserGroup ? "" : nil),
            ("--password", user.passwd), ("--gid", user.primaryGroup), ("--selinux-user", user.selinuxUser), ("--shell", user.shell),
            ("--system", user.system ? "" : nil), ("--uid", user.uid),
        ]
        var argv = ["useradd", user.name]
        for case let (option, value?) in options where !(value.isEmpty && !["--no-log-init", "--no-user-group", "--system"].contains(option)) {
            argv += value.isEmpty ? [option] : [option, value]
        }
        return argv + [user.noCreateHome || user.system ? "-M" : "-m"]
    }

    /// What a command line shows in a log: a password hash never.
    static func shown(_ argv: [String]) -> [String] {
        argv.enumerated().map { $0.offset > 0 && ["--password", "-p"].contains(argv[$0.offset - 1]) ? "REDACTED" : $0.element }
    }
}

extension AccountTools.User {
    /// config.yaml's default_user as cloud-init's `default` makes it (none configured: nil), its
    /// groups sorted, each once, as cloud-init's `uniq_merge_sorted` gives them.
    init?(default settings: DefaultUserSettings) {
        guard let name = settings.name else { return nil }
        self.init(name: name)
        gecos = settings.gecos
        groups = Array(Set(settings.groups)).sorted()
        sudo = settings.sudo.map { [$0] }
        shell = settings.shell
        lockPasswd = settings.lockPasswd
    }

    /// cloud-init's merge when `users` names the default user beside `default`: what the default
    /// user's settings give wins, the entry adds the rest, the groups are both's, sorted.
    func merged(into entry: Self, settings: DefaultUserSettings) -> Self {
        var user = entry
        user.groups = Array(Set(entry.groups + groups)).sorted()
        if settings.gecos != nil { user.gecos = gecos }
        if settings.sudo != nil { user.sudo = sudo }
        user.shell = shell
        user.lockPasswd = lockPasswd
        return user
    }
}

extension AccountTools.State {
    init(paths: Paths) {
        func names(_ file: String) -> Set<String> {
            Set(FileSystem.readText(paths.host(file)).split(separator: "\n").map { String($0.prefix { $0 != ":" }) })
        }
        self.init(users: names("/etc/passwd"), groups: names("/etc/group"))
    }
}

extension AccountTools {
    /// Runs a command of `commands` with the shadow tools from /usr/sbin, under `--prefix` for a
    /// root other than /; nil when it worked, else what failed (a password never shown).
    static func run(_ argv: [String], paths: Paths) async -> String? {
        let prefix = paths.root == "/" ? [] : ["--prefix", paths.root]
        let full = ["/usr/sbin/" + argv[0]] + prefix + argv.dropFirst()
        guard let (status, output) = await SystemCommand.capture(full, timeout: 120) else { return "\(argv[0]) could not start" }
        return status == 0 ? nil : "\(shown(argv).joined(separator: " ")) exited \(status): \(LogFormat.oneLine(output))"
    }

    /// A group: made, its members added; the problems.
    static func make(group: Group, state: inout State, paths: Paths, logger: Logger) async -> [String] {
        for member in group.members where !state.users.contains(member) {
            logger.warning("group \(group.name): its member \(member) does not exist; not added (as cloud-init)")
        }
        var problems: [String] = []
        for argv in commands(for: group, state: &state) {
            if let problem = await run(argv, paths: paths) { problems.append(problem) }
        }
        return problems
    }

    /// A user: made (or kept), its password, lock, sudo rules and keys; the problems.
    static func make(user: User, state: inout State, paths: Paths, logger: Logger) async -> [String] {
        let existed = state.users.contains(user.name)
        if existed { logger.info("user \(user.name) exists; kept as it is (as cloud-init)") }
        for key in user.unsupported { logger.warning("user \(user.name): \(key) is not supported by ec2-boot-init; ignored") }
        var problems: [String] = []
        for argv in commands(for: user, state: &state) {
            // The lock after the password, as create_user orders them.
            if argv.starts(with: ["usermod", "--lock"]) { problems += await password(user, paths: paths) }
            if let problem = await run(argv, paths: paths) {
                problems.append(problem)
                if argv.first == "useradd" { return problems }
            }
        }
        if !user.lockPasswd { problems += await password(user, paths: paths) }
        if let rules = user.sudo {
            do { try SudoRules.write(rules, for: user.name, paths: paths) } catch { problems.append("cannot write \(SudoRules.file): \(error)") }
        }
        if !user.sshAuthorizedKeys.isEmpty {
            guard let account = AuthorizedKeys.Accounts(passwd: paths.host("/etc/passwd")).find(user.name) else {
                return problems + ["\(user.name) is not in \(paths.host("/etc/passwd")): its keys not installed"]
            }
            do { try AuthorizedKeys.install(AuthorizedKeys.cleaned(user.sshAuthorizedKeys), for: account, paths: paths) } catch {
                problems.append("\(user.name)'s keys: \(error)")
            }
        }
        if !existed, problems.isEmpty { logger.notice("made the user \(user.name)") }
        return problems
    }

    /// `hashed_passwd` with usermod, `plain_text_passwd` through chpasswd's standard input (the real root only: it has no --prefix).
    private static func password(_ user: User, paths: Paths) async -> [String] {
        var problems: [String] = []
        if let hash = user.hashedPasswd, !hash.isEmpty, let problem = await run(["usermod", "--password", hash, user.name], paths: paths) {
            problems.append(problem)
        }
        guard let plain = user.plainTextPasswd, !plain.isEmpty else { return problems }
        guard paths.root == "/" else { return problems + ["\(user.name): plain_text_passwd is set with chpasswd, on the real root only (--root /)"] }
        let set = await SystemCommand.capture(["/usr/sbin/chpasswd"], stdin: Data("\(user.name):\(plain)\n".utf8))
        if set?.0 != 0 { problems.append("chpasswd for \(user.name) failed") }
        return problems
    }
}
