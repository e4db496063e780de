import Foundation
import Testing

extension ProcessTier {
    /// Users of the Ruby ec2-boot-init switching over: an image upgraded in place, per-boot
    /// actions, the inherited environment, a MOTD that names the instance, and the rough edges a
    /// new user met.
    @Suite struct CompatTests {
        static let metadata = #"{"ami-id": "ami-1", "instance-id": "i-1", "instance-type": "t3.micro", "placement": {"availability-zone": "us-east-1a"}}"#
        func seeded(_ userData: String, config: String = "", name: String = #function) throws -> String {
            try EC2BootKitTests.seededRoot(userData, metadata: Self.metadata, config: config, name: name)
        }


        /// Serves a list with one file, hello.sh (touches ROOT/hello-ran), and puts the server's
        /// address where the seed's user-data says URL.
        func serveHello(_ root: String) throws -> Simulator {
            try TestEnv.write("hello.sh\n", to: root + "/served/list.txt")
            try TestEnv.write("#!/bin/sh\ntouch \"$EC2BOOT_ROOT/hello-ran\"\n", to: root + "/served/hello.sh")
            let sim = try Simulator(["--serve", root + "/served"])
            let userData = try #require(TestEnv.read(root + "/seed/user-data"))
            try TestEnv.write(userData.replacingOccurrences(of: "URL", with: sim.url), to: root + "/seed/user-data")
            return sim
        }

        /// The Ruby package's own action files, as its releases shipped them (written from its
        /// documented behaviour).
        static let stockGetactions = """
            newaction("getactions") do |cmd, ud, md, config|
                if cmd.include?(:url) and cmd.include?(:list)
                    url = cmd[:url]
                    list = cmd[:list]
                    EC2Boot::Util.log("Fetching action list (#{list}) from #{url}")
                    list = EC2Boot::Util.get_url("#{url}/#{list}")
                    list.split("\\n").each do |command|
                        EC2Boot::Util.log("Fetching command: #{command}")
                        body = EC2Boot::Util.get_url("#{url}/#{command}")
                        File.open(config.actions_dir + "/#{command}", "w") do |f|
                            f.print body
                        end
                    end
                    config.actions.load_actions
                end
            end
            """
        static let stockShell = "newaction(\"shell\") do |cmd, ud, md, config|\n  if cmd.include?(:command)\n    system(cmd[:command])\n  end\nend\n"

        @Test func anImageUpgradedInPlaceUsesTheBuiltInsOverTheRubyPackagesFiles() throws {
            let root = try seeded("""
                ---
                :actions:
                - :type: :getactions
                  :url: URL/files/
                  :list: list.txt
                - :type: :hello
                - :type: :shell
                  :command: pwd > ROOT/cwd; false
                  :cwd: /etc
                """)
            try TestEnv.write(Self.stockGetactions, to: root + "/etc/ec2-boot-init/actions/getactions.rb")
            try TestEnv.write(Self.stockShell, to: root + "/etc/ec2-boot-init/actions/shell.rb")
            let sim = try serveHello(root)
            defer { withExtendedLifetime(sim) {} }
            let result = try run(root)
            #expect(result.status == 1, "the built-in shell reports the failing command: \(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/hello-ran"), "the built-in getactions installed hello.sh")
            #expect(TestEnv.read(root + "/cwd") == root + "/etc\n", "the built-in shell honours cwd (under the root)")
            for file in ["getactions.rb", "shell.rb"] {
                #expect(result.stderr.contains("the Ruby tool's own action file is installed; using the built-in instead file=\(root)/etc/ec2-boot-init/actions/\(file)"),
                        "\(file): \(result.stderr)")
            }
            let actions = try tool(["status", "--json", "--root", root]).stdout
            #expect(actions.contains("\"result\" : \"failed\""))
        }

        /// The stock getactions body, under a name that is not a built-in, runs through the shim:
        /// everything it calls (get_url's body, config.actions_dir, config.actions.load_actions) is there.
        @Test func theRubyPackagesGetactionsBodyRunsThroughTheShim() throws {
            let root = try seeded(":actions:\n- :type: :oldget\n  :url: URL/files\n  :list: list.txt\n- :type: :hello\n")
            try TestEnv.write(Self.stockGetactions.replacingOccurrences(of: "newaction(\"getactions\")", with: "newaction(\"oldget\")"),
                              to: root + "/etc/ec2-boot-init/actions/oldget.rb")
            let sim = try serveHello(root)
            defer { withExtendedLifetime(sim) {} }
            let result = try run(root)
            // The Ruby tool wrote files with mode 0644, so hello.sh is not executable: the hello action fails,
            // as it did in the Ruby tool; what matters is that the file arrived through the shim.
            #expect(result.stderr.contains("Fetching command: hello.sh action=0:oldget"), "\(result.stderr)")
            #expect(TestEnv.read(root + "/etc/ec2-boot-init/actions/hello.sh")?.hasPrefix("#!/bin/sh") == true)
            let status = try JSONSerialization.jsonObject(with: Data(try tool(["status", "--json", "--root", root]).stdout.utf8)) as? [String: Any]
            let first = (status?["actions"] as? [[String: Any]])?.first
            #expect(first?["type"] as? String == "oldget" && first?["result"] as? String == "ok", "\(String(describing: first))")
        }

        /// The Ruby tool's README example (`:master:` for puppet) and MCollective's (`:master:` for the
        /// broker host) validate; the built-ins read master as server and host. Both names at once is refused.
        @Test func theRubyToolsMasterKeyIsTheServerAndTheBrokerHost() throws {
            let readme = """
                ---
                :facts:
                  foo: bar
                :actions:
                - :type: :getactions
                  :url: http://your.net/ec2actions/
                  :list: list.txt
                - :type: :puppet
                  :master: puppet.your.net
                - :type: :mcollective
                  :connector: :rabbitmq
                  :master: stomp.your.net
                  :psk: a-psk
                """
            let valid = try tool(["validate", "-"], stdin: readme)
            #expect(valid.status == 0, "\(valid.stderr)")
            #expect(valid.stdout.contains("<stdin>: ok: 1 facts, 3 actions"), "\(valid.stdout)")
            // The mcollective action runs here (no package, no service manager): its server.cfg names the master.
            let root = try seeded("""
                :actions:
                - :type: :mcollective
                  :connector: :rabbitmq
                  :master: stomp.your.net
                  :psk: a-psk
                """)
            // A stand-in `hostname` (the identity's %f): the host's resolver plays no part.
            try TestEnv.write("#!/bin/sh\necho node1.example.com\n", to: root + "/bin/hostname")
            chmod(root + "/bin/hostname", 0o755)
            let result = try run(root, path: root + "/bin")
            #expect(result.status == 0, "\(result.stderr)")
            let cfg = try #require(TestEnv.read(root + "/etc/mcollective/server.cfg"))
            #expect(cfg.contains("plugin.rabbitmq.pool.1.host = stomp.your.net"), "\(cfg)")
            let both = try tool(["validate", "-"], stdin: "actions:\n  - type: puppet\n    server: a.example.com\n    master: b.example.com\n")
            #expect(both.status == 2)
            #expect(both.stderr.contains("<stdin>:4:5: actions[0].master: another name for server; give one of them"), "\(both.stderr)")
            #expect(try tool(["schema", "puppet"]).stdout.contains("`master` is accepted for `server` (the Ruby tool's name for it)."))
        }

        /// A fleet's own puppet.rb still runs instead of the built-in, and gets :master as written.
        @Test func aHostedPuppetRbGetsTheMasterAsWritten() throws {
            let root = try seeded(":actions:\n- :type: :puppet\n  :master: puppet.your.net\n")
            try TestEnv.write("""
                newaction("puppet") do |cmd, ud, md, config|
                  File.write(File.join(ENV["EC2BOOT_ROOT"], "master-was"), cmd[:master])
                end
                """, to: root + "/etc/ec2-boot-init/actions/puppet.rb")
            let result = try run(root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/master-was") == "puppet.your.net")
            #expect(result.stderr.contains("a hosted action overrides the built-in"), "\(result.stderr)")
        }

        /// A fleet's own puppet.rb takes keys the built-in does not know: fetched by getactions,
        /// or in the actions folder, it runs with them; validate warns; with neither, it is an error.
        @Test func aHostedPuppetRbWithKeysOfItsOwnRunsInsteadOfTheBuiltIn() throws {
            let puppetRb = """
                newaction("puppet") do |cmd, ud, md, config|
                  File.write(File.join(ENV["EC2BOOT_ROOT"], "genconfig-was"), cmd[:genconfig].to_s)
                end
                """
            let root = try seeded(":actions:\n- :type: :getactions\n  :url: URL\n  :list: list.txt\n"
                                  + "- :type: :puppet\n  :master: puppet.your.net\n  :genconfig: true\n")
            try TestEnv.write("puppet.rb\n", to: root + "/served/list.txt")
            try TestEnv.write(puppetRb, to: root + "/served/puppet.rb")
            let sim = try Simulator(["--serve", root + "/served"])
            let userData = try #require(TestEnv.read(root + "/seed/user-data")).replacingOccurrences(of: "URL", with: sim.url + "/files")
            try TestEnv.write(userData, to: root + "/seed/user-data")
            let checked = try tool(["validate", "--root", root, root + "/seed/user-data"])
            #expect(checked.status == 0, "\(checked.stderr)")
            #expect(checked.stderr.contains("warning: actions[1].genconfig: unknown key"), "\(checked.stderr)")
            let result = try run(root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/genconfig-was") == "true")

            // In the actions folder, without getactions: the same.
            let folder = try seeded(":actions:\n- :type: :puppet\n  :genconfig: true\n", name: "folder")
            try TestEnv.write(puppetRb, to: folder + "/etc/ec2-boot-init/actions/puppet.rb")
            #expect(try run(folder).status == 0)
            #expect(TestEnv.read(folder + "/genconfig-was") == "true")

            // Neither: the built-in's schema refuses it before anything runs.
            let neither = try seeded(":actions:\n- :type: :puppet\n  :genconfig: true\n", name: "neither")
            let refused = try tool(["validate", "--root", neither, neither + "/seed/user-data"])
            #expect(refused.status == 2 && refused.stderr.contains("actions[0].genconfig: unknown key"), "\(refused.stderr)")
        }

        /// The Ruby era's `:mcollective` with only `:master:`: valid (connector activemq, as the
        /// package's server.cfg); its pre-shared key is server.cfg's own, never a placeholder.
        @Test func theRubyToolsMCollectiveMasterAloneKeepsServerCfgsKey() throws {
            let userData = "---\n:facts:\n  foo: bar\n:actions:\n- :type: :mcollective\n  :master: mcollective.your.net\n"
            for (name, existing, ok) in [("none", nil, false), ("placeholder", "plugin.psk = unset\n", false),
                                         ("real", "securityprovider = psk\nplugin.psk = a-Real-Key\n", true)] as [(String, String?, Bool)] {
                let root = try seeded(userData, name: "mco-\(name)")
                #expect(try tool(["validate", "--root", root, root + "/seed/user-data"]).status == 0)
                if let existing { try TestEnv.write(existing, to: root + "/etc/mcollective/server.cfg") }
                let result = try run(root, path: try hostnameStandIn(root))
                #expect(result.status == (ok ? 0 : 1), "\(name): \(result.stderr)")
                let server = TestEnv.read(root + "/etc/mcollective/server.cfg") ?? ""
                if ok {
                    #expect(server.contains("plugin.activemq.pool.1.host = mcollective.your.net") && server.contains("plugin.psk = a-Real-Key"), "\(server)")
                } else {
                    #expect(result.stderr.contains("no pre-shared key: give the psk parameter, or set plugin.psk in"), "\(result.stderr)")
                    #expect(!server.contains("mcollective.your.net"), "nothing written")
                }
            }
        }

        @Test func perBootActionsRunEveryBootAfterThePerInstanceOnesEvenAfterAnInterruption() throws {
            let root = try seeded("""
                actions:
                  - {type: shell, command: "echo P1 >> ROOT/order", frequency: per-boot}
                  - {type: shell, command: "echo A >> ROOT/order"}
                  - type: shell
                    frequency: per-boot
                    command: "if [ ! -e ROOT/crashed ]; then touch ROOT/crashed; kill -9 $PPID; exit 0; fi; echo P2 >> ROOT/order"
                """)
            #expect(try run(root).status == 137, "the first boot was killed during P2")
            #expect(try run(root).status == 0, "the next boot resumes")
            #expect(try run(root).status == 0, "a later boot")
            #expect(TestEnv.read(root + "/order") == "A\nP1\nP1\nP2\nP1\nP2\n",
                    "per-instance first; A not repeated after the interruption; per-boot ones again on every boot")
            let table = try tool(["status", "--root", root]).stdout
            #expect(table.contains("per-boot") && table.contains("FREQUENCY"), "\(table)")

            let ruby = try seeded("actions:\n  - {type: shell, command: \"echo x >> ROOT/count\"}\n", config: "actions:\n  default_frequency: per-boot\n",
                                  name: "default")
            for _ in 0..<2 { #expect(try run(ruby).status == 0) }
            #expect(TestEnv.read(ruby + "/count") == "x\nx\n", "actions.default_frequency: per-boot runs it every boot, as the Ruby tool did")
            let bad = try seeded("actions:\n  - {type: shell, command: 'true', frequency: hourly}\n", name: "bad")
            #expect(try tool(["validate", "--root", bad, bad + "/seed/user-data"]).stderr.contains("frequency: expected per-instance or per-boot"))
        }

        @Test func aLaterBootStoppedMidwayNeverRepeatsThePerInstanceActions() throws {
            let root = try seeded("""
                actions:
                  - {type: shell, command: "echo A >> ROOT/order"}
                  - {type: shell, command: "echo C >> ROOT/order; exit 1"}
                  - type: shell
                    frequency: per-boot
                    command: "if [ -e ROOT/arm ] && [ ! -e ROOT/crashed ]; then touch ROOT/crashed; kill -9 $PPID; exit 0; fi; echo B >> ROOT/order"
                """)
            #expect(try run(root).status == 1, "C failed")
            try TestEnv.write("", to: root + "/arm")
            #expect(try run(root).status == 137, "the second boot was killed during the per-boot action")
            #expect(try run(root).status == 1, "C's failure still stands")
            #expect(TestEnv.read(root + "/order") == "A\nC\nB\nB\n", "A and C (failed) ran once for the instance")
        }

        @Test func actionsInheritTheEnvironment() throws {
            let root = try seeded("actions:\n  - {type: shell, command: \"echo $FOO $EC2BOOT_ACTION > ROOT/env\"}\n")
            var environment = ProcessInfo.processInfo.environment
            environment["FOO"] = "from-the-operator"
            #expect(try run(root, ["--force"], environment: environment).status == 0)
            #expect(TestEnv.read(root + "/env") == "from-the-operator shell\n")
        }

        @Test func aFailedRunsMOTDNamesTheInstance() throws {
            let root = try seeded("actions:\n  - {type: shell, command: 'exit 3'}\n")
            #expect(try run(root).status == 1)
            let motd = try #require(TestEnv.read(root + "/etc/motd"))
            for text in ["UNPROVISIONED", "i-1", "ami-1", "t3.micro", "us-east-1a", "failed: action 0 (shell): failed", "\(root)/etc/facts.txt"] {
                #expect(motd.contains(text), "\(text) in \(motd)")
            }
            try TestEnv.write("UNPROVISIONED @@ami_id@@ in @@placement_availability_zone@@\n", to: root + "/etc/ec2-boot-init/motd.unprovisioned")
            #expect(try run(root, ["--force"]).status == 1)
            #expect(TestEnv.read(root + "/etc/motd")?.hasPrefix("UNPROVISIONED ami-1 in us-east-1a\n") == true, "a Ruby-tool template still works")
        }

        @Test func roughEdgesANewUserMet() throws {
            let typo = try tool(["stauts"])
            #expect(typo.status == 2)
            #expect(typo.stderr.contains("unknown command 'stauts'. Did you mean 'status'?"), "\(typo.stderr)")
            #expect(typo.stderr.contains("run, status, query, validate, fetch, clean"))

            let root = try seeded("actions:\n  - {type: nowhere}\n")
            let validate = try tool(["validate", "--root", root, root + "/seed/user-data"])
            #expect(validate.status == 0)
            #expect(validate.stderr.contains("warning: actions[0]: type nowhere is not built in and not in"), "\(validate.stderr)")

            let clean = try tool(["clean", "--root", root])
            #expect(clean.status == 0)
            #expect(!clean.stderr.contains("removed"), "nothing existed: \(clean.stderr)")

            let unreachable = try makeRoot(config: "imds:\n  deadline: 2\n  backoff_max: 0.2\n")
            let waited = try tool(["run", "--root", unreachable, "--metadata-url", "http://127.0.0.1:9"])
            #expect(waited.status == 3)
            let waits = waited.stderr.split(separator: "\n").filter { $0.contains("waiting up to") }
            #expect(waits.count == 1, "said at once, then every 10 s: \(waited.stderr)")
            #expect(waits.first?.contains("waiting up to 2 s for http://127.0.0.1:9/latest/api/token (Ctrl-C or SIGTERM stops)") == true
                    && waits.first?.contains("attempt=") == true, "\(waits)")
        }
    }
}
