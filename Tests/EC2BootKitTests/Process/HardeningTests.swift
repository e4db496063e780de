import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// Running as root among other users: secrets off argv, safe folders, redaction, numbers that
    /// cannot crash a run, signals, descriptors, long lines, and the shim's loading.
    @Suite struct HardeningTests {
        func seeded(_ userData: String, config: String = "", name: String = #function) throws -> String {
            try EC2BootKitTests.seededRoot(userData, config: config, name: name)
        }


        func statusActions(_ root: String) throws -> [[String: Any]] {
            let data = try #require(FileManager.default.contents(atPath: root + "/var/lib/ec2-boot-init/status.json"))
            return try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["actions"] as? [[String: Any]])
        }

        // 1. Scripts never in argv, and of any length.

        @Test func aShellCommandAndAScriptUserDataAreNotInArgv() throws {
            let root = try seeded("""
                actions:
                  - type: shell
                    command: "tr '\\\\0' ' ' < /proc/$$/cmdline > ROOT/cmdline # password=SECRET-MARKER"
                """)
            #expect(try run(root).status == 0)
            let cmdline = try #require(TestEnv.read(root + "/cmdline"))
            #expect(!cmdline.contains("SECRET-MARKER"), "\(cmdline)")
            #expect(cmdline.hasPrefix("/bin/sh "))
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: root + "/var/lib/ec2-boot-init/private")) ?? []
            #expect(leftovers.isEmpty, "the script file is removed after: \(leftovers)")
            #expect(TestEnv.mode(root + "/var/lib/ec2-boot-init/private") == 0o700)

            let script = try seeded("#!/bin/sh\ntr '\\0' ' ' < /proc/$$/cmdline > ROOT/cmdline # SECRET-MARKER\n", name: "script")
            #expect(try run(script).status == 0)
            #expect(TestEnv.read(script + "/cmdline")?.contains("SECRET-MARKER") == false)
        }

        @Test func aScriptUserDataKeepsItsInterpreterAndLongScriptsRun() throws {
            let root = try seeded("#!/bin/bash\necho \"${BASH_VERSION:+bash}\" > ROOT/shell\n")
            #expect(try run(root).status == 0)
            #expect(TestEnv.read(root + "/shell") == "bash\n", "the #! line picks the interpreter")

            let padding = String(repeating: "# padding to pass the 128 KiB argument limit\n", count: 4000)
            let long = try seeded("actions:\n  - type: shell\n    command: |\n" + (padding + "touch ROOT/long-ran\n")
                .split(separator: "\n").map { "      " + $0 }.joined(separator: "\n") + "\n", name: "long")
            let result = try run(long)
            #expect(result.status == 0, "\(result.stderr.suffix(500))")
            #expect(FileManager.default.fileExists(atPath: long + "/long-ran"))
        }

        // 3. Folders.

        @Test func aFolderIsNeverChmodedThroughAnotherUsersSymlink() throws {
            let root = try makeRoot()
            let secret = root + "/secret"
            try TestEnv.write("s3cret", to: secret)
            chmod(secret, 0o600)
            try FileManager.default.createDirectory(atPath: root + "/out", withIntermediateDirectories: true)
            symlink(secret, root + "/out/dest")
            lchown(root + "/out/dest", 65534, 65534)  // planted by nobody
            try TestEnv.write("x", to: root + "/served/f")
            let sim = try Simulator(["--serve", root + "/served"])
            let result = try tool(["fetch", "--root", root, sim.url + "/files/f", root + "/out/dest/file"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("dest is a symlink that uid 65534 could have planted"), "\(result.stderr)")
            #expect(TestEnv.mode(secret) == 0o600)
        }

        @Test func ownedFoldersAreTightenedAndRefusedWhenSomeoneElseOwnsThem() throws {
            let root = try seeded("facts: {role: x}\n")
            for folder in ["/var/spool/ec2boot", "/var/lib/ec2-boot-init"] {
                try FileManager.default.createDirectory(atPath: root + folder, withIntermediateDirectories: true)
                chmod(root + folder, 0o777)
            }
            #expect(try run(root).status == 0)
            #expect(TestEnv.mode(root + "/var/spool/ec2boot") == 0o755, "a loosened cache folder is tightened")
            #expect(TestEnv.mode(root + "/var/lib/ec2-boot-init") == 0o700, "so is the state folder, where status.json goes")

            chown(root + "/var/spool/ec2boot", 65534, 65534)
            let refused = try run(root)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("ec2boot belongs to uid 65534"), "\(refused.stderr)")
        }

        // 4. Redaction, in the log, syslog's text and status.json alike.

        @Test func cloudCredentialsAreRedactedInTheLogAndTheStatus() throws {
            let root = try seeded("""
                actions:
                  - type: shell
                    command: "echo AWS_SECRET_ACCESS_KEY=wJalrSECRET; echo '\\"SecretAccessKey\\": \\"wJalrSECRET\\"'; echo mysql --password wJalrSECRET >&2; exit 3"
                """)
            let result = try run(root)
            #expect(result.status == 1)
            #expect(result.stderr.contains("AWS_SECRET_ACCESS_KEY=<redacted>"))
            #expect(!result.stderr.contains("wJalrSECRET"), "\(result.stderr)")
            let status = try #require(TestEnv.read(root + "/var/lib/ec2-boot-init/status.json"))
            #expect(status.contains("--password <redacted>"))
            #expect(!status.contains("wJalrSECRET"))
        }

        // 5. Numbers and signals.

        @Test(arguments: [
            "{type: shell, command: 'true', timeout: 99999999999}",
            "{type: shell, command: 'true', timeout: .inf}",
            "{type: my-hosted, timeout: -1}",
            "{type: my-hosted, timeout: lots}",
            "{type: getactions, url: 'http://127.0.0.1/', deadline: 1e17}",
        ])
        func numbersOutOfRangeAreRefusedBeforeAnythingRuns(action: String) throws {
            let root = try seeded("actions:\n  - \(action)\n  - {type: shell, command: 'touch ROOT/ran'}\n", name: "numbers")
            let validate = try tool(["validate", "--root", root, root + "/seed/user-data"])
            #expect(validate.status == 2, "\(validate.stderr)")
            #expect(validate.stderr.contains("seconds above 0 and at most 1000000"), "\(validate.stderr)")
            let result = try run(root)
            #expect(result.status == 2)
            #expect(!FileManager.default.fileExists(atPath: root + "/ran"))
        }

        @Test func sigtermStopsTheActionsGroupAndRecordsItInterrupted() throws {
            let root = try seeded("""
                actions:
                  - type: shell
                    command: "sleep 60 & echo $! > ROOT/child; touch ROOT/started; sleep 60"
                  - type: shell
                    command: touch ROOT/second
                """)
            let agent = try startInBackground(TestEnv.binary, ["run", "--root", root, "--seed", root + "/seed"]) {
                FileManager.default.fileExists(atPath: root + "/started")
            }
            let sent = Date()
            kill(agent.processIdentifier, SIGTERM)
            var exited = false
            for _ in 0..<1000 where !exited {
                exited = !agent.isRunning
                if !exited { usleep(10_000) }
            }
            if !exited { kill(agent.processIdentifier, SIGKILL) }
            agent.waitUntilExit()
            // Not stopping would take the action's 60 s; the margin is for a loaded machine.
            #expect(exited && Date().timeIntervalSince(sent) < 30, "the agent did not stop on SIGTERM")
            #expect(agent.terminationStatus == 1)
            let actions = try statusActions(root)
            #expect(actions.first?["result"] as? String == "interrupted")
            #expect(actions.allSatisfy { $0["result"] as? String != "running" })
            #expect(!FileManager.default.fileExists(atPath: root + "/second"))
            let child = try #require(TestEnv.read(root + "/child")).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(TestEnv.waitUntilGone(child), "the action's background child \(child) was stopped with its group")
            #expect(try tool(["status", "--root", root]).status == 1, "interrupted, not running")
        }

        // 7, 8. Descriptors and output.

        @Test func aDaemonWithItsOwnRedirectionsDoesNotHoldTheActionAndOnlyStdioReachesIt() throws {
            let root = try seeded("""
                actions:
                  - type: shell
                    command: "sleep 20 >/dev/null 2>&1 </dev/null & (ls -l /proc/$$/fd/) > ROOT/fds"
                """)
            let result = try run(root)
            #expect(result.status == 0)
            let duration = try #require(try statusActions(root).first?["duration_ms"] as? Double)
            // Holding the pipe would take the daemon's 20 s; the margin is for a loaded machine.
            #expect(duration < 10_000, "the daemon kept the log pipe: \(duration) ms")
            let fds = try #require(TestEnv.read(root + "/fds")).split(separator: "\n").filter { $0.contains(" -> ") }
            // 0 stdin pipe, 1 and 2 the log pipe, and the script file /bin/sh reads; nothing of the agent's.
            let foreign = fds.filter { !$0.contains("/private/") }
            #expect(foreign.count == 3, "\(fds)")
            #expect(!fds.contains { $0.contains(".lock") || $0.contains("socket:") })
        }

        @Test func aLongLineIsReadInLinearTimeAndCut() throws {
            let root = try seeded("actions:\n  - {type: shell, command: \"head -c 8000000 /dev/zero | tr '\\\\\\\\0' x; echo; echo after\"}\n")
            let result = try run(root)
            #expect(result.status == 0)
            #expect(result.seconds < 10, "\(result.seconds) s")
            #expect(result.stderr.contains("[line cut at 64 KiB]"))
            #expect(result.stderr.contains("after"))
            #expect(result.stderr.count < 200_000)
        }

        // 9. The shim loads one file.

        @Test func theShimLoadsOnlyTheFileThatDefinesTheAction() throws {
            let root = try seeded("actions:\n  - {type: mine}\n")
            let actions = root + "/etc/ec2-boot-init/actions"
            try TestEnv.write("newaction(\"mine\") do |cmd, ud, md, config|\n  File.write(ENV['EC2BOOT_ROOT'] + '/mine', 'mine')\nend\n",
                              to: actions + "/mine.rb")
            try TestEnv.write("File.write(ENV['EC2BOOT_ROOT'] + '/other-ran', 'x')\nnewaction(\"mine\") do |cmd, ud, md, config|\n  File.write(ENV['EC2BOOT_ROOT'] + '/mine', 'other')\nend\n",
                              to: actions + "/other.rb")
            let result = try run(root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/mine") == "mine")
            #expect(!FileManager.default.fileExists(atPath: root + "/other-ran"), "another file's top-level code ran")
        }

        @Test func theShimsGetURLKeepsTheURLOffArgvAndTheBodyOutOfTmp() async throws {
            let root = try seeded("actions:\n  - {type: grab}\n")
            try TestEnv.write("body", to: root + "/served/f")
            let sim = try Simulator(["--serve", root + "/served", "--hang", "files/f$=1", "--hang-seconds", "1.5"])
            let url = sim.url + "/files/f?X-Amz-Signature=SIGSECRET"
            try TestEnv.write("""
                newaction("grab") do |cmd, ud, md, config|
                  body = EC2Boot::Util.get_url("\(url)")
                  File.write(ENV['EC2BOOT_ROOT'] + '/got', body)
                end
                """, to: root + "/etc/ec2-boot-init/actions/grab.rb")
            let watcher = ArgvWatcher(needle: "SIGSECRET", privateDir: root + "/var/lib/ec2-boot-init/private")
            watcher.start()
            let result = try run(root)
            watcher.stop()
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/got") == "body")
            #expect(!watcher.sawInArgv, "a process had the presigned URL in its argv")
            #expect(watcher.sawPrivateDownload, "the body went to the private folder while it downloaded")
            #expect(!result.stderr.contains("SIGSECRET"))
        }
    }

    /// Scans every process's argv, and a folder, every 10 ms while a run goes on.
    final class ArgvWatcher: @unchecked Sendable {
        let needle: String
        let privateDir: String
        private let lock = NSLock()
        private var running = true
        private var seenArgv = false
        private var seenPrivate = false
        private let done = DispatchSemaphore(value: 0)
        var sawInArgv: Bool { lock.withLock { seenArgv } }
        var sawPrivateDownload: Bool { lock.withLock { seenPrivate } }

        init(needle: String, privateDir: String) {
            self.needle = needle
            self.privateDir = privateDir
        }

        func start() {
            Thread.detachNewThread { [self] in
                let end = Date().addingTimeInterval(60)  // never outlives a hung run by much
                while lock.withLock({ running }), Date() < end {
                    for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where pid.allSatisfy(\.isNumber) {
                        if case .data(let argv) = FileSystem.read("/proc/\(pid)/cmdline", maxBytes: 1 << 20),
                           String(decoding: argv, as: UTF8.self).contains(needle) {
                            lock.withLock { seenArgv = true }
                        }
                    }
                    let entries = (try? FileManager.default.contentsOfDirectory(atPath: privateDir)) ?? []
                    if entries.contains(where: { $0.hasPrefix("get_url") }) { lock.withLock { seenPrivate = true } }
                    usleep(10_000)
                }
                done.signal()
            }
        }

        func stop() {
            lock.withLock { running = false }
            done.wait()
        }
    }
}
