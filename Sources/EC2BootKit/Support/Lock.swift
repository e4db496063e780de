#if canImport(Glibc)
import Glibc
#endif

/// A mutex (pthread's, as SwiftNIO's `NIOLock`): Foundation's `NSLock` is not in
/// FoundationEssentials, and importing all of Foundation for it links ICU into every program.
public final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    @inlinable
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// Runs `body` on a new detached thread (Foundation's `Thread` is not in FoundationEssentials):
/// for blocking waits (waitpid, poll, libcurl's loop) that must not hold a Swift concurrency thread.
public func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let started = pthread_create(&thread, nil, { context in
        let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
        box.body()
        return nil
    }, context)
    guard started == 0 else { fatalError("pthread_create failed: \(started)") }
    pthread_detach(thread)
}
