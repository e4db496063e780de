import Foundation
import Testing

extension ProcessTier {
    /// getactions against a real HTTP server, hosted actions, and Ruby tool actions through
    /// the shim with Debian's real `ruby`.
    @Suite struct HostedActionTests {
        static let examples = TestEnv.repoRoot.appendingPathComponent("actions").path

        func sha256(_ text: String) throws -> String {
            let result = try runProcess("/usr/bin/env", ["sh", "-c", "printf '%s' \"$0\" | sha256sum", text])
            return String(result.stdout.prefix(64))
        }

        static let greet = "#!/bin/sh\nread params\necho \"$EC2BOOT_PARAM_GREETING $EC2BOOT_ACTION $params\" > \"$EC2BOOT_ROOT/greeted\"\npwd >> \"$EC2BOOT_ROOT/greeted\"\n"

        @Test func getactionsInstallsPinnedFilesAndLaterActionsUseThem() async throws {
            let list = "# pinned\ngreet.sh \(try sha256(Self.greet))\n\n"
            let (sim, root) = try serve(["list.txt": list, "greet.sh": Self.greet], simulator: ["--fail", "list.txt=2:500"])
            let result = try run(root, userData: """
                actions:
                  - {type: getactions, url: "\(sim.url)/files/", list: list.txt}
                  - {type: greet, greeting: hi, count: 3}
                """)
            #expect(result.status == 0, "\(result.stderr)")
            let installed = root + "/etc/ec2-boot-init/actions/greet.sh"
            #expect(TestEnv.mode(installed) == 0o755)
            #expect(TestEnv.read(root + "/greeted") == "hi greet {\"count\":3,\"greeting\":\"hi\"}\n\(root)/etc/ec2-boot-init/actions\n")
            #expect(try await sim.stats().by_path["/files/list.txt"] == 3, "the list was retried after two 500s")
        }

        @Test func theListURLFormWorksToo() async throws {
            let (sim, root) = try serve(["list.txt": "greet.sh\n", "greet.sh": Self.greet])
            let result = try run(root, userData: "actions:\n  - {type: getactions, url: \"\(sim.url)/files/list.txt\"}\n  - {type: greet}\n")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/greeted")?.hasPrefix(" greet {}") == true)
        }

        @Test func badNamesMismatchesAndMissingFilesFailTheActionButGoodFilesLand() async throws {
            let list = """
                ../escape.sh
                /etc/passwd
                sub/dir.sh
                .
                good.sh
                tampered.sh \(String(repeating: "0", count: 64))
                missing.sh
                """
            let (sim, root) = try serve(["list.txt": list, "good.sh": "#!/bin/sh\n", "tampered.sh": "#!/bin/sh\nevil\n",
                                         "escape.sh": "x"])
            let result = try run(root, userData: "actions:\n  - {type: getactions, url: \"\(sim.url)/files/\", list: list.txt}\n")
            #expect(result.status == 1)
            let actionsDir = root + "/etc/ec2-boot-init/actions"
            #expect(try FileManager.default.contentsOfDirectory(atPath: actionsDir) == ["good.sh"])
            #expect(!FileManager.default.fileExists(atPath: root + "/etc/ec2-boot-init/escape.sh"))
            let status = try tool(["status", "--json", "--root", root]).stdout
            for name in ["../escape.sh", "/etc/passwd", "sub/dir.sh", "tampered.sh", "missing.sh"] {
                #expect(status.contains(name.replacingOccurrences(of: "/", with: "\\/")) || status.contains(name), "status names \(name)")
            }
            #expect(try await sim.stats().by_path["/files/missing.sh"] == 1, "404 is not retried")
            #expect(Set(try await sim.stats().by_path.keys) == ["/files/list.txt", "/files/good.sh", "/files/tampered.sh", "/files/missing.sh"],
                    "a rejected name is never fetched")
        }

        @Test func requireSHA256AndAllowedHostsAreEnforced() async throws {
            let (sim, root) = try serve(["list.txt": "greet.sh\n", "greet.sh": Self.greet])
            try TestEnv.write("syslog: false\nactions:\n  require_sha256: true\n", to: root + "/etc/ec2-boot-init/config.yaml")
            let unpinned = try run(root, userData: "actions:\n  - {type: getactions, url: \"\(sim.url)/files/\", list: list.txt}\n")
            #expect(unpinned.status == 1)
            #expect(unpinned.stderr.contains("greet.sh: no sha256"))
            #expect(!FileManager.default.fileExists(atPath: root + "/etc/ec2-boot-init/actions/greet.sh"))

            try TestEnv.write("syslog: false\nactions:\n  allowed_hosts: [actions.example.com]\n", to: root + "/etc/ec2-boot-init/config.yaml")
            let elsewhere = try tool(["run", "--force", "--root", root, "--seed", root + "/seed"])
            #expect(elsewhere.status == 1)
            #expect(elsewhere.stderr.contains("not on actions.allowed_hosts"))
            #expect(try await sim.stats().by_path["/files/list.txt"] == 1, "nothing fetched from a host not allowed")
        }

        @Test func aServerPastTheDeadlineFailsTheAction() throws {
            let (sim, root) = try serve(["list.txt": "greet.sh\n"], simulator: ["--hang", "list.txt=100", "--hang-seconds", "10"])
            let start = Date()
            let result = try run(root, userData: """
                actions:
                  - {type: getactions, url: "\(sim.url)/files/", list: list.txt, deadline: 1.5}
                  - {type: shell, command: "touch $EC2BOOT_ROOT/after"}
                """)
            #expect(result.status == 1)
            #expect(result.stderr.contains("cannot fetch the action list"))
            #expect(Date().timeIntervalSince(start) < 40)
            #expect(FileManager.default.fileExists(atPath: root + "/after"))
        }

        @Test func aHostedActionOverridesTheBuiltIn() throws {
            let root = try makeRoot()
            try TestEnv.write(#"{"instance-id": "i-8"}"#, to: root + "/seed/meta-data.json")
            try TestEnv.write("#!/bin/sh\necho hosted > \"$EC2BOOT_ROOT/which\"\n", to: root + "/etc/ec2-boot-init/actions/shell.sh")
            chmod(root + "/etc/ec2-boot-init/actions/shell.sh", 0o755)
            let result = try run(root, userData: "actions:\n  - {type: shell, command: echo builtin > $EC2BOOT_ROOT/which}\n")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/which") == "hosted\n")
            #expect(result.stderr.contains("a hosted action overrides the built-in"))
        }

        @Test func rubyToolActionsRunThroughTheShim() async throws {
            let ruby = try runProcess("/usr/bin/env", ["sh", "-c", "command -v ruby"])
            try #require(ruby.status == 0, "ruby is not installed: the test script installs it (apt-get install ruby)")
            let echo = "newaction(\"legacyecho\") do |cmd, ud, md, config|\n  system(cmd[:command])\nend\n"
            let fetch = try #require(TestEnv.read(Self.examples + "/fetchfiles.rb"))
            // sha256sum's own order (digest first) for one line, ours for the other.
            let list = "\(try sha256(echo))  legacyecho.rb\nfetchfiles.rb \(try sha256(fetch))\n"
            let (sim, root) = try serve(["list.txt": list, "legacyecho.rb": echo, "fetchfiles.rb": fetch,
                                         "a.txt": "file a\n", "b.txt": "file b\n"], simulator: ["--fail", "a.txt=1:503"])
            let result = try run(root, userData: """
                ---
                :facts:
                  role: legacy
                :actions:
                - :type: :getactions
                  :url: \(sim.url)/files/
                  :list: list.txt
                - :type: :legacyecho
                  :command: echo "via ruby $EC2BOOT_ACTION" > $EC2BOOT_ROOT/legacy-shell
                - :type: :fetchfiles
                  :url: \(sim.url)/files
                  :dir: /
                  :files:
                  - a.txt
                  - b.txt
                """)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/legacy-shell") == "via ruby legacyecho\n")
            #expect(TestEnv.read(root + "/a.txt") == "file a\n")
            #expect(TestEnv.read(root + "/b.txt") == "file b\n")
            #expect(result.stderr.contains("Fetching a.txt for i-7 action=2:fetchfiles"), "\(result.stderr)")
        }

        @Test func aRubyActionThatRaisesFails() throws {
            let root = try makeRoot()
            try TestEnv.write(#"{"instance-id": "i-9"}"#, to: root + "/seed/meta-data.json")
            try TestEnv.write("newaction(\"boom\") do |cmd, ud, md, config|\n  raise \"no \" + cmd[:what] + \" \" + ud.user_data[:facts][\"role\"]\nend\n",
                              to: root + "/etc/ec2-boot-init/actions/boom.rb")
            let result = try run(root, userData: ":facts:\n  role: db\n:actions:\n- :type: :boom\n  :what: luck\n")
            #expect(result.status == 1)
            #expect(result.stderr.contains("action boom failed: RuntimeError: no luck db"), "\(result.stderr)")
        }

        @Test func theRepositorysExampleListInstallsByFileURLAndItsPinsHold() throws {
            let root = try makeRoot()
            try TestEnv.write(#"{"ami-id": "ami-42", "instance-id": "i-42"}"#, to: root + "/seed/meta-data.json")
            let result = try run(root, userData: """
                actions:
                  - {type: getactions, url: "file://\(Self.examples)/list.txt"}
                  - {type: hello, greeting: bonjour}
                """)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/etc/ec2-boot-init/actions").sorted()
                    == ["fetchfiles.rb", "hello.sh"])
            #expect(TestEnv.read(root + "/etc/hello.txt") == "bonjour\n")
            #expect(result.stderr.contains("running ami-42 action=1:hello"), "\(result.stderr)")
        }
    }
}
