#if canImport(Glibc)
import Glibc
#endif
import CBootSystem
import Dispatch
import FoundationEssentials

/// How a child process ended.
public struct ProcessOutcome: Sendable {
    public enum Ending: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
    }

    public let ending: Ending
    /// The last lines of its output (stdout and stderr together), for the failure report.
    public let tail: [String]
    public let duration: Duration
    /// What it wrote on descriptor 3, when a channel was asked for (nil past `channelBytes`).
    public var channel: Data?
}

/// Runs a program in its own process group with stdout and stderr merged into one pipe,
/// hands each output line to `onLine`, and on timeout kills the whole group
/// (TERM, then KILL after a grace period), so a script's children do not outlive it.
public enum ProcessRunner {
    /// The most a channel (descriptor 3) is read for: a result, not a stream.
    public static let channelBytes = 1 << 20

    /// `channel`: the child also gets descriptor 3, a pipe of its own apart from its output, for
    /// a result nothing it logs can forge (what the broker helper answers on).
    public static func run(_ argv: [String], environment: [String: String], directory: String?,
                           stdin: Data? = nil, timeout: Double, tailLines: Int = 20, channel: Bool = false,
                           onLine: @escaping @Sendable (String) -> Void) async throws -> ProcessOutcome {
        let start = ContinuousClock.now
        let pipes = try ChildPipes(channel: channel)
        let pid: pid_t
        do { pid = try spawn(argv, environment: environment, directory: directory, pipes: pipes) } catch {
            pipes.closeAll()
            throw error
        }
        pipes.closeChildEnds()
        let reader = LineReader(fd: pipes.output.read, keep: tailLines, onLine: onLine)
        reader.start()
        let side = pipes.channel.map { ChannelReader(fd: $0.read) }
        side?.start()
        // Fed from a thread: a child that never reads must not block us.
        let stdinFD = pipes.input.write, stdinData = stdin ?? Data()
        startThread {
            signal(SIGPIPE, SIG_IGN)
            try? FileSystem.writeAll(stdinData, to: stdinFD, path: "stdin")
            close(stdinFD)
        }
        let ending = await wait(pid, timeout: timeout)
        let tail = await reader.finish()
        var outcome = ProcessOutcome(ending: ending, tail: tail, duration: ContinuousClock.now - start)
        outcome.channel = await side?.finish()
        return outcome
    }

    /// Starts `argv` on the children's ends of `pipes`, in a process group of its own.
    private static func spawn(_ argv: [String], environment: [String: String], directory: String?, pipes: ChildPipes) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Every end is close-on-exec: the child gets its copies as 0, 1, 2 (and 3) through
        // dup2, which clears the flag there, and nothing else, so a daemon it starts with its
        // own redirections does not keep our log pipe open, nor any lock, socket or log of ours.
        posix_spawn_file_actions_adddup2(&actions, pipes.input.read, 0)
        posix_spawn_file_actions_adddup2(&actions, pipes.output.write, 1)
        posix_spawn_file_actions_adddup2(&actions, pipes.output.write, 2)
        if let channel = pipes.channel { posix_spawn_file_actions_adddup2(&actions, channel.write, 3) }
        posix_spawn_file_actions_addclosefrom_np(&actions, pipes.channel == nil ? 3 : 4)
        if let directory { posix_spawn_file_actions_addchdir_np(&actions, directory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Own process group (to kill it whole); no blocked signals and default handlers,
        // whatever this process's threads had.
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let env = environment.map { "\($0.key)=\($0.value)" }
        let program = resolve(argv[0], path: environment["PATH"] ?? "/usr/bin:/bin")
        var pid: pid_t = 0
        // A program just written may still be open for writing in a process that forked
        // meanwhile (ETXTBSY until that one execs): a few short tries, a second at most.
        for attempt in 0..<20 {
            let status = withCStrings(argv) { argvPointers in
                withCStrings(env) { envPointers in posix_spawn(&pid, program, &actions, &attributes, argvPointers, envPointers) }
            }
            if status == 0 { return pid }
            guard status == ETXTBSY, attempt < 19 else { throw FileSystemError.posix("run \(argv[0])", status) }
            usleep(50_000)
        }
        return pid
    }

    /// The child's end, or `timeout` passing first: then its whole group is stopped (TERM, and
    /// KILL two seconds later). A stop of ours (SIGTERM) reaches it through `RunningGroups`.
    private static func wait(_ pid: pid_t, timeout: Double) async -> ProcessOutcome.Ending {
        RunningGroups.shared.add(pid)
        defer { RunningGroups.shared.remove(pid) }
        // A SIGTERM that came between the engine's check and `add` would otherwise miss this group.
        if Interruption.signal != nil { kill(-pid, SIGTERM) }
        let waiter = ExitWaiter(pid: pid)
        return await withTaskGroup(of: ProcessOutcome.Ending?.self) { group in
            group.addTask { await waiter.wait() }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(timeout.clamped(to: 0...Seconds.max) * 1e9))
                return Task.isCancelled ? nil : .timedOut
            }
            let first = await group.next()!!
            if first == .timedOut {
                kill(-pid, SIGTERM)
                try? await Task.sleep(nanoseconds: 2_000_000_000)
                kill(-pid, SIGKILL)
                _ = await waiter.wait()
            }
            group.cancelAll()
            return first
        }
    }

    /// `ruby` → `/usr/bin/ruby`, searched in the child's PATH (posix_spawnp would use ours).
    static func resolve(_ program: String, path: String) -> String {
        guard !program.contains("/") else { return program }
        for folder in path.split(separator: ":") where access("\(folder)/\(program)", X_OK) == 0 {
            return "\(folder)/\(program)"
        }
        return program
    }

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var pointers = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }
}

/// waitpid(2) on a thread of its own, once; later calls get the same answer.
private final class ExitWaiter: @unchecked Sendable {
    private let pid: pid_t
    private let lock = Lock()
    private var ending: ProcessOutcome.Ending?
    private var waiters: [CheckedContinuation<ProcessOutcome.Ending, Never>] = []

    init(pid: pid_t) {
        self.pid = pid
        startThread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let result: ProcessOutcome.Ending = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
            let pending = lock.withLock { () -> [CheckedContinuation<ProcessOutcome.Ending, Never>] in
                ending = result
                defer { waiters.removeAll() }
                return waiters
            }
            for waiter in pending { waiter.resume(returning: result) }
        }
    }

    func wait() async -> ProcessOutcome.Ending {
        await withCheckedContinuation { continuation in
            let done = lock.withLock { () -> ProcessOutcome.Ending? in
                if let ending { return ending }
                waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }
}

/// The process groups of the actions running now, so a SIGTERM to the agent reaches them.
final class RunningGroups: @unchecked Sendable {
    static let shared = RunningGroups()
    private let lock = Lock()
    private var groups: Set<pid_t> = []

    func add(_ pid: pid_t) { lock.withLock { _ = groups.insert(pid) } }
    func remove(_ pid: pid_t) { lock.withLock { _ = groups.remove(pid) } }

    /// Sends `signal` to every running action's whole group.
    func signalAll(_ signal: Int32) {
        for pid in lock.withLock({ groups }) { kill(-pid, signal) }
    }
}

/// The pipes between us and a child: its stdin, its merged output, and the optional channel
/// (descriptor 3). Every end is close-on-exec.
private struct ChildPipes {
    struct Pair { let read: Int32, write: Int32 }
    let input: Pair, output: Pair
    let channel: Pair?

    init(channel wanted: Bool) throws {
        var made: [Pair] = []
        for _ in 0..<(wanted ? 3 : 2) {
            var fds: [Int32] = [-1, -1]
            guard pipe2(&fds, O_CLOEXEC) == 0 else {
                let err = errno
                made.forEach { close($0.read); close($0.write) }
                throw FileSystemError.posix("create a pipe", err)
            }
            made.append(Pair(read: fds[0], write: fds[1]))
        }
        (input, output, channel) = (made[0], made[1], wanted ? made[2] : nil)
    }

    /// After the spawn: the child holds its own copies.
    func closeChildEnds() {
        close(input.read)
        close(output.write)
        if let channel { close(channel.write) }
    }

    func closeAll() {
        for pair in [input, output] + (channel.map { [$0] } ?? []) { close(pair.read); close(pair.write) }
    }
}

/// Reads a pipe on a thread until its end, handing each chunk to `onBytes`. A daemon the child
/// left holding the pipe must not keep this thread and descriptor forever: `finish` waits two
/// seconds at most, then the thread stops (it polls, never blocks in read) and closes its end.
private final class PipeReader: @unchecked Sendable {
    private let fd: Int32
    private let lock = Lock()
    private var abandoned = false
    private let done = DispatchSemaphore(value: 0)

    init(fd: Int32) { self.fd = fd }

    func start(_ onBytes: @escaping @Sendable (ArraySlice<UInt8>) -> Void, atEnd: @escaping @Sendable () -> Void) {
        startThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 16384)
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            while !lock.withLock({ abandoned }) {
                let ready = poll(&poller, 1, 200)
                if ready < 0 && errno != EINTR { break }
                if ready <= 0 { continue }
                let n = read(fd, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                onBytes(buffer[0..<n])
            }
            atEnd()
            close(fd)
            done.signal()
        }
    }

    func finish() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            startThread { [self] in
                if done.wait(timeout: .now() + 2) == .timedOut {
                    lock.withLock { abandoned = true }
                    done.wait()  // within one poll interval
                }
                continuation.resume()
            }
        }
    }
}

/// Output line by line, keeping the last few lines. Each byte is looked at once (a long line
/// costs linear time), and a line longer than `maxLine` is cut there and marked, the rest of it
/// dropped; PEM blocks are dropped (`PEMFilter`).
private final class LineReader: @unchecked Sendable {
    static let maxLine = 64 * 1024
    private let pipe: PipeReader
    private let keep: Int
    private let onLine: @Sendable (String) -> Void
    private let lock = Lock()
    private var tail: [String] = []
    // Touched by the reading thread only.
    private var line: [UInt8] = [], cut = false, pem = PEMFilter()

    init(fd: Int32, keep: Int, onLine: @escaping @Sendable (String) -> Void) {
        pipe = PipeReader(fd: fd)
        self.keep = keep
        self.onLine = onLine
    }

    func start() {
        pipe.start({ [self] bytes in
            for byte in bytes {
                if byte == UInt8(ascii: "\n") {
                    if let shown = pem.pass(line) { emit(shown, cut: cut) }
                    line.removeAll(keepingCapacity: true)
                    cut = false
                } else if line.count < Self.maxLine {
                    line.append(byte)
                } else {
                    cut = true
                }
            }
        }, atEnd: { [self] in
            if !line.isEmpty || cut, let shown = pem.pass(line) { emit(shown, cut: cut) }
        })
    }

    private func emit(_ bytes: [UInt8], cut: Bool) {
        let line = String(decoding: bytes, as: UTF8.self) + (cut ? " [line cut at \(Self.maxLine / 1024) KiB]" : "")
        onLine(line)
        lock.withLock {
            tail.append(line)
            if tail.count > keep { tail.removeFirst() }
        }
    }

    /// The kept lines, once the pipe is closed (or abandoned, see `PipeReader`).
    func finish() async -> [String] {
        await pipe.finish()
        return lock.withLock { tail }
    }
}

/// The channel's bytes, whole, or nil past `ProcessRunner.channelBytes`.
private final class ChannelReader: @unchecked Sendable {
    private let pipe: PipeReader
    private let lock = Lock()
    private var data: Data? = Data()

    init(fd: Int32) { pipe = PipeReader(fd: fd) }

    func start() {
        pipe.start({ [self] bytes in
            lock.withLock {
                guard let held = data?.count, held + bytes.count <= ProcessRunner.channelBytes else { data = nil; return }
                data?.append(contentsOf: bytes)
            }
        }, atEnd: {})
    }

    func finish() async -> Data? {
        await pipe.finish()
        return lock.withLock { data }
    }
}

/// Keeps PEM blocks (keys, certificates) out of what an action prints: the BEGIN line is kept
/// and marked, the body and END line are dropped.
struct PEMFilter {
    private var inside = false

    mutating func pass(_ line: [UInt8]) -> [UInt8]? {
        let text = String(decoding: line, as: UTF8.self)
        if inside {
            if text.contains("-----END ") { inside = false }
            return nil
        }
        guard let begin = text.firstRange(of: "-----BEGIN "), text[begin.upperBound...].contains("-----") else { return line }
        inside = !text[begin.upperBound...].contains("-----END ")
        return Array((text[..<begin.lowerBound] + "-----BEGIN … <redacted PEM block>").utf8)
    }
}
