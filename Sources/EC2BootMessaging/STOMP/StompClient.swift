import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Where and as whom to connect.
public struct StompEndpoint: Sendable {
    public var host: String
    public var port: Int
    public var login: String?
    public var passcode: String?
    /// The CONNECT frame's `host` header: the vhost for RabbitMQ, the broker's name otherwise.
    public var virtualHost: String
    public var tls: TLS?

    public struct TLS: Sendable {
        public var ca: String?
        public var cert: String?
        public var key: String?
        /// Certificate chain and host name checked; off only when a user says so.
        public var verify = true
        public init(ca: String?, cert: String?, key: String?, verify: Bool = true) {
            self.ca = ca
            self.cert = cert
            self.key = key
            self.verify = verify
        }
    }

    public init(host: String, port: Int, login: String?, passcode: String?, virtualHost: String? = nil, tls: TLS? = nil) {
        self.host = host
        self.port = port
        self.login = login
        self.passcode = passcode
        self.virtualHost = virtualHost ?? host
        self.tls = tls
    }

    public var name: String { "\(tls == nil ? "stomp" : "stomp+ssl")://\(host):\(port)" }
}

/// A STOMP 1.2 client on SwiftNIO: connect (retried with backoff until a deadline while the
/// broker is unreachable or not ready; never after the broker refused the credentials), send
/// with a receipt, disconnect.
public enum StompClient {
    static let maxFrameBytes = 1 << 20

    /// Connects, runs `body`, disconnects. `deadline` bounds everything, retries included.
    public static func withSession<T: Sendable>(_ endpoint: StompEndpoint, deadline total: Double, connectTimeout: Double = 10,
                                                logger: Logger, _ body: (StompSession) async throws -> T) async throws -> T {
        let deadline = Deadline(seconds: total)
        let tlsContext = try endpoint.tls.map(makeContext)
        var attempt = 0
        while true {
            attempt += 1
            do {
                let channel = try await connect(endpoint, tlsContext: tlsContext,
                                                timeout: min(connectTimeout, max(0.05, deadline.remaining)))
                // Whatever happens, nothing outlives the deadline: the channel is closed then.
                let guardTask = channel.channel.eventLoop.scheduleTask(in: .milliseconds(Int64(deadline.remaining * 1000))) {
                    channel.channel.close(promise: nil)
                }
                defer { guardTask.cancel() }
                return try await channel.executeThenClose { inbound, outbound in
                    let session = StompSession(inbound: inbound.makeAsyncIterator(), outbound: outbound)
                    try await session.connect(endpoint)
                    if attempt > 1 { logger.info("connected to the broker", metadata: ["broker": "\(endpoint.name)", "attempts": "\(attempt)"]) }
                    let result: T
                    do { result = try await body(session) } catch let error as StompError { throw error } catch {
                        throw BodyFailed(error: error)  // the caller's own error: not a reason to connect again
                    }
                    try await session.disconnect()
                    return result
                }
            } catch let failed as BodyFailed {
                throw failed.error
            } catch let error as StompError {
                if case .broker = error { throw error }  // refused credentials, or a refused frame: final
                if case .tls = error { throw error }
                try await pause(after: error, attempt: attempt, deadline: deadline, endpoint: endpoint, logger: logger)
            } catch let error as NIOSSLError {
                // A refused certificate (either side's) is final; only a connection cut during the
                // handshake (a broker still starting, or a busy one) is tried again.
                guard case .uncleanShutdown = error else { throw StompError.tls(Self.describe(error)) }
                try await pause(after: error, attempt: attempt, deadline: deadline, endpoint: endpoint, logger: logger)
            } catch let error as BoringSSLError {
                throw StompError.tls(Self.describe(error))  // an alert: the broker refused our certificate
            } catch {
                try await pause(after: error, attempt: attempt, deadline: deadline, endpoint: endpoint, logger: logger)
            }
        }
    }

    /// Waits before the next attempt (backoff with full jitter), never past the deadline;
    /// throws once the deadline has come.
    static func pause(after error: any Error, attempt: Int, deadline: Deadline, endpoint: StompEndpoint,
                      logger: Logger) async throws {
        let left = deadline.remaining
        // A connection closed at the deadline was closed by us: the broker never answered.
        if left <= 0.01, case StompError.closed(let what)? = error as? StompError {
            throw StompError.timedOut("\(what) from \(endpoint.name): no answer before the deadline, after \(attempt) attempts")
        }
        let reason = describe(error)
        guard left > 0.01 else {
            throw StompError.unreachable("\(endpoint.name) after \(attempt) attempts: \(reason)")
        }
        if attempt == 1 || attempt % 5 == 0 {
            logger.notice("the broker is not reachable yet; trying again", metadata: ["broker": "\(endpoint.name)", "reason": "\(reason)"])
        }
        let wait = Double.random(in: 0...min(5, 0.25 * pow(2, Double(min(attempt, 10)))))
        try await Task.sleep(for: .seconds(min(wait, left)))
    }

    /// The reason, without NIO's wrapping of it.
    static func describe(_ error: any Error) -> String {
        if let failed = error as? NIOConnectionError, let first = failed.connectionErrors.first { return "\(first.error)" }
        return "\(error)"
    }

    typealias Channel = NIOAsyncChannel<StompFrame, StompFrame>

    static func connect(_ endpoint: StompEndpoint, tlsContext: NIOSSLContext?, timeout: Double) async throws -> Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(timeout * 1000)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        let name = isAddress(endpoint.host) ? nil : endpoint.host
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: name))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(StompFrameDecoder(maxFrameBytes: maxFrameBytes)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(StompFrameEncoder()))
                    return try Channel(wrappingChannelSynchronously: channel)
                }
            }
    }

    static func isAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    static func makeContext(_ tls: StompEndpoint.TLS) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = tls.ca { configuration.trustRoots = .file(ca) }
            if let cert = tls.cert { configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) } }
            if let key = tls.key { configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)) }
            configuration.certificateVerification = tls.verify ? .fullVerification : .none
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw StompError.tls("cannot load the CA, certificate or key: \(error)")
        }
    }
}

struct BodyFailed: Error { let error: any Error }

/// A connected session; its methods run one after another.
public final class StompSession {
    var inbound: NIOAsyncChannelInboundStream<StompFrame>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<StompFrame>
    private var receipts = 0
    public private(set) var server: String?

    init(inbound: NIOAsyncChannelInboundStream<StompFrame>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<StompFrame>) {
        self.inbound = inbound
        self.outbound = outbound
    }

    func connect(_ endpoint: StompEndpoint) async throws {
        var headers = [("accept-version", "1.2,1.1"), ("host", endpoint.virtualHost), ("heart-beat", "0,0")]
        if let login = endpoint.login { headers.append(("login", login)) }
        if let passcode = endpoint.passcode { headers.append(("passcode", passcode)) }
        try await outbound.write(StompFrame("CONNECT", headers))
        let reply = try await next("waiting for CONNECTED")
        guard reply.command == "CONNECTED" else { throw StompError.protocolError("expected CONNECTED, got \(reply.command)") }
        server = reply["server"]
    }

    /// SEND with a receipt; returns when the broker's RECEIPT for it arrived.
    public func send(_ destination: String, headers: [(String, String)] = [], body: [UInt8]) async throws {
        receipts += 1
        let id = "send-\(receipts)"
        try await outbound.write(StompFrame("SEND", [("destination", destination), ("receipt", id)] + headers, body: body))
        try await awaitReceipt(id)
    }

    /// SUBSCRIBE (auto ack) and wait for the broker to confirm it with a receipt.
    public func subscribe(_ destination: String, id: String, headers: [(String, String)] = []) async throws {
        receipts += 1
        let receipt = "sub-\(receipts)"
        try await outbound.write(StompFrame("SUBSCRIBE", [("destination", destination), ("id", id), ("ack", "auto"), ("receipt", receipt)] + headers))
        try await awaitReceipt(receipt)
    }

    /// The next MESSAGE frame.
    public func message() async throws -> StompFrame {
        while true {
            let frame = try await next("waiting for a message")
            if frame.command == "MESSAGE" { return frame }
        }
    }

    func disconnect() async throws {
        receipts += 1
        let id = "bye-\(receipts)"
        try await outbound.write(StompFrame("DISCONNECT", [("receipt", id)]))
        try await awaitReceipt(id)
    }

    private func awaitReceipt(_ id: String) async throws {
        while true {
            let frame = try await next("waiting for receipt \(id)")
            if frame.command == "RECEIPT" && frame["receipt-id"] == id { return }
        }
    }

    /// The next frame; an ERROR frame becomes `StompError.broker` with its message.
    private func next(_ what: String) async throws -> StompFrame {
        guard let frame = try await inbound.next() else { throw StompError.closed(what) }
        if frame.command == "ERROR" {
            let detail = frame.bodyText.split(separator: "\n").first.map { ": " + $0 } ?? ""
            throw StompError.broker(Redaction.redact((frame["message"] ?? "ERROR") + detail))
        }
        return frame
    }
}
