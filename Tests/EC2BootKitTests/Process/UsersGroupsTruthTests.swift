import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// `users` and `groups` through cloud-init's own cc_users_groups (Debian's distro class, its
    /// commands recorded, not run: truth.py users) and through ours, on a machine with root and
    /// the groups adm and sudo: the same groupadd, useradd (options, order), usermod and lock
    /// commands in the same order, the same sudoers lines, the same keys per user. The one
    /// difference on purpose: cloud-init locks with `passwd -l`, we with `usermod --lock` (the
    /// same `!` in /etc/shadow, and it takes `--prefix`).
    @Suite struct UsersGroupsTruthTests {
        static let defaultUser = DefaultUserSettings.debian
        static let defaultJSON = #"{"name": "admin", "gecos": "Debian", "groups": ["sudo", "adm", "sudo"], "sudo": ["ALL=(ALL) NOPASSWD:ALL"], "shell": "/bin/bash", "lock_passwd": true}"#

        static let cases: [(String, String)] = [
            ("every option", """
                groups:
                  - deployers: [root, nobody]
                  - auditors
                users:
                  - default
                  - name: deploy
                    gecos: Deploy Bot
                    groups: [adm, deployers, web]
                    primary_group: deploy
                    sudo: ["ALL=(ALL) NOPASSWD:ALL", "ALL=(ALL) ALL"]
                    shell: /bin/bash
                    passwd: $6$salt$hash
                    uid: 2001
                    homedir: /srv/deploy
                    expiredate: '2031-02-03'
                    inactive: '30'
                    ssh_authorized_keys: [ssh-ed25519 AAAA deploy@x, ssh-rsa BBBB deploy@y]
                  - name: svc
                    system: true
                    lock_passwd: false
                    no_user_group: true
                    no_log_init: true
                    expiredate: '2030-01-01'
                    inactive: '5'
                    selinux_user: staff_u
                  - name: keep
                    no_create_home: true
                    groups: adm, sudo
                    create_groups: false
                    sudo: false
                """),
            ("users as one string, sorted", "users: zed,default,amy\n"),
            ("names in a list item, no default", "users: ['bob,carol', {name: dave, sudo: ALL=(ALL) ALL}]\ngroups: g1,g2\n"),
            ("groups as a mapping, in its order", "groups: {web: [zed, root, root], admins: root, empty: []}\nusers: [default]\n"),
            ("the default user given by name too: merged", "users:\n  - default\n  - {name: admin, groups: [extra], shell: /bin/zsh, sudo: false}\n"),
            ("a group given twice", "groups: [{ops: [root]}, ops, {ops: 'admin,root'}]\nusers: [default, {name: admin2, groups: [ops, new]}]\n"),
        ]

        static func ours(_ yaml: String) throws -> (commands: [[String]], sudoers: String, keys: [String: [String]]) {
            let userData = UserData.parse(Data(("#cloud-config\n" + yaml).utf8), limits: UserDataSettings())
            #expect(userData.problems.isEmpty, "\(userData.problems)")
            let node = try #require(userData.cloudActions.first { $0.node.mapping?["type"]?.string == UsersGroupsAction.type }?.node)
            var mapping = try #require(node.mapping)
            mapping["type"] = nil
            mapping["frequency"] = nil
            let params = try YAMLDecoding.decode(UsersGroupsAction.Params.self, from: .mapping(mapping), source: "test", keyPrefix: "")
            var state = AccountTools.State(users: ["root"], groups: ["root", "adm", "sudo"])
            var commands = (params.groups?.entries ?? []).flatMap { AccountTools.commands(for: $0, state: &state) }
            var sudoers = "", keys: [String: [String]] = [:]
            for user in params.users?.resolved(default: defaultUser) ?? [] {
                commands += AccountTools.commands(for: user, state: &state)
                if let rules = user.sudo { sudoers = SudoRules.merged(sudoers, name: user.name, rules: rules) }
                if !user.sshAuthorizedKeys.isEmpty { keys[user.name] = user.sshAuthorizedKeys.sorted() }
            }
            return (commands, sudoers.isEmpty ? "" : String(sudoers.dropFirst(SudoRules.header.count)), keys)
        }

        @Test(arguments: cases)
        func theCommandsAreCloudInits(_ name: String, _ yaml: String) throws {
            let theirs = try JSONSerialization.jsonObject(with: Data(try CloudInitTruthTests.ask("users", userData: Data(("#cloud-config\n" + yaml).utf8),
                                                                                                   [Self.defaultJSON]).utf8)) as? [String: Any]
            let recorded = (theirs?["commands"] as? [[String]] ?? []).filter { ["groupadd", "useradd", "usermod", "passwd"].contains($0[0]) }
                .map { $0.starts(with: ["passwd", "-l"]) ? ["usermod", "--lock", $0[2]] : $0 }
            let ours = try Self.ours(yaml)
            #expect(!recorded.isEmpty && ours.commands == recorded, "\(name)")
            #expect(ours.sudoers == theirs?["sudoers"] as? String, "\(name)")
            #expect(ours.keys == theirs?["keys"] as? [String: [String]] ?? [:], "\(name)")
        }
    }
}

extension DefaultUserSettings {
    /// Debian's AMIs' default user, as the truth tests give cloud-init's distro (groups given out of order and twice).
    static var debian: DefaultUserSettings {
        var user = DefaultUserSettings()
        user.name = "admin"
        user.gecos = "Debian"
        user.groups = ["sudo", "adm", "sudo"]
        user.sudo = "ALL=(ALL) NOPASSWD:ALL"
        return user
    }
}
