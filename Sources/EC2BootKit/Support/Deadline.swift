/// A point in time after which no more attempts start, and no wait goes on: the one way a bound
/// in seconds becomes a time here (`ContinuousClock`, which a changed wall clock does not move).
public struct Deadline: Sendable {
    public let end: ContinuousClock.Instant

    public init(seconds: Double) {
        end = .now + .milliseconds(Int64(seconds * 1000))
    }

    public var remaining: Double {
        max(0, (end - .now).inSeconds)
    }

    public var passed: Bool { remaining <= 0 }

    /// The time left, at most `cap`, as a Duration to sleep for.
    public func sleepTime(atMost cap: Double = .infinity) -> Duration {
        .milliseconds(Int64(min(cap, remaining) * 1000))
    }
}
