import Foundation
import Testing

extension ProcessTier {
    /// `ec2-boot-init run` against the IMDS simulator: the happy path and the shape of what it writes.
    @Suite struct IMDSRunTests {
        @Test func crawlsTheWholeTreeWithATokenAndWritesEverything() async throws {
            let userData = try TestEnv.tempDir() + "/user-data"
            try TestEnv.write(":facts:\n  role: webserver\n:write_ec2_facts: true\n", to: userData)
            let sim = try Simulator(["--user-data", userData, "--latency-ms", "1"])
            let root = try makeRoot()
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url])
            #expect(result.status == 0, "\(result.stderr)")

            let cache = root + "/var/spool/ec2boot"
            // Metadata world-readable, as the Ruby tool had it; what came from user-data 0600. Every file.
            #expect(TestEnv.mode(cache) == 0o755)
            var checked = 0
            for case let relative as String in FileManager.default.enumerator(atPath: cache)! {
                var isDir: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: cache + "/" + relative, isDirectory: &isDir)
                let expected = isDir.boolValue ? 0o755 : (relative == "user-data.raw" ? 0o600 : 0o644)
                #expect(TestEnv.mode(cache + "/" + relative) == expected, "\(relative)")
                checked += 1
            }
            #expect(checked > 90)
            #expect(TestEnv.read(cache + "/user-data.raw") == ":facts:\n  role: webserver\n:write_ec2_facts: true\n")
            #expect(TestEnv.read(cache + "/meta-data/ami-id") == "ami-0abcdef1234567890")
            #expect(TestEnv.read(cache + "/meta-data/security-groups") == "web\nssh")
            #expect(TestEnv.read(cache + "/instance-identity.json")?.contains("\"region\": \"eu-west-1\"") == true)
            // Credentials are not crawled unless the config asks.
            #expect(!FileManager.default.fileExists(atPath: cache + "/meta-data/iam/security-credentials"))
            #expect(!FileManager.default.fileExists(atPath: cache + "/meta-data/identity-credentials/ec2/security-credentials"))
            #expect(FileManager.default.fileExists(atPath: cache + "/meta-data/iam/info"))

            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cache + "/meta-data.json"))) as? [String: Any]
            let placement = json?["placement"] as? [String: Any]
            #expect(placement?["availability-zone"] as? String == "eu-west-1b")

            let facts = try #require(TestEnv.read(root + "/etc/facts.txt")).split(separator: "\n").map(String.init)
            #expect(facts.first == "role=webserver")
            #expect(facts.contains("ec2_ami_id=ami-0abcdef1234567890"))
            #expect(facts.contains("ec2_placement_region=eu-west-1"))
            #expect(facts.contains("ec2_public_keys_0_openssh_key=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAISimulatedKey ops@example"))
            #expect(facts.contains("ec2_security_groups_0=web") && facts.contains("ec2_security_groups_1=ssh"))
            #expect(facts.contains("ec2_tags_instance_Cost_Center=42"))
            #expect(facts.contains("ec2_network_interfaces_macs_0e:49:61:0f:c3:11_local_ipv4s_1=172.31.16.200"))
            let ec2 = facts.dropFirst().map { String($0.prefix { $0 != "=" }) }
            #expect(Array(ec2) == ec2.sorted())
            #expect(TestEnv.mode(root + "/etc/facts.txt") == 0o644)

            let motd = try #require(TestEnv.read(root + "/etc/motd"))
            #expect(motd.contains("ami: ami-0abcdef1234567890"))
            #expect(motd.contains("zone: eu-west-1b"))
            #expect(motd.contains("provisioned instance"))

            let stats = try await sim.stats()
            #expect(stats.token_puts == 1)
            #expect(stats.v1_requests == 0)
            // Each path once, no connection per request, never more in flight than the bound (12).
            #expect(stats.by_path.values.allSatisfy { $0 == 1 }, "\(stats.by_path.filter { $0.value > 1 })")
            #expect(stats.connections <= 12, "\(stats.connections) connections")
            #expect(stats.max_in_flight <= 12)
            #expect(stats.requests > 80)
        }

        @Test func credentialsAreCachedOnlyWhenAskedAndNeverBecomeFacts() async throws {
            let sim = try Simulator()
            let root = try makeRoot(config: "write_ec2_facts: true\nmetadata:\n  include_credentials: true\n")
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url, "--log-level", "trace"])
            #expect(result.status == 0, "\(result.stderr)")
            let secretFile = root + "/var/spool/ec2boot/meta-data/iam/security-credentials/web-role"
            #expect(TestEnv.read(secretFile)?.contains("SIMULATED-SECRET-ACCESS-KEY") == true)
            #expect(TestEnv.mode(secretFile) == 0o600)
            #expect(TestEnv.mode(root + "/var/spool/ec2boot/meta-data/iam/security-credentials") == 0o700)
            #expect(TestEnv.mode(root + "/var/spool/ec2boot/meta-data/identity-credentials/ec2/security-credentials/ec2-instance") == 0o600)
            #expect(TestEnv.mode(root + "/var/spool/ec2boot/meta-data.json") == 0o600, "it holds the credentials too")
            #expect(TestEnv.mode(root + "/var/spool/ec2boot/meta-data/iam/info") == 0o644)
            for path in ["/etc/facts.txt", "/etc/motd", "/etc/facter/facts.d/ec2_boot_init.yaml"] {
                #expect(TestEnv.read(root + path)?.contains("SIMULATED-SECRET") == false, "\(path)")
            }
            #expect(!result.stderr.contains("SIMULATED-SECRET"))
            #expect(!result.stderr.contains("simtoken-"), "the IMDS token must not be logged")
        }

        @Test func defaultSubcommandIsRun() async throws {
            let sim = try Simulator()
            let root = try makeRoot()
            let result = try tool(["--root", root, "--metadata-url", sim.url])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/etc/motd"))
        }

        @Test func noUserDataIsFine() async throws {
            let sim = try Simulator()
            let root = try makeRoot()
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root + "/var/spool/ec2boot/user-data.raw"))
            #expect(TestEnv.read(root + "/etc/facts.txt") == "")
            #expect(try await sim.stats().by_path["/latest/user-data"] == 1, "a 404 is not retried")
        }

        @Test func staleMetadataKeysDoNotSurviveANewInstance() async throws {
            let root = try makeRoot()
            let seed = try TestEnv.tempDir()
            try TestEnv.write(#"{"instance-id": "i-old", "old-only": "x"}"#, to: seed + "/meta-data.json")
            #expect(try tool(["run", "--root", root, "--seed", seed]).status == 0)
            #expect(FileManager.default.fileExists(atPath: root + "/var/spool/ec2boot/meta-data/old-only"))
            let sim = try Simulator()
            #expect(try tool(["run", "--root", root, "--metadata-url", sim.url]).status == 0)
            #expect(!FileManager.default.fileExists(atPath: root + "/var/spool/ec2boot/meta-data/old-only"))
            #expect(TestEnv.read(root + "/var/spool/ec2boot/meta-data/instance-id") == "i-0123456789abcdef0")
        }

        @Test func hostileNamesAreSkippedAndNothingLandsOutsideTheCache() async throws {
            let sim = try Simulator(["--hostile"])
            let root = try makeRoot()
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("not a safe path part"))
            #expect(!FileManager.default.fileExists(atPath: root + "/var/spool/ec2boot/escape"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/var/spool/ec2boot").sorted()
                    == ["instance-identity.json", "meta-data", "meta-data.json"])
            #expect(TestEnv.read(root + "/var/spool/ec2boot/meta-data/tags/instance/Name") == "web-01")
            let stats = try await sim.stats()
            #expect(stats.by_path.keys.allSatisfy { !$0.contains("escape") && !$0.contains("\u{1}") })
        }
    }
}
