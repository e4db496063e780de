import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// Action files in the style of the Ruby tool and its forks, through the shim with Debian's
    /// real `ruby`: they see the objects they saw in Ruby.
    @Suite struct RubyShimTests {
        static let metadata = #"{"ami-id": "ami-5", "instance-id": "i-5"}"#
        func seeded(_ userData: String, actions: [String: String], name: String = #function) throws -> String {
            try EC2BootKitTests.seededRoot(userData, metadata: Self.metadata, actions: actions, name: name)
        }

        func runWithRuby(_ root: String) throws -> ToolResult {
            let ruby = try runProcess("/usr/bin/env", ["sh", "-c", "command -v ruby"])
            try #require(ruby.status == 0, "ruby is not installed: scripts/deps.sh installs it")
            return try run(root)
        }

        /// The shim is a real Ruby file, checked by Ruby itself, and it is what the binary carries.
        @Test func theShimIsRubyThatRubyAccepts() throws {
            let file = TestEnv.repoRoot.appendingPathComponent("Sources/EC2BootKit/Resources/ec2boot_shim.rb").path
            let check = try runProcess("/usr/bin/env", ["ruby", "-c", file])
            #expect(check.status == 0 && check.stdout.contains("Syntax OK"), "\(check.stderr)")
            #expect(LegacyRuby.shim == TestEnv.read(file))
        }

        /// Writes what the action saw, one `name=value` a line, to ROOT/saw.
        static let observer = """
            newaction("observe") do |cmd, ud, md, config|
              saw = []
              saw << "type_is_symbol=#{cmd[:type] == :observe}"
              saw << "mode=#{cmd[:mode].inspect}"
              saw << "nested_symbol=#{ud.user_data[:facts][:hostname].inspect}"
              saw << "nested_string=#{ud.user_data[:facts]['plain'].inspect}"
              saw << "deep=#{ud.user_data[:extra][:tags][:tier].inspect}"
              saw << "list=#{cmd[:list].inspect}"
              saw << "actions_dir=#{config.actions_dir}"
              saw << "cache_dir=#{config.cache_dir}"
              saw << "facts_file=#{config.facts_file}"
              saw << "motd_file=#{config.motd_file}"
              saw << "user_data_url=#{config.user_data_url}"
              saw << "ami=#{md.flat_data['ami_id']}"
              saw << "fetched=#{ud.fetched? && md.fetched?}"
              config.actions.load_actions
              log "bare log works"
              begin
                EC2Boot::Util.get_url(cmd[:missing])
                saw << "rescued=none"
              rescue EC2Boot::URLNotFound => e
                saw << "rescued=URLNotFound"
              end
              File.write(ENV['EC2BOOT_ROOT'] + '/saw', saw.join("\\n") + "\\n")
            end
            """

        @Test func anActionSeesSymbolsAsYAMLWroteThemAndTheLibrarysReaders() throws {
            let sim = try Simulator()
            let root = try seeded("""
                ---
                :facts:
                  :hostname: web1
                  plain: yes-string-key
                :extra:
                  :tags:
                    :tier: front
                :actions:
                - :type: :observe
                  :mode: :fast
                  :list:
                  - :a
                  - b
                  :missing: \(sim.url)/files/nope
                """, actions: ["observe.rb": Self.observer])
            let result = try runWithRuby(root)
            #expect(result.status == 0, "\(result.stderr)")
            let saw = try #require(TestEnv.read(root + "/saw"))
            let expected = """
                type_is_symbol=true
                mode=:fast
                nested_symbol="web1"
                nested_string="yes-string-key"
                deep="front"
                list=[:a, "b"]
                actions_dir=\(root)/etc/ec2-boot-init/actions
                cache_dir=\(root)/var/spool/ec2boot
                facts_file=\(root)/etc/facts.txt
                motd_file=\(root)/etc/motd
                user_data_url=http://169.254.169.254/latest/user-data
                ami=ami-5
                fetched=true
                rescued=URLNotFound

                """
            #expect(saw == expected, "\(saw)")
            let logged = result.stderr.split(separator: "\n").filter { $0.contains("bare log works") }
            #expect(logged.count == 1 && logged[0].contains("info: bare log works action=0:observe"), "\(logged)")
        }

        @Test func logLinesOfTheAgentsOwnCommandsAreNotStampedTwice() throws {
            let root = try seeded(":actions:\n- :type: :grab\n", actions: ["grab.rb": """
                newaction("grab") do |cmd, ud, md, config|
                  EC2Boot::Util.get_url("file://" + ENV['EC2BOOT_ROOT'] + "/seed/meta-data.json", ENV['EC2BOOT_ROOT'] + "/copy")
                end
                """])
            let result = try runWithRuby(root)
            #expect(result.status == 0, "\(result.stderr)")
            let fetched = result.stderr.split(separator: "\n").filter { $0.contains("fetched dest=") }
            #expect(fetched.count == 1, "\(result.stderr)")
            #expect(fetched.first.map { $0.components(separatedBy: "info:").count == 2 && $0.hasSuffix("action=0:grab") } == true,
                    "one prefix, the action's tag: \(fetched)")
        }

        @Test func getcommandsIsTheBuiltInGetactions() throws {
            let (sim, root) = try serve(["list.txt": "hello.sh\n", "hello.sh": "#!/bin/sh\ntouch \"$EC2BOOT_ROOT/hello-ran\"\n"])
            try TestEnv.write(":actions:\n- :type: :getcommands\n  :url: \(sim.url)/files/list.txt\n- :type: :hello\n",
                              to: root + "/seed/user-data")
            let validate = try tool(["validate", "--root", root, root + "/seed/user-data"])
            #expect(validate.status == 0, "\(validate.stderr)")
            let result = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("getcommands is the Ruby tool's old name for getactions"))
            #expect(FileManager.default.fileExists(atPath: root + "/hello-ran"))
        }
    }
}
