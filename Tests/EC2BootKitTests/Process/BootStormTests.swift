import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// What a whole Auto Scaling group booting at once asks of the action server: Retry-After
    /// honoured, re-runs that cost no body (conditional GETs), a bounded burst per node. Against
    /// the simulator's file server (ETag, Last-Modified, 304, 503 past a concurrency limit).
    @Suite struct BootStormTests {
        static func userData(_ sim: Simulator, deadline: Int = 60) -> String {
            "actions:\n  - type: getactions\n    url: \(sim.url)/files/\n    list: list.txt\n    deadline: \(deadline)\n"
        }

        static let files = ["a.sh": "#!/bin/sh\necho a\n", "b.sh": "#!/bin/sh\necho b\n", "c.sh": "#!/bin/sh\necho c\n"]

        @Test func retryAfterIsAFloorUnderTheJitter() async throws {
            let (sim, root) = try serve(Self.files.merging(["list.txt": "a.sh\nb.sh\nc.sh\n"]) { $1 },
                                        simulator: ["--fail", "/files/list.txt=2:503", "--retry-after", "1"])
            let result = try run(root, userData: Self.userData(sim))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.seconds >= 2, "two answers asked for a second each: took \(result.seconds) s")
            #expect(result.stderr.contains("files/list.txt: HTTP 503, Retry-After 1 s"), "\(result.stderr)")
            #expect(try await sim.stats().by_path["/files/list.txt"] == 3)
        }

        @Test func aRetryAfterPastTheDeadlineEndsAtOnce() async throws {
            let (sim, root) = try serve(["list.txt": "a.sh\n", "a.sh": "x"],
                                        simulator: ["--fail", "/files/list.txt=5:429", "--retry-after", "100000"])
            let result = try run(root, userData: Self.userData(sim, deadline: 30))
            #expect(result.status == 1)
            #expect(result.seconds < 10, "a hostile Retry-After is bounded by the deadline: took \(result.seconds) s")
            #expect(result.stderr.contains("gave up at the deadline (last error: http://127.0.0.1:\(sim.port)/files/list.txt: HTTP 429"),
                    "\(result.stderr)")
            #expect(try await sim.stats().by_path["/files/list.txt"] == 1)
        }

        @Test func aReRunCostsNoBodyAndAChangedFileIsFetchedAgain() async throws {
            let (sim, root) = try serve(Self.files.merging(["list.txt": "a.sh\nb.sh\nc.sh\n"]) { $1 })
            #expect(try run(root, userData: Self.userData(sim)).status == 0)
            let first = try await sim.stats()
            #expect(first.files_200 == 4 && first.files_304 == 0)
            let record = root + "/var/lib/ec2-boot-init/installed-actions.json"
            #expect(TestEnv.mode(record) == 0o600)

            let again = try tool(["run", "--force", "--root", root, "--seed", root + "/seed"])
            #expect(again.status == 0, "\(again.stderr)")
            let second = try await sim.stats()
            #expect(second.files_200 == 4, "nothing sent again")
            #expect(second.files_304 == 4, "the list and three files answered 304")
            #expect(second.file_bytes == first.file_bytes)
            #expect(again.stderr.contains("the action list has not changed"))
            for (name, body) in Self.files { #expect(TestEnv.read(root + "/etc/ec2-boot-init/actions/" + name) == body) }

            // One file changes on the server, one is changed on the instance: both are fetched whole.
            try TestEnv.write("#!/bin/sh\necho b2\n", to: root + "/served/b.sh")
            try TestEnv.write("tampered\n", to: root + "/etc/ec2-boot-init/actions/c.sh")
            let third = try tool(["run", "--force", "--root", root, "--seed", root + "/seed"])
            #expect(third.status == 0, "\(third.stderr)")
            let after = try await sim.stats()
            #expect(after.files_200 == 6 && after.files_304 == 6, "b.sh and c.sh sent again; the list and a.sh not")
            #expect(TestEnv.read(root + "/etc/ec2-boot-init/actions/b.sh") == "#!/bin/sh\necho b2\n")
            #expect(TestEnv.read(root + "/etc/ec2-boot-init/actions/c.sh") == Self.files["c.sh"])
        }

        @Test func aNodeNeverHasMoreThanFetchConcurrencyFilesInFlight() async throws {
            var files: [String: String] = [:]
            for n in 0..<12 { files["f\(n).sh"] = "#!/bin/sh\necho \(n)\n" }
            let list = files.keys.sorted().joined(separator: "\n") + "\n"
            // The server turns away a third request at once: two at a time never meets a 503.
            let (sim, root) = try serve(files.merging(["list.txt": list]) { $1 },
                                        simulator: ["--busy-above", "2", "--file-delay-ms", "30"],
                                        config: "actions:\n  fetch_concurrency: 2\n")
            let result = try run(root, userData: Self.userData(sim))
            #expect(result.status == 0, "\(result.stderr)")
            let stats = try await sim.stats()
            #expect(stats.files_503 == 0)
            #expect(stats.files_max_in_flight == 2, "the bound was reached, not passed")
            #expect(stats.files_200 == 13)
        }

        @Test func retryAfterParsesSecondsAndHTTPDates() {
            let now = Date(timeIntervalSince1970: 1_700_000_000)
            #expect(AnswerHeaders(retryAfter: "7").retryAfterSeconds(now: now) == 7)
            #expect(AnswerHeaders(retryAfter: "Tue, 14 Nov 2023 22:13:30 GMT").retryAfterSeconds(now: now) == 10)
            #expect(AnswerHeaders(retryAfter: "Tue, 14 Nov 2023 22:13:10 GMT").retryAfterSeconds(now: now) == 0, "a date past is now")
            #expect(AnswerHeaders(retryAfter: "soon").retryAfterSeconds(now: now) == nil)
            #expect(AnswerHeaders(retryAfter: "-3").retryAfterSeconds(now: now) == nil)
            #expect(AnswerHeaders(retryAfter: "Sun, 06 Nov 99999999999 08:49:37 GMT").retryAfterSeconds(now: now) == nil,
                    "a year that overflows is unreadable, not a crash")
            #expect(AnswerHeaders(retryAfter: "Sun, 99999999999 Nov 1994 99999999999:49:37 GMT").retryAfterSeconds(now: now) == nil)
            var headers = AnswerHeaders()
            for line in ["HTTP/1.1 100 Continue\r\n", "ETag: \"old\"\r\n", "HTTP/1.1 200 OK\r\n", "etag:  \"new\"\r\n"] {
                Array(line.utf8).withUnsafeBytes { headers.take($0) }
            }
            #expect(headers == AnswerHeaders(etag: "\"new\""), "a new status line starts a new answer")
            #expect(Validators(etag: "\"a\r\nX: y\"").etag == nil, "a validator that is not a plain header value is not kept")
        }
    }
}
