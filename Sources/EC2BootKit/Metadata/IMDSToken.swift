#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// The IMDSv2 session token: fetched once, shared by every request, renewed before it
/// expires or when IMDS answers 401. Falls back to IMDSv1 when the token endpoint says
/// it does not exist (403/404/405) or does not answer in time, unless v2 is required.
actor IMDSToken {
    static let tokenHeader = "X-aws-ec2-metadata-token"
    static let ttlHeader = "X-aws-ec2-metadata-token-ttl-seconds"

    private let client: HTTPClient
    private let endpoint: URL
    private let settings: IMDSSettings
    private let deadline: Deadline
    private let logger: Logger
    private var token: String?
    private var renewAt = ContinuousClock.now
    private var useV1 = false
    private var pending: Task<String?, Error>?

    init(client: HTTPClient, baseURL: URL, settings: IMDSSettings, deadline: Deadline, logger: Logger) {
        self.client = client
        self.endpoint = baseURL.appendingPathComponent("latest/api/token")
        self.settings = settings
        self.deadline = deadline
        self.logger = logger
    }

    /// The headers to send: the token, or none under IMDSv1.
    func headers() async throws(FetchError) -> [String: String] {
        if useV1 { return [:] }
        if let token, ContinuousClock.now < renewAt { return [Self.tokenHeader: token] }
        let task: Task<String?, Error>
        if let pending {
            task = pending
        } else {
            task = Task { try await self.fetch() }
            pending = task
        }
        defer { if pending == task { pending = nil } }
        do {
            guard let token = try await task.value else { return [:] }
            return [Self.tokenHeader: token]
        } catch {
            throw FetchError.wrap(error, url: endpoint.redacted)
        }
    }

    /// IMDS refused `rejected`: the next request fetches a new token.
    func invalidate(_ rejected: [String: String]) {
        if useV1 {
            // IMDS wants tokens after all (v2 turned on since, or the first PUT timed out).
            useV1 = false
        } else if rejected[Self.tokenHeader] == token {
            token = nil
        }
    }

    private func fetch() async throws -> String? {
        let policy = RetryPolicy(requestTimeout: settings.tokenTimeout, deadline: settings.deadline,
                                 backoffBase: settings.backoffBase, backoffMax: settings.backoffMax)
        let outcome: String? = try await Retry.run(url: endpoint.redacted, policy: policy, deadline: deadline,
                                                   logger: logger) { timeout throws(FetchError) -> String? in
            let response: HTTPResponse
            do throws(FetchError) {
                response = try await client.perform(endpoint, method: "PUT", headers: [Self.ttlHeader: String(settings.tokenTTL)],
                                                    timeout: timeout, cap: ByteCap(4096, setting: "the IMDSv2 token bound"))
            } catch {
                // No answer in time: a hop limit or an IMDS without v2. Anything else
                // (network not up yet) is retried.
                if case .timedOut = error, !settings.requireV2 { return nil }
                throw error
            }
            switch response.status {
            case 200..<300:
                let text = String(decoding: response.body, as: UTF8.self).trimmingWhitespace(newlines: true)
                guard !text.isEmpty else {
                    throw FetchError.transport("empty token", url: endpoint.redacted, retryable: true)
                }
                // The token goes into a header of every request: a CR or LF in it would add
                // headers or smuggle requests. Real tokens are 56 base64 characters.
                guard HeaderValue.isToken(text) else {
                    logger.warning("IMDS answered a token that is not a plain header value; treating it as no token",
                                   metadata: ["bytes": "\(response.body.count)"])
                    if settings.requireV2 {
                        throw FetchError.transport("the IMDSv2 token is not a plain header value", url: endpoint.redacted,
                                                   retryable: false)
                    }
                    return nil
                }
                return text
            case 300..<400:
                throw FetchError.redirect(url: endpoint.redacted, location: FetchError.shown(response.location),
                                          reason: "instance metadata never redirects")
            case 403, 404, 405:
                if settings.requireV2 { throw FetchError.status(response.status, url: endpoint.redacted) }
                return nil
            default:
                throw FetchError.status(response.status, url: endpoint.redacted)
            }
        }
        guard let outcome else {
            logger.info("IMDSv2 token not available; using IMDSv1")
            useV1 = true
            return nil
        }
        token = outcome
        // Renew well before expiry so no request carries a token about to lapse.
        let margin = min(60.0, Double(settings.tokenTTL) / 10)
        renewAt = .now + .milliseconds(Int64((Double(settings.tokenTTL) - margin) * 1000))
        logger.debug("got an IMDSv2 token", metadata: ["ttl": "\(settings.tokenTTL)"])
        return outcome
    }
}
