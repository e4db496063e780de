#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// When and how long to retry: exponential backoff with full jitter, within one overall deadline.
public struct RetryPolicy: Sendable {
    public var requestTimeout: Double
    /// Seconds all attempts together may take.
    public var deadline: Double
    public var backoffBase: Double
    public var backoffMax: Double

    public init(requestTimeout: Double = 5, deadline: Double = 120, backoffBase: Double = 0.1, backoffMax: Double = 5) {
        self.requestTimeout = requestTimeout
        self.deadline = deadline
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax
    }

    /// Full jitter (a random wait up to the exponential bound), so many booting
    /// machines that failed together do not retry together.
    public func delay(afterAttempt attempt: Int) -> Double {
        let bound = min(backoffMax, backoffBase * pow(2, Double(min(attempt, 30))))
        return Double.random(in: 0...bound)
    }
}

/// The retry loop every fetch shares.
public enum Retry {
    public static func run<T>(isolation: isolated (any Actor)? = #isolation,
                              url: String, policy: RetryPolicy, deadline: Deadline, logger: Logger,
                              _ attempt: (_ timeout: Double) async throws(FetchError) -> T) async throws(FetchError) -> T {
        var attempts = 0
        while true {
            if let signal = Interruption.signal { throw FetchError.interrupted(url: url, signal: signal) }
            let timeout = min(policy.requestTimeout, deadline.remaining)
            let reminder = RetryNotices.remind(url: url, deadline: deadline, logger: logger)
            defer { reminder.cancel() }
            do {
                return try await attempt(timeout)
            } catch {
                if let signal = Interruption.signal { throw FetchError.interrupted(url: url, signal: signal) }
                guard error.retryable else { throw error }
                // A busy server's Retry-After is a floor; the jitter on top keeps the nodes it
                // turned away from all coming back in the same instant.
                let wait = (error.retryAfter ?? 0) + policy.delay(afterAttempt: attempts)
                attempts += 1
                guard deadline.remaining > wait + 0.01, !Task.isCancelled else {
                    throw FetchError.deadline(url: url, last: error.description)
                }
                // Said at once and then every 10 s (not for each of a crawl's requests), so a
                // boot waiting for the network is never silent until the deadline.
                let level: Logger.Level = RetryNotices.shared.due() ? .notice : .debug
                logger.log(level: level, "waiting up to \(Int(deadline.remaining.rounded(.up))) s for \(url) (Ctrl-C or SIGTERM stops): \(error)", metadata: [
                    "attempt": "\(attempts)", "wait_ms": "\(Int(wait * 1000))",
                ])
                await Interruption.sleep(wait)
            }
        }
    }
}

/// At most one retry notice every 10 s for the whole process.
final class RetryNotices: @unchecked Sendable {
    static let shared = RetryNotices()
    /// A request unanswered this long is a wait worth naming (an answer within it is a normal one).
    static let quiet: Duration = .seconds(2)

    /// While a request goes unanswered past `quiet`, the same notice as a retry's (at most one
    /// every 10 s): a server that accepts and never answers is not a silent boot either.
    static func remind(url: String, deadline: Deadline, logger: Logger) -> Task<Void, Never> {
        Task {
            guard (try? await Task.sleep(for: quiet)) != nil else { return }
            repeat {
                if shared.due() {
                    logger.notice("waiting up to \(Int(deadline.remaining.rounded(.up))) s for \(url) (Ctrl-C or SIGTERM stops): no answer yet")
                }
            } while (try? await Task.sleep(for: .seconds(1))) != nil
        }
    }
    private let lock = Lock()
    private var next = ContinuousClock.now

    func due() -> Bool {
        lock.withLock {
            guard ContinuousClock.now >= next else { return false }
            next = .now + .seconds(10)
            return true
        }
    }
}
