import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// facts.txt, the Facter facts file (read back by the real `facter`) and the MOTD.
    @Suite struct FactsAndMOTDTests {
        static let metadata = #"{"ami-id": "ami-1", "instance-type": "m5.large", "hostname": "h1", "placement": {"availability-zone": "eu-west-1c"}, "security-groups": "web\nssh"}"#
        func seededRoot(_ userData: String, config: String = "", name: String = #function) throws -> String {
            try EC2BootKitTests.seededRoot(userData, metadata: Self.metadata, config: config, name: name)
        }

        static let awkward = """
            facts:
              motto: "line one\\nline two"
              equation: "a=b=c"
              path: 'C:\\temp\\new'
              flag: "true"
              mode: "0755"
              "bad name=x": y
            write_ec2_facts: true

            """

        @Test func newlinesAndEqualsCannotBreakFactsTxt() throws {
            let root = try seededRoot(Self.awkward)
            let result = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = try #require(TestEnv.read(root + "/etc/facts.txt")).split(separator: "\n", omittingEmptySubsequences: false)
            // Values raw, as Facter's key=value format has them; a newline became a space, with a warning.
            #expect(lines.prefix(6) == ["motto=line one line two", "equation=a=b=c", #"path=C:\temp\new"#,
                                        "flag=true", "mode=0755", "bad_name_x=y"])
            #expect(result.stderr.contains("control characters in fact values replaced by spaces facts=motto"), "\(result.stderr)")
            // Every line is name=value with a name free of '='.
            for line in lines.dropLast() { #expect(line.contains("=") && !line.prefix { $0 != "=" }.isEmpty) }
            #expect(lines.last == "")
        }

        /// facts.txt as the Ruby tool's `write_facts` wrote it (`puts "#{k}=#{v}"` over what Psych
        /// read), the Ruby tool's own lines computed by the real `ruby` beside ours.
        @Test func factsAreWhatTheRubyToolWrote() throws {
            let userData = """
                :facts:
                  monitoring: yes
                  port: 0x1F
                  ratio: 3.10
                  window: 1:30
                  note: ~
                  mode: 0644
                  day: 2001-12-14
                  at: 2001-12-14 21:59:43
                  quoted: "0x1F"
                  :sym: :value
                  big: 1234567890123456.0

                """
            let root = try seededRoot(userData)
            let result = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 0, "\(result.stderr)")
            let ours = try #require(TestEnv.read(root + "/etc/facts.txt")).split(separator: "\n").prefix(11).map(String.init)
            let script = ##"YAML.unsafe_load($stdin.read)[:facts].each { |k, v| puts "#{k}=#{v}" }"##
            let ruby = try runProcess("/usr/bin/env", ["TZ=UTC", "ruby", "-ryaml", "-e", script], stdin: userData)
            try #require(ruby.status == 0, "\(ruby.stderr)")
            #expect(ours == ruby.stdout.split(separator: "\n").map(String.init))
            #expect(ours.prefix(3) == ["monitoring=true", "port=31", "ratio=3.1"])
        }

        @Test func facterReadsTheFactsExactly() throws {
            let facter = try runProcess("/usr/bin/env", ["sh", "-c", "command -v facter"])
            try #require(facter.status == 0, "facter is not installed: the test script installs it (apt-get install facter)")
            let root = try seededRoot(Self.awkward)
            #expect(try tool(["run", "--root", root, "--seed", root + "/seed"]).status == 0)
            let dir = root + "/etc/facter/facts.d"
            let out = try runProcess("/usr/bin/env", ["facter", "--no-custom-facts", "--external-dir", dir, "--json",
                                                      "motto", "equation", "path", "flag", "mode", "ec2_security_groups_1",
                                                      "ec2_placement_region"])
            #expect(out.status == 0, "\(out.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
            #expect(json["motto"] as? String == "line one line two")
            #expect(json["equation"] as? String == "a=b=c")
            #expect(json["path"] as? String == #"C:\temp\new"#)
            #expect(json["flag"] as? String == "true", "a string, not a boolean")
            #expect(json["mode"] as? String == "0755")
            #expect(json["ec2_security_groups_1"] as? String == "ssh")
            #expect(json["ec2_placement_region"] as? String == "eu-west-1")
            #expect(TestEnv.mode(dir + "/ec2_boot_init.yaml") == 0o644)
        }

        @Test func motdUsesTheInstalledTemplateAndWarnsOnceAboutUnknownKeys() throws {
            let root = try seededRoot("facts:\n  role: cache\n")
            try TestEnv.write("@@role@@ on @@ami_id@@ (@@instance_type@@) in @@ec2_placement_region@@ @@nope@@ @@nope@@ @@ not a key @@\n",
                              to: root + "/etc/ec2-boot-init/motd.provisioned")
            let result = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 0)
            #expect(TestEnv.read(root + "/etc/motd") == "cache on ami-1 (m5.large) in eu-west-1 @@nope@@ @@nope@@ @@ not a key @@\n")
            #expect(result.stderr.components(separatedBy: "@@nope@@").count == 2, "one warning: \(result.stderr)")
            #expect(TestEnv.mode(root + "/etc/motd") == 0o644)
        }

        @Test func rubyToolTemplatesStillRender() throws {
            let root = try seededRoot("")
            let template = "ami: @@ami_id@@\ntype: @@instance_type@@\none: @@placement_availability_zone@@\nhostname: @@hostname@@\npublic hostname: @@public_hostname@@\n"
            try TestEnv.write(template, to: root + "/etc/ec2-boot-init/motd.provisioned")
            #expect(try tool(["run", "--root", root, "--seed", root + "/seed"]).status == 0)
            #expect(TestEnv.read(root + "/etc/motd") == "ami: ami-1\ntype: m5.large\none: eu-west-1c\nhostname: h1\npublic hostname: @@public_hostname@@\n")
        }

        @Test func theUnprovisionedTemplateIsUsedOnFailure() throws {
            let root = try seededRoot("facts: [1, 2]\n")
            try TestEnv.write("NOT READY @@ami_id@@\n", to: root + "/etc/ec2-boot-init/motd.unprovisioned")
            #expect(try tool(["run", "--root", root, "--seed", root + "/seed"]).status == 2)
            let motd = try #require(TestEnv.read(root + "/etc/motd"))
            #expect(motd.hasPrefix("NOT READY ami-1\n"))
            #expect(motd.contains("failed: user-data is invalid"))
        }

        @Test func terminalEscapesInTagsNeverReachTheMOTDOrFacts() throws {
            let root = try makeRoot()
            let meta = #"{"ami-id": "ami-1", "instance-id": "i-1", "tags": {"instance": {"Name": "web\u001b]0;owned\u0007\u001b[2J\r\u2028x"}}}"#
            try TestEnv.write(meta, to: root + "/seed/meta-data.json")
            try TestEnv.write("write_ec2_facts: true\n", to: root + "/seed/user-data")
            try TestEnv.write("Name: @@tags_instance_Name@@\n", to: root + "/etc/ec2-boot-init/motd.provisioned")
            let result = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 0, "\(result.stderr)")
            let motd = try #require(TestEnv.read(root + "/etc/motd"))
            #expect(motd == "Name: web ]0;owned  [2J  x\n", "\(motd.debugDescription)")
            let facts = try #require(TestEnv.read(root + "/etc/facts.txt"))
            #expect(facts.contains("ec2_tags_instance_Name=web ]0;owned  [2J  x\n"), "\(facts.debugDescription)")
            for text in [motd, facts] {
                #expect(!text.unicodeScalars.contains { Printable.isUnsafe($0) && $0 != "\n" })
            }
            #expect(result.stderr.contains("control characters in a value replaced in the MOTD key=tags_instance_Name"), "\(result.stderr)")
        }
    }
}
