import Foundation
import Logging
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// Hostile user-data (alias bombs, oversize documents) and a run that must wait for the lock.
    @Suite struct HostileInputTests {
        /// Nine levels of anchors, each a list of ten aliases of the one above: 10^9 nodes.
        static let billionLaughs: String = {
            var lines = ["a0: &a0 [lol]"]
            for level in 1...9 {
                lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]")
            }
            return lines.joined(separator: "\n") + "\nfacts:\n  role: bomb\n"
        }()

        static let metadata = #"{"ami-id": "ami-1", "instance-id": "i-1", "placement": {"availability-zone": "us-east-1a"}}"#
        func seeded(_ userData: String, config: String = "", name: String = #function) throws -> String {
            try EC2BootKitTests.seededRoot(userData, metadata: Self.metadata, config: config, name: name)
        }

        /// Seconds: far below what the unbounded work would take, far above a loaded machine's time.
        static let generous = 15.0

        @Test func aBillionLaughsIsRefusedAtOnceInBoundedMemory() throws {
            let root = try seeded(Self.billionLaughs, config: "write_ec2_facts: true\n")
            let run = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(run.status == 2, "\(run.stderr)")
            #expect(run.stderr.contains("user-data:2:10: expands to more than user_data.max_nodes (100000) YAML nodes"), "\(run.stderr)")
            #expect(TestEnv.read(root + "/etc/facts.txt")?.contains("ec2_ami_id=ami-1") == true, "facts from the metadata")
            #expect(TestEnv.read(root + "/etc/motd")?.contains("UNPROVISIONED") == true)
            // Expanded, it would take minutes and gigabytes: the time bound is a generous margin for a
            // loaded 2-core machine (benchmarks/hostile_bench.py measures the real figure), memory is the test.
            #expect(run.seconds < Self.generous && run.peakRSSKiB < 50 * 1024, "run: \(run.seconds) s, \(run.peakRSSKiB) KiB")
            print("billion laughs, run: \(String(format: "%.2f", run.seconds)) s, peak RSS \(run.peakRSSKiB / 1024) MiB")

            let validate = try tool(["validate", "--root", root, root + "/seed/user-data"])
            #expect(validate.status == 2)
            #expect(validate.stderr.contains("seed/user-data:2:10: expands to more than user_data.max_nodes (100000)"))
            #expect(validate.seconds < Self.generous && validate.peakRSSKiB < 50 * 1024, "validate: \(validate.seconds) s, \(validate.peakRSSKiB) KiB")
        }

        @Test func aliasesAsMappingKeysAreCountedToo() throws {
            // Yams hashes mapping keys to find duplicates: an alias of a huge list as a key would
            // be hashed node by node.
            let bomb = Self.billionLaughs.replacingOccurrences(of: "facts:\n  role: bomb\n", with: "? *a9\n: x\n")
            let result = try tool(["validate", "-"], stdin: bomb)
            #expect(result.status == 2)
            #expect(result.stderr.contains("user_data.max_nodes"), "\(result.stderr)")
            #expect(result.seconds < Self.generous)
        }

        /// A line break in text from the user-data (here an action type) never starts a log
        /// line of its own: stderr's handler writes it as \n, in the message and the metadata.
        @Test func aLineBreakInLoggedTextStaysInItsLine() throws {
            let root = try seeded(":actions:\n- :type: \"shel\\nforged line\"\n")
            let result = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 1, "\(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(!lines.contains { $0.hasPrefix("forged line") }, "\(result.stderr)")
            #expect(lines.contains { $0.contains("error: action failed: unknown action type shel\\nforged line") && $0.hasSuffix("exit_code=-") },
                    "\(result.stderr)")
        }

        @Test func theNodeBoundIsAConfigKeyAndAliasesBelowItWork() throws {
            let small = "base: &r web\nfacts:\n  role: *r\n  tier: front\n"
            #expect(try tool(["validate", "-"], stdin: small).status == 0)
            let root = try seeded(small, config: "user_data:\n  max_nodes: 5\n")
            let result = try tool(["validate", "--root", root, root + "/seed/user-data"])
            #expect(result.status == 2)
            #expect(result.stderr.contains("more than user_data.max_nodes (5)"), "\(result.stderr)")
        }

        @Test func oversizePlainUserDataIsRefusedWhileReading() async throws {
            let big = "facts:\n  pad: \"" + String(repeating: "x", count: 2 << 20) + "\"\n"
            let config = "user_data:\n  max_bytes: 1048576\nwrite_ec2_facts: true\n"
            let root = try seeded(big, config: config)
            let seed = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(seed.status == 2, "\(seed.stderr)")
            #expect(seed.stderr.contains("user-data is larger than user_data.max_bytes (1 MiB)"), "\(seed.stderr)")
            #expect(TestEnv.read(root + "/etc/facts.txt")?.contains("ec2_ami_id=ami-1") == true)

            let validate = try tool(["validate", "--root", root, root + "/seed/user-data"])
            #expect(validate.status == 2)
            #expect(validate.stderr.contains("larger than user_data.max_bytes"))
            let piped = try tool(["validate", "--root", root, "-"], stdin: big)
            #expect(piped.status == 2)

            let sim = try Simulator(["--user-data", root + "/seed/user-data"])
            let imdsRoot = try makeRoot(config: config)
            let imds = try tool(["run", "--root", imdsRoot, "--metadata-url", sim.url])
            #expect(imds.status == 2, "\(imds.stderr)")
            #expect(imds.stderr.contains("user-data is larger than user_data.max_bytes (1 MiB)"), "\(imds.stderr)")
            #expect(TestEnv.read(imdsRoot + "/etc/facts.txt")?.contains("ec2_ami_id=ami-0abcdef1234567890") == true)
            #expect(!FileManager.default.fileExists(atPath: imdsRoot + "/var/spool/ec2boot/user-data.raw"))
        }

        @Test func aRunThatWaitsForTheLockSaysWhoHoldsIt() throws {
            let root = try makeRoot(config: "")
            try TestEnv.write(#"{"ami-id": "ami-1", "instance-id": "i-1"}"#, to: root + "/seed/meta-data.json")
            try TestEnv.write("syslog: false\nlock_timeout: 1\n", to: root + "/etc/ec2-boot-init/config.yaml")
            let lockFile = root + "/run/ec2-boot-init.lock"
            try FileManager.default.createDirectory(atPath: root + "/run", withIntermediateDirectories: true)
            // A holder that writes its pid as ec2-boot-init does; the test waits for that, not for a sleep.
            let pidText = { TestEnv.read(lockFile)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }
            let holder = try startInBackground("/usr/bin/flock", [lockFile, "sh", "-c", "echo $$ > \"$0\"; sleep 3", lockFile]) {
                !pidText().isEmpty
            }
            defer { holder.waitUntilExit() }
            let pid = pidText()
            let result = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 1)
            let waits = result.stderr.split(separator: "\n").filter { $0.contains("waiting for the lock: pid \(pid) holds") }
            #expect(waits.count == 1, "\(result.stderr)")
            #expect(result.stderr.contains("timeout_s=1"))
            #expect(result.stderr.contains("gave up after waiting 1 s"))
        }

        @Test func theWaitIsRepeatedAtTheReminderInterval() throws {
            let path = try TestEnv.tempDir() + "/lock"
            let held = try FileLock(path: path, timeout: 5)
            let lines = LineRecorder()
            let logger = Logger(label: "test") { _ in lines }
            #expect(throws: LockTimeout.self) {
                _ = try FileLock(path: path, timeout: 1.05, logger: logger, reminderInterval: .milliseconds(300))
            }
            withExtendedLifetime(held) {}
            let messages = lines.messages
            #expect(messages.count == 4, "at 0, 0.3, 0.6 and 0.9 s: \(messages)")
            #expect(messages.allSatisfy { $0.contains("pid \(getpid()) holds") })
        }

        /// What held before the bounds and must keep holding.
        @Test func plantedSymlinksDeepNestingAndHostileNamesStillHold() throws {
            let root = try seeded("""
                facts:
                  role: "@@ami_id@@ and @@instance_id@@"
                  ../evil: x
                  a/b: y
                """)
            try TestEnv.write("keep", to: root + "/target-facts")
            try TestEnv.write("keep", to: root + "/target-motd")
            try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
            symlink(root + "/target-facts", root + "/etc/facts.txt")
            symlink(root + "/target-motd", root + "/etc/motd")
            try TestEnv.write("Role: @@role@@\n", to: root + "/etc/ec2-boot-init/motd.provisioned")
            let result = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/target-facts") == "keep" && TestEnv.read(root + "/target-motd") == "keep",
                    "a planted symlink is replaced, never written through")
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/etc/facts.txt")) == nil)
            #expect(TestEnv.read(root + "/etc/motd") == "Role: @@ami_id@@ and @@instance_id@@\n", "a value is not expanded again")
            #expect(TestEnv.read(root + "/etc/facts.txt") == "role=@@ami_id@@ and @@instance_id@@\n.._evil=x\na_b=y\n")

            let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
            let nested = try tool(["validate", "-"], stdin: "facts:\n  x: " + deep + "\n")
            #expect(nested.status == 2)
            #expect(nested.seconds < Self.generous && nested.peakRSSKiB < 50 * 1024, "\(nested.seconds) s, \(nested.peakRSSKiB) KiB")
        }
    }

    /// A log handler that keeps the messages.
    final class LineRecorder: LogHandler, @unchecked Sendable {
        private let lock = NSLock()
        private var recorded: [String] = []
        var messages: [String] { lock.withLock { recorded } }
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            lock.withLock { recorded.append("\(event.message)") }
        }
    }
}
