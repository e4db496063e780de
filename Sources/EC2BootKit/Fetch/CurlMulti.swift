import CCurl
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// libcurl's multi interface driven from one thread: every transfer of a client shares
/// its connection cache (kept-alive connections, at most `maxConnections` to a host), and a
/// finished transfer resumes its caller directly, without the queue hops of URLSession.
final class CurlMulti: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    /// Why libcurl could not be loaded (no libcurl4 installed); nil when it was.
    static let unavailable: String? = ccurl_load().map { String(cString: $0) }
    private let lock = Lock()
    private var incoming: [CurlTransfer] = []
    private var cancelled: [CurlTransfer] = []
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var stopping = false

    /// Nil when libcurl is not there (`unavailable` says why).
    init?(maxConnections: Int) {
        guard Self.unavailable == nil, let multi = ccurl_multi_init() else { return nil }
        self.multi = multi
        ccurl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnections)
        ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
        startThread { [self] in loop() }
        // A stop ends every transfer at once (each caller gets `FetchError.interrupted`), and any
        // submitted later: no wait on a server outlives SIGTERM.
        Interruption.onStop { [weak self] in self?.interrupt() }
    }

    private var interrupted = false

    private func interrupt() {
        lock.withLock { interrupted = true }
        ccurl_multi_wakeup(multi)
    }

    /// Stops the loop; the loop thread frees the handle.
    func shutdown() {
        lock.withLock { stopping = true }
        ccurl_multi_wakeup(multi)
    }

    func submit(_ transfer: CurlTransfer) {
        lock.withLock { incoming.append(transfer) }
        ccurl_multi_wakeup(multi)
    }

    func cancel(_ transfer: CurlTransfer) {
        lock.withLock { cancelled.append(transfer) }
        ccurl_multi_wakeup(multi)
    }

    private func loop() {
        var running: Int32 = 0
        while true {
            let (added, dropped, stop, interrupted) = lock.withLock {
                defer { incoming.removeAll(); cancelled.removeAll() }
                return (incoming, cancelled, stopping, self.interrupted)
            }
            for transfer in added {
                active[transfer.easy] = transfer
                ccurl_multi_add_handle(multi, transfer.easy)
            }
            if interrupted {
                for transfer in active.values {
                    ccurl_multi_remove_handle(multi, transfer.easy)
                    transfer.finish(CURLE_ABORTED_BY_CALLBACK, cancelled: true)
                }
                active.removeAll()
            }
            for transfer in dropped where active.removeValue(forKey: transfer.easy) != nil {
                ccurl_multi_remove_handle(multi, transfer.easy)
                transfer.finish(CURLE_ABORTED_BY_CALLBACK, cancelled: true)
            }
            if stop { break }
            ccurl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let message = ccurl_multi_info_read(multi, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let result = message.pointee.data.result
                ccurl_multi_remove_handle(multi, easy)
                active.removeValue(forKey: easy)?.finish(result, cancelled: false)
            }
            ccurl_multi_poll(multi, nil, 0, 1000, nil)
        }
        for transfer in active.values {
            ccurl_multi_remove_handle(multi, transfer.easy)
            transfer.finish(CURLE_ABORTED_BY_CALLBACK, cancelled: true)
        }
        ccurl_multi_cleanup(multi)
    }
}

/// One request: an easy handle, where its body goes, and who waits for it.
final class CurlTransfer: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    let url: String
    private var headers: UnsafeMutablePointer<curl_slist>?
    /// Gets each chunk of the body of a 2xx response; throwing stops the transfer.
    var sink: (UnsafeRawBufferPointer) throws -> Void = { _ in }
    private(set) var status = 0
    /// Where a 3xx answer points (resolved), for the caller's redirect policy.
    private(set) var location: String?
    private(set) var sinkError: Error?
    /// The answer's validators and Retry-After, for conditional GETs and throttling.
    private(set) var answer = AnswerHeaders()
    /// The start of a non-2xx body (S3 explains a refusal there), at most `errorBodyBytes`.
    private(set) var errorBody = Data()
    static let errorBodyBytes = 4096
    private let cap: ByteCap
    private var received = 0
    private var continuation: CheckedContinuation<Int, Error>?
    /// curl writes its detailed message here; it must outlive the transfer.
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    /// With `body`, it is sent as the request's body (a management API's PUT).
    init(url: URL, method: String? = nil, headers: [String: String], body: Data? = nil, timeout: Double, idle: Double? = nil,
         cap: ByteCap) {
        easy = ccurl_easy_init()!
        self.url = url.redacted
        self.cap = cap
        ccurl_setopt_ptr(easy, CURLOPT_URL, url.absoluteString)
        ccurl_setopt_ptr(easy, CURLOPT_PROTOCOLS_STR, "http,https,file")
        // Redirects are never followed here: callers follow them hop by hop under a RedirectPolicy,
        // so a token or a download never goes to a host nobody checked.
        ccurl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_ptr(easy, CURLOPT_PROXY, "")  // IMDS is link-local: never through a proxy
        ccurl_setopt_ptr(easy, CURLOPT_USERAGENT, "ec2-boot-init/\(EC2BootVersion.string)")
        ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(min(timeout, idle ?? timeout) * 1000)))
        // The total bound holds even for a body that trickles in forever.
        ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, Int(min(timeout, 1e9) * 1000)))
        if let idle {
            // A large file on a slow link is fine; one that stalls for `idle` seconds is not.
            ccurl_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1)
            ccurl_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, max(1, Int(min(idle, 1e9).rounded(.up))))
        }
        // Refuses an announced Content-Length over the cap before the body; `receive` counts the rest.
        ccurl_setopt_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(cap.bytes))
        if let body {
            // Size first: COPYPOSTFIELDS copies that many bytes, so the data need not outlive this call.
            ccurl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            _ = body.withUnsafeBytes { ccurl_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!) }
        }
        if let method { ccurl_setopt_ptr(easy, CURLOPT_CUSTOMREQUEST, method) }
        for (name, value) in headers { self.headers = ccurl_slist_append(self.headers, "\(name): \(value)") }
        if let list = self.headers { ccurl_setopt_ptr(easy, CURLOPT_HTTPHEADER, list) }
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        ccurl_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        ccurl_setopt_ptr(easy, CURLOPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque())
        ccurl_setopt_write(easy) { data, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            return transfer.receive(UnsafeRawBufferPointer(start: data, count: size * count))
        }
        ccurl_setopt_ptr(easy, CURLOPT_HEADERDATA, Unmanaged.passUnretained(self).toOpaque())
        ccurl_setopt_header(easy) { data, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            transfer.answer.take(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
    }

    deinit {
        ccurl_easy_cleanup(easy)
        ccurl_slist_free_all(headers)
        errorBuffer.deallocate()
    }

    /// Bodies of non-2xx answers are read and dropped: only the status matters then. Every
    /// byte counts against the cap, so no answer, however it is framed, can run on forever.
    private func receive(_ chunk: UnsafeRawBufferPointer) -> Int {
        if status == 0 { status = ccurl_response_code(easy) }
        received += chunk.count
        if received > cap.bytes {
            sinkError = FetchError.tooLarge(url: url, cap: cap.bytes, setting: cap.setting)
            return 0
        }
        if Self.succeeded(status) {
            do { try sink(chunk) } catch {
                sinkError = error
                return 0  // makes curl stop with CURLE_WRITE_ERROR
            }
        } else if errorBody.count < Self.errorBodyBytes {
            errorBody.append(contentsOf: chunk.prefix(Self.errorBodyBytes - errorBody.count))
        }
        return chunk.count
    }

    /// Runs the transfer on `multi`; returns the HTTP status (0 for file URLs).
    func run(on multi: CurlMulti) async throws(FetchError) -> Int {
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    self.continuation = continuation
                    multi.submit(self)
                }
            } onCancel: {
                multi.cancel(self)
            }
        } catch {
            throw FetchError.wrap(error, url: url)
        }
    }

    /// Called once, on the loop thread.
    fileprivate func finish(_ code: CURLcode, cancelled: Bool) {
        if status == 0 { status = ccurl_response_code(easy) }
        if (300..<400).contains(status) { location = ccurl_redirect_url(easy).map { String(cString: $0) } }
        let continuation = self.continuation
        self.continuation = nil
        if cancelled {
            continuation?.resume(throwing: CancellationError())
        } else if code == CURLE_OK {
            continuation?.resume(returning: status)
        } else if let sinkError {
            continuation?.resume(throwing: (sinkError as? FetchError) ?? FetchError.file("\(sinkError)"))
        } else if code == CURLE_FILESIZE_EXCEEDED {
            continuation?.resume(throwing: FetchError.tooLarge(url: url, cap: cap.bytes, setting: cap.setting))
        } else {
            continuation?.resume(throwing: Self.error(code, url: url, detail: String(cString: errorBuffer)))
        }
    }

    /// A 2xx answer, or 0: a file URL, for which curl has no status (a transfer that ended
    /// without error and without an HTTP status can only be one).
    static func succeeded(_ status: Int) -> Bool {
        status == 0 || (200..<300).contains(status)
    }

    static func error(_ code: CURLcode, url: String, detail: String) -> FetchError {
        let message = detail.isEmpty ? String(cString: ccurl_easy_strerror(code)) : detail
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return .timedOut(url: url)
        case CURLE_FILE_COULDNT_READ_FILE:
            return .status(404, url: url)
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_PEER_FAILED_VERIFICATION,
             CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE, CURLE_LOGIN_DENIED,
             CURLE_WRITE_ERROR:
            return .transport(message, url: url, retryable: false)
        default:
            // Connection refused or reset, empty or cut-short replies, DNS: the network may fix these.
            return .transport(message, url: url, retryable: true)
        }
    }
}

/// The most bytes one answer may bring, and the setting that says so (for the error message).
public struct ByteCap: Sendable {
    public let bytes: Int
    public let setting: String
    public init(_ bytes: Int, setting: String) {
        self.bytes = bytes
        self.setting = setting
    }
}
