import Foundation
import Testing

extension ProcessTier {
    /// Misbehaving servers on loopback: redirects to another host (127.0.0.2, with a listener that
    /// records what it is sent), endless and trickling bodies, listings without end, a token with
    /// CR/LF in it. Each must end near its bound, in little memory, leaking nothing.
    @Suite struct HostileNetworkTests {
        /// What the listener on "another host" answers to anything: code that must never run.
        static let evil = "#!/bin/sh\ntouch \"$EC2BOOT_ROOT/evil-ran\"\n"

        func otherHost() throws -> String {
            let path = try TestEnv.tempDir() + "/evil.sh"
            try TestEnv.write(Self.evil, to: path)
            return path
        }

        /// Runs a boot against `sim` with no cache: a hostile answer means exit 3.
        func boot(_ sim: Simulator, config: String = "", name: String = #function) throws -> (ToolResult, String) {
            let root = try makeRoot(name, config: config)
            return (try tool(["run", "--root", root, "--metadata-url", sim.url]), root)
        }

        func expectSmall(_ result: ToolResult, seconds: Double, _ what: String) {
            #expect(result.seconds < seconds, "\(what): took \(result.seconds) s")
            #expect(result.peakRSSKiB < 100 * 1024, "\(what): peak RSS \(result.peakRSSKiB) KiB")
            print("hostile case \(what): \(String(format: "%.2f", result.seconds)) s, peak RSS \(result.peakRSSKiB / 1024) MiB")
        }

        @Test func aMetadataRedirectIsRefusedAndTheTokenNeverLeaves() async throws {
            let sim = try Simulator(["--other-host", try otherHost(), "--redirect", "meta-data/ami-id$", "{other}{path}"])
            let (result, root) = try boot(sim)
            #expect(result.status == 3, "\(result.stderr)")
            #expect(result.stderr.contains("meta-data/ami-id: redirect to http://127.0.0.2:"), "\(result.stderr)")
            #expect(result.stderr.contains("instance metadata never redirects"))
            let stats = try await sim.stats()
            #expect(stats.other_host?.isEmpty == true, "the other host was sent \(stats.other_host ?? [])")
            #expect(!FileManager.default.fileExists(atPath: root + "/var/spool/ec2boot/meta-data/ami-id"))
            expectSmall(result, seconds: 10, "metadata redirect")
        }

        @Test func aTokenWithCRLFIsNeverSentAndV1IsUsed() async throws {
            let sim = try Simulator(["--token-value", #"tok\r\nX-Injected: yes\r\n\r\nGET /smuggled HTTP/1.1"#])
            let (result, root) = try boot(sim)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("not a plain header value"))
            #expect(!result.stderr.contains("X-Injected"), "the warning does not print the token")
            let stats = try await sim.stats()
            #expect(stats.by_path["/smuggled"] == nil, "no request was smuggled")
            #expect(stats.v1_requests > 80)
            #expect(TestEnv.read(root + "/var/spool/ec2boot/meta-data/ami-id") == "ami-0abcdef1234567890")

            let strict = try Simulator(["--token-value", #"tok\r\nX-Injected: yes"#])
            let (refused, _) = try boot(strict, config: "imds:\n  require_v2: true\n")
            #expect(refused.status == 3, "\(refused.stderr)")
            #expect(try await strict.stats().v1_requests == 0)
        }

        @Test func anEndlessLeafStopsAtItsCap() async throws {
            let sim = try Simulator(["--endless", "meta-data/ami-id$"])
            let (result, _) = try boot(sim)
            #expect(result.status == 3, "\(result.stderr)")
            #expect(result.stderr.contains("more than 1 MiB (imds.max_leaf_bytes)"), "\(result.stderr)")
            expectSmall(result, seconds: 10, "endless metadata leaf")
        }

        /// Over its cap, user-data is invalid user-data (exit 2, facts from the metadata), not a
        /// broken metadata service.
        @Test func endlessUserDataStopsAtItsCap() async throws {
            let sim = try Simulator(["--endless", "user-data$"])
            let (result, root) = try boot(sim, config: "user_data:\n  max_bytes: 4194304\n")
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.contains("user-data is larger than user_data.max_bytes (4 MiB)"), "\(result.stderr)")
            #expect(TestEnv.read(root + "/var/spool/ec2boot/meta-data/ami-id") == "ami-0abcdef1234567890")
            expectSmall(result, seconds: 10, "endless user-data, 4 MiB cap")
            let big = try Simulator(["--endless", "user-data$"])
            let (atDefault, _) = try boot(big)
            #expect(atDefault.stderr.contains("user-data is larger than user_data.max_bytes (32 MiB)"), "\(atDefault.stderr)")
            expectSmall(atDefault, seconds: 15, "endless user-data, default 32 MiB cap")
        }

        @Test func aListingThatNestsForeverStopsAtTheDepthBound() async throws {
            let sim = try Simulator(["--deep"])
            let (result, _) = try boot(sim)
            #expect(result.status == 3, "\(result.stderr)")
            #expect(result.stderr.contains("nests deeper than imds.max_depth (16)"), "\(result.stderr)")
            #expect(try await sim.stats().requests < 200)
            expectSmall(result, seconds: 10, "endless depth")
        }

        @Test func wideListingsStopAtTheLeafAndByteBounds() async throws {
            let sim = try Simulator(["--wide", "12000"])
            let (result, root) = try boot(sim)
            #expect(result.status == 3, "\(result.stderr)")
            #expect(result.stderr.contains("more than imds.max_leaves (10000) leaves (at meta-data/wide/)"), "\(result.stderr)")
            #expect(try await sim.stats().requests < 500, "stopped at the listing, not after fetching the leaves")
            #expect(!FileManager.default.fileExists(atPath: root + "/var/spool/ec2boot"))
            expectSmall(result, seconds: 10, "12,000-leaf listing")

            let requests = try Simulator(["--wide", "300"])
            let (bounded, _) = try boot(requests, config: "imds:\n  max_requests: 100\n")
            #expect(bounded.status == 3)
            #expect(bounded.stderr.contains("needs more than imds.max_requests (100) requests"), "\(bounded.stderr)")
            #expect(try await requests.stats().requests <= 100 + 12, "stopped at the bound, give or take what was in flight")

            let huge = try Simulator(["--wide", "200000"])
            let (refused, _) = try boot(huge)
            #expect(refused.status == 3)
            #expect(refused.stderr.contains("imds.max_listing_bytes"), "\(refused.stderr)")
            expectSmall(refused, seconds: 10, "200,000-leaf listing")
        }

        @Test func aTricklingLeafEndsAtTheIMDSDeadline() throws {
            let sim = try Simulator(["--trickle", "meta-data/ami-id$"])
            let (result, _) = try boot(sim, config: "imds:\n  deadline: 2\n  request_timeout: 30\n")
            #expect(result.status == 3, "\(result.stderr)")
            #expect(result.stderr.contains("meta-data/ami-id"), "\(result.stderr)")
            expectSmall(result, seconds: 2 + 2, "trickling metadata leaf, imds.deadline 2 s")
        }

        @Test func aHostileAnswerWithACacheGoesOnFromTheCache() async throws {
            let root = try makeRoot()
            do {
                let good = try Simulator()
                #expect(try tool(["run", "--root", root, "--metadata-url", good.url]).status == 0)
            }
            let sim = try Simulator(["--deep"])
            let result = try tool(["run", "--root", root, "--metadata-url", sim.url])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("going on from the cache"))
            #expect(result.stderr.contains("imds.max_depth"))
            // The failed crawl had begun a new mirror (the deep tree's leaves); the old one stands, whole.
            let cache = root + "/var/spool/ec2boot"
            #expect(TestEnv.read(cache + "/meta-data/ami-id") == "ami-0abcdef1234567890")
            #expect(TestEnv.read(cache + "/meta-data/network/interfaces/macs/0e:49:61:0f:c3:13/device-number") == "2")
            #expect(!FileManager.default.fileExists(atPath: cache + "/.meta-data.new"), "the staging folder is gone")
            #expect(!FileManager.default.fileExists(atPath: cache + "/meta-data/deep"))

            // A run that died between the two renames of its swap left the only tree aside: the next
            // crawl puts it back before it starts, so a failure then still leaves the cache whole.
            try FileManager.default.moveItem(atPath: cache + "/meta-data", toPath: cache + "/.meta-data.old")
            let again = try tool(["run", "--root", root, "--metadata-url", sim.url])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(TestEnv.read(cache + "/meta-data/ami-id") == "ami-0abcdef1234567890")
        }

        // MARK: action lists and files

        func actionFiles(_ root: String) -> [String] {
            (try? FileManager.default.contentsOfDirectory(atPath: root + "/etc/ec2-boot-init/actions")) ?? []
        }

        @Test func anActionFileRedirectedOffTheAllowedHostsIsNeverFetchedOrRun() async throws {
            let (sim, root) = try serve(["list.txt": "evil.sh\nok.sh\n", "ok.sh": "#!/bin/sh\n"],
                                        simulator: ["--other-host", try otherHost(), "--redirect", "files/evil.sh$", "{other}/evil.sh"],
                                        config: "actions:\n  allowed_hosts: [127.0.0.1]\n")
            let result = try run(root, userData: """
                actions:
                  - {type: getactions, url: "\(sim.url)/files/", list: list.txt}
                  - {type: evil}
                """)
            #expect(result.status == 1)
            #expect(result.stderr.contains("redirect to http://127.0.0.2:"), "\(result.stderr)")
            #expect(result.stderr.contains("127.0.0.2 is not on actions.allowed_hosts"))
            let stats = try await sim.stats()
            #expect(stats.other_host?.isEmpty == true, "checked before the hop: \(stats.other_host ?? [])")
            #expect(actionFiles(root) == ["ok.sh"])
            #expect(!FileManager.default.fileExists(atPath: root + "/evil-ran"))
        }

        @Test func aRedirectWithinTheAllowedHostsIsFollowed() throws {
            let (sim, root) = try serve(["list.txt": "moved.sh\n", "real.sh": "#!/bin/sh\necho real\n"],
                                        simulator: ["--redirect", "files/moved.sh$", "/files/real.sh"],
                                        config: "actions:\n  allowed_hosts: [127.0.0.1]\n")
            let result = try run(root, userData: "actions:\n  - {type: getactions, url: \"\(sim.url)/files/\", list: list.txt}\n")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/etc/ec2-boot-init/actions/moved.sh") == "#!/bin/sh\necho real\n")
        }

        @Test func aRedirectLoopStopsAtMaxRedirects() async throws {
            let (sim, root) = try serve(["list.txt": "loop.sh\n"], simulator: ["--redirect", "files/loop.sh$", "/files/loop.sh"],
                                        config: "actions:\n  max_redirects: 3\n")
            let result = try run(root, userData: "actions:\n  - {type: getactions, url: \"\(sim.url)/files/\", list: list.txt}\n")
            #expect(result.status == 1)
            #expect(result.stderr.contains("more than 3 redirects"), "\(result.stderr)")
            #expect(try await sim.stats().by_path["/files/loop.sh"] == 4)
        }

        @Test func anEndlessActionFileStopsAtItsCapAndLeavesNothing() throws {
            let (sim, root) = try serve(["list.txt": "big.sh\n"], simulator: ["--endless", "files/big.sh$"],
                                        config: "actions:\n  max_file_bytes: 1048576\n")
            let result = try run(root, userData: "actions:\n  - {type: getactions, url: \"\(sim.url)/files/\", list: list.txt}\n")
            #expect(result.status == 1)
            #expect(result.stderr.contains("big.sh: more than 1 MiB (actions.max_file_bytes)"), "\(result.stderr)")
            #expect(actionFiles(root).isEmpty, "no partial file left: \(actionFiles(root))")
            expectSmall(result, seconds: 10, "endless action file")
        }

        @Test func anAnnouncedLengthOverTheCapIsRefusedBeforeTheBody() throws {
            let big = String(repeating: "x", count: 300_000)
            let (sim, root) = try serve(["list.txt": "big.sh\n", "big.sh": big], simulator: [],
                                        config: "actions:\n  max_file_bytes: 100000\n")
            let result = try run(root, userData: "actions:\n  - {type: getactions, url: \"\(sim.url)/files/\", list: list.txt}\n")
            #expect(result.status == 1)
            #expect(result.stderr.contains("more than 100000 bytes (actions.max_file_bytes)"), "\(result.stderr)")
            #expect(actionFiles(root).isEmpty)
        }

        @Test func aTricklingFileEndsAtTheGetactionsDeadline() throws {
            let (sim, root) = try serve(["list.txt": "slow.sh\n"], simulator: ["--trickle", "files/slow.sh$"])
            let result = try run(root, userData: "actions:\n  - {type: getactions, url: \"\(sim.url)/files/\", list: list.txt, deadline: 3}\n")
            #expect(result.status == 1)
            #expect(result.stderr.contains("slow.sh"), "\(result.stderr)")
            #expect(actionFiles(root).isEmpty)
            expectSmall(result, seconds: 3 + 2.5, "trickling action file, deadline 3 s")
        }

        @Test func aListLongerThanTheBoundIsRefusedWhole() async throws {
            let list = (0..<1001).map { "f\($0).sh" }.joined(separator: "\n")
            let (sim, root) = try serve(["list.txt": list, "f0.sh": "#!/bin/sh\n"], simulator: [])
            let result = try run(root, userData: "actions:\n  - {type: getactions, url: \"\(sim.url)/files/\", list: list.txt}\n")
            #expect(result.status == 1)
            #expect(result.stderr.contains("1001 entries, more than actions.max_list_entries (1000)"), "\(result.stderr)")
            #expect(try await sim.stats().by_path["/files/f0.sh"] == nil)
        }

        // MARK: fetch

        @Test func fetchIsBoundInBytesTimeAndHosts() async throws {
            let (sim, root) = try serve(["ok.sh": "#!/bin/sh\n"],
                                        simulator: ["--endless", "files/endless$", "--trickle", "files/slow$",
                                         "--other-host", try otherHost(), "--redirect", "files/away$", "{other}/x"],
                                        config: "actions:\n  allowed_hosts: [127.0.0.1]\n")
            let dest = root + "/out/file"
            let endless = try tool(["fetch", "--root", root, "--max-bytes", "65536", sim.url + "/files/endless", dest])
            #expect(endless.status == 1)
            #expect(endless.stderr.contains("more than 64 KiB (--max-bytes)"), "\(endless.stderr)")
            expectSmall(endless, seconds: 10, "fetch --max-bytes against an endless body")

            let slow = try tool(["fetch", "--root", root, "--deadline", "2", sim.url + "/files/slow", dest])
            #expect(slow.status == 1)
            expectSmall(slow, seconds: 2 + 2, "fetch --deadline 2 against a trickle")

            let away = try tool(["fetch", "--root", root, sim.url + "/files/away", dest])
            #expect(away.status == 1)
            #expect(away.stderr.contains("127.0.0.2 is not on actions.allowed_hosts"), "\(away.stderr)")
            #expect(try await sim.stats().other_host?.isEmpty == true)
            #expect(!FileManager.default.fileExists(atPath: dest))
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: root + "/out")) ?? []
            #expect(leftovers.isEmpty, "no partial files: \(leftovers)")
        }
    }
}
