import Foundation
import Testing
import EC2BootKit

extension ProcessTier {
    /// query, validate, fetch, clean, the config file and the lock.
    @Suite struct CommandTests {
        func ranRoot(_ name: String = #function, userData: String = "facts:\n  role: web\n") throws -> String {
            let root = try makeRoot(name)
            try TestEnv.write(#"{"ami-id": "ami-1", "instance-id": "i-1", "placement": {"availability-zone": "eu-west-1a"}, "security-groups": "web\nssh", "iam": {"security-credentials": {"r": "SECRET"}}}"#,
                              to: root + "/seed/meta-data.json")
            try TestEnv.write(userData, to: root + "/seed/user-data")
            let result = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 0, "\(result.stderr)")
            return root
        }

        /// An image builder's chroot has no /proc: the arguments are still read (from the vector the
        /// kernel passed), so `--version` prints the version, anything else is refused with the reason
        /// (libdispatch's thread-pool monitor needs /proc), and no invocation turns into a boot run
        /// that crawls the build host's metadata service.
        @Test func withoutProcTheArgumentsAreStillRead() throws {
            // A mount namespace of its own (util-linux's unshare, as root): /proc made private there
            // first, so the tmpfs over it reaches no other namespace; propagation left as it is, since
            // in a chroot (CI's fresh root) "/" is no mount point to change.
            let unshare = ["-m", "--propagation", "unchanged", "sh", "-c",
                           "mount --make-rprivate /proc && mount -t tmpfs none /proc && exec \"$0\" \"$@\""]
            let probe = try runProcess("/usr/bin/unshare", unshare + ["/bin/true"])
            try #require(probe.status == 0, "unshare hides /proc for this test: \(probe.stderr)")
            let version = try runProcess("/usr/bin/unshare", unshare + [TestEnv.binary, "--version"])
            #expect(version.status == 0 && version.stdout == "\(EC2BootVersion.string)\n", "\(version.stdout)\(version.stderr)")
            let root = try makeRoot()
            let status = try runProcess("/usr/bin/unshare", unshare + [TestEnv.binary, "status", "--root", root])
            #expect(status.status == 2 && status.stderr.contains("/proc is not mounted"), "\(status.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root + "/var/spool/ec2boot"), "no boot run")
        }

        @Test func queryReadsTheCacheWithoutNetwork() throws {
            let root = try ranRoot()
            // An unreachable metadata URL proves no request is made.
            let args = ["--root", root, "--metadata-url", "http://127.0.0.1:9"]
            #expect(try tool(["query", "ami_id"] + args).stdout == "ami-1\n")
            #expect(try tool(["query", "ec2_ami_id"] + args).stdout == "ami-1\n")
            #expect(try tool(["query", "role"] + args).stdout == "web\n")
            #expect(try tool(["query", "placement_region"] + args).stdout == "eu-west-1\n")
            #expect(try tool(["query", "security_groups_1"] + args).stdout == "ssh\n")
            let unknown = try tool(["query", "no_such_key"] + args)
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("no key no_such_key"))
            let secret = try tool(["query", "iam_security_credentials_r"] + args)
            #expect(secret.status == 1, "credentials are not queryable")

            let all = try tool(["query"] + args)
            #expect(all.status == 0)
            #expect(all.stdout == """
                ami_id=ami-1
                instance_id=i-1
                placement_availability_zone=eu-west-1a
                placement_region=eu-west-1
                role=web
                security_groups_0=web
                security_groups_1=ssh

                """)
        }

        @Test func queryJSONMergesEverything() throws {
            let root = try ranRoot()
            let result = try tool(["query", "--json", "--root", root])
            #expect(result.status == 0)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            #expect((json["metadata"] as? [String: Any])?["ami-id"] as? String == "ami-1")
            #expect((json["metadata"] as? [String: Any])?["iam"] == nil)
            #expect(((json["user_data"] as? [String: Any])?["facts"] as? [String: Any])?["role"] as? String == "web")
            #expect((json["facts"] as? [String: Any])?["role"] as? String == "web")
        }

        @Test func queryBeforeAnyRunExits3() throws {
            let root = try makeRoot()
            let result = try tool(["query", "ami_id", "--root", root])
            #expect(result.status == 3)
            #expect(result.stderr.contains("run `ec2-boot-init run` first"))
        }

        @Test func validateChecksFilesStdinAndTheCache() throws {
            let root = try ranRoot()
            let motdBefore = try #require(TestEnv.read(root + "/etc/motd"))
            let factsBefore = try #require(TestEnv.read(root + "/etc/facts.txt"))
            let good = try tool(["validate", "--root", root])
            #expect(good.status == 0)
            #expect(good.stdout.contains("ok: 1 facts, 0 actions"))
            let file = root + "/bad.yaml"
            try TestEnv.write(":facts:\n  a: 1\n :broken\n", to: file)
            let bad = try tool(["validate", "--root", root, file])
            #expect(bad.status == 2)
            #expect(bad.stderr.contains("\(file):3:"), "\(bad.stderr)")
            let stdin = try tool(["validate", "--root", root, "-"], stdin: "actions:\n  - type: shell\n    command: true\n")
            #expect(stdin.status == 0)
            #expect(stdin.stdout.contains("<stdin>: ok: 0 facts, 1 actions"))
            let missing = try tool(["validate", "--root", root, root + "/nope.yaml"])
            #expect(missing.status == 2)
            #expect(missing.stderr.contains("No such file or directory"), "the reason is given: \(missing.stderr)")
            #expect(TestEnv.read(root + "/etc/motd") == motdBefore, "validate writes nothing")
            #expect(TestEnv.read(root + "/etc/facts.txt") == factsBefore)
        }

        @Test func cleanMakesTheNextRunAFirstBoot() throws {
            let root = try ranRoot()
            try TestEnv.write("state", to: root + "/var/lib/ec2-boot-init/seen")
            let result = try tool(["clean", "--root", root])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root + "/var/spool/ec2boot"))
            #expect(!FileManager.default.fileExists(atPath: root + "/var/lib/ec2-boot-init"))
            #expect(FileManager.default.fileExists(atPath: root + "/etc/facts.txt"), "clean keeps what the machine shows")
            #expect(try tool(["query", "--root", root]).status == 3)
        }

        @Test func invalidConfigNamesTheKey() throws {
            for (config, expected) in [
                ("imds:\n  deadline: soon\n", "config.yaml:2:3: imds.deadline: expected a number"),
                ("imds:\n  dedline: 3\n", "imds.dedline: unknown key"),
                ("log_level: loud\n", "log_level: expected one of"),
                ("imds:\n  concurrency: 0\n", "imds.concurrency: expected 1 to 64"),
                ("[1, 2]\n", "expected a mapping of settings"),
            ] {
                let root = try TestEnv.tempDir()
                try TestEnv.write(config, to: root + "/etc/ec2-boot-init/config.yaml")
                let result = try tool(["run", "--root", root, "--seed", root])
                #expect(result.status == 2, "\(config)")
                #expect(result.stderr.contains(expected), "\(result.stderr)")
                #expect(!FileManager.default.fileExists(atPath: root + "/etc/motd"))
            }
        }

        /// `watch --check` is the watch unit's ExecCondition: unusable settings fail the unit (255),
        /// never skip it as if nothing asked for watch (1) nor stop at a usage error (2).
        @Test func watchCheckFailsTheUnitOnAnInvalidConfig() throws {
            let root = try makeRoot(config: "watch:\n  zookeper: 127.0.0.1:2181\n")
            let check = try tool(["watch", "--check", "--root", root])
            #expect(check.status == 255 && check.stderr.contains("watch.zookeper: unknown key"), "\(check.status) \(check.stderr)")
        }

        /// The VM scenarios' runner: --help anywhere prints its help and boots nothing; a misspelt
        /// scenario is refused with the names, never "all passed" after running nothing.
        @Test func theVMScenarioRunnerRefusesWhatItCannotRun() throws {
            let script = TestEnv.repoRoot.appendingPathComponent("scripts/vm/scenarios.py").path
            let images = try TestEnv.tempDir("vm-images")
            let help = try runProcess(TestEnv.python, [script, images, "--help"])
            #expect(help.status == 0 && help.stdout.contains("The first-boot scenarios"), "\(help.stdout)\(help.stderr)")
            let typo = try runProcess(TestEnv.python, [script, images, "ec2-frist-boot"])
            #expect(typo.status == 1 && typo.stderr.contains("no such scenario: ec2-frist-boot (scenarios: ec2-first-boot"), "\(typo.stderr)")
            #expect(!typo.stdout.contains("all passed"))
        }

        /// The packaged config.yaml asks for no watcher: `watch --check` exits 1, so the unit is
        /// skipped (a condition, not a failure), and nothing connects anywhere.
        @Test func theShippedConfigStartsNoWatcher() throws {
            let shipped = try #require(TestEnv.read(TestEnv.repoRoot.appendingPathComponent("packaging/etc/config.yaml").path))
            let root = try seededRoot("facts:\n  role: web\n", config: shipped)
            #expect(try tool(["run", "--root", root, "--seed", root + "/seed"]).status == 0)
            let check = try tool(["watch", "--check", "--root", root])
            #expect(check.status == 1 && check.stderr.contains("no ZooKeeper to watch"), "\(check.status) \(check.stderr)")
        }

        /// push checks the command before it connects: a bad run list is exit 2 at once, with
        /// ZooKeeper down (nothing listens on port 1), not after 15 s of trying to connect.
        @Test func pushRefusesABadCommandBeforeConnecting() throws {
            let start = Date()
            let pushed = try tool(["push", "--zookeeper", "127.0.0.1:1", "--node", "i-1", "--run-list", "recipe[ok],evil item"])
            #expect(pushed.status == 2 && pushed.stderr.contains("the command is not valid"), "\(pushed.status) \(pushed.stderr)")
            #expect(!pushed.stderr.contains("did not answer"), "\(pushed.stderr)")
            #expect(Date().timeIntervalSince(start) < 10, "the connect timeout is 15 s")
        }

        @Test func anExplicitConfigFileIsUsedAndAMissingDefaultMeansDefaults() throws {
            let root = try TestEnv.tempDir()
            try TestEnv.write(#"{"ami-id": "ami-9"}"#, to: root + "/seed/meta-data.json")
            try TestEnv.write("write_ec2_facts: true\nsyslog: false\n", to: root + "/custom.yaml")
            #expect(try tool(["run", "--root", root, "--seed", root + "/seed", "--config", root + "/custom.yaml"]).status == 0)
            #expect(TestEnv.read(root + "/etc/facts.txt") == "ec2_ami_id=ami-9\n")
            try FileManager.default.removeItem(atPath: root + "/custom.yaml")
            #expect(try tool(["run", "--root", root, "--seed", root + "/seed"]).status == 0)
            #expect(TestEnv.read(root + "/etc/facts.txt") == "")
        }

        @Test func aSecondRunWaitsForTheLockThenGivesUp() throws {
            let root = try ranRoot()
            try TestEnv.write("syslog: false\nlock_timeout: 1\n", to: root + "/etc/ec2-boot-init/config.yaml")
            // util-linux flock holds the same lock for 3 s.
            let holder = try startInBackground("/usr/bin/flock", [root + "/run/ec2-boot-init.lock", "sh", "-c",
                                                                  "echo held > \"$0\"; sleep 3", root + "/held"]) {
                FileManager.default.fileExists(atPath: root + "/held")
            }
            defer { holder.waitUntilExit() }
            let start = Date()
            let result = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("another ec2-boot-init run holds"))
            #expect(Date().timeIntervalSince(start) >= 0.9)
        }
    }

    /// `ec2-boot-init fetch` against the simulator's file server.
    @Suite struct FetchCommandTests {
        static let body = "#!/bin/sh\necho fetched\n"
        static let sha = "df3f283be34a7614226644e1a725254933d9e4874dfb69ee634b72248bc6a029"

        func server(_ extra: [String] = [], name: String = #function) throws -> (Simulator, String) {
            let dir = try TestEnv.tempDir(name)
            try TestEnv.write(Self.body, to: dir + "/files/tool.sh")
            return (try Simulator(["--serve", dir + "/files"] + extra), dir)
        }

        @Test func fetchRetriesServerErrorsAndSetsTheMode() async throws {
            let (sim, dir) = try server(["--fail", "tool.sh=2:502"])
            let dest = dir + "/out/tool.sh"
            let result = try tool(["fetch", sim.url + "/files/tool.sh", dest, "--mode", "0755", "--sha256", Self.sha.uppercased()])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(dest) == Self.body)
            #expect(TestEnv.mode(dest) == 0o755)
            #expect(try await sim.stats().by_path["/files/tool.sh"] == 3)
        }

        @Test func aDigestMismatchLeavesDestUntouched() async throws {
            let (sim, dir) = try server()
            let dest = dir + "/existing"
            try TestEnv.write("old content\n", to: dest)
            let wrong = String(repeating: "0", count: 64)
            let result = try tool(["fetch", sim.url + "/files/tool.sh", dest, "--sha256", wrong])
            #expect(result.status == 1)
            #expect(result.stderr.contains("sha256 is \(Self.sha), expected \(wrong)"))
            #expect(TestEnv.read(dest) == "old content\n")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
            #expect(leftovers.isEmpty, "no temp files left: \(leftovers)")
        }

        @Test func notFoundFailsAtOnce() async throws {
            let (sim, dir) = try server()
            let result = try tool(["fetch", sim.url + "/files/missing.sh", dir + "/x"])
            #expect(result.status == 4, "fetch says 404 with its own exit code")
            #expect(result.stderr.contains("HTTP 404"))
            #expect(try await sim.stats().by_path["/files/missing.sh"] == 1)
            #expect(!FileManager.default.fileExists(atPath: dir + "/x"))
        }

        @Test func truncatedAndDroppedDownloadsAreRetried() async throws {
            let (sim, dir) = try server(["--truncate", "tool.sh=1", "--drop", "tool.sh=1"])
            let result = try tool(["fetch", sim.url + "/files/tool.sh", dir + "/t", "--sha256", Self.sha])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(dir + "/t") == Self.body)
            let stats = try await sim.stats()
            #expect(stats.faults["truncate"] == 1 && stats.faults["drop"] == 1, "both faults happened: \(stats.faults)")
            #expect(stats.by_path["/files/tool.sh"] == 3, "two failed tries, then the whole file: \(stats.by_path)")
        }

        @Test func aServerPastTheDeadlineFails() throws {
            // A 60 s hang against a 1.5 s deadline: the bound below has room for a loaded machine.
            let (sim, dir) = try server(["--hang", "tool.sh=100", "--hang-seconds", "60"])
            let start = Date()
            let result = try tool(["fetch", sim.url + "/files/tool.sh", dir + "/t", "--timeout", "0.4", "--deadline", "1.5"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("gave up at the deadline"))
            #expect(Date().timeIntervalSince(start) < 30)
        }

        @Test func fileURLsWorkAndBadArgumentsAreUsageErrors() throws {
            let dir = try TestEnv.tempDir()
            try TestEnv.write(Self.body, to: dir + "/src.sh")
            let ok = try tool(["fetch", "file://" + dir + "/src.sh", dir + "/copy.sh", "--sha256", Self.sha])
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(TestEnv.read(dir + "/copy.sh") == Self.body)
            for bad in [["fetch", "ftp://x/y", dir + "/z"], ["fetch", "file:///x", dir + "/z", "--sha256", "abc"],
                        ["fetch", "file:///x", dir + "/z", "--mode", "999"]] {
                let result = try tool(bad)
                #expect(result.status == 2, "\(bad): \(result.stderr)")
            }
        }

        @Test func credentialsInURLsAreNotLogged() throws {
            let (sim, dir) = try server()
            let url = sim.url.replacingOccurrences(of: "http://", with: "http://user:pa55word@") + "/files/tool.sh?X-Amz-Signature=s3cr3t"
            let result = try tool(["fetch", url, dir + "/t", "--log-level", "debug"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!result.stderr.contains("pa55word") && !result.stderr.contains("s3cr3t"), "\(result.stderr)")
        }
    }
}
