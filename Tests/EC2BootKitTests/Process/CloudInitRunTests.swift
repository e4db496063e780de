import Foundation
import Testing

extension ProcessTier {
    /// cloud-init's user-data on a seed boot: each part type and module runs as an action of the
    /// engine (status rows, frequencies across boots and instances), and what we do not implement
    /// is said, with its line, never an error.
    @Suite struct CloudInitRunTests {
        static func mime(_ parts: [(type: String, body: String)]) -> String {
            var text = "Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\nMIME-Version: 1.0\n\n"
            for part in parts { text += "--BOUNDARY\nContent-Type: \(part.type)\n\n\(part.body)\n" }
            return text + "--BOUNDARY--\n"
        }

        /// Every part type we run: each appends its name to ROOT/order, so the order is seen.
        static let everything = mime([
            ("text/cloud-config", """
                #cloud-config
                bootcmd:
                  - echo "bootcmd $INSTANCE_ID" >> ROOT/order
                write_files:
                  - path: /etc/app/settings
                    content: debug=false
                runcmd:
                  - echo runcmd >> ROOT/order
                ntp: {enabled: true}
                timezone: Europe/Paris
                """),
            ("text/x-shellscript", "#!/bin/sh\necho user-script >> ROOT/order"),
            ("text/x-shellscript-per-boot", "#!/bin/sh\necho per-boot >> ROOT/order"),
            ("text/x-shellscript-per-once", "#!/bin/sh\necho per-once >> ROOT/order"),
            ("text/x-shellscript-per-instance", "#!/bin/sh\necho per-instance >> ROOT/order"),
            ("text/cloud-boothook", "#cloud-boothook\n#!/bin/bash\n[[ -n $BASH_VERSION ]] && echo \"boothook $INSTANCE_ID\" >> ROOT/order"),
            ("application/node.eks.aws", "apiVersion: node.eks.aws/v1alpha1"),
            ("text/x-ec2-boot-init", "facts:\n  role: web\nactions:\n  - type: shell\n    command: echo own-action >> ROOT/order"),
        ])

        @Test func everyPartRunsInCloudInitsOrderWithItsFrequency() throws {
            let root = try seededRoot(Self.everything)
            let first = try run(root)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(TestEnv.read(root + "/order") == """
                boothook i-1
                bootcmd i-1
                per-once
                per-boot
                per-instance
                user-script
                runcmd
                own-action

                """)
            #expect(TestEnv.read(root + "/etc/app/settings") == "debug=false")
            #expect(TestEnv.read(root + "/etc/facts.txt") == "role=web\n")
            #expect(first.stderr.contains("part-007 (application/node.eks.aws): no handler for this type; passed over"))
            #expect(first.stderr.contains("user-data (part-001):9:1: ntp is not supported by ec2-boot-init; ignored"), "\(first.stderr)")
            #expect(first.stderr.contains("user-data (part-001):10:1: timezone is not supported"))
            let status = try tool(["status", "--json", "--root", root])
            let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
            let rows = (json["actions"] as! [[String: Any]]).map { "\($0["type"]!) \($0["frequency"]!) \($0["result"]!)" }
            #expect(rows == ["script per-boot ok", "bootcmd per-boot ok", "write_files per-instance ok",
                             "ssh_authorized_keys per-instance skipped", "script per-instance ok", "script per-boot ok",
                             "script per-instance ok", "script per-instance ok", "runcmd per-instance ok", "shell per-instance ok"], "\(rows)")
            // ntp, timezone, and the per-once script known by name (where we differ on purpose).
            #expect((json["unsupported"] as? [String])?.count == 3 && (json["unsupported"] as? [String])?.contains { $0.contains("(per-once)") } == true,
                    "\(status.stdout)")

            // A later boot of the same instance: what cloud-init runs on every boot.
            try "".write(toFile: root + "/order", atomically: true, encoding: .utf8)
            let second = try run(root)
            #expect(second.status == 0, "\(second.stderr)")
            #expect(TestEnv.read(root + "/order") == "boothook i-1\nbootcmd i-1\nper-boot\n")

            // A new instance from the same image: all again, but the per-once script.
            try "".write(toFile: root + "/order", atomically: true, encoding: .utf8)
            try TestEnv.write(#"{"ami-id": "ami-1", "instance-id": "i-2"}"#, to: root + "/seed/meta-data.json")
            let third = try run(root)
            #expect(third.status == 0, "\(third.stderr)")
            #expect(TestEnv.read(root + "/order") == """
                boothook i-2
                bootcmd i-2
                per-boot
                per-instance
                user-script
                runcmd
                own-action

                """)
        }

        /// `#include` over HTTP: fetched by the fetch stage, once each, cached (0600) for the
        /// actions stage and later runs; `#include-once` not fetched again; a failed include is
        /// invalid user-data (exit 2), as cloud-init treats it.
        @Test func includedUserDataIsFetchedCachedAndRun() async throws {
            let (sim, root) = try serve(["one.yaml": "#cloud-config\nruncmd:\n  - echo one >> ROOT/order\n",
                                         "two.sh": "#!/bin/sh\necho two >> ROOT/order\n"])
            for file in ["one.yaml", "two.sh"] {
                let text = try #require(TestEnv.read(root + "/served/" + file)).replacingOccurrences(of: "ROOT", with: root)
                try TestEnv.write(text, to: root + "/served/" + file)
            }
            try TestEnv.write("#include\n\(sim.url)/files/one.yaml\n#include-once \(sim.url)/files/two.sh?token=s3cret\n",
                              to: root + "/seed/user-data")
            let result = try run(root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/order") == "two\none\n", "scripts_user's order: the part, then runcmd")
            #expect(TestEnv.mode(root + "/var/spool/ec2boot/user-data.included.json") == 0o600)
            #expect(!result.stderr.contains("s3cret"), "a URL's query stays out of the log")
            let validated = try tool(["validate", "--root", root])
            #expect(validated.status == 0 && validated.stderr.contains("not fetched here"), "\(validated.stderr)")

            // The next boot: one.yaml fetched again, two.sh (include-once) from the cache.
            try FileManager.default.removeItem(atPath: root + "/served/two.sh")
            #expect(try run(root).status == 0)
            let counts = try await sim.stats().by_path
            #expect(counts["/files/one.yaml"] == 2 && counts["/files/two.sh"] == 1, "\(counts)")

            // An include that cannot be fetched: the user-data is invalid, and says which.
            try TestEnv.write("#include\n\(sim.url)/files/missing.yaml\n", to: root + "/seed/user-data")
            let missing = try run(root)
            #expect(missing.status == 2)
            #expect(missing.stderr.contains("#include \(sim.url)/files/missing.yaml: cannot fetch it"), "\(missing.stderr)")
            // Recorded: status says so (exit 1), with the reason; the MOTD points there.
            let status = try tool(["status", "--root", root])
            #expect(status.status == 1 && status.stdout.contains("missing.yaml: cannot fetch it"), "\(status.stdout)")
            #expect(TestEnv.read(root + "/etc/motd")?.contains("user-data is invalid (see: ec2-boot-init status)") == true)
            let validate = try tool(["validate", "--root", root])
            #expect(validate.status == 2 && validate.stderr.contains("missing.yaml: cannot fetch it") && validate.stderr.contains("found by the last run"),
                    "validate of the cached user-data agrees: \(validate.stderr)")
        }

        /// cloud-config's puppet, chef and mcollective become our built-in actions, cloud-init's
        /// key names read; what has no equivalent is a warning with its line.
        @Test func puppetChefAndMCollectiveMapOntoTheBuiltIns() throws {
            let root = try seededRoot("""
                #cloud-config
                puppet:
                  install: false
                  conf:
                    agent:
                      server: puppet.example.com
                      certname: "%i"
                    main:
                      logdir: /var/log/puppet
                  collection: puppet7
                chef:
                  server_url: https://chef.example.com/organizations/acme
                  validation_name: acme-validator
                  validation_cert: |
                    -----BEGIN RSA PRIVATE KEY-----
                    abc
                    -----END RSA PRIVATE KEY-----
                  run_list: ["recipe[base]"]
                  chef_license: accept
                mcollective:
                  conf:
                    connector: activemq
                    securityprovider: psk
                    plugin.psk: s3cret
                    plugin.activemq.pool.size: 1
                    plugin.activemq.pool.1.host: broker.example.com
                    public-cert: abc
                """)
            let checked = try tool(["validate", "--root", root, root + "/seed/user-data"])
            #expect(checked.status == 0 && checked.stdout.contains("4 actions"), "\(checked.stdout)\(checked.stderr)")
            for warning in ["10:3: warning: puppet.collection is not supported", "19:3: warning: chef.chef_license is not supported",
                            "27:5: warning: mcollective.public-cert is not supported"] {
                #expect(checked.stderr.contains(warning), "\(warning): \(checked.stderr)")
            }
            let result = try run(root, path: try hostnameStandIn(root))
            #expect(result.status == 0, "\(result.stderr)")
            let puppet = TestEnv.read(root + "/etc/puppet/puppet.conf") ?? ""
            #expect(puppet.contains("server = puppet.example.com") && puppet.contains("certname = i-1") && puppet.contains("logdir = /var/log/puppet"), "\(puppet)")
            #expect(!result.stderr.contains("puppet agent"), "cloud-init runs no agent without exec: true")
            #expect(TestEnv.read(root + "/etc/chef/client.rb")?.contains("chef_server_url \"https://chef.example.com/organizations/acme\"") == true)
            #expect(TestEnv.read(root + "/etc/chef/validation.pem")?.hasPrefix("-----BEGIN RSA PRIVATE KEY-----\nabc") == true)
            let server = TestEnv.read(root + "/etc/mcollective/server.cfg") ?? ""
            #expect(server.contains("plugin.activemq.pool.1.host = broker.example.com") && server.contains("plugin.psk = s3cret"), "\(server)")
        }

        /// write_files' `source` (newer cloud-init's): fetched with the download bounds; when it
        /// cannot be fetched, `content` is written instead, and without content the entry is skipped.
        @Test func writeFilesSourceIsFetchedAndFallsBackToContent() async throws {
            let (sim, root) = try serve(["app.conf": "from the server\n"])
            try TestEnv.write("""
                #cloud-config
                write_files:
                  - path: /etc/app.conf
                    source:
                      uri: \(sim.url)/files/app.conf
                      headers:
                        X-Token: abc
                    permissions: '0600'
                  - path: /etc/fallback.conf
                    source: {uri: \(sim.url)/files/missing.conf}
                    content: the fallback
                  - path: /etc/nothing.conf
                    source: {uri: \(sim.url)/files/missing.conf}
                """, to: root + "/seed/user-data")
            let result = try run(root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/etc/app.conf") == "from the server\n" && TestEnv.mode(root + "/etc/app.conf") == 0o600)
            #expect(TestEnv.read(root + "/etc/fallback.conf") == "the fallback")
            #expect(!FileManager.default.fileExists(atPath: root + "/etc/nothing.conf"))
            #expect(result.stderr.contains("write_files[2]: cannot fetch its source"), "\(result.stderr)")
            #expect(try await sim.stats().by_path["/files/app.conf"] == 1)
        }

        /// What a hostile user-data or server could try through write_files and the ssh module:
        /// a token header carried to the host a redirect names, a symlink to read through, a
        /// hosted file taking a cloud-init module over, content that does not decode.
        @Test func writeFilesAndKeysResistWhatTheyAreGiven() async throws {
            let (sim, root) = try serve(["ok.conf": "ok\n"], simulator: ["--other-host", try Self.otherHostFile(),
                                                                          "--redirect", "files/away$", "{other}/x"])
            try TestEnv.write("secret-of-the-host\n", to: root + "/etc/host-secret")
            try FileManager.default.createSymbolicLink(atPath: root + "/etc/linked.conf", withDestinationPath: root + "/etc/host-secret")
            try TestEnv.write("root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000::/home/admin:/bin/sh\n", to: root + "/etc/passwd")
            try FileManager.default.createDirectory(atPath: root + "/home/admin/.ssh", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: root + "/home/admin/.ssh/authorized_keys", withDestinationPath: root + "/etc/host-secret")
            try TestEnv.write("#!/bin/sh\ntouch \"$EC2BOOT_ROOT/hosted-runcmd-ran\"\n", to: root + "/etc/ec2-boot-init/actions/runcmd")
            chmod(root + "/etc/ec2-boot-init/actions/runcmd", 0o755)
            try TestEnv.write("""
                #cloud-config
                write_files:
                  - path: /etc/fetched.conf
                    source: {uri: "\(sim.url)/files/away", headers: {X-Token: t0ken-for-this-host}}
                    content: fallback
                  - path: /etc/linked.conf
                    content: "appended\\n"
                    append: true
                  - path: /etc/after-linked
                    content: never
                ssh_authorized_keys: [ssh-ed25519 AAAAkey user@host]
                runcmd: [touch ROOT/runcmd-ran]
                """.replacingOccurrences(of: "ROOT", with: root), to: root + "/seed/user-data")
            let result = try run(root)
            #expect(result.status == 1, "\(result.stderr)")
            let other = try await sim.stats().other_host ?? []
            #expect(other.count == 1 && other.allSatisfy { $0.headers["X-Token"] == nil }, "the redirect's host got \(other)")
            #expect(TestEnv.read(root + "/etc/host-secret") == "secret-of-the-host\n", "nothing written through the symlink")
            #expect(result.stderr.contains("linked.conf (not a symlink)"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root + "/etc/after-linked"), "the action stops at the entry it cannot write")
            let fetched = TestEnv.read(root + "/etc/fetched.conf")
            #expect(fetched == "from the other host\n", "\(fetched ?? "nothing")")

            // Content that does not decode: cloud-init's module stops there, and so does the action.
            let bad = try seededRoot("#cloud-config\nwrite_files:\n  - {path: /etc/bad.b64, encoding: b64, content: QQ}\n"
                                     + "  - {path: /etc/after-bad, content: never}\n", name: "bad-b64")
            let refused = try run(bad)
            #expect(refused.status == 1 && refused.stderr.contains("write_files[0]: content is not base64"), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: bad + "/etc/after-bad"))
            #expect(result.stderr.contains("authorized_keys (not a symlink)"))
            #expect(FileManager.default.fileExists(atPath: root + "/runcmd-ran") && !FileManager.default.fileExists(atPath: root + "/hosted-runcmd-ran"),
                    "a hosted file named runcmd does not take the user's runcmd over")
        }

        static func otherHostFile() throws -> String {
            let path = try TestEnv.tempDir("other") + "/answer"
            try TestEnv.write("from the other host\n", to: path)
            return path
        }

        /// A hostname someone changed after we set it stays; the metadata's name is used when none is given.
        @Test func theHostnameFollowsCloudInitsRules() throws {
            let metadata = #"{"ami-id": "ami-1", "instance-id": "i-1", "local-hostname": "ip-10-0-0-1.ec2.internal"}"#
            let root = try seededRoot("#cloud-config\nhostname: web1\nmanage_etc_hosts: true\n", metadata: metadata)
            #expect(try run(root).status == 0)
            #expect(TestEnv.read(root + "/etc/hostname") == "web1\n")
            #expect(TestEnv.read(root + "/etc/hosts")?.contains("127.0.1.1 ip-10-0-0-1.ec2.internal web1\n") == true, "the fqdn is the metadata's")
            try TestEnv.write("changed-by-admin\n", to: root + "/etc/hostname")
            let second = try run(root)
            #expect(second.status == 0)
            #expect(TestEnv.read(root + "/etc/hostname") == "changed-by-admin\n")
            #expect(second.stderr.contains("the hostname was changed here since it was set"), "\(second.stderr)")
        }

        @Test func runcmdFailFastStopsAtTheFirstFailureAndSaysWhich() throws {
            let userData = """
                #cloud-config
                runcmd:
                  - touch ROOT/one
                  - [sh, -c, "exit 3"]
                  - touch ROOT/three
                runcmd_fail_fast: true
                """
            let root = try seededRoot(userData)
            let result = try run(root)
            #expect(result.status == 1)
            #expect(FileManager.default.fileExists(atPath: root + "/one") && !FileManager.default.fileExists(atPath: root + "/three"))
            #expect(result.stderr.contains("runcmd[1] failed (exit 3); the rest did not run"), "\(result.stderr)")

            // Without it, cloud-init's behaviour: the script goes on, and ends as its last command.
            let lenient = try seededRoot(userData.replacingOccurrences(of: "runcmd_fail_fast: true", with: ""), name: "lenient")
            let ran = try run(lenient)
            #expect(ran.status == 0, "\(ran.stderr)")
            #expect(FileManager.default.fileExists(atPath: lenient + "/three"))
        }

        @Test func validateSaysWhatIsNotSupportedWithItsLineAndStrictRefusesIt() throws {
            let root = try makeRoot()
            let file = root + "/user-data"
            try TestEnv.write("#cloud-config\nruncmd: [ls]\nntp:\n  enabled: true\n", to: file)
            let plain = try tool(["validate", "--root", root, file])
            #expect(plain.status == 0, "\(plain.stderr)")
            #expect(plain.stderr.contains("\(file):3:1: warning: ntp is not supported by ec2-boot-init; ignored"), "\(plain.stderr)")
            let strict = try tool(["validate", "--strict", "--root", root, file])
            #expect(strict.status == 2)
            #expect(strict.stderr.contains("\(file):3:1: error: ntp is not supported"))
            try TestEnv.write("#cloud-config\nruncmd: [ls]\n", to: file)
            #expect(try tool(["validate", "--strict", "--root", root, file]).status == 0)
        }

        @Test func badCloudConfigIsAnInputErrorWithItsPlace() throws {
            let cases: [(String, String)] = [
                ("#cloud-config\nwrite_files:\n  path: /etc/x\n", "user-data:2:1: write_files: expected a list"),
                ("#cloud-config\nruncmd: [unclosed\n", "user-data:"),
                ("#cloud-config\nhostname: [a, b]\n", "user-data:2:1: hostname: expected a single value"),
                ("#cloud-config\nwrite_files:\n  - path: /etc/x\n    permissions: {a: 1}\n", "write_files[0].permissions"),
                ("Content-Type: multipart/mixed\nMIME-Version: 1.0\n\nbody\n", "multipart/mixed without a boundary"),
                ("#cloud-config\npackages: [[a, b, c]]\n", "packages[0]"),
            ]
            for (userData, expected) in cases {
                let root = try seededRoot(userData, name: "bad-\(expected.hashValue)")
                let result = try run(root)
                #expect(result.status == 2, "\(userData)")
                #expect(result.stderr.contains(expected), "\(userData): \(result.stderr)")
                #expect(FileManager.default.fileExists(atPath: root + "/etc/motd"), "the MOTD still says what the machine is")
            }
        }

        @Test func sshKeysFromMetadataAndCloudConfigGoToTheDefaultUserAndRoot() throws {
            let metadata = #"{"ami-id": "ami-1", "instance-id": "i-1", "public-keys": {"0": {"openssh-key": "ssh-ed25519 AAAAmeta pair"}}}"#
            let root = try seededRoot("#cloud-config\nssh_authorized_keys:\n  - ssh-rsa AAAAextra extra@host\n", metadata: metadata)
            try TestEnv.write("root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000:Admin:/home/admin:/bin/sh\n", to: root + "/etc/passwd")
            try TestEnv.write("# kept\nssh-ed25519 AAAAmeta old-comment\n", to: root + "/home/admin/.ssh/authorized_keys")
            let result = try run(root)
            #expect(result.status == 0, "\(result.stderr)")
            let admin = root + "/home/admin/.ssh/authorized_keys"
            #expect(TestEnv.read(admin) == "# kept\nssh-ed25519 AAAAmeta pair\nssh-rsa AAAAextra extra@host\n")
            var info = stat()
            #expect(stat(admin, &info) == 0 && info.st_uid == 1000 && info.st_gid == 1000)
            #expect(stat(root + "/home/admin/.ssh", &info) == 0 && info.st_mode & 0o777 == 0o700 && info.st_uid == 1000)
            let rootKeys = TestEnv.read(root + "/root/.ssh/authorized_keys") ?? ""
            #expect(rootKeys.contains("command=\"echo 'Please login as the user \\\"admin\\\" rather than the user \\\"root\\\".';echo;sleep 10;exit 142\" ssh-ed25519 AAAAmeta pair"), "\(rootKeys)")
            #expect(TestEnv.mode(root + "/root/.ssh/authorized_keys") == 0o600)
        }

        @Test func packagesAndHostnameAreDoneAsCloudInitWould() throws {
            let root = try seededRoot("""
                #cloud-config
                package_upgrade: true
                packages: [curl, [nginx, 1.22.1-9]]
                hostname: web1
                fqdn: web1.example.com
                manage_etc_hosts: localhost
                """)
            try TestEnv.write("127.0.0.1 localhost\n127.0.1.1 old.example old\n", to: root + "/etc/hosts")
            let result = try run(root)
            #expect(result.status == 0, "\(result.stderr)")
            // A --root other than / never touches the host's packages: the manager is none, and says what it would do.
            for line in ["would refresh the package lists", "would upgrade the packages", "would install curl", "would install nginx 1.22.1-9"] {
                #expect(result.stderr.contains(line), "\(line)")
            }
            #expect(TestEnv.read(root + "/etc/hostname") == "web1\n")
            #expect(TestEnv.read(root + "/etc/hosts") == "127.0.0.1 localhost\n127.0.1.1 web1.example.com web1\n")
        }
    }
}
