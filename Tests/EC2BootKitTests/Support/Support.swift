import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Paths and processes the integration tests share: the built binary, the IMDS simulator,
/// temp roots.
enum TestEnv {
    /// Waits until process `pid` is gone (or a zombie), at most 5 s.
    static func waitUntilGone(_ pid: String) -> Bool {
        for _ in 0..<500 {
            let alive = read("/proc/\(pid)/stat").map { !$0.contains(") Z ") } ?? false
            if !alive { return true }
            usleep(10_000)
        }
        return false
    }

    /// Tests/EC2BootKitTests/Support/Support.swift → the clone.
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `ec2-boot-init` built beside the test bundle.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["EC2BOOT_BINARY"] { return path }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundleDir.appendingPathComponent("ec2-boot-init").path
    }()

    /// The Python the tests' tools run with: scripts/deps.sh's .venv (Debian's python3 with moto
    /// added, seeing Debian's kazoo), else whatever python3 is on PATH.
    static let python: String = {
        let venv = repoRoot.appendingPathComponent(".venv/bin/python3").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "python3"
    }()

    static let simulator = repoRoot.appendingPathComponent("tools/imds-simulator/imds_sim.py").path

    static func tempDir(_ name: String = #function) throws -> String {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ec2boot-test-\(clean)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    /// Written under a temporary name opened close-on-exec, then renamed: a process another test
    /// starts meanwhile never inherits it open for writing (a stub script would then fail to
    /// run with ETXTBSY), and a reader never sees half of it.
    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary = path + ".tmp-\(getpid())-\(UUID().uuidString.prefix(8))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A JSON object file's contents; nil when missing or not an object.
    static func json(_ path: String) -> [String: Any]? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int
    }

    static func size(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
    }

    /// The file's inode: the same one after a run means the run did not replace it.
    static func inode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.systemFileNumber] as? Int
    }
}

struct ToolResult {
    let status: Int32
    let stdout: String
    let stderr: String
    /// The program's peak resident set in KiB, measured by GNU time (0 when not measured).
    var peakRSSKiB = 0
    /// Wall-clock seconds from spawn to exit.
    var seconds = 0.0
}

/// Runs a program to completion, output captured through files (no pipe can fill up).
/// With `measure`, GNU time runs it and reports its peak memory: wait4's ru_maxrss cannot,
/// because a child spawned from the test runner starts its count at the runner's own size.
/// A program still running after `limit` seconds is killed with its whole group (status 137),
/// so a regression that hangs fails its test instead of the whole suite.
func runProcess(_ executable: String, _ arguments: [String], stdin: String? = nil,
                environment: [String: String]? = nil, measure: Bool = false, limit: Double = 120) throws -> ToolResult {
    let dir = try TestEnv.tempDir("proc")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let inPath = dir + "/in", outPath = dir + "/out", errPath = dir + "/err", rssPath = dir + "/rss"
    let command = measure ? ["/usr/bin/time", "-f", "%M", "-o", rssPath, executable] + arguments : [executable] + arguments
    _ = FileManager.default.createFile(atPath: inPath, contents: Data((stdin ?? "").utf8))
    let env = environment ?? ProcessInfo.processInfo.environment
    let start = Date()
    let pid = try spawnInGroup(command, environment: env, stdin: inPath, stdout: outPath, stderr: errPath)
    let finished = ProcessDone()
    DispatchQueue.global().asyncAfter(deadline: .now() + limit) { if !finished.isSet { kill(-pid, SIGKILL) } }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    finished.set()
    let seconds = Date().timeIntervalSince(start)
    // GNU time exits as its child did (128 + N for a signal) and writes only to its file.
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    let stderr = TestEnv.read(errPath) ?? ""
    let peak = measure ? (TestEnv.read(rssPath) ?? "").split(separator: "\n").compactMap { Int($0) }.last ?? 0 : 0
    return ToolResult(status: exit, stdout: TestEnv.read(outPath) ?? "", stderr: stderr, peakRSSKiB: peak, seconds: seconds)
}

/// Spawns `command` in a process group of its own, with no signal blocked (the test runner blocks
/// some in its threads), stdin from a file and output to files: truncated, or appended to when
/// `stderr` is nil (then both go to `stdout`).
func spawnInGroup(_ command: [String], environment: [String: String], stdin: String, stdout: String,
                  stderr: String?) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    if let stderr {
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    } else {
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
    let argv = command.map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
    guard spawned == 0 else { throw SpawnFailed(executable: command[0], code: spawned) }
    return pid
}

final class ProcessDone: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    var isSet: Bool { lock.withLock { done } }
    func set() { lock.withLock { done = true } }
}

struct SpawnFailed: Error {
    let executable: String
    let code: Int32
}

/// Runs `ec2-boot-init` with syslog off (a test config sets it) unless a config is given.
/// A helper process that did not come up.
struct PeerFailed: Error { let output: String }

/// A process left running while the test goes on (a lock holder, an agent to stop), returned
/// once `ready` says it got where the test needs it (polled every 10 ms, at most 10 s): the
/// test waits for the process's own sign, never for a guessed delay.
func startInBackground(_ executable: String, _ arguments: [String], until ready: () -> Bool) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardError = FileHandle.nullDevice
    try process.run()
    for _ in 0..<1000 where !ready() { usleep(10_000) }
    guard ready() else {
        kill(process.processIdentifier, SIGKILL)
        throw PeerFailed(output: "\(executable) \(arguments.joined(separator: " ")): never got ready")
    }
    return process
}

func tool(_ arguments: [String], stdin: String? = nil) throws -> ToolResult {
    try runProcess(TestEnv.binary, arguments, stdin: stdin, measure: true)
}

/// A helper server that prints `PORT n` once it listens; killed when the object goes (a peer
/// kept for the whole test process is given `--parent` and ends with it).
final class Peer: @unchecked Sendable {
    let process = Process()
    let port: Int

    /// `quiet`: its standard error goes nowhere. A peer that outlives a test must not hold the
    /// runner's stderr open, or swift-test waits on it after the tests have ended.
    init(_ argv: [String], quiet: Bool = false) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        let output = Pipe()
        process.standardOutput = output
        if quiet { process.standardError = FileHandle.nullDevice }
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            kill(process.processIdentifier, SIGKILL)
            throw Simulator.SimulatorFailed(output: "\(argv.prefix(2).joined(separator: " ")): \(text)")
        }
        self.port = port
    }

    deinit {
        // SIGKILL: the test runner's threads block SIGTERM, and a spawned child inherits that mask.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// The IMDS simulator on a free 127.0.0.1 port, stopped when the object goes.
final class Simulator {
    let peer: Peer
    var port: Int { peer.port }
    var url: String { "http://127.0.0.1:\(port)" }

    init(_ arguments: [String] = [], port: Int = 0) throws {
        peer = try Peer([TestEnv.python, TestEnv.simulator, "--port", String(port)] + arguments)
    }

    struct SimulatorFailed: Error { let output: String }

    struct Stats: Decodable {
        let requests: Int
        let connections: Int
        let token_puts: Int
        let v1_requests: Int
        let max_in_flight: Int
        let by_path: [String: Int]
        /// How many times each fault (`--fail`, `--drop`, `--truncate`, `--hang`) was applied.
        let faults: [String: Int]
        /// The file server's answers (`--serve`), and the most it served at once.
        let files_200: Int
        let files_304: Int
        let files_503: Int
        let file_bytes: Int
        let files_max_in_flight: Int
        /// What the listener on 127.0.0.2 (`--other-host`) was sent.
        let other_host: [OtherRequest]?
    }

    struct OtherRequest: Decodable {
        let path: String
        let headers: [String: String]
    }

    func stats() async throws -> Stats {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url + "/_sim/stats")!)
        return try JSONDecoder().decode(Stats.self, from: data)
    }

    /// The same, blocking: for a test that must keep its thread while it watches a run (an async
    /// test's resumption can wait behind hundreds of queued tests on a 2-core machine).
    func statsNow() throws -> Stats {
        try JSONDecoder().decode(Stats.self, from: Data(contentsOf: URL(string: url + "/_sim/stats")!))
    }
}

/// A root folder with a config.yaml: syslog off, short deadlines for fast failing tests.
func makeRoot(_ name: String = #function, config: String = "") throws -> String {
    let root = try TestEnv.tempDir(name)
    try TestEnv.write("syslog: false\nlock_timeout: 5\n" + config, to: root + "/etc/ec2-boot-init/config.yaml")
    return root
}

/// A root whose seed has a small metadata tree, and a simulator serving `files` at /files/.
func serve(_ files: [String: String], simulator extra: [String] = [], config: String = "",
           name: String = #function) throws -> (Simulator, String) {
    let root = try makeRoot(name, config: config)
    for (file, content) in files { try TestEnv.write(content, to: root + "/served/" + file) }
    try TestEnv.write(#"{"ami-id": "ami-7", "instance-id": "i-7"}"#, to: root + "/seed/meta-data.json")
    return (try Simulator(["--serve", root + "/served"] + extra), root)
}

/// A root (`makeRoot`) whose seed holds `metadata` and `userData`, the word ROOT in it replaced
/// by the root's path; `actions`: files for its actions folder.
func seededRoot(_ userData: String, metadata: String = #"{"ami-id": "ami-1", "instance-id": "i-1"}"#, config: String = "",
                actions: [String: String] = [:], name: String = #function) throws -> String {
    let root = try makeRoot(name, config: config)
    try TestEnv.write(metadata, to: root + "/seed/meta-data.json")
    let text = userData.replacingOccurrences(of: #"\bROOT\b"#, with: root, options: .regularExpression)
    try TestEnv.write(text, to: root + "/seed/user-data")
    for (file, text) in actions { try TestEnv.write(text, to: root + "/etc/ec2-boot-init/actions/" + file) }
    return root
}

/// `ec2-boot-init run` on a seeded root, with `extra` arguments; `path` goes before PATH
/// (a folder of stand-in commands), `environment` replaces the test's own.
///
/// An action that names the host (`hostname -f`: MCollective's identity, Puppet's certname)
/// gets its answer from `hostnameStandIn` on `path`, never from the machine's resolver, which a
/// fresh root or a container without /etc/hosts does not have.
func run(_ root: String, _ extra: [String] = [], path: String? = nil, environment: [String: String]? = nil,
         limit: Double = 120) throws -> ToolResult {
    var environment = environment ?? ProcessInfo.processInfo.environment
    if let path { environment["PATH"] = path + ":" + (environment["PATH"] ?? "/usr/bin:/bin") }
    return try runProcess(TestEnv.binary, ["run", "--root", root, "--seed", root + "/seed"] + extra, environment: environment,
                          measure: true, limit: limit)
}

/// Writes `userData` into the root's seed and boots from it.
/// A stand-in `hostname` in ROOT/bin that prints `says` and exits `exit`, whatever its
/// arguments; returns the folder, for `run(root, path:)`.
@discardableResult
func hostnameStandIn(_ root: String, says: String = "node1.example.internal", exit: Int = 0) throws -> String {
    try TestEnv.write("#!/bin/sh\necho '\(says)'\nexit \(exit)\n", to: root + "/bin/hostname")
    chmod(root + "/bin/hostname", 0o755)
    return root + "/bin"
}

func run(_ root: String, userData: String) throws -> ToolResult {
    try TestEnv.write(userData, to: root + "/seed/user-data")
    return try tool(["run", "--root", root, "--seed", root + "/seed"])
}
