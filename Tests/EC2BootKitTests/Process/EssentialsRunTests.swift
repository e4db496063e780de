import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// An image without cloud-init, on a root like a real one (an SSH server's config, the
    /// account files, the image's own host keys): each new instance gets its own host keys (the
    /// real ssh-keygen), the default user (the real useradd, groupadd, usermod on the root's
    /// files) and the key pair, with empty user-data; a reboot, an upgraded instance and an image
    /// with cloud-init enabled get none of it.
    @Suite struct EssentialsRunTests {
        static let metadata = #"{"ami-id": "ami-1", "instance-id": "INSTANCE", "public-keys": {"0": {"openssh-key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPair pair@laptop"}}}"#
        static let config = "default_user:\n  name: admin\n  gecos: Debian\n  groups: [adm, sudo]\n  sudo: ALL=(ALL) NOPASSWD:ALL\n"

        /// A root as a Debian image has it: sshd_config and host keys, root's account, the sudo group.
        static func imageRoot(_ name: String, instance: String = "i-1", config: String = EssentialsRunTests.config) throws -> String {
            let root = try seededRoot("facts:\n  role: web\n", metadata: metadata.replacingOccurrences(of: "INSTANCE", with: instance),
                                      config: config, name: name)
            try TestEnv.write("PermitRootLogin prohibit-password\n", to: root + "/etc/ssh/sshd_config")
            for file in ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "ssh_host_dsa_key", "ssh_host_dsa_key.pub"] {
                try TestEnv.write("the image's \(file)\n", to: root + "/etc/ssh/" + file)
            }
            try TestEnv.write("root:x:0:0:root:/root:/bin/bash\n", to: root + "/etc/passwd")
            try TestEnv.write("root:x:0:\nadm:x:4:\n", to: root + "/etc/group")
            try TestEnv.write("root:*:19000:0:99999:7:::\n", to: root + "/etc/shadow")
            try TestEnv.write("root:*::\nadm:*::\n", to: root + "/etc/gshadow")
            return root
        }

        static func hostKeys(_ root: String) -> [String: Data] {
            var keys: [String: Data] = [:]
            for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/etc/ssh")) ?? [] where name.hasPrefix("ssh_host_") {
                keys[name] = FileManager.default.contents(atPath: root + "/etc/ssh/" + name)
            }
            return keys
        }

        @Test func aNewInstanceGetsItsOwnKeysTheDefaultUserAndTheKeyPair() async throws {
            let root = try Self.imageRoot("essentials-new")
            let first = try run(root)
            #expect(first.status == 0 && first.stderr.contains("made the user admin"), "\(first.stderr)")
            let keys = Self.hostKeys(root)
            #expect(Set(keys.keys) == ["ssh_host_rsa_key", "ssh_host_rsa_key.pub", "ssh_host_ecdsa_key", "ssh_host_ecdsa_key.pub",
                                       "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"], "the image's keys deleted (dsa too), the three made")
            #expect(String(decoding: keys["ssh_host_ed25519_key.pub"] ?? Data(), as: UTF8.self).hasPrefix("ssh-ed25519 AAAA"))
            #expect(TestEnv.mode(root + "/etc/ssh/ssh_host_rsa_key") == 0o600 && TestEnv.mode(root + "/etc/ssh/ssh_host_rsa_key.pub") == 0o644)
            // The console's blocks (what EC2's system log shows): every fingerprint, every public key,
            // between cloud-init's markers; the log has them too (its BEGIN lines redacted, as any PEM-like line).
            let console = await HostKeys.consoleBlocks(paths: Paths(root: root))
            #expect(console.count == 12 && console[1] == "-----BEGIN SSH HOST KEY FINGERPRINTS-----" && console[5] == "-----END SSH HOST KEY FINGERPRINTS-----"
                    && console[7] == "-----BEGIN SSH HOST KEY KEYS-----" && console[10].hasPrefix("ssh-rsa AAAA") && console[11] == "-----END SSH HOST KEY KEYS-----",
                    "\(console)")
            let log = first.stderr
            #expect(log.components(separatedBy: " SHA256:").count - 1 == 3 && log.contains("(ED25519)") && log.contains("(RSA)"), "\(log)")
            #expect(console.dropFirst(2).prefix(3).allSatisfy { log.contains($0) } && log.contains("-----END SSH HOST KEY KEYS-----"))
            // The default user, as cloud-init's users-groups makes it.
            let passwd = TestEnv.read(root + "/etc/passwd") ?? ""
            #expect(passwd.contains("\nadmin:x:") && passwd.contains(":Debian:/home/admin:/bin/bash\n"), "\(passwd)")
            let group = TestEnv.read(root + "/etc/group") ?? ""
            #expect(group.contains("adm:x:4:admin") && group.contains("\nsudo:x:") && group.contains(":admin"), "\(group)")
            #expect(TestEnv.read(root + "/etc/shadow")?.contains("\nadmin:!") == true, "the password locked")
            #expect(TestEnv.read(root + SudoRules.file)?.hasSuffix("# User rules for admin\nadmin ALL=(ALL) NOPASSWD:ALL\n") == true)
            #expect(TestEnv.mode(root + SudoRules.file) == 0o440)
            // The key pair, with empty user-data: for admin, and root's saying to log in as admin.
            #expect(TestEnv.read(root + "/home/admin/.ssh/authorized_keys") == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPair pair@laptop\n")
            #expect(TestEnv.read(root + "/root/.ssh/authorized_keys")?.contains("Please login as the user \\\"admin\\\"") == true)

            // A reboot: nothing again (the same keys, no user made).
            let second = try run(root)
            #expect(second.status == 0 && Self.hostKeys(root) == keys && !second.stderr.contains("made the user admin"), "\(second.stderr)")
            // A new instance from this image: new keys, the user kept.
            try TestEnv.write(Self.metadata.replacingOccurrences(of: "INSTANCE", with: "i-2"), to: root + "/seed/meta-data.json")
            let third = try run(root)
            #expect(third.status == 0, "\(third.stderr)")
            let renewed = Self.hostKeys(root)
            #expect(Set(renewed.keys) == Set(keys.keys) && renewed.allSatisfy { keys[$0.key] != $0.value }, "every key made anew")
            #expect(third.stderr.contains("user admin exists; kept as it is"))
        }

        /// An instance that a version without essentials booted first (its status names it), an
        /// image with cloud-init enabled, `essentials.enabled: false`: the image's keys stay, no user is made, one line says why.
        @Test(arguments: ["upgraded", "from the Ruby tool", "cloud-init", "disabled"])
        func noEssentialsWhereTheyDoNotBelong(_ kind: String) throws {
            let config = Self.config + (kind == "disabled" ? "essentials:\n  enabled: false\n" : "")
            let root = try Self.imageRoot("essentials-" + kind.filter(\.isLetter), config: config)
            if kind == "upgraded" {
                try TestEnv.write(#"{"instance_id": "i-1", "started": "2026-01-01T00:00:00Z", "finished": "2026-01-01T00:01:00Z", "actions": []}"#,
                                  to: root + "/var/lib/ec2-boot-init/status.json")
            }
            if kind == "from the Ruby tool" {
                try TestEnv.write("i-1", to: root + "/var/spool/ec2boot/meta-data/instance-id")
            }
            if kind == "cloud-init" {
                try TestEnv.write("#!/bin/sh\n", to: root + "/usr/bin/cloud-init")
                try TestEnv.write("", to: root + "/etc/systemd/system/cloud-init.target.wants/cloud-init.service")
            }
            let before = Self.hostKeys(root)
            let result = try run(root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(Self.hostKeys(root) == before && !(TestEnv.read(root + "/etc/passwd") ?? "").contains("admin"))
            let why = ["upgraded": "this instance first booted with a version without essentials",
                       "from the Ruby tool": "this instance first booted with a version without essentials", "cloud-init": "cloud-init is installed and enabled",
                       "disabled": "essentials.enabled is false"][kind]!
            #expect(result.stderr.components(separatedBy: why).count == 2, "said once: \(result.stderr)")
            // A reboot: still nothing (an upgraded instance stays one; the machine is known now).
            let again = try run(root)
            #expect(again.status == 0 && Self.hostKeys(root) == before && !(TestEnv.read(root + "/etc/passwd") ?? "").contains("admin"), "\(again.stderr)")
        }
    }
}

extension ProcessTier.EssentialsRunTests {
    /// An essential that fails is an error line in the journal and in `status` (exit 1), the boot goes on.
    @Test func aFailedEssentialIsInStatus() throws {
        let root = try Self.imageRoot("essentials-failed", config: "default_user:\n  name: admin\n  gecos: 'a:b'\n")
        let result = try run(root)
        #expect(result.status == 0 && result.stderr.contains("error: essentials: default user: useradd admin --comment a:b"), "\(result.stderr)")
        let status = try tool(["status", "--root", root])
        #expect(status.status == 1 && status.stdout.contains("essentials: failed: default user: useradd admin") && status.stdout.contains("invalid"),
                "\(status.stdout)")
        let fine = try Self.imageRoot("essentials-fine")
        #expect(try run(fine).status == 0)
        let done = try tool(["status", "--root", fine])
        #expect(done.status == 0 && done.stdout.contains("essentials: done (disk, instance store, host keys, default user, key pair)"), "\(done.stdout)")
    }
}

extension ProcessTier.EssentialsRunTests {
    /// An every-boot essential's failure is the latest boot's: in `status` after the boot that
    /// had it, gone after a boot without it; the first boot's results stay.
    @Test func anEveryBootProblemIsTheLatestBoots() throws {
        let metadata = #"{"ami-id": "ami-1", "instance-id": "i-1", "block-device-mapping": {"ephemeral0": "sdb"}}"#
        let root = try seededRoot("", metadata: metadata, name: "essentials-every-boot")
        try TestEnv.write("", to: root + "/dev/sdb")
        #expect(try runProcess("/usr/sbin/mkfs.ext4", ["-q", "-F", root + "/dev/sdb", "4M"]).status == 0)
        // fstab cannot be written (a folder stands in its place): this boot's problem.
        try FileSystem.makeDirectories(root + "/etc/fstab", mode: 0o755)
        #expect(try run(root).status == 0)
        let failed = try tool(["status", "--root", root])
        #expect(failed.status == 1 && failed.stdout.contains("essentials: failed: this boot: mounts: cannot write") && failed.stdout.contains("/etc/fstab"),
                "\(failed.stdout)")
        try FileManager.default.removeItem(atPath: root + "/etc/fstab")
        #expect(try run(root).status == 0)
        let fine = try tool(["status", "--root", root])
        #expect(fine.status == 0 && fine.stdout.contains("essentials: done"), "\(fine.stdout)")
        #expect(TestEnv.read(root + "/etc/fstab")?.hasPrefix("/dev/sdb\t/mnt\t") == true)
    }
}

extension ProcessTier.EssentialsRunTests {
    /// The cloud-config's host-key and growpart keys change the data stage's essentials for this
    /// instance, and their rows in `status` say what the data stage did.
    @Test func theUserDatasHostKeyKeysChangeTheDataStage() throws {
        let root = try Self.imageRoot("essentials-user-data-keys")
        let result = try run(root, userData: "#cloud-config\nssh_deletekeys: false\nssh_genkeytypes: [ecdsa]\nresize_rootfs: noblock\n")
        #expect(result.status == 0, "\(result.stderr)")
        let keys = Self.hostKeys(root)
        #expect(String(decoding: keys["ssh_host_dsa_key"] ?? Data(), as: UTF8.self) == "the image's ssh_host_dsa_key\n", "ssh_deletekeys: false keeps the image's")
        #expect(keys["ssh_host_ecdsa_key.pub"] != nil && keys["ssh_host_rsa_key"] == nil, "only ecdsa made: \(keys.keys.sorted())")
        let status = try tool(["status", "--root", root])
        #expect(status.status == 0 && status.stdout.contains("ssh_host_keys") && status.stdout.contains("the host keys: done in the data stage"),
                "\(status.stdout)")
        #expect(status.stdout.contains("growpart") && status.stdout.contains("the partition and filesystem growing: done"), "\(status.stdout)")
        // Without essentials here (config.yaml turns them off), the rows say so instead of claiming them.
        let off = try Self.imageRoot("essentials-user-data-keys-off", config: "essentials:\n  enabled: false\n")
        #expect(try run(off, userData: "#cloud-config\nssh_genkeytypes: [ecdsa]\n").status == 0)
        let skipped = try tool(["status", "--root", off])
        #expect(skipped.stdout.contains("the host keys: not done by ec2-boot-init here"), "\(skipped.stdout)")
    }

    /// `ssh_keys`: the host keys given are the instance's, none made (real ssh-keygen makes the
    /// given pair and derives a missing public half); private keys 0600, never in the log;
    /// a certificate named to sshd.
    @Test func theUserDatasHostKeysAreInstalledNotMade() throws {
        let dir = try TestEnv.tempDir("given-host-keys")
        #expect(try runProcess("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "given", "-f", dir + "/k"]).status == 0)
        #expect(try runProcess("/usr/bin/ssh-keygen", ["-q", "-t", "ecdsa", "-N", "", "-C", "given", "-f", dir + "/e"]).status == 0)
        let ed = TestEnv.read(dir + "/k") ?? "", edPub = TestEnv.read(dir + "/k.pub") ?? "", ecdsa = TestEnv.read(dir + "/e") ?? ""
        func block(_ text: String) -> String { text.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") }
        let userData = "#cloud-config\nssh_keys:\n  ed25519_private: |\n\(block(ed))\n  ed25519_public: \(edPub.trimmingWhitespace(newlines: true))\n"
            + "  ecdsa_private: |\n\(block(ecdsa))\n  ed25519_certificate: ssh-ed25519-cert-v01@openssh.com AAAAcert given\n"
        let root = try Self.imageRoot("essentials-given-keys")
        let result = try run(root, userData: userData)
        #expect(result.status == 0, "\(result.stderr)")
        let keys = Self.hostKeys(root)
        #expect(keys.keys.sorted() == ["ssh_host_ecdsa_key", "ssh_host_ecdsa_key.pub", "ssh_host_ed25519_key", "ssh_host_ed25519_key-cert.pub", "ssh_host_ed25519_key.pub"],
                "the image's deleted, only the given ones (none made): \(keys.keys.sorted())")
        #expect(TestEnv.read(root + "/etc/ssh/ssh_host_ed25519_key") == ed && TestEnv.mode(root + "/etc/ssh/ssh_host_ed25519_key") == 0o600)
        #expect(TestEnv.mode(root + "/etc/ssh/ssh_host_ed25519_key.pub") == 0o644 && TestEnv.mode(root + "/etc/ssh/ssh_host_ecdsa_key") == 0o600)
        #expect((TestEnv.read(root + "/etc/ssh/ssh_host_ecdsa_key.pub") ?? "").hasPrefix((TestEnv.read(dir + "/e.pub") ?? "?").split(separator: " ").prefix(2).joined(separator: " ")),
                "ecdsa's public half derived from its private key")
        #expect((TestEnv.read(root + "/etc/ssh/sshd_config.d/50-ec2-boot-init-host-certificates.conf") ?? "").contains("HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub"))
        let secret = String(ed.split(separator: "\n")[1])
        #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret), "a private key reached the output")
        let spool = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/var/spool/ec2boot")) ?? [])
            .filter { !$0.hasPrefix("user-data") }.map { "/var/spool/ec2boot/" + $0 }
        for name in spool + ["/var/lib/ec2-boot-init/status.json"] {
            #expect(!(TestEnv.read(root + name) ?? "").contains(secret), "\(name) holds a private key")
        }
        #expect(FileSystem.exists(root + "/var/lib/ec2-boot-init/status.json"))
        // ssh_keys given empty: none made (as cloud-init); the certificates' sshd setting gone with the old keys.
        try TestEnv.write(Self.metadata.replacingOccurrences(of: "INSTANCE", with: "i-2"), to: root + "/seed/meta-data.json")
        #expect(try run(root, userData: "#cloud-config\nssh_keys: {}\n").status == 0)
        #expect(Self.hostKeys(root).isEmpty && !FileSystem.exists(root + "/etc/ssh/sshd_config.d/50-ec2-boot-init-host-certificates.conf"),
                "\(Self.hostKeys(root).keys.sorted())")
        // A key that is not one: named by its key, never shown.
        let bad = try Self.imageRoot("essentials-given-keys-bad")
        let failed = try run(bad, userData: "#cloud-config\nssh_keys:\n  rsa_private: not-a-key-SECRETWORD\n")
        #expect(failed.stderr.contains("ssh_keys: rsa_private is not a private key ssh-keygen reads") && !failed.stderr.contains("SECRETWORD"), "\(failed.stderr)")
    }

    @Test(arguments: [("ssh_genkeytypes: [ed448]", "ed448 is not a host key type"), ("growpart: {mode: grow}", "grow is not a mode"),
                      ("resize_rootfs: later", ""), ("ssh_deletekeys: [1]", "ssh_deletekeys"),
                      ("ssh_keys: {ed448_private: SECRETWORD}", "ed448_private is not a host key name"),
                      ("mounts: [[sdb, /data, ext4, 'defaults nofail']]", "is not an fstab entry"), ("mounts: [[null, /x]]", "is not an fstab entry"),
                      ("mounts: [[a, b, c, d, e, f, g]]", "is not an fstab entry"), ("mounts: [sdb]", "mounts"),
                      ("mount_default_fields: [null, null, auto]", "six fstab fields"), ("swap: {size: 512m}", "512m is not a size"),
                      ("swap: {filename: swap.img, size: 1G}", "swap.img is not an absolute path"), ("swap: {size: 1G, when: boot}", "when"),
                      ("mounts: [[ephemeral0, /data, null, null, 0, 2]]\nswap: {size: auto, maxsize: 2G}", "")])
    func badKeysAreRefusedByValidate(_ yaml: String, _ expected: String) throws {
        let result = try tool(["validate", "-"], stdin: "#cloud-config\n" + yaml + "\n")
        #expect(!result.stderr.contains("SECRETWORD"), "a secret value in the message")
        if expected.isEmpty {
            // cloud-init's translate_bool: anything not true is false (as for every flag of ours).
            #expect(result.status == 0, "\(result.stderr)")
        } else {
            #expect(result.status == 2 && result.stderr.contains(expected), "\(result.stderr)")
        }
    }
}
