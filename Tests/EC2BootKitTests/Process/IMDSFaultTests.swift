import Foundation
import Testing

extension ProcessTier {
    /// How `run` survives a misbehaving or absent IMDS.
    @Suite struct IMDSFaultTests {
        @Test func serverErrorsAreRetriedAndNotFoundIsNot() async throws {
            let sim = try Simulator(["--fail", "meta-data/ami-id$=2:503", "--fail", "meta-data/placement/$=1:429",
                                     "--fail", "user-data$=1:500"])
            let root = try makeRoot()
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/var/spool/ec2boot/meta-data/ami-id") == "ami-0abcdef1234567890")
            let stats = try await sim.stats()
            #expect(stats.by_path["/latest/meta-data/ami-id"] == 3)
            #expect(stats.by_path["/latest/meta-data/placement/"] == 2)
        }

        @Test func droppedConnectionsAndTruncatedBodiesAreRetried() async throws {
            let sim = try Simulator(["--drop", "meta-data/instance-id$=2", "--truncate", "meta-data/hostname$=1",
                                     "--truncate", "instance-identity/document$=1"])
            let root = try makeRoot()
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/var/spool/ec2boot/meta-data/instance-id") == "i-0123456789abcdef0")
            #expect(TestEnv.read(root + "/var/spool/ec2boot/meta-data/hostname") == "ip-172-31-16-20.eu-west-1.compute.internal")
            #expect(TestEnv.read(root + "/var/spool/ec2boot/instance-identity.json")?.hasSuffix("}") == true)
            let stats = try await sim.stats()
            #expect((stats.by_path["/latest/meta-data/instance-id"] ?? 0) >= 3, "both drops were seen, then an answer")
            #expect(stats.by_path["/latest/meta-data/hostname"] == 2)
        }

        @Test func aSlowRequestTimesOutAndIsRetried() async throws {
            // A 60 s hang against a 0.5 s timeout: the bound below has room for a loaded machine.
            let sim = try Simulator(["--hang", "meta-data/instance-type$=1", "--hang-seconds", "60"])
            let root = try makeRoot(config: "imds:\n  request_timeout: 0.5\n")
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.seconds < 30, "the 0.5 s timeout cut the 60 s hang short: \(result.seconds) s")
            #expect(TestEnv.read(root + "/var/spool/ec2boot/meta-data/instance-type") == "t3.small")
            let stats = try await sim.stats()
            #expect(stats.faults["hang"] == 1, "the hang happened: \(stats.faults)")
            let asked = stats.by_path.filter { $0.key.hasSuffix("meta-data/instance-type") }.values.reduce(0, +)
            #expect(asked == 2, "one hung request, one retry: \(stats.by_path)")
        }

        @Test func aTokenRefusedMidCrawlIsRenewed() async throws {
            let sim = try Simulator(["--v2-only", "--token-max-uses", "20"])
            let root = try makeRoot()
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url])
            #expect(result.status == 0, "\(result.stderr)")
            let stats = try await sim.stats()
            #expect(stats.token_puts >= 4, "\(stats.requests) requests on \(stats.token_puts) tokens")
            #expect(stats.v1_requests == 0)
            #expect(TestEnv.read(root + "/var/spool/ec2boot/meta-data/ami-id") == "ami-0abcdef1234567890")
        }

        @Test(arguments: ["404", "403", "405"])
        func aMissingTokenEndpointFallsBackToV1(mode: String) async throws {
            let sim = try Simulator(["--token-mode", mode])
            let root = try makeRoot()
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("using IMDSv1"))
            let stats = try await sim.stats()
            #expect(stats.by_path["/latest/api/token"] == 1, "the fallback is decided once")
            #expect(stats.v1_requests > 80)
        }

        @Test func aSilentTokenEndpointFallsBackToV1() async throws {
            let sim = try Simulator(["--token-mode", "hang", "--hang-seconds", "5"])
            let root = try makeRoot(config: "imds:\n  token_timeout: 0.3\n")
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try await sim.stats().v1_requests > 80)
        }

        @Test func requireV2RefusesTheFallback() async throws {
            let sim = try Simulator(["--token-mode", "404"])
            let root = try makeRoot(config: "imds:\n  require_v2: true\n  deadline: 2\n")
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url])
            #expect(result.status == 3, "\(result.stderr)")
            #expect(try await sim.stats().v1_requests == 0)
            #expect(TestEnv.read(root + "/etc/motd")?.contains("no instance data") == true, "the MOTD says the data is missing")
        }

        @Test func unreachableWithoutCacheExits3() throws {
            let root = try makeRoot(config: "imds:\n  deadline: 1\n")
            let start = Date()
            // Port 9 on loopback: nothing listens, so every connection is refused.
            let result = try tool(["run", "--root", root, "--metadata-url", "http://127.0.0.1:9"])
            #expect(result.status == 3)
            #expect(result.stderr.contains("no cache"))
            #expect(Date().timeIntervalSince(start) < 10)
            let motd = try #require(TestEnv.read(root + "/etc/motd"), "exit 3 still writes the MOTD")
            #expect(motd.contains("UNPROVISIONED instance: no instance data") && motd.contains("did not answer"), "\(motd)")
        }

        @Test func unreachableWithCacheGoesOnFromTheCache() async throws {
            let userData = try TestEnv.tempDir() + "/user-data"
            try TestEnv.write("facts:\n  role: db\n", to: userData)
            let root = try makeRoot(config: "imds:\n  deadline: 1\n")
            do {
                let sim = try Simulator(["--user-data", userData])
                #expect(try tool(["run", "--root", root, "--metadata-url", sim.url]).status == 0)
            }
            try FileManager.default.removeItem(atPath: root + "/etc/facts.txt")
            let result = try tool(["run", "--root", root, "--metadata-url", "http://127.0.0.1:9"])
            #expect(result.status == 0, "\(result.stderr)")
            let cacheLines = result.stderr.split(separator: "\n").filter { $0.contains("going on from the cache") }
            #expect(cacheLines.count == 1)
            #expect(TestEnv.read(root + "/etc/facts.txt") == "role=db\n")
        }

        @Test func aLateNetworkStillSucceedsWithinTheDeadline() async throws {
            // Reserve a port, start nothing on it for a while, then start the simulator there.
            let probe = try Simulator()
            let port = probe.port
            kill(probe.peer.process.processIdentifier, SIGKILL)
            probe.peer.process.waitUntilExit()
            let root = try makeRoot(config: "imds:\n  deadline: 20\n  backoff_max: 0.3\n")
            // A dispatch queue, not a task: `tool` blocks its thread while it waits.
            let late = LateSimulator()
            DispatchQueue.global().asyncAfter(deadline: .now() + 1.5) { late.start(port: port) }
            let result = try tool(["run", "--root", root, "--metadata-url", "http://127.0.0.1:\(port)"])
            #expect(late.started)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/var/spool/ec2boot/meta-data/ami-id") == "ami-0abcdef1234567890")
        }
    }

    final class LateSimulator: @unchecked Sendable {
        private let lock = NSLock()
        private var simulator: Simulator?
        var started: Bool { lock.withLock { simulator != nil } }

        func start(port: Int) {
            let sim = try? Simulator(port: port)
            lock.withLock { simulator = sim }
        }
    }
}
