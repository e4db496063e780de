import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// `users` and `groups` in a boot, on an image root with the real groupadd, useradd and
    /// usermod (`--prefix`): the accounts, groups, locks, sudo rules and keys written to the
    /// root's files; a password hash set but never in the log or status; `users` without
    /// `default` means no default user; bad entries refused by `validate` before anything runs.
    @Suite struct UsersGroupsRunTests {
        static let userData = """
            #cloud-config
            groups:
              - deployers: [root]
            users:
              - name: deploy
                gecos: Deploy Bot
                groups: [adm, deployers]
                sudo: ALL=(ALL) NOPASSWD:ALL
                hashed_passwd: $6$rounds=4096$salt$SecretHashValue
                ssh_authorized_keys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeploy deploy@laptop]
              - name: svc
                system: true
                lock_passwd: false
                hashed_passwd: $6$salt$SvcHash
            """

        @Test func usersAndGroupsAreMadeInTheRootsFiles() throws {
            let root = try ProcessTier.EssentialsRunTests.imageRoot("users-groups")
            let result = try run(root, userData: Self.userData)
            #expect(result.status == 0, "\(result.stderr)")
            let passwd = TestEnv.read(root + "/etc/passwd") ?? ""
            #expect(passwd.contains("\ndeploy:x:") && passwd.contains(":Deploy Bot:/home/deploy:"), "\(passwd)")
            #expect(passwd.contains("\nsvc:x:") && !FileSystem.exists(root + "/home/svc"), "a system user has no home")
            #expect(!passwd.contains("\nadmin:"), "users without default: no default user, as cloud-init")
            #expect(result.stderr.contains("no default user admin made"), "\(result.stderr)")
            let group = TestEnv.read(root + "/etc/group") ?? ""
            #expect(group.contains("deployers:x:") && group.contains(":root,deploy\n") && group.contains("adm:x:4:deploy"), "\(group)")
            let shadow = TestEnv.read(root + "/etc/shadow") ?? ""
            #expect(shadow.contains("\ndeploy:!$6$rounds=4096$salt$SecretHashValue:"), "the hash set, then locked: \(shadow)")
            #expect(shadow.contains("\nsvc:$6$salt$SvcHash:"), "lock_passwd: false: the hash set, not locked: \(shadow)")
            let sudoers = TestEnv.read(root + SudoRules.file) ?? ""
            #expect(sudoers.contains("# User rules for deploy\ndeploy ALL=(ALL) NOPASSWD:ALL\n") && !sudoers.contains("admin"), "\(sudoers)")
            #expect(TestEnv.read(root + "/home/deploy/.ssh/authorized_keys") == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeploy deploy@laptop\n")
            let status = try tool(["status", "--root", root, "--json"])
            #expect(status.status == 0 && status.stdout.contains("users_groups"), "\(status.stdout)")
            for text in [result.stdout, result.stderr, status.stdout, TestEnv.read(root + "/var/lib/ec2-boot-init/status.json") ?? ""] {
                #expect(!text.contains("SecretHashValue") && !text.contains("SvcHash"), "a hash is a secret")
            }
        }

        /// With `default` among them, the default user is made (in the data stage) and kept by the action.
        @Test func defaultAmongThemKeepsTheDefaultUser() throws {
            let root = try ProcessTier.EssentialsRunTests.imageRoot("users-default")
            let result = try run(root, userData: "#cloud-config\nusers: [default, {name: ops, groups: sudo}]\n")
            #expect(result.status == 0, "\(result.stderr)")
            let passwd = TestEnv.read(root + "/etc/passwd") ?? ""
            #expect(passwd.contains("\nadmin:x:") && passwd.contains("\nops:x:"), "\(passwd)")
            #expect(TestEnv.read(root + SudoRules.file)?.contains("# User rules for admin\nadmin ALL=(ALL) NOPASSWD:ALL\n") == true)
        }

        /// An entry of the default user's name beside `default` is merged into it, as cloud-init
        /// merges them: config.yaml's settings win (the shell), the entry adds the rest (a group, keys).
        @Test func theDefaultUserNamedAgainIsMergedIntoIt() throws {
            let root = try ProcessTier.EssentialsRunTests.imageRoot("users-default-merged")
            let result = try run(root, userData: "#cloud-config\nusers:\n  - default\n  - {name: admin, groups: [extra], shell: /bin/zsh, uid: 1500}\n")
            #expect(result.status == 0, "\(result.stderr)")
            let passwd = TestEnv.read(root + "/etc/passwd") ?? ""
            #expect(passwd.contains("\nadmin:x:1500:") && passwd.contains(":/home/admin:/bin/bash\n"), "\(passwd)")
            let group = TestEnv.read(root + "/etc/group") ?? ""
            #expect(group.range(of: #"\nextra:x:\d+:admin\n"#, options: .regularExpression) != nil, "the entry's group made, admin in it: \(group)")
            #expect(group.range(of: #"adm:x:4:admin"#, options: .regularExpression) != nil, "config.yaml's groups too: \(group)")
        }

        /// A key cloud-init would carry out and we do not: a warning with its place (an error with
        /// --strict), and the rest of the user is made.
        @Test func anUnsupportedUserKeyIsWarnedWithItsPlace() throws {
            let yaml = "#cloud-config\nusers:\n  - name: ops\n    ssh_import_id: [gh:ops]\n"
            let loose = try tool(["validate", "-"], stdin: yaml)
            #expect(loose.status == 0 && loose.stderr.contains("<stdin>:4:20: warning: users[0].ssh_import_id is not supported"), "\(loose.stderr)")
            #expect(try tool(["validate", "--strict", "-"], stdin: yaml).status == 2)
            let root = try ProcessTier.EssentialsRunTests.imageRoot("users-unsupported")
            let result = try run(root, userData: yaml)
            #expect(result.status == 0 && TestEnv.read(root + "/etc/passwd")?.contains("\nops:x:") == true, "\(result.stderr)")
        }

        @Test(arguments: [
            ("users: [{name: Deploy}]", "Deploy is not an account name"),
            ("users: [{name: a, groups: ['x y']}]", "x y is not a group name"),
            ("users: [{name: a}, {name: a}]", "a is given twice in users"),
            ("users: [{name: a, system: true, ssh_authorized_keys: [k]}]", "ssh_authorized_keys needs a home, which system leaves out"),
            ("users: [{name: a, shel: /bin/sh}]", "did you mean shell"),
            ("users: [{name: a, gecos: 'a:b'}]", "holds a ':' or a line break"),
            ("groups: ['-o']", "-o is not a group name"),
            ("users: {a: true}", "users"),
        ])
        func badEntriesAreRefusedBeforeAnythingRuns(_ yaml: String, _ expected: String) throws {
            let result = try tool(["validate", "-"], stdin: "#cloud-config\n" + yaml + "\n")
            #expect(result.status == 2 && result.stderr.contains(expected), "\(result.stderr)")
        }
    }
}
