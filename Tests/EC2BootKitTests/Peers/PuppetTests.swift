import Foundation
import Testing
@testable import EC2BootKit

/// Debian's real puppetserver, started once for the whole test process (it takes about 40 s on
/// two cores), on a free 127.0.0.1 port with its files in a temp folder. Its autosign policy
/// signs a CSR only when its `pp_instance_id` extension is the simulator's default
/// instance-id, so a signed certificate proves `csr_attributes.yaml` reached the CSR.
enum PuppetServer {
    static let signedInstance = "i-0123456789abcdef0"
    /// Signed too; site.pp gives it a catalog whose exec fails.
    static let failingInstance = "i-0fa11fa11fa11fa11"
    /// Signed too: the watch test's node, a certname of its own (two agents sharing one would
    /// each get a certificate that does not match the other's key).
    static let watchInstance = "i-0a7c40a7c40a7c40a"

    static let started: Result<(port: Int, dir: String), PeerFailed> = {
        do {
            let dir = try TestEnv.tempDir("puppetserver")
            let policy = dir + "/autosign.sh"
            try TestEnv.write("""
                #!/bin/sh
                # Puppet's policy-based autosigning: certname in $1, the CSR on stdin.
                if openssl req -noout -text | grep -A1 '1.3.6.1.4.1.34380.1.1.2' | grep -qE '\(signedInstance)|\(failingInstance)|\(watchInstance)'; then
                  echo "signed $1" >> \(dir)/autosign.log; exit 0
                fi
                echo "refused $1" >> \(dir)/autosign.log; exit 1
                """, to: policy)
            chmod(policy, 0o755)
            let script = TestEnv.repoRoot.appendingPathComponent("scripts/peers/puppetserver.sh").path
            let result = try runProcess("/bin/bash", [script, dir + "/server", "0", policy, String(getpid())], limit: 300)
            guard result.status == 0, let port = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                return .failure(PeerFailed(output: result.stderr))
            }
            print("puppetserver: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            return .success((port, dir))
        } catch {
            return .failure(PeerFailed(output: "\(error)"))
        }
    }()
}


extension PeerTier {
    @Suite struct PuppetTests {
        /// Boots from the IMDS simulator with a puppet action against the real server; the
        /// catalog's file lands under the root (the agent sends it as the fact ec2boot_test_root).
        /// `ruby`: the server given as the Ruby tool's README gives it (`:master:`, symbols).
        func boot(instance: String? = nil, waitForCert: Int, ruby: Bool = false, name: String = #function) throws -> (root: String, result: ToolResult) {
            let server = try PuppetServer.started.get()
            let root = try makeRoot(name)
            let userData = root + "/user-data.yaml"
            try TestEnv.write("""
                :facts:
                  role: web
                actions:
                  - type: puppet
                    \(ruby ? ":master:" : "server:") localhost
                    port: \(server.port)
                    environment: production
                    waitforcert: \(waitForCert)
                    runinterval: 3600
                    conf:
                      agent: {report: true}
                    csr_attributes:
                      custom_attributes:
                        1.2.840.113549.1.9.7: a-challenge-password
                      extension_requests:
                        pp_role: web
                    run: true
                    start_service: true
                """, to: userData)
            let sim = try Simulator(["--user-data", userData] + (instance.map { ["--instance-id", $0] } ?? []))
            var environment = ProcessInfo.processInfo.environment
            environment["FACTER_ec2boot_test_root"] = root
            let result = try runProcess(TestEnv.binary, ["run", "--root", root, "--metadata-url", sim.url], environment: environment,
                                        measure: true, limit: 600)
            return (root, result)
        }

        @Test func firstBootGetsACertificateAndAppliesTheCatalog() throws {
            let (root, result) = try boot(waitForCert: 60)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/provisioned-by-puppet") == "catalog for \(PuppetServer.signedInstance)\n")
            let conf = try #require(TestEnv.read(root + "/etc/puppet/puppet.conf"))
            #expect(conf.contains("[main]\nserver = localhost\ncertname = \(PuppetServer.signedInstance)\nserverport = "))
            #expect(conf.contains("[agent]\nenvironment = production\nruninterval = 3600\nreport = true\n"), "\(conf)")
            let csr = try #require(TestEnv.read(root + "/etc/puppet/csr_attributes.yaml"))
            // Read back as Puppet reads it (Psych); the agent's certificate below shows Puppet took it.
            let attributes = try #require(try YAMLDocument.parse(csr, source: "csr_attributes.yaml", maxNodes: 1000))
            let requests = try #require(attributes["extension_requests"])
            #expect(requests["pp_instance_id"]?.string == PuppetServer.signedInstance)
            #expect(requests["pp_region"]?.string == "eu-west-1" && requests["pp_image_name"]?.string?.hasPrefix("ami-") == true)
            #expect(requests["pp_role"]?.string == "web")
            #expect(attributes["custom_attributes"]?["1.2.840.113549.1.9.7"]?.string == "a-challenge-password")
            #expect(TestEnv.mode(root + "/etc/puppet/csr_attributes.yaml") == 0o640)
            // The agent's files stayed in the root: its certificate is there.
            #expect(FileManager.default.fileExists(atPath: root + "/var/lib/puppet/ssl/certs/\(PuppetServer.signedInstance).pem"))
            #expect(FileManager.default.fileExists(atPath: root + "/var/cache/puppet/public/last_run_summary.yaml"))
            #expect(result.stderr.contains("packages.manager is none here: would install puppet-agent"))
            #expect(result.stderr.contains("services.manager is none here: would enable and restart puppet"))
            #expect(!result.stderr.contains("a-challenge-password"))
            let status = try tool(["status", "--json", "--root", root])
            #expect(status.stdout.contains("\"result\" : \"ok\"") || status.stdout.contains("\"result\":\"ok\""), "\(status.stdout)")
        }

        /// After the boot, a `puppet_run` command from ZooKeeper runs the real agent again against
        /// the same server (its catalog's file comes back), and the result says ok.
        @Test func aWatchCommandRunsTheAgentAgainWithPuppetRun() throws {
            let zk = try ZooKeeperServers.shared.get()
            let (root, boot) = try boot(instance: PuppetServer.watchInstance, waitForCert: 60, ruby: true)
            #expect(boot.status == 0, "\(boot.stderr)")
            try FileManager.default.removeItem(atPath: root + "/provisioned-by-puppet")
            let key = try OperatorKey.shared.get()
            try TestEnv.write("syslog: false\nlock_timeout: 5\nwatch:\n  zookeeper: \"\(zk.connect)\"\n  node: /ec2boot/puppet-node\n"
                              + "  public_keys: [/etc/ec2-boot-init/ops.pub]\n", to: root + "/etc/ec2-boot-init/config.yaml")
            try TestEnv.write(TestEnv.read(key.publicFile) ?? "", to: root + "/etc/ec2-boot-init/ops.pub")  // the .pub path form, under --root
            var environment = ProcessInfo.processInfo.environment
            environment["FACTER_ec2boot_test_root"] = root
            let watcher = try Background(TestEnv.binary, ["watch", "--root", root], environment: environment, log: root + "/watch.log")
            #expect(eventually { zkJSON(zk.connect, "/ec2boot/puppet-node/alive") != nil }, "\(TestEnv.read(root + "/watch.log") ?? "")")
            let push = try tool(["push", "--zookeeper", zk.connect, "--node", "/ec2boot/puppet-node", "--actions", "-", "--wait", "180",
                                      "--sign-key", key.secretFile],
                                stdin: #"[{"type": "puppet_run", "tags": ["file"]}]"#)
            #expect(push.status == 0, "\(push.stdout)\(push.stderr)\n\(TestEnv.read(root + "/watch.log") ?? "")")
            #expect(push.stdout.contains("puppet-node\tok\texit 0"), "\(push.stdout)")
            #expect(TestEnv.read(root + "/provisioned-by-puppet") == "catalog for \(PuppetServer.watchInstance)\n")
            let log = TestEnv.read(root + "/watch.log") ?? ""
            #expect(log.contains("Puppet agent run") && log.contains("tags=file"), "\(log)")
            withExtendedLifetime(watcher) {}
        }

        @Test func anUnsignedCertificateFailsWithinWaitforcert() throws {
            let (root, result) = try boot(instance: "i-0badbadbadbadbad0", waitForCert: 5)
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains("the certificate for i-0badbadbadbadbad0 was not signed within waitforcert (5 s)"), "\(result.stderr)")
            #expect(result.seconds < 120, "took \(result.seconds) s")
            #expect(!FileManager.default.fileExists(atPath: root + "/provisioned-by-puppet"))
            #expect(TestEnv.read(root + "/etc/motd")?.contains("failed: action 0 (puppet)") == true)
            let log = TestEnv.read(try PuppetServer.started.get().dir + "/autosign.log") ?? ""
            #expect(log.contains("refused i-0badbadbadbadbad0"), "\(log)")
        }

        @Test func failedResourcesFailTheActionWithTheirCount() throws {
            let (root, result) = try boot(instance: PuppetServer.failingInstance, waitForCert: 60)
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains("puppet agent: resources failed: 1 (exit "), "\(result.stderr)")
            let status = try tool(["status", "--json", "--root", root]).stdout
            #expect(status.contains("resources failed: 1"), "\(status)")
        }
    }
}
