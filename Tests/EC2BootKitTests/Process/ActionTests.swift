import Foundation
import Testing

extension ProcessTier {
    /// The actions engine through `run` and `status`, with real /bin/sh processes.
    @Suite struct ActionTests {
        /// A root with a seed whose instance-id is `instance` and whose user-data is `userData`.
        func seeded(_ userData: String, instance: String = "i-1", config: String = "", name: String = #function) throws -> String {
            try EC2BootKitTests.seededRoot(userData, metadata: #"{"ami-id": "ami-1", "instance-id": "\#(instance)"}"#, config: config, name: name)
        }


        func statusJSON(_ root: String) throws -> [String: Any] {
            let result = try tool(["status", "--json", "--root", root])
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        }

        @Test func actionsRunInOrderAndFailuresAreVisible() throws {
            let root = try seeded("""
                actions:
                  - type: shell
                    command: echo first >> ROOT/order; echo token=abc123 >&2
                  - :type: :shell
                    :command: "echo second >> ROOT/order; echo the end; exit 3"
                  - type: nosuch
                  - type: shell
                    command: echo third >> ROOT/order
                    env: {GREETING: hi}
                  - type: shell
                    command: pwd > ROOT/cwd; echo $GREETING $EC2BOOT_ACTION > ROOT/env
                    cwd: /seed
                    env: {GREETING: hello}
                """)
            let result = try run(root)
            #expect(result.status == 1, "\(result.stderr)")
            #expect(TestEnv.read(root + "/order") == "first\nsecond\nthird\n")
            #expect(TestEnv.read(root + "/cwd") == root + "/seed\n")
            #expect(TestEnv.read(root + "/env") == "hello shell\n")
            #expect(result.stderr.contains("the end action=1:shell"), "output goes to the log, prefixed")
            #expect(result.stderr.contains("token=<redacted>") && !result.stderr.contains("abc123"))
            #expect(result.stderr.contains("unknown action type nosuch"))

            let status = try statusJSON(root)
            #expect(status["instance_id"] as? String == "i-1")
            #expect(status["finished"] is String)
            let actions = try #require(status["actions"] as? [[String: Any]])
            #expect(actions.map { $0["result"] as? String } == ["ok", "failed", "failed", "ok", "ok"])
            #expect(actions[1]["exit_code"] as? Int == 3)
            #expect((actions[1]["message"] as? String)?.contains("the end") == true)
            #expect(try tool(["status", "--root", root]).status == 1)
            let table = try tool(["status", "--root", root]).stdout
            #expect(table.contains("1  shell   failed  3"), "\(table)")

            let motd = try #require(TestEnv.read(root + "/etc/motd"))
            #expect(motd.contains("UNPROVISIONED") && motd.contains("action 2 (nosuch): failed"))
        }

        @Test func badParametersStopTheRunBeforeAnythingRuns() throws {
            let root = try seeded("""
                actions:
                  - type: shell
                    command: touch ROOT/ran
                  - type: shell
                    comand: typo
                  - type: shell
                    command: [not, a, string]
                    timeout: soon
                """)
            let result = try run(root)
            #expect(result.status == 2)
            #expect(result.stderr.contains("user-data:5:5: actions[1].comand: unknown key"), "\(result.stderr)")
            #expect(result.stderr.contains("user-data:7:5: actions[2].command: expected a single value"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root + "/ran"))
            let validate = try tool(["validate", "--root", root, root + "/seed/user-data"])
            #expect(validate.status == 2)
            #expect(validate.stderr.contains("actions[1].comand: unknown key"))
        }

        @Test func actionsRunOncePerInstanceUnlessForcedOrSelected() throws {
            let userData = """
                actions:
                  - type: shell
                    command: echo x >> ROOT/shell-runs
                """
            let root = try seeded(userData)
            #expect(try run(root).status == 0)
            #expect(try run(root).status == 0)
            #expect(TestEnv.read(root + "/shell-runs") == "x\n", "a second boot only refreshes data")
            #expect(try run(root, ["--no-actions"]).status == 0)
            #expect(try run(root, ["--force"]).status == 0)
            #expect(TestEnv.read(root + "/shell-runs") == "x\nx\n")
            // A selection no action matches is a mistake, said (exit 2), never a run that selects nothing.
            let none = try run(root, ["--only", "getactions"])
            #expect(none.status == 2 && none.stderr.contains("no action of this user-data has that type (its types: shell)"), "\(none.stderr)")
            #expect(TestEnv.read(root + "/shell-runs") == "x\nx\n")
            #expect(try run(root, ["--only", "getactions,shell"]).status == 0)
            #expect(TestEnv.read(root + "/shell-runs") == "x\nx\nx\n")
            #expect(try run(root, ["--force", "--no-actions"]).status == 2)
            // The same image booted as a new instance runs them again.
            try TestEnv.write(#"{"instance-id": "i-2"}"#, to: root + "/seed/meta-data.json")
            #expect(try run(root).status == 0)
            #expect(TestEnv.read(root + "/shell-runs") == "x\nx\nx\nx\n")
        }

        @Test func aTimedOutActionHasItsWholeProcessGroupKilled() throws {
            let root = try seeded("""
                actions:
                  - type: shell
                    command: "sleep 60 & echo $! > ROOT/child; sleep 60"
                    timeout: 1
                  - type: shell
                    command: echo after > ROOT/after
                """)
            let start = Date()
            let result = try run(root)
            #expect(result.status == 1)
            #expect(Date().timeIntervalSince(start) < 15)
            let actions = try #require(try statusJSON(root)["actions"] as? [[String: Any]])
            #expect(actions.first?["result"] as? String == "timed-out")
            let child = try #require(TestEnv.read(root + "/child")).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(TestEnv.waitUntilGone(child), "the action's child \(child) outlived its timeout")
            #expect(TestEnv.read(root + "/after") == "after\n", "later actions still run")
        }

        @Test func aRunKilledMidwayResumesWithoutRepeatingWhatSucceeded() throws {
            let root = try seeded("""
                actions:
                  - type: shell
                    command: echo x >> ROOT/first
                  - type: shell
                    command: "if [ ! -e ROOT/crashed ]; then touch ROOT/crashed; kill -9 $PPID; exit 0; fi; echo x >> ROOT/second"
                  - type: shell
                    command: echo x >> ROOT/third
                """)
            let crashed = try run(root)
            #expect(crashed.status == 137, "the run was killed: \(crashed.stderr)")
            #expect(TestEnv.read(root + "/first") == "x\n")
            #expect(TestEnv.read(root + "/third") == nil)
            let interrupted = try statusJSON(root)
            #expect(interrupted["finished"] == nil || interrupted["finished"] is NSNull)
            let table = try tool(["status", "--root", root])
            #expect(table.status == 1)
            #expect(table.stdout.contains("interrupted"), "\(table.stdout)")

            let resumed = try run(root)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(resumed.stderr.contains("resuming an interrupted run"))
            #expect(TestEnv.read(root + "/first") == "x\n", "the action that succeeded is not repeated")
            #expect(TestEnv.read(root + "/second") == "x\n")
            #expect(TestEnv.read(root + "/third") == "x\n")
        }

        @Test func onFailureStopSkipsTheRest() throws {
            let root = try seeded("""
                actions:
                  - type: shell
                    command: exit 1
                    on_failure: stop
                  - type: shell
                    command: touch ROOT/later
                """)
            #expect(try run(root).status == 1)
            #expect(!FileManager.default.fileExists(atPath: root + "/later"))
            let actions = try #require(try statusJSON(root)["actions"] as? [[String: Any]])
            #expect(actions.map { $0["result"] as? String } == ["failed", "skipped"])

            let configured = try seeded("actions:\n  - {type: shell, command: exit 1}\n  - {type: shell, command: touch ROOT/later}\n",
                                        config: "actions:\n  on_failure: stop\n", name: "configured")
            #expect(try run(configured).status == 1)
            #expect(!FileManager.default.fileExists(atPath: configured + "/later"))
        }

        @Test func createsSkipsAnActionWhosePathExists() throws {
            let root = try seeded("""
                actions:
                  - {type: shell, command: "echo x >> ROOT/count", creates: /etc/facts.txt}
                  - {type: shell, command: "echo y >> ROOT/count", creates: /etc/not-there}
                """)
            #expect(try run(root).status == 0)
            #expect(TestEnv.read(root + "/count") == "y\n", "runs only where the path is missing")
            let actions = try #require(try statusJSON(root)["actions"] as? [[String: Any]])
            #expect(actions.map { $0["result"] as? String } == ["skipped", "ok"])
        }

        @Test func aScriptUserDataRunsAsOneShellAction() throws {
            let root = try seeded("#!/bin/sh\necho from-script > ROOT/script-ran\n")
            let result = try run(root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/script-ran") == "from-script\n")
            #expect(TestEnv.read(root + "/etc/motd")?.contains("provisioned instance") == true)
        }

        @Test func statusWaitsForARunInProgress() throws {
            let root = try seeded("actions:\n  - {type: shell, command: \"touch ROOT/started; sleep 2\"}\n")
            #expect(try tool(["status", "--root", root]).status == 2, "never ran")
            let background = try startInBackground(TestEnv.binary, ["run", "--root", root, "--seed", root + "/seed"]) {
                FileManager.default.fileExists(atPath: root + "/started")
            }
            defer { background.waitUntilExit() }
            #expect(try tool(["status", "--root", root]).status == 2, "running")
            let start = Date()
            let waited = try tool(["status", "--wait", "--root", root])
            #expect(waited.status == 0, "\(waited.stdout)\(waited.stderr)")
            #expect(Date().timeIntervalSince(start) > 0.5)
            #expect(waited.stdout.contains("0  shell  ok"))
        }
    }
}
