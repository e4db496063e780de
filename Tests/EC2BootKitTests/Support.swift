import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Paths and processes the integration tests share: the built binary, the IMDS simulator,
/// temp roots.
enum TestEnv {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `ec2-boot-init` built beside the test bundle.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["EC2BOOT_BINARY"] { return path }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundleDir.appendingPathComponent("ec2-boot-init").path
    }()

    static let simulator = repoRoot.appendingPathComponent("tools/imds-simulator/imds_sim.py").path

    static func tempDir(_ name: String = #function) throws -> String {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ec2boot-test-\(clean)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int
    }
}

struct ToolResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a program to completion, output captured through files (no pipe can fill up).
func runProcess(_ executable: String, _ arguments: [String], stdin: String? = nil,
                environment: [String: String]? = nil) throws -> ToolResult {
    let dir = try TestEnv.tempDir("proc")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let outPath = dir + "/out", errPath = dir + "/err"
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    return ToolResult(status: process.terminationStatus, stdout: TestEnv.read(outPath) ?? "", stderr: TestEnv.read(errPath) ?? "")
}

/// Runs `ec2-boot-init` with syslog off (a test config sets it) unless a config is given.
func tool(_ arguments: [String], stdin: String? = nil) throws -> ToolResult {
    try runProcess(TestEnv.binary, arguments, stdin: stdin)
}

/// The IMDS simulator on a free 127.0.0.1 port, stopped when the object goes.
final class Simulator {
    let process = Process()
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    init(_ arguments: [String] = [], port: Int = 0) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestEnv.simulator, "--port", String(port)] + arguments
        let output = Pipe()
        process.standardOutput = output
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
            throw SimulatorFailed(output: text)
        }
        self.port = port
    }

    deinit {
        // SIGKILL: the test runner's threads block SIGTERM, and a spawned child inherits that mask.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    struct SimulatorFailed: Error { let output: String }

    struct Stats: Decodable {
        let requests: Int
        let connections: Int
        let token_puts: Int
        let v1_requests: Int
        let max_in_flight: Int
        let by_path: [String: Int]
    }

    func stats() async throws -> Stats {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url + "/_sim/stats")!)
        return try JSONDecoder().decode(Stats.self, from: data)
    }
}

/// A root folder with a config.yaml: syslog off, short deadlines for fast failing tests.
func makeRoot(_ name: String = #function, config: String = "") throws -> String {
    let root = try TestEnv.tempDir(name)
    try TestEnv.write("syslog: false\nlock_timeout: 5\n" + config, to: root + "/etc/ec2-boot-init/config.yaml")
    return root
}
