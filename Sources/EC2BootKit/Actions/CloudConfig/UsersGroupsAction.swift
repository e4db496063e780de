#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `users` and `groups`: cloud-init's users-groups module, with its semantics. Groups first
/// (`groupadd`, then members added with `usermod -a -G`), then each user: one that exists is kept
/// as it is (as cloud-init keeps it), else `useradd` with cloud-init's options in its order, its
/// missing groups made first; then, for both, the password (a hash set with `usermod --password`,
/// a plain one through `chpasswd`'s standard input; neither ever logged), the lock (`usermod
/// --lock` unless `lock_passwd: false`), the sudo rules (`SudoRules`), the SSH keys. `default`
/// is config.yaml's `default_user`; a `users:` without `default` means no default user, as in
/// cloud-init (the data stage then makes none: `defaultUser`).
public struct UsersGroupsAction: CloudConfigModule {
    public static let type = "users_groups"
    public static let frequency = ActionFrequency.perInstance
    static let cloudConfigKeys = ["users", "groups"]

    public static let schema = ActionSchema("Makes groups and users, their sudo rules and SSH keys (cloud-init's users-groups).",
                                            example: """
        groups:
          - deployers: [root]
          - auditors
        users:
          - default
          - name: deploy
            gecos: Deploy
            groups: [adm, deployers]
            sudo: ALL=(ALL) NOPASSWD:ALL
            shell: /bin/bash
            ssh_authorized_keys:
              - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ8e deploy@laptop
        """, [
            .optional("users", .stringOrList, secret: true, "default (config.yaml's default_user), names, or mappings: name, gecos, groups, "
                      + "primary_group, sudo, shell, lock_passwd, passwd, hashed_passwd, plain_text_passwd, ssh_authorized_keys, "
                      + "system, uid, homedir, no_create_home, no_user_group, no_log_init, expiredate, inactive, create_groups, selinux_user"),
            .optional("groups", .anyShape, "names, or name: [members] (a mapping or a list of them)"),
        ])

    public struct Params: Decodable, Sendable {
        var users: UserList?
        var groups: GroupList?
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let paths = context.run.paths
        var accounts = AccountTools.State(paths: paths)
        let users = params.users?.resolved(default: context.run.config.defaultUser) ?? []
        var problems: [String] = []
        for group in params.groups?.entries ?? [] {
            problems += await AccountTools.make(group: group, state: &accounts, paths: paths, logger: context.logger)
        }
        for user in users {
            problems += await AccountTools.make(user: user, state: &accounts, paths: paths, logger: context.logger)
        }
        guard problems.isEmpty else { return ActionResult(.failed, message: problems.joined(separator: "; ")) }
        return ActionResult(.ok, message: "\(params.groups?.entries.count ?? 0) groups, \(users.count) users")
    }

    /// The keys of a user cloud-init carries out and we do not, each with its place.
    static func warnings(_ value: Node, key: String, source: String) -> [YAMLProblem] {
        guard key == "users", case .sequence(let entries) = value else { return [] }
        return entries.enumerated().flatMap { index, entry -> [YAMLProblem] in
            guard case .mapping(let fields) = entry else { return [] }
            return fields.compactMap { name, value in
                guard let name = name.string, AccountTools.unsupported.contains(name) else { return nil }
                return YAMLProblem(source: source, mark: value.mark, message: "users[\(index)].\(name) is not supported by ec2-boot-init; the rest of the user is made")
            }
        }
    }

    /// The default user the data stage makes: config.yaml's, merged with an entry of its name
    /// beside `default`; none when a cloud-config gives `users` without `default` (cloud-init then makes none).
    static func defaultUser(_ plan: [PlannedAction], settings: DefaultUserSettings) -> AccountTools.User? {
        guard let users = plan.lazy.compactMap({ ($0.params as? Params)?.users }).first else { return AccountTools.User(default: settings) }
        guard users.entries.contains(where: \.isDefault), let name = settings.name else { return nil }
        return users.resolved(default: settings).last { $0.name == name }
    }
}

extension UsersGroupsAction {
    /// `users`: a list of `default`, names (`"a,b"` too) and mappings, or one string of names
    /// (taken sorted, as cloud-init's `uniq_merge_sorted`). A name given twice is refused:
    /// cloud-init merges the entries, the first one's keys winning, which is seldom what was meant.
    struct UserList: Decodable, Sendable {
        let entries: [UserEntry]

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            var found: [UserEntry] = []
            if let text = try? c.decode(String.self) {
                found = UserEntry.names(Array(Set(UserEntry.words(text))).sorted())
            } else {
                var list = try decoder.unkeyedContainer()
                while !list.isAtEnd {
                    if let text = try? list.decode(String.self) { found += UserEntry.names(UserEntry.words(text)) } else { found.append(try list.decode(UserEntry.self)) }
                }
            }
            for name in found.compactMap(\.user?.name) where !AccountName.isValid(name) {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "\(name) is not an account name (lower-case letters, digits, _ and -)")
            }
            var seen = Set<String>()
            for entry in found where !seen.insert(entry.user?.name ?? "default").inserted {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "\(entry.user?.name ?? "default") is given twice in users: give each user once")
            }
            entries = found
        }

        /// The accounts in cloud-init's order: the others as given, the default user last.
        func resolved(default settings: DefaultUserSettings) -> [AccountTools.User] {
            let users = entries.compactMap(\.user)
            guard entries.contains(where: \.isDefault), let base = AccountTools.User(default: settings) else { return users }
            // An entry of the default user's name is merged into it (cloud-init's _normalize_users).
            let named = users.first { $0.name == base.name }
            return users.filter { $0.name != base.name } + [named.map { base.merged(into: $0, settings: settings) } ?? base]
        }
    }

    /// `groups`: names, `name: [members]` mappings (or `name: member`), as a list, one mapping, or
    /// `"a,b"`; a group given again gets the members added; members sorted, each once (cloud-init's `_normalize_groups`).
    struct GroupList: Decodable, Sendable {
        let entries: [AccountTools.Group]

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            var groups: [(name: String, members: [String])] = []
            func add(_ name: String, _ members: [String]) {
                if let index = groups.firstIndex(where: { $0.name == name }) { groups[index].members += members } else { groups.append((name, members)) }
            }
            if let text = try? c.decode(String.self) {
                for name in text.trimmingWhitespace().split(separator: ",", omittingEmptySubsequences: false) { add(String(name), []) }
            } else if let mapping = try? Self.ordered(decoder) {
                for (name, members) in mapping { add(name, members) }
            } else {
                var list = try decoder.unkeyedContainer()
                while !list.isAtEnd {
                    if let name = try? list.decode(String.self) { add(name, []) } else {
                        for (name, members) in try Self.ordered(try list.superDecoder()) { add(name, members) }
                    }
                }
            }
            entries = groups.map { AccountTools.Group(name: $0.name, members: Array(Set($0.members.flatMap(UserEntry.words))).sorted()) }
            for group in entries where !AccountName.isValid(group.name) {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "\(group.name) is not a group name")
            }
        }

        /// A mapping of group names to members, in the order given.
        static func ordered(_ decoder: Decoder) throws -> [(String, [String])] {
            let c = try decoder.container(keyedBy: AnyCodingKey.self)
            return try c.allKeys.map { ($0.stringValue, try c.decode(Members.self, forKey: $0).names) }
        }
    }

    /// A group's members: a list, one name, or none.
    struct Members: Decodable, Sendable {
        let names: [String]

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { names = [] } else if let one = try? c.decode(String.self) { names = [one] } else { names = try c.decode([String].self) }
        }
    }
}

extension UsersGroupsAction {
    /// One of `users`: `default`, or a mapping read as cloud-init reads it.
    struct UserEntry: Decodable, Sendable {
        let isDefault: Bool
        let user: AccountTools.User?

        init(isDefault: Bool, user: AccountTools.User?) { (self.isDefault, self.user) = (isDefault, user) }

        /// Names split at commas as cloud-init's `uniq_merge` splits them (empty ones dropped, nothing trimmed).
        static func words(_ text: String) -> [String] {
            text.trimmingWhitespace().split(separator: ",").map(String.init)
        }

        /// Each name an entry; `default` the default user's.
        static func names(_ names: [String]) -> [UserEntry] {
            names.map { $0 == "default" ? UserEntry(isDefault: true, user: nil) : UserEntry(isDefault: false, user: AccountTools.User(name: $0)) }
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, gecos, groups, primary_group, sudo, shell, lock_passwd, passwd, hashed_passwd, plain_text_passwd
            case ssh_authorized_keys, system, uid, homedir, no_create_home, no_user_group, no_log_init, expiredate, inactive
            case create_groups, selinux_user, ssh_import_id, snapuser, doas, ssh_redirect_user, `default`
        }

        init(from decoder: Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let name = try c.decode(String.self, forKey: .name)
            guard AccountName.isValid(name) else {
                throw DecodingError.dataCorruptedError(forKey: .name, in: c, debugDescription: "\(name) is not an account name (lower-case letters, digits, _ and -)")
            }
            var user = AccountTools.User(name: name)
            try Self.readText(c, into: &user)
            try Self.readFlags(c, into: &user)
            user.groups = try c.decodeIfPresent(Words.self, forKey: .groups)?.words ?? []
            user.sudo = try c.decodeIfPresent(SudoValue.self, forKey: .sudo)?.rules
            user.sshAuthorizedKeys = try c.decodeIfPresent(Words.self, forKey: .ssh_authorized_keys)?.lines ?? []
            for group in user.groups + [user.primaryGroup].compactMap({ $0 }) where !AccountName.isValid(group) {
                throw DecodingError.dataCorruptedError(forKey: .groups, in: c, debugDescription: "\(group) is not a group name")
            }
            user.unsupported = AccountTools.unsupported.filter { c.contains(CodingKeys(rawValue: $0)!) }
            // cloud-init refuses these together (keys need a home); so do we, before anything runs.
            let noHome = [CodingKeys.no_create_home, .system].filter { (try? c.decodeIfPresent(LooseBool.self, forKey: $0))??.value == true }
            let needHome = [CodingKeys.ssh_authorized_keys, .ssh_import_id, .ssh_redirect_user].filter { c.contains($0) }
            if let first = noHome.first, let key = needHome.first {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(key.rawValue) needs a home, which \(first.rawValue) leaves out")
            }
            isDefault = false
            self.user = user
        }

        private static func readText(_ c: KeyedDecodingContainer<CodingKeys>, into user: inout AccountTools.User) throws {
            user.gecos = try c.decodeIfPresent(String.self, forKey: .gecos)
            user.primaryGroup = try c.decodeIfPresent(String.self, forKey: .primary_group)
            user.shell = try c.decodeIfPresent(String.self, forKey: .shell)
            user.passwd = try c.decodeIfPresent(String.self, forKey: .passwd)
            user.hashedPasswd = try c.decodeIfPresent(String.self, forKey: .hashed_passwd)
            user.plainTextPasswd = try c.decodeIfPresent(String.self, forKey: .plain_text_passwd)
            user.uid = try c.decodeIfPresent(String.self, forKey: .uid)
            user.homedir = try c.decodeIfPresent(String.self, forKey: .homedir)
            user.expiredate = try c.decodeIfPresent(String.self, forKey: .expiredate)
            user.inactive = try c.decodeIfPresent(String.self, forKey: .inactive)
            user.selinuxUser = try c.decodeIfPresent(String.self, forKey: .selinux_user)
            for value in [user.gecos, user.shell, user.homedir, user.uid] where value?.contains(where: { $0.isNewline || $0 == ":" }) == true {
                throw DecodingError.dataCorruptedError(forKey: .gecos, in: c, debugDescription: "\(value ?? "") holds a ':' or a line break, which /etc/passwd cannot")
            }
        }

        private static func readFlags(_ c: KeyedDecodingContainer<CodingKeys>, into user: inout AccountTools.User) throws {
            user.lockPasswd = try c.decodeIfPresent(LooseBool.self, forKey: .lock_passwd)?.value ?? true
            user.system = try c.decodeIfPresent(LooseBool.self, forKey: .system)?.value ?? false
            user.noCreateHome = try c.decodeIfPresent(LooseBool.self, forKey: .no_create_home)?.value ?? false
            user.noUserGroup = try c.decodeIfPresent(LooseBool.self, forKey: .no_user_group)?.value ?? false
            user.noLogInit = try c.decodeIfPresent(LooseBool.self, forKey: .no_log_init)?.value ?? false
            user.createGroups = try c.decodeIfPresent(LooseBool.self, forKey: .create_groups)?.value ?? true
        }
    }

    /// A list of words, or one string of them split at commas (`groups: adm, sudo`); `lines` keeps a string whole (a key).
    struct Words: Decodable, Sendable {
        let words: [String]
        let lines: [String]

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let text = try? c.decode(String.self) {
                words = text.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
                lines = [text]
            } else {
                lines = try c.decode([String].self)
                words = lines.map { $0.trimmingWhitespace() }
            }
        }
    }

    /// `sudo`: one rule, a list of rules, or false / null for none.
    struct SudoValue: Decodable, Sendable {
        let rules: [String]?

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() || (try? c.decode(Bool.self)) == false { rules = nil } else if let one = try? c.decode(String.self) {
                rules = [one]
            } else {
                rules = try c.decode([String].self)
            }
        }
    }
}
