import Foundation
import Testing

extension ProcessTier {
    /// User-data through `run`: formats the Ruby tool accepted, and bad input.
    @Suite struct UserDataRunTests {
        /// Runs with a seed folder holding `userData` and a small metadata tree.
        func runSeed(_ userData: Data?, config: String = "", name: String = #function) throws -> (ToolResult, String) {
            let root = try makeRoot(name, config: config)
            let seed = root + "/seed"
            try TestEnv.write(#"{"ami-id": "ami-1", "instance-id": "i-1", "placement": {"availability-zone": "us-east-1a"}}"#,
                              to: seed + "/meta-data.json")
            if let userData { try userData.write(to: URL(fileURLWithPath: seed + "/user-data")) }
            return (try tool(["run", "--root", root, "--seed", seed]), root)
        }

        @Test func rubySymbolAndPlainKeysMeanTheSame() throws {
            let (ruby, rubyRoot) = try runSeed(Data("---\n:facts:\n  :role: web\n  tier: :front\n:write_ec2_facts: true\n".utf8))
            let (plain, plainRoot) = try runSeed(Data("facts:\n  role: web\n  tier: front\nwrite_ec2_facts: true\n".utf8))
            #expect(ruby.status == 0 && plain.status == 0, "\(ruby.stderr)\(plain.stderr)")
            let facts = TestEnv.read(rubyRoot + "/etc/facts.txt")
            #expect(facts == TestEnv.read(plainRoot + "/etc/facts.txt"))
            #expect(facts == """
                role=web
                tier=front
                ec2_ami_id=ami-1
                ec2_instance_id=i-1
                ec2_placement_availability_zone=us-east-1a
                ec2_placement_region=us-east-1

                """)
        }

        @Test func quotedColonValuesKeepTheirColon() throws {
            let (result, root) = try runSeed(Data("facts:\n  port: \":8080\"\n".utf8))
            #expect(result.status == 0)
            #expect(TestEnv.read(root + "/etc/facts.txt") == "port=:8080\n")
        }

        @Test func gzipUserDataIsInflated() throws {
            let plain = "facts:\n  role: compressed\n"
            let gzip = try runProcess("/bin/sh", ["-c", "printf '%s' \"$0\" | gzip -c | base64 -w0", plain])
            let data = try #require(Data(base64Encoded: gzip.stdout))
            #expect(data.starts(with: [0x1f, 0x8b]))
            let (result, root) = try runSeed(data)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/etc/facts.txt") == "role=compressed\n")
        }

        @Test func corruptGzipIsAnInputError() throws {
            let (result, root) = try runSeed(Data([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]))
            #expect(result.status == 2)
            #expect(result.stderr.contains("gzip"))
            #expect(FileManager.default.fileExists(atPath: root + "/etc/motd"))
        }

        @Test func malformedYAMLSaysWhereAndStillWritesFactsAndMOTD() throws {
            let (result, root) = try runSeed(Data("facts:\n  role: web\n  bad: [unclosed\n".utf8),
                                             config: "write_ec2_facts: true\n")
            #expect(result.status == 2)
            #expect(result.stderr.contains("user-data:4:1:") || result.stderr.contains("user-data:3:"), "\(result.stderr)")
            let facts = try #require(TestEnv.read(root + "/etc/facts.txt"))
            #expect(facts.contains("ec2_ami_id=ami-1"))
            let motd = try #require(TestEnv.read(root + "/etc/motd"))
            #expect(motd.contains("UNPROVISIONED"))
            #expect(motd.contains("user-data is invalid"))
        }

        @Test(arguments: [
            ("- just\n- a list\n", "user-data:1:1: expected a mapping"),
            ("facts:\n  - role\n", "user-data:2:3: facts: expected a mapping"),
            ("facts:\n  role:\n    nested: x\n", "user-data:3:5: facts.role: expected a single value"),
            ("actions: nope\n", "user-data:1:10: actions: expected a list"),
            ("actions:\n  - url: x\n", "user-data:2:5: actions[0]: missing type"),
            ("write_ec2_facts: maybe\n", "user-data:1:18: write_ec2_facts: expected true or false"),
        ])
        func wrongShapesAreNamedWithLineAndColumn(yaml: String, message: String) throws {
            let (result, root) = try runSeed(Data(yaml.utf8), name: "shape\(message.prefix(18))")
            #expect(result.status == 2)
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/etc/facts.txt"))
        }

        @Test func emptyUserDataIsFine() throws {
            let (result, root) = try runSeed(Data())
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/etc/motd")?.contains("provisioned instance") == true)
        }

        @Test func aScriptIsCachedAsServedAndRun() throws {
            let (result, root) = try runSeed(Data("#!/bin/sh\necho hello\n".utf8))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("user-data is a script"))
            #expect(result.stderr.contains("hello action=0:script"))
            #expect(TestEnv.read(root + "/var/spool/ec2boot/user-data.raw") == "#!/bin/sh\necho hello\n")
        }

        @Test func userDataSecretsNeverReachTheLog() throws {
            let (result, _) = try runSeed(Data("facts:\n  db_password: hunter2-s3cr3t\nmysql_root: also-s3cr3t\n  bad: [\n".utf8),
                                          config: "log_level: trace\n")
            #expect(result.status == 2)
            #expect(!result.stderr.contains("s3cr3t"), "\(result.stderr)")
        }
    }
}
