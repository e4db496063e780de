@testable import EC2BootKit
import Foundation
import Testing

extension ProcessTier {
    /// `status` tells the truth about every run, to everyone: a run that ends before its actions
    /// is recorded with its reasons, a user who is not root reads the summary, a partial run never
    /// erases a failure, and every network wait ends at a signal.
    @Suite struct StatusTruthTests {
        func statusJSON(_ root: String) throws -> [String: Any] {
            let out = try tool(["status", "--json", "--root", root]).stdout
            return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")
        }

        /// Invalid user-data: recorded with its place; fixed, the next run runs the actions and the error is gone.
        @Test func invalidUserDataIsRecordedThenClearedByAGoodRun() throws {
            let root = try seededRoot("facts:\n  a: \"two]\n  b: 1\n")
            #expect(try run(root).status == 2)
            let status = try tool(["status", "--root", root])
            #expect(status.status == 1 && status.stdout.contains("status:   error"), "\(status.stdout)")
            // Wrapped at 100 columns, continued under the first line's text.
            #expect(status.stdout.contains("error:    user-data:2:6: invalid YAML: while scanning a quoted scalar at line 2, column 6: found\n"
                                           + "          unexpected end of stream at line 4, column 1"), "\(status.stdout)")
            let json = try statusJSON(root)
            #expect(json["status"] as? String == "error" && json["stage"] as? String == "done" && json["instance_id"] as? String == "i-1")
            let error = (json["errors"] as? [[String: Any]])?.first
            #expect(error?["source"] as? String == "user-data" && error?["location"] as? String == "user-data:2:6", "\(json)")
            #expect((json["boot_id"] as? String)?.isEmpty == false)
            #expect(TestEnv.read(root + "/etc/motd")?.contains("user-data is invalid (see: ec2-boot-init status)") == true)
            try TestEnv.write("actions:\n  - {type: shell, command: \"touch \(root)/ran\"}\n", to: root + "/seed/user-data")
            #expect(try run(root).status == 0)
            #expect(FileManager.default.fileExists(atPath: root + "/ran"), "the instance's actions run once its user-data is good")
            let fixed = try statusJSON(root)
            #expect(fixed["status"] as? String == "done" && (fixed["errors"] as? [Any])?.isEmpty == true, "\(fixed)")
        }

        /// User-data refused as larger than user_data.max_bytes: recorded too.
        @Test func userDataTooLargeIsRecorded() throws {
            let root = try seededRoot("facts:\n  a: " + String(repeating: "x", count: 500) + "\n", config: "user_data:\n  max_bytes: 100\n")
            #expect(try run(root).status == 2)
            let status = try tool(["status", "--root", root])
            #expect(status.status == 1 && status.stdout.contains("error:    user-data: user-data is larger than user_data.max_bytes (100 bytes)"),
                    "\(status.stdout)")
        }

        /// No data source, a missing seed, a seed whose JSON is broken: each recorded, each said plainly.
        @Test(arguments: [("imds", "the metadata service at http://127.0.0.1:9 did not answer"),
                          ("no seed", "the seed folder ROOT/nothere does not exist"),
                          ("bad seed", "meta-data.json is not a JSON object of metadata: not valid JSON at line 2, column 13")])
        func noInstanceDataIsRecorded(_ kind: String, _ reason: String) throws {
            let root = try makeRoot("nodata" + kind.filter(\.isLetter), config: "imds:\n  deadline: 1\n")
            try TestEnv.write("{\"instance-id\": \"i-1\",\n  \"ami-id\": x}\n", to: root + "/seed/meta-data.json")
            let source = ["imds": ["--metadata-url", "http://127.0.0.1:9"], "no seed": ["--seed", root + "/nothere"],
                          "bad seed": ["--seed", root + "/seed"]][kind]!
            let result = try tool(["run", "--root", root] + source)
            let said = reason.replacingOccurrences(of: "ROOT", with: root)
            #expect(result.status == 3 && result.stderr.contains(said), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").filter { $0.contains(said) }.count == 1, "one line: \(result.stderr)")
            let status = try tool(["status", "--root", root])
            #expect(status.status == 1 && status.stdout.contains("error:    metadata: no instance data: "), "\(status.stdout)")
            let motd = TestEnv.read(root + "/etc/motd") ?? ""
            #expect(motd.contains("UNPROVISIONED instance: no instance data") && motd.contains(said), "\(motd)")
        }

        /// A user who is not root reads the summary every user may (no action's messages); with
        /// none there, a plain "permission denied: run as root", never "no run recorded".
        @Test func aUserWhoIsNotRootGetsATrueAnswer() throws {
            let root = try seededRoot("facts:\n  role: web\nactions:\n  - {type: shell, command: \"echo a-Secret-output; exit 3\"}\n")
            #expect(try run(root).status == 1)
            // A copy the unprivileged user may run, wherever the build folder is.
            let binary = try TestEnv.tempDir("nobody") + "/ec2-boot-init"
            #expect(try runProcess("/bin/cp", [TestEnv.binary, binary]).status == 0)
            chmod((binary as NSString).deletingLastPathComponent, 0o755)
            let asNobody = try runProcess("/usr/sbin/runuser", ["-u", "nobody", "--", binary, "status", "--root", root])
            #expect(asNobody.status == 1 && asNobody.stdout.contains("status:   error") && asNobody.stdout.contains("shell  failed  3"),
                    "\(asNobody.status) \(asNobody.stdout) \(asNobody.stderr)")
            #expect(asNobody.stdout.contains("the summary every user may read") && !asNobody.stdout.contains("a-Secret-output"), "\(asNobody.stdout)")
            // query: the metadata, and the user-data's facts from the facts file every user may read.
            let fact = try runProcess("/usr/sbin/runuser", ["-u", "nobody", "--", binary, "query", "--root", root, "role"])
            #expect(fact.status == 0 && fact.stdout == "web\n", "\(fact.status) \(fact.stdout) \(fact.stderr)")
            let json = try runProcess("/usr/sbin/runuser", ["-u", "nobody", "--", binary, "query", "--json", "--root", root])
            #expect(json.status == 2 && json.stderr.contains("permission denied: the merged document holds the user-data"), "\(json.stderr)")
            // validate of the cached user-data (root's): denied, never "no user-data" with exit 0.
            let validate = try runProcess("/usr/sbin/runuser", ["-u", "nobody", "--", binary, "validate", "--root", root])
            #expect(validate.status == 2 && validate.stderr.contains("permission denied: the cached user-data") && !validate.stdout.contains("no user-data"),
                    "\(validate.status) \(validate.stdout) \(validate.stderr)")
            // The summary carries no fingerprint (a hash of the parameters, passwords included).
            let summary = try runProcess("/usr/sbin/runuser", ["-u", "nobody", "--", binary, "status", "--json", "--root", root])
            #expect(summary.stdout.contains(#""fingerprint" : """#) && summary.stdout.range(of: "[0-9a-f]{64}", options: .regularExpression) == nil,
                    "\(summary.stdout)")
            // While a run holds the lock (root's, 0600): running, as root is told, found in /proc/locks.
            let lock = open(root + "/run/ec2-boot-init.lock", O_RDWR)
            #expect(lock >= 0 && flock(lock, LOCK_EX) == 0)
            let running = try runProcess("/usr/sbin/runuser", ["-u", "nobody", "--", binary, "status", "--root", root])
            #expect(running.status == 2 && running.stdout.contains("running"), "\(running.status) \(running.stdout) \(running.stderr)")
            close(lock)
            // A command's record (root's, no summary): denied, never "watch has run no command".
            try FileManager.default.copyItem(atPath: root + "/var/lib/ec2-boot-init/status.json", toPath: root + "/var/lib/ec2-boot-init/command-status.json")
            let command = try runProcess("/usr/sbin/runuser", ["-u", "nobody", "--", binary, "status", "--command", "--root", root])
            #expect(command.status == 2 && command.stderr.contains("permission denied: the command's record"), "\(command.status) \(command.stderr)")
            try FileManager.default.removeItem(atPath: root + "/run/ec2-boot-init/status.json")
            let denied = try runProcess("/usr/sbin/runuser", ["-u", "nobody", "--", binary, "status", "--root", root])
            #expect(denied.status == 2 && denied.stderr.contains("permission denied") && denied.stderr.contains("run as root (sudo)"),
                    "\(denied.status) \(denied.stderr)")
        }

        /// The summary fails where the record does: this instance's essentials' problems are in
        /// it (redacted), so a user who is not root is not told "done" when root is told "error".
        @Test func theSummaryCarriesTheEssentialsProblems() throws {
            let paths = Paths(root: try TestEnv.tempDir("summary"))
            let record = Essentials.record(paths: paths, instanceID: "i-1")
            try TestEnv.write("done\n- host keys: ssh-keygen failed\n", to: record)
            let status = RunStatus(instanceID: "i-1", started: "2026-12-07T00:00:00Z", finished: "2026-12-07T00:00:01Z", actions: [])
            #expect(status.summary(running: false) == "done")
            let summary = status.publicSummary(paths)
            #expect(summary.essentials == ["host keys: ssh-keygen failed"] && summary.summary(running: false) == "error")
        }

        /// `--only` with a type no action has is exit 2, naming the types; a partial run keeps the
        /// earlier failure (status and MOTD), and so does `--no-actions`.
        @Test func aPartialRunNeverErasesAFailure() throws {
            let root = try seededRoot("""
                actions:
                  - {type: shell, command: "exit 3"}
                  - {type: getactions, url: "http://127.0.0.1:9/", list: list.txt, deadline: 1}
                """)
            #expect(try run(root).status == 1)
            let typo = try run(root, ["--only", "shel"])
            #expect(typo.status == 2 && typo.stderr.contains("--only shel: no action of this user-data has that type (its types: getactions, shell)"),
                    "\(typo.stderr)")
            #expect(try run(root, ["--only", "getactions"]).status == 1)
            let status = try tool(["status", "--root", root])
            #expect(status.status == 1 && status.stdout.contains("0  shell       failed  3"), "the shell row is kept: \(status.stdout)")
            #expect(TestEnv.read(root + "/etc/motd")?.contains("action 0 (shell): failed") == true, "\(TestEnv.read(root + "/etc/motd") ?? "")")
            #expect(try run(root, ["--no-actions"]).status == 1)
            #expect(TestEnv.read(root + "/etc/motd")?.contains("action 0 (shell): failed") == true, "--no-actions keeps the MOTD true")
            #expect(try tool(["status", "--root", root]).status == 1)
        }

        /// SIGTERM (or Ctrl-C's SIGINT) while the run waits on a dead metadata service, on a getactions server, or in a
        /// request a server never answers (every meta-data GET hangs for 300 s: far past any time this
        /// test takes to see it in flight, even on a loaded machine): it ends within a second
        /// or two, says so, and records it; a retried wait said what it was for.
        @Test(arguments: ["imds", "getactions", "hung", "imds by SIGINT"])
        func aSignalStopsEveryWait(_ kind: String) throws {
            let (signo, number) = kind.hasSuffix("SIGINT") ? (SIGINT, "2") : (SIGTERM, "15")
            let root = try seededRoot("actions:\n  - {type: getactions, url: \"http://127.0.0.1:9/\", list: list.txt, deadline: 40}\n",
                                      config: "imds:\n  deadline: 280\n  request_timeout: 250\n", name: "signal" + kind.filter(\.isLetter))
            let hung = kind == "hung" ? try Simulator(["--hang", "meta-data=1000", "--hang-seconds", "300"]) : nil
            let source = kind == "getactions" ? ["--seed", root + "/seed"] : ["--metadata-url", hung?.url ?? "http://127.0.0.1:9"]
            let log = root + "/run.log"
            let process = try Background(TestEnv.binary, ["run", "--root", root] + source, environment: ProcessInfo.processInfo.environment, log: log)
            // Synchronous on purpose: this test keeps its thread from the run's start to the signal.
            if let hung {
                #expect(eventually(30) { ((try? hung.statsNow())?.faults["hang"] ?? 0) > 0 }, "a request is in flight, unanswered")
            }
            // An unanswered request is named as a failed one is: what for, how long, how to stop it.
            #expect(eventually(30) { (TestEnv.read(log) ?? "").contains("waiting up to") }, "\(TestEnv.read(log) ?? "")")
            let signalled = Date()
            process.signal(signo)
            let status = process.exited(within: 20)
            // A bound far from the failure it guards: before, the run went on to its 40 s or 60 s deadline.
            #expect(Date().timeIntervalSince(signalled) < 5, "ended \(Date().timeIntervalSince(signalled)) s after the signal")
            #expect(status == 1, "\(String(describing: status)) \(TestEnv.read(log) ?? "")")
            let text = TestEnv.read(log) ?? ""
            #expect(text.contains("signal \(number)") && text.contains("(Ctrl-C or SIGTERM stops)"), "\(text)")
            if kind == "hung" { #expect(text.contains("(Ctrl-C or SIGTERM stops): no answer yet"), "\(text)") }
            let recorded = try tool(["status", "--root", root]).stdout
            #expect(recorded.contains(kind == "getactions" ? "interrupted" : "stopped by signal \(number) while waiting for instance data"), "\(recorded)")
        }

        @Test func smallFailurePathsSayWhatHappened() throws {
            let clean = try tool(["clean", "--root", "/nonexistent-ec2boot-root"])
            #expect(clean.status == 2 && clean.stderr.contains("no such folder"), "\(clean.stderr)")
            #expect(!FileManager.default.fileExists(atPath: "/nonexistent-ec2boot-root"), "nothing made")
            let config = try tool(["status", "--config", "/nonexistent.yaml", "--root", try makeRoot()])
            #expect(config.status == 2 && config.stderr.contains("--config /nonexistent.yaml: no such file"), "\(config.stderr)")
            let command = try tool(["status", "--command", "--root", try makeRoot()])
            #expect(command.status == 2 && command.stderr.contains("watch has run no command on this root yet"), "\(command.stderr)")
            // A multipart whose boundary starts no line has no parts: invalid, never "no user-data".
            let mime = try seededRoot("Content-Type: multipart/mixed; boundary=\"XYZ\"\nMIME-Version: 1.0\n\n--ABC\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho hi\n--ABC--\n")
            let result = try run(mime)
            #expect(result.status == 2 && result.stderr.contains("no line starts with its boundary --XYZ"), "\(result.stderr)")
        }
    }
}
