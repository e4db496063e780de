import Foundation
import Testing

/// Real ZooKeeper servers (Debian's package) from temp dirs, through tools/zookeeper/zk_ensemble.py.
final class ZooKeeperServers: @unchecked Sendable {
    let peer: Peer
    let dir: String
    struct Info: Decodable {
        struct Server: Decodable { let id: Int; let client_port: Int; let pid: Int32 }
        let connect: String
        let servers: [Server]
    }
    let info: Info

    init(servers: Int = 1, port: Int = 0) throws {
        dir = try TestEnv.tempDir("zookeeper")
        let script = TestEnv.repoRoot.appendingPathComponent("tools/zookeeper/zk_ensemble.py").path
        peer = try Peer([TestEnv.python, script, "--dir", dir, "--servers", String(servers), "--port", String(port),
                         "--parent", String(getpid())], quiet: true)
        info = try JSONDecoder().decode(Info.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/ensemble.json")))
    }

    var connect: String { info.connect }

    /// The servers go with the object: the launcher is SIGKILLed (see Peer) and cannot stop them itself.
    deinit { for server in info.servers { kill(server.pid, SIGKILL) } }

    /// The server that leads, from its `srvr` answer.
    func leader() -> Info.Server? {
        info.servers.first { fourLetter("srvr", port: $0.client_port).contains("Mode: leader") }
    }

    /// Three servers, started once for the signed-command tests (the channel as deployed: an ensemble).
    static let ensemble: Result<ZooKeeperServers, PeerFailed> = {
        do { return .success(try ZooKeeperServers(servers: 3)) } catch { return .failure(PeerFailed(output: "\(error)")) }
    }()

    /// A fleet of its own for one test: a fresh chroot on these servers (made first: ZooKeeper
    /// needs it to exist), so the ACLs one test's nodes set on `/ec2boot/nodes` never meet another's.
    func fleet(_ name: String = #function) throws -> Fleet {
        let chroot = "/fleet-" + name.filter { $0.isLetter || $0.isNumber }.prefix(24) + "-" + UUID().uuidString.prefix(8)
        let made = try kazoo(connect, ["create", chroot, ""])
        guard made.status == 0 else { throw PeerFailed(output: made.stdout + made.stderr) }
        return Fleet(connect: connect + chroot, chroot: chroot)
    }

    struct Fleet {
        /// The connect string, chroot included: what nodes, push and kazoo are given.
        let connect: String
        let chroot: String
        /// What a command for `base` (a node's or group's path in the fleet) is signed for.
        func target(_ base: String) -> String { chroot + base }
    }

    /// One server on 127.0.0.1, started once for every test that needs no ensemble of its own.
    static let shared: Result<ZooKeeperServers, PeerFailed> = {
        do { return .success(try ZooKeeperServers()) } catch { return .failure(PeerFailed(output: "\(error)")) }
    }()
}

func fourLetter(_ word: String, port: Int) -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return "" }
    _ = Array(word.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var out = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        out.append(contentsOf: buffer[0..<n])
    }
    return String(decoding: out, as: UTF8.self)
}

/// kazoo (tools/zookeeper/zk_client.py): a second, independent client, as an operator's script.
func kazoo(_ hosts: String, _ arguments: [String], auth: String? = nil, stdin: String? = nil) throws -> ToolResult {
    let script = TestEnv.repoRoot.appendingPathComponent("tools/zookeeper/zk_client.py").path
    return try runProcess("/usr/bin/env", [TestEnv.python, script, "--hosts", hosts] + (auth.map { ["--auth", $0] } ?? []) + arguments,
                          stdin: stdin, limit: 60)
}

/// A booted root for one node (seed with its instance id, config with `watch:`), and a
/// recording chef-client on its PATH: Debian does not package Chef, so this stand-in appends
/// its argv and JSON to `runs` and sleeps `CHEF_SLEEP` seconds (a file in the root).
struct WatchNode {
    let root: String
    let id: String
    var bin: String { root + "/bin" }
    var runs: [String] { (TestEnv.read(root + "/runs") ?? "").split(separator: "\n").map(String.init) }

    /// `watch`: more lines of config.yaml's `watch:` (the shared operator key is trusted already).
    init(_ id: String, zookeeper: String, watch: String = "", userData: String = "facts:\n  role: web\n") throws {
        self.id = id
        let key = try OperatorKey.shared.get().publicLine
        root = try makeRoot("watch-\(id)", config: "watch:\n  zookeeper: \"\(zookeeper)\"\n  session_timeout: 4\n  public_keys: [\"\(key)\"]\n" + watch)
        try TestEnv.write(#"{"instance-id": "\#(id)", "ami-id": "ami-1"}"#, to: root + "/seed/meta-data.json")
        try TestEnv.write(userData, to: root + "/seed/user-data")
        try TestEnv.write("chef_server_url \"https://chef.example.com\"\n", to: root + "/etc/chef/client.rb")
        try TestEnv.write("""
            #!/bin/sh
            echo "start $(cat "$4")" >> \(root)/runs
            sleep "$(cat \(root)/chef-sleep 2>/dev/null || echo 0)"
            echo "chef-client: converged $(cat "$4")"
            echo "end $(cat "$4")" >> \(root)/runs
            exit "$(cat \(root)/chef-exit 2>/dev/null || echo 0)"
            """, to: bin + "/chef-client")
        chmod(bin + "/chef-client", 0o755)
        let boot = try tool(["run", "--root", root, "--seed", root + "/seed"])
        guard boot.status == 0 else { throw PeerFailed(output: boot.stderr) }
    }

    var base: String { WatchNode.nodesRoot + "/" + id }

    /// The node's ZooKeeper identity, in the root's /etc/zk.auth (0600), for `auth_file: /etc/zk.auth`.
    func writeAuth(_ text: String) throws {
        try TestEnv.write(text, to: root + "/etc/zk.auth")
        chmod(root + "/etc/zk.auth", 0o600)
    }
    static let nodesRoot = "/ec2boot/nodes"

    /// `ec2-boot-init watch` in the background, its log in `log`.
    func start(environment extra: [String: String] = [:]) throws -> Background {
        var env = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        env["PATH"] = bin + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        return try Background(TestEnv.binary, ["watch", "--root", root], environment: env, log: log)
    }

    var log: String { root + "/watch.log" }
    var logText: String { TestEnv.read(log) ?? "" }
}

/// A process in its own group, output appended to a file (never a pipe the runner would wait
/// on), killed with its group when the object goes.
final class Background: @unchecked Sendable {
    let pid: pid_t

    init(_ executable: String, _ arguments: [String], environment: [String: String], log: String) throws {
        pid = try spawnInGroup([executable] + arguments, environment: environment, stdin: "/dev/null", stdout: log, stderr: nil)
    }

    func signal(_ signo: Int32) { kill(pid, signo) }

    /// Its exit status once it exits by itself within `seconds`, else nil (still running).
    func exited(within seconds: Double) -> Int32? {
        var status: Int32 = 0
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if waitpid(pid, &status, WNOHANG) == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
            usleep(50_000)
        }
        return nil
    }

    /// Sends `signo` and waits for the exit; the exit status (128 + N for a signal).
    @discardableResult
    func stop(_ signo: Int32 = SIGKILL) -> Int32 {
        kill(pid, signo)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        kill(-pid, SIGKILL)
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    deinit {
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }
}

/// Waits until `condition` holds, checking every 50 ms; false after `seconds`.
func eventually(_ seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if try condition() { return true }
        usleep(50_000)
    }
    return try condition()
}

/// A node's result znode, decoded.
func zkJSON(_ hosts: String, _ path: String) -> [String: Any]? {
    guard let out = try? kazoo(hosts, ["get", path]), out.status == 0,
          let object = try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any] else { return nil }
    return object
}

/// A datagram socket standing in for systemd's notify socket: what `Type=notify` would hear.
final class NotifySocket {
    let path: String
    private let fd: Int32

    init() throws {
        path = try TestEnv.tempDir("notify") + "/notify.sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw PeerFailed(output: "cannot bind \(path)") }
    }

    /// The next datagram, or nil after `seconds`.
    func receive(within seconds: Int) -> String? {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    deinit { close(fd) }
}

/// An operator's signify key pair, made by Debian's `signify-openbsd`, and commands signed with
/// it the way an operator does by hand: header lines, a blank line, the command, then
/// `signify-openbsd -S -e` (no `push` involved).
struct OperatorKey: Sendable {
    let dir: String
    var publicFile: String { dir + "/op.pub" }
    var secretFile: String { dir + "/op.sec" }
    /// Line 2 of the `.pub` file: what `watch.public_keys` takes.
    let publicLine: String

    init() throws {
        dir = try TestEnv.tempDir("operator-key")
        let made = try runProcess("/usr/bin/signify-openbsd", ["-G", "-n", "-p", dir + "/op.pub", "-s", dir + "/op.sec"])
        guard made.status == 0 else { throw PeerFailed(output: "signify-openbsd is installed by scripts/deps.sh: \(made.stderr)") }
        publicLine = String((TestEnv.read(dir + "/op.pub") ?? "").split(separator: "\n")[1])
    }

    /// The key every watch test's nodes trust.
    static let shared: Result<OperatorKey, PeerFailed> = {
        do { return .success(try OperatorKey()) } catch { return .failure(PeerFailed(output: "\(error)")) }
    }()

    /// `command` signed for `target` (a node's or group's znode path on the ensemble, its chroot
    /// first) in signify's embedded form.
    func sign(_ command: String, for target: String, id: String = UUID().uuidString, issued: Date = Date(),
              expires: Date = Date().addingTimeInterval(3600)) throws -> String {
        let stamp = { ISO8601DateFormatter().string(from: $0) }
        return try signMessage("target: \(target)\nissued: \(stamp(issued))\nexpires: \(stamp(expires))\nid: \(id)\n\n\(command)")
    }

    /// Any message, signed as it is.
    func signMessage(_ message: String) throws -> String {
        let file = try TestEnv.tempDir("signed") + "/command"
        try TestEnv.write(message, to: file)
        let signed = try runProcess("/usr/bin/signify-openbsd", ["-S", "-e", "-s", secretFile, "-m", file, "-x", file + ".signed"])
        guard signed.status == 0, let text = TestEnv.read(file + ".signed") else { throw PeerFailed(output: signed.stderr) }
        return text
    }
}

/// Writes `command`, signed by the shared operator key for the node or group at `base` (in the
/// chroot `hosts` names, if any), with kazoo.
@discardableResult
func sendSigned(_ hosts: String, _ base: String, _ command: String, id: String = UUID().uuidString, auth: String? = nil) throws -> ToolResult {
    let chroot = hosts.firstIndex(of: "/").map { String(hosts[$0...]) } ?? ""
    let signed = try OperatorKey.shared.get().sign(command, for: chroot + base, id: id)
    return try kazoo(hosts, ["set", base + "/command", "-"], auth: auth, stdin: signed)
}
