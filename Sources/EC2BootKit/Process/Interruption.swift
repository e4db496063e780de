import Dispatch
import Glibc
import Dispatch
import FoundationEssentials

/// SIGTERM or SIGINT to the agent (systemd stopping the unit, Ctrl-C on a manual run): the
/// running action's whole process group gets SIGTERM (SIGKILL 2 s later), the engine records
/// the action as interrupted and starts nothing more, and the run exits. The next run resumes.
/// The one owner of those signals in the process: whoever else must stop (the watcher) says so
/// with `onStop`.
public enum Interruption {
    private static let state = State()

    /// Takes over SIGTERM and SIGINT for the rest of the process.
    public static func install() {
        for signo in [SIGTERM, SIGINT] {
            Glibc.signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler { trigger(signo) }
            source.resume()
            state.keep(source)
        }
    }

    /// Calls `handler` once, on the first SIGTERM or SIGINT (at once if one came already).
    public static func onStop(_ handler: @escaping @Sendable () -> Void) {
        if !state.add(handler) { handler() }
    }

    /// The signal that asked the run to stop, if one did.
    public static var signal: Int32? { state.received }

    /// Sleeps `seconds`, or less: a stop ends the sleep within a tenth of a second, so no wait
    /// (a retry's backoff, a lock's) outlives `systemctl stop`.
    public static func sleep(_ seconds: Double) async {
        let deadline = Deadline(seconds: max(0, seconds))
        while signal == nil, !deadline.passed {
            try? await Task.sleep(for: deadline.sleepTime(atMost: 0.1))
        }
    }

    static func trigger(_ signo: Int32) {
        guard let handlers = state.receive(signo) else { return }
        RunningGroups.shared.signalAll(SIGTERM)
        for handler in handlers { handler() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) { RunningGroups.shared.signalAll(SIGKILL) }
    }

    private final class State: @unchecked Sendable {
        private let lock = Lock()
        private var sources: [any DispatchSourceSignal] = []
        private var signo: Int32?
        private var handlers: [@Sendable () -> Void] = []

        func keep(_ source: any DispatchSourceSignal) { lock.withLock { sources.append(source) } }
        var received: Int32? { lock.withLock { signo } }

        /// False when the signal came already (the caller runs it then).
        func add(_ handler: @escaping @Sendable () -> Void) -> Bool {
            lock.withLock {
                guard signo == nil else { return false }
                handlers.append(handler)
                return true
            }
        }

        /// The handlers to call, the first time only.
        func receive(_ value: Int32) -> [@Sendable () -> Void]? {
            lock.withLock {
                guard signo == nil else { return nil }
                signo = value
                return handlers
            }
        }
    }
}
