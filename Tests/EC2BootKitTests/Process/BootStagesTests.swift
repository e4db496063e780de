import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// The two-stage boot systemd runs (data before logins, actions after), the units themselves,
    /// and what ships with the packages.
    @Suite struct BootStagesTests {
        func seeded(_ userData: String, name: String = #function) throws -> String {
            try EC2BootKitTests.seededRoot(userData, name: name)
        }

        func run(_ root: String, _ extra: [String]) throws -> ToolResult {
            try tool(extra + ["--root", root, "--seed", root + "/seed"])
        }

        @Test func theDataStageRunsNoActionAndSaysTheyAreComingThenTheActionsStageRunsThem() throws {
            let root = try seeded("""
                :facts:
                  role: web
                actions:
                  - type: shell
                    command: sleep 1; echo ran >> ROOT/ran
                """)
            let data = try run(root, ["run", "--stage", "data"])
            #expect(data.status == 0, "\(data.stderr)")
            // What the actions unit's ConditionPathExists looks at (the units test pins that line).
            let pending = root + "/run/ec2-boot-init/actions-pending"
            #expect(FileManager.default.fileExists(atPath: pending))
            #expect(TestEnv.read(root + "/etc/facts.txt")?.contains("role=web") == true)
            #expect(!FileManager.default.fileExists(atPath: root + "/ran"), "no action in the data stage")
            let motd = try #require(TestEnv.read(root + "/etc/motd"))
            #expect(motd.contains("UNPROVISIONED") && motd.contains("provisioning in progress") && motd.contains("journalctl -f -u ec2-boot-init-actions"))

            // status --wait waits for the actions stage, which may start after it.
            let started = Date()
            let waited = try runProcess("/bin/sh", ["-c", "\(TestEnv.binary) status --wait --timeout 1 --root \(root); echo exit=$?"])
            #expect(waited.stdout.contains("exit=2") && Date().timeIntervalSince(started) >= 1, "still pending: \(waited.stdout)\(waited.stderr)")
            let actions = try tool(["run", "--stage", "actions", "--root", root])
            #expect(actions.status == 0, "\(actions.stderr)")
            #expect(TestEnv.read(root + "/ran") == "ran\n")
            #expect(TestEnv.read(root + "/etc/motd")?.contains("provisioned instance") == true)
            #expect(!FileManager.default.fileExists(atPath: pending))
            let after = try runProcess(TestEnv.binary, ["status", "--wait", "--timeout", "5", "--root", root])
            #expect(after.status == 0, "\(after.stderr)")

            // A later boot: nothing to run, so the data stage's MOTD is the final one at once.
            let again = try run(root, ["run", "--stage", "data"])
            #expect(again.status == 0)
            #expect(TestEnv.read(root + "/etc/motd")?.contains("provisioned instance") == true)
            #expect(TestEnv.read(root + "/ran") == "ran\n")
            #expect(!FileManager.default.fileExists(atPath: pending), "the actions unit is not started")
            #expect(try runProcess(TestEnv.binary, ["status", "--wait", "--timeout", "5", "--root", root]).status == 0)
        }

        /// No actions at all: the actions unit is not started, so the data stage records the run
        /// (`status` exits 0 with "no actions", as it did when that unit ran for nothing).
        @Test func aBootWithoutActionsIsRecordedByTheDataStage() throws {
            let root = try seeded(":facts:\n  role: web\n")
            let data = try run(root, ["run", "--stage", "data"])
            #expect(data.status == 0, "\(data.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root + "/run/ec2-boot-init/actions-pending"))
            #expect(TestEnv.read(root + "/etc/motd")?.contains("provisioned instance") == true)
            let status = try tool(["status", "--root", root])
            #expect(status.status == 0 && status.stdout.contains("no actions"), "\(status.stdout)\(status.stderr)")
        }

        /// User-data over its bound is refused at the data stage, and the actions stage, which reads
        /// only the cache, refuses it too (it used to write the provisioned MOTD and exit 0).
        @Test func oversizeUserDataStaysRefusedInTheActionsStage() throws {
            let root = try seeded("actions:\n  - type: shell\n    command: echo ran >> ROOT/ran\n" + String(repeating: "# padding\n", count: 20))
            try TestEnv.write("syslog: false\nlock_timeout: 5\nuser_data:\n  max_bytes: 64\n", to: root + "/etc/ec2-boot-init/config.yaml")
            let data = try run(root, ["run", "--stage", "data"])
            #expect(data.status == 2 && data.stderr.contains("max_bytes"), "\(data.stderr)")
            let actions = try tool(["run", "--stage", "actions", "--root", root])
            #expect(actions.status == 2, "\(actions.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root + "/ran"))
            let motd = try #require(TestEnv.read(root + "/etc/motd"))
            #expect(motd.contains("UNPROVISIONED") && !motd.contains("provisioned instance"), "\(motd)")
        }

        @Test func invalidUserDataIsUnprovisionedFromTheDataStageOn() throws {
            // systemd skips the actions unit after the data stage fails, so its MOTD is the last word.
            let root = try seeded("actions:\n  - type: shell\n    comand: true\n")
            let data = try run(root, ["run", "--stage", "data"])
            #expect(data.status == 2)
            let motd = try #require(TestEnv.read(root + "/etc/motd"))
            #expect(motd.contains("UNPROVISIONED") && motd.contains("user-data is invalid") && !motd.contains("in progress"))
            #expect(try runProcess(TestEnv.binary, ["status", "--wait", "--timeout", "5", "--root", root]).status != 0)
        }

        @Test func theActionsStageNeedsTheDataStagesCache() throws {
            let root = try seeded("actions: []\n")
            let result = try tool(["run", "--stage", "actions", "--root", root])
            #expect(result.status == 3)
            #expect(result.stderr.contains("run --stage data"), "\(result.stderr)")
        }

        @Test func bootIsTheForksNameForAWholeRun() throws {
            let root = try seeded("actions:\n  - type: shell\n    command: touch ROOT/ran\n")
            let result = try tool(["--boot", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/ran"))
        }

        @Test func underSystemdEachLineCarriesItsPriorityForTheJournal() throws {
            let root = try seeded("actions:\n  - type: nosuchtype\n")
            // JOURNAL_STREAM names stderr's device and inode, as systemd sets it for StandardError=journal.
            let result = try runProcess("/bin/sh", ["-c", """
                export JOURNAL_STREAM=$(stat -L -c %d:%i /dev/stderr); exec \(TestEnv.binary) run --root \(root) --seed \(root)/seed
                """])
            #expect(result.status == 1)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.contains { $0.hasPrefix("<6>info: wrote facts") }, "\(result.stderr)")
            #expect(lines.contains { $0.hasPrefix("<3>error: action failed") })
            #expect(lines.allSatisfy { $0.hasPrefix("<") }, "no timestamps: journald has its own")
            // Not the journal (a file, a terminal): the usual stamped lines.
            let plain = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(plain.stderr.split(separator: "\n").allSatisfy { $0.first?.isNumber == true })
        }

        @Test func everyUnitPassesSystemdAnalyzeVerify() throws {
            let dir = try TestEnv.tempDir()
            let units = ["ec2-boot-init.service", "ec2-boot-init-actions.service", "ec2-boot-init-watch.service", "ec2-boot-init-offline.service"]
            for unit in units {
                let text = try #require(TestEnv.read(TestEnv.repoRoot.appendingPathComponent("systemd/" + unit).path))
                #expect(text.contains("ExecStart=/usr/sbin/ec2-boot-init " + (unit.contains("watch") ? "watch" : "run --stage ")))
                try TestEnv.write(text.replacingOccurrences(of: "/usr/sbin/ec2-boot-init", with: TestEnv.binary), to: dir + "/" + unit)
            }
            let verify = try runProcess("/usr/bin/systemd-analyze", ["verify", "--man=no"] + units.map { dir + "/" + $0 })
            #expect(verify.status == 0 && verify.stderr.isEmpty, "\(verify.stderr)")
            let data = try #require(TestEnv.read(dir + "/ec2-boot-init.service"))
            #expect(data.contains("Before=systemd-user-sessions.service") && !data.contains("TimeoutStartSec=0"))
            let actions = try #require(TestEnv.read(dir + "/ec2-boot-init-actions.service"))
            #expect(!actions.contains("systemd-user-sessions"), "logins never wait for the actions")
            #expect(actions.contains("\nConditionPathExists=" + Paths(root: "/").actionsPendingFile + "\n"),
                    "the actions unit starts only when the data stage left actions")
            let offline = try #require(TestEnv.read(dir + "/ec2-boot-init-offline.service"))
            let waits = offline.split(separator: "\n").filter { ($0.hasPrefix("After=") || $0.hasPrefix("Wants=")) && $0.contains("network") }
            #expect(waits.isEmpty && offline.contains("Before=systemd-user-sessions.service"), "off EC2 nothing waits for the network")
        }

        @Test func thePackagedFilesMatchTheBuiltInDefaults() throws {
            let etc = TestEnv.repoRoot.appendingPathComponent("packaging/etc").path
            #expect(TestEnv.read(etc + "/motd.provisioned") == MOTD.defaultProvisioned(factsFile: "/etc/facts.txt"))
            #expect(TestEnv.read(etc + "/motd.unprovisioned") == MOTD.defaultUnprovisioned(factsFile: "/etc/facts.txt"))
            // config.yaml is generated from ConfigKeys and checked against the code in UnitTier/SchemaTests.
        }
    }
}
