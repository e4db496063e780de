import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging

/// Downloads a URL to a file: streamed to a temp file beside it, hashed on the way,
/// renamed into place only when whole and (if pinned) of the right sha256. On any
/// failure the destination keeps what it had. `http`, `https` and `file` URLs.
public final class Download: Sendable {
    private let session: URLSession
    private let router = StreamRouter()

    public init(maxConnections: Int = 8) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maxConnections
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        session = URLSession(configuration: configuration, delegate: router, delegateQueue: nil)
    }

    deinit { session.finishTasksAndInvalidate() }

    /// Returns the sha256 (hex) of what was written.
    @discardableResult
    public func fetch(_ url: URL, to destination: String, sha256 expected: String?, mode: mode_t,
                      policy: RetryPolicy, logger: Logger) async throws(FetchError) -> String {
        let expected = expected?.lowercased()
        let deadline = Deadline(seconds: policy.deadline)
        return try await Retry.run(url: url.redacted, policy: policy, deadline: deadline, logger: logger) { timeout throws(FetchError) in
            let writer: AtomicFileWriter
            do { writer = try AtomicFileWriter(path: destination, mode: mode) } catch {
                throw FetchError.file("\(error)")
            }
            var hasher = SHA256()
            switch url.scheme?.lowercased() {
            case "file": try Self.copyFile(url.path, into: writer, hasher: &hasher)
            case "http", "https": hasher = try await stream(url, timeout: timeout, into: writer)
            default: throw FetchError.unsupportedURL(url.redacted)
            }
            let actual = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            if let expected, expected != actual {
                writer.discard()
                throw FetchError.digestMismatch(url: url.redacted, expected: expected, actual: actual)
            }
            do { try writer.commit() } catch { throw FetchError.file("\(error)") }
            return actual
        }
    }

    /// `timeout` is how long the transfer may go without a byte arriving: a large file
    /// on a slow link is fine, a stalled one is not. (URLSession on Linux does not apply it.)
    private func stream(_ url: URL, timeout: Double, into writer: AtomicFileWriter) async throws(FetchError) -> SHA256 {
        let sink = StreamSink(writer: writer)
        let task = session.dataTask(with: URLRequest(url: url))
        let watchdog = Task {
            while !Task.isCancelled {
                try await Task.sleep(nanoseconds: UInt64(max(0.02, timeout / 4) * 1e9))
                if sink.idle(longerThan: timeout) { task.cancel() }
            }
        }
        defer { watchdog.cancel() }
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                    sink.continuation = continuation
                    router.add(sink, for: task.taskIdentifier)
                    task.resume()
                }
            } onCancel: { task.cancel() }
        } catch {
            writer.discard()
            if sink.timedOut { throw FetchError.timedOut(url: url.redacted) }
            throw FetchError.from(error, url: url.redacted)
        }
        if let status = sink.status, !(200..<300).contains(status) {
            writer.discard()
            throw FetchError.status(status, url: url.redacted)
        }
        if let failure = sink.writeError {
            writer.discard()
            throw FetchError.file("\(failure)")
        }
        return sink.hasher
    }

    private static func copyFile(_ path: String, into writer: AtomicFileWriter, hasher: inout SHA256) throws(FetchError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            writer.discard()
            throw FetchError.status(404, url: "file://" + path)
        }
        defer { try? handle.close() }
        do {
            while let chunk = try handle.read(upToCount: 256 * 1024), !chunk.isEmpty {
                hasher.update(data: chunk)
                try writer.write(chunk)
            }
        } catch {
            writer.discard()
            throw FetchError.file("cannot copy \(path): \(error)")
        }
    }
}

/// Where one transfer's bytes go.
private final class StreamSink: @unchecked Sendable {
    let writer: AtomicFileWriter
    var hasher = SHA256()
    var status: Int?
    var writeError: Error?
    var continuation: CheckedContinuation<Void, Error>?
    private let lock = NSLock()
    private var lastActivity = ContinuousClock.now
    private(set) var timedOut = false

    init(writer: AtomicFileWriter) { self.writer = writer }

    func touch() { lock.withLock { lastActivity = .now } }

    /// True (and remembered) once nothing has arrived for `seconds`.
    func idle(longerThan seconds: Double) -> Bool {
        lock.withLock {
            if ContinuousClock.now - lastActivity > .milliseconds(Int64(seconds * 1000)) { timedOut = true }
            return timedOut
        }
    }
}

/// URLSession has one delegate per session: this one hands each task's events to its sink.
/// URLSession calls it on its serial delegate queue; the lock covers `add` from elsewhere.
private final class StreamRouter: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let lock = NSLock()
    private var sinks: [Int: StreamSink] = [:]

    func add(_ sink: StreamSink, for id: Int) { lock.withLock { sinks[id] = sink } }

    private func sink(_ id: Int) -> StreamSink? { lock.withLock { sinks[id] } }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 200
        sink(dataTask.taskIdentifier)?.touch()
        sink(dataTask.taskIdentifier)?.status = status
        completionHandler((200..<300).contains(status) ? .allow : .cancel)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let sink = sink(dataTask.taskIdentifier), sink.writeError == nil else { return }
        sink.touch()
        do {
            try sink.writer.write(data)
            sink.hasher.update(data: data)
        } catch {
            sink.writeError = error
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let sink = lock.withLock({ sinks.removeValue(forKey: task.taskIdentifier) }) else { return }
        // A status we refused or a write that failed cancels the task; that is not a network error.
        if let error, sink.timedOut || (sink.writeError == nil && (sink.status.map { (200..<300).contains($0) } ?? true)) {
            sink.continuation?.resume(throwing: error)
        } else {
            sink.continuation?.resume()
        }
        sink.continuation = nil
    }
}
