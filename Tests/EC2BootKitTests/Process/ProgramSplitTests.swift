import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// The three programs, split by what they load, and how `ec2-boot-init` finds the other two (process tier).
    @Suite struct ProgramSplitTests {
        static let folder = (TestEnv.binary as NSString).deletingLastPathComponent

        /// Copies (not links: a link's target is what the kernel names in /proc/self/exe) of built
        /// programs, made by cp: a file this test process held open for writing could leak into a
        /// child another test forks meanwhile, and exec would then fail with ETXTBSY.
        static func install(_ programs: [String: String]) throws {
            for (name, destination) in programs {
                try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                #expect(try runProcess("/bin/cp", [folder + "/" + name, destination]).status == 0)
            }
        }

        static func contains(_ program: String, _ text: String) throws -> Bool {
            try Data(contentsOf: URL(fileURLWithPath: folder + "/" + program)).range(of: Data(text.utf8)) != nil
        }

        @Test func theBootProgramLinksNeitherLibcurlNorZooKeeperNorSwiftNIO() throws {
            let linked = try runProcess("/usr/bin/ldd", [TestEnv.binary])
            #expect(linked.status == 0)
            #expect(!linked.stdout.contains("libcurl") && !linked.stdout.contains("libzookeeper"), "\(linked.stdout)")
            #expect(try runProcess("/usr/bin/ldd", [Self.folder + "/ec2-boot-init-watch"]).stdout.contains("libzookeeper"))
            // SwiftNIO's module name is in the type metadata of any program that links it.
            #expect(try !Self.contains("ec2-boot-init", "NIOPosix") && !Self.contains("ec2-boot-init-watch", "NIOPosix"))
            #expect(try Self.contains("ec2-boot-init-broker", "NIOPosix"))
        }

        /// The dynamic loader's own account (LD_DEBUG=files) of what each run opened.
        @Test func aSeedBootNeverLoadsLibcurlAndAMetadataServiceBootDoes() throws {
            var environment = ProcessInfo.processInfo.environment
            environment["LD_DEBUG"] = "files"
            let root = try seededRoot("facts:\n  role: web\n")
            let seed = try run(root, environment: environment)
            #expect(seed.status == 0, "\(seed.stderr.suffix(500))")
            #expect(seed.stderr.contains("file=libc.so.6") && !seed.stderr.contains("libcurl"))
            let simulator = try Simulator()
            let crawled = try runProcess(TestEnv.binary, ["run", "--root", try makeRoot(), "--metadata-url", simulator.url],
                                         environment: environment)
            #expect(crawled.status == 0, "\(crawled.stderr.suffix(500))")
            #expect(crawled.stderr.contains("file=libcurl.so.4 [0];  dynamically loaded by"))
        }

        @Test func watchCommandsReachTheirProgramWhereverItIsInstalled() throws {
            let built = try tool(["push", "--help"])
            #expect(built.status == 0 && built.stdout.contains("--sign-key"), "\(built.stderr)")
            // The packages' layout: /usr/sbin/ec2-boot-init and /usr/libexec/ec2-boot-init/.
            let prefix = try TestEnv.tempDir()
            try Self.install(["ec2-boot-init": prefix + "/sbin/ec2-boot-init",
                              "ec2-boot-init-watch": prefix + "/libexec/ec2-boot-init/ec2-boot-init-watch"])
            let installed = try runProcess(prefix + "/sbin/ec2-boot-init", ["help", "nodes"])
            #expect(installed.status == 0 && installed.stdout.contains("--zookeeper"), "\(installed.stderr)")
        }

        @Test func aMissingHelperIsNamedAndTheRestOfTheRunGoesOn() throws {
            let prefix = try TestEnv.tempDir()
            let alone = prefix + "/bin/ec2-boot-init"
            try Self.install(["ec2-boot-init": alone])
            let watch = try runProcess(alone, ["watch", "--check"])
            #expect(watch.status == 1)
            #expect(watch.stderr.contains("ec2-boot-init-watch is not installed (looked for \(prefix)/bin/ec2-boot-init-watch and "
                                          + "\(prefix)/bin/../libexec/ec2-boot-init/ec2-boot-init-watch)"), "\(watch.stderr)")
            let root = try seededRoot("""
                actions:
                  - type: rabbitmq
                    admin: {user: admin, password: admin-Pass-1}
                  - type: shell
                    command: touch ROOT/after
                """)
            let result = try runProcess(alone, ["run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("action failed: ec2-boot-init-broker is not installed"), "\(result.stderr)")
            #expect(FileManager.default.fileExists(atPath: root + "/after"))
            #expect(!result.stderr.contains("admin-Pass-1"))
        }

        /// SIGTERM to a run while the broker helper waits on a command of its own (a package install
        /// here): the helper stops that command's process group too, as the engine does its own.
        @Test func stoppingARunStopsWhatTheBrokerHelperStarted() throws {
            let root = try seededRoot("""
                actions:
                  - type: rabbitmq
                    admin: {user: admin, password: admin-Pass-1}
                """, config: "packages: {manager: apt}\n")
            try TestEnv.write("#!/bin/sh\nexit 1\n", to: root + "/bin/dpkg-query")
            try TestEnv.write("#!/bin/sh\necho $$ > \(root)/apt.pid\nexec sleep 3600\n", to: root + "/bin/apt-get")
            for stub in ["dpkg-query", "apt-get"] { chmod(root + "/bin/" + stub, 0o755) }
            let path = root + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            // env execs the program in the same process: the SIGTERM below reaches the agent.
            let process = try startInBackground("/usr/bin/env", ["PATH=" + path, TestEnv.binary, "run", "--root", root,
                                                                 "--seed", root + "/seed"]) {
                TestEnv.read(root + "/apt.pid")?.hasSuffix("\n") == true
            }
            let pid = try #require(TestEnv.read(root + "/apt.pid").flatMap { pid_t($0.trimmingWhitespace(newlines: true)) })
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            // The engine kills the helper's group 2 s after SIGTERM; the helper, its command's group at once.
            #expect(TestEnv.waitUntilGone(String(pid)), "apt-get (pid \(pid)) outlived the run")
            let status = try tool(["status", "--json", "--root", root])
            #expect(status.stdout.contains("interrupted"), "\(status.stdout)")
        }
    }
}
