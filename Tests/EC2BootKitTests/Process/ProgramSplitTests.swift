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

        /// A root whose user-data runs the rabbitmq action with apt as its package manager, and
        /// stand-ins for dpkg-query (nothing installed) and apt-get (`aptGet`, a shell body that
        /// finds the root in $ROOT); the PATH that finds them first.
        static func rabbitMQRoot(aptGet: String) throws -> (root: String, path: String) {
            let root = try seededRoot("""
                actions:
                  - type: rabbitmq
                    admin: {user: admin, password: admin-Pass-1}
                """, config: "packages: {manager: apt}\n")
            try TestEnv.write("#!/bin/sh\nexit 1\n", to: root + "/bin/dpkg-query")
            try TestEnv.write("#!/bin/sh\nROOT='\(root)'\n\(aptGet)\n", to: root + "/bin/apt-get")
            for stub in ["dpkg-query", "apt-get"] { chmod(root + "/bin/" + stub, 0o755) }
            return (root, root + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"))
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

        /// None of the three programs links ICU (34 MB of data in each static program): they import
        /// FoundationEssentials, never Foundation, whose FoundationInternationalization brings it.
        /// Built for tests, the programs link Swift's libraries dynamically, so ldd names each;
        /// packaging/test.sh checks the static release programs for ICU's symbols.
        @Test(arguments: ["ec2-boot-init", "ec2-boot-init-watch", "ec2-boot-init-broker"])
        func noProgramLinksICU(_ program: String) throws {
            let linked = try runProcess("/usr/bin/ldd", [Self.folder + "/" + program])
            #expect(linked.status == 0 && linked.stdout.contains("libFoundationEssentials"), "\(linked.stdout)")
            for library in ["libFoundation.so", "libFoundationInternationalization", "lib_FoundationICU", "libicu"] {
                #expect(!linked.stdout.contains(library), "\(program) links \(library)")
            }
            #expect(try !Self.contains(program, "icudt"))
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
            // The unit's ExecCondition: 1 would skip the unit as if nothing asked for watch.
            let watch = try runProcess(alone, ["watch", "--check"])
            #expect(watch.status == 255)
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

        /// The helper answers on descriptor 3, never in its output: a stand-in helper (a hostile
        /// log, which the real one cannot be made to write today) prints a forged result line and an
        /// unterminated PEM header, which hid the real result line from the engine's PEM filter,
        /// and writes its real answer, failed, on descriptor 3: the action fails.
        @Test func theHelpersResultComesOnItsOwnDescriptor() throws {
            let prefix = try TestEnv.tempDir()
            try Self.install(["ec2-boot-init": prefix + "/bin/ec2-boot-init"])
            let forged = #"{"outcome":"ok","message":"forged"}"#
            try TestEnv.write("""
                #!/bin/sh
                cat > /dev/null
                printf '\036result %s\n-----BEGIN FORGED-----\n' '\(forged)'
                printf '{"outcome":"failed","message":"the real answer"}' >&3
                printf '\036result {"outcome":"failed","message":"the real answer"}\n'
                """, to: prefix + "/bin/ec2-boot-init-broker")
            chmod(prefix + "/bin/ec2-boot-init-broker", 0o755)
            let root = try seededRoot("actions:\n  - type: rabbitmq\n    admin: {user: admin, password: admin-Pass-1}\n")
            let result = try runProcess(prefix + "/bin/ec2-boot-init", ["run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains("action failed: the real answer"), "\(result.stderr)")
            let status = try tool(["status", "--json", "--root", root]).stdout
            #expect(status.contains("the real answer") && !status.contains("forged"), "\(status)")
        }

        /// The real helper: what a command it runs prints (a package manager's output here, with a
        /// forged result line and a PEM header) is only its log; its answer is on descriptor 3.
        @Test func theRealHelperAnswersOnDescriptorThreeWhateverItsCommandsPrint() throws {
            let (root, path) = try Self.rabbitMQRoot(aptGet: "printf '\\036result {\"outcome\":\"ok\"}\\n-----BEGIN FORGED-----\\n'\nexit 1")
            let result = try runProcess("/usr/bin/env", ["PATH=" + path, TestEnv.binary, "run", "--root", root, "--seed", root + "/seed"])
            #expect(result.status == 1, "\(result.stderr)")
            let status = try tool(["status", "--json", "--root", root]).stdout
            #expect(status.contains("\"failed\"") && status.contains("cannot install rabbitmq-server"), "\(status)")
            // Run by hand (no descriptor 3), the helper shows its answer and writes it nowhere else.
            let alone = try runProcess(Self.folder + "/ec2-boot-init-broker", [], stdin: "{}")
            #expect(alone.stdout.hasPrefix("result: {") && alone.stdout.contains("\"outcome\":\"failed\""), "\(alone.stdout)")
        }

        /// SIGTERM to a run while the broker helper waits on a command of its own (a package install
        /// here): the helper stops that command's process group too, as the engine does its own.
        @Test func stoppingARunStopsWhatTheBrokerHelperStarted() throws {
            let (root, path) = try Self.rabbitMQRoot(aptGet: "echo $$ > \"$ROOT/apt.pid\"\nexec sleep 3600")
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
