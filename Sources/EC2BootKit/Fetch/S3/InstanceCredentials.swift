#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// The instance role's temporary keys, from IMDS (`iam/security-credentials/<role>`), held in
/// memory only: never cached, written or logged. Fetched on first use, shared by concurrent
/// requests, and fetched again within `refreshMargin` of their expiry (IMDS offers new keys
/// well before the old ones lapse).
public actor InstanceCredentials {
    /// Made on first use: most runs never ask for credentials, and a client starts a thread.
    private var client: HTTPClient?
    private let baseURL: URL
    private let settings: IMDSSettings
    private let logger: Logger
    private var current: (credentials: AWSCredentials, expires: Date)?
    private var pending: Task<(AWSCredentials, Date), Error>?
    static let refreshMargin: TimeInterval = 300

    public init(baseURL: URL, settings: IMDSSettings, logger: Logger) {
        self.baseURL = baseURL
        self.settings = settings
        self.logger = logger
    }

    /// Keys IMDS already served inside the margin are asked for again at most this often.
    static let askAgainAfter: TimeInterval = 10
    private var lastAsked: Date?

    public func credentials(now: Date = Date()) async throws(FetchError) -> AWSCredentials {
        if let current, now < current.expires.addingTimeInterval(-Self.refreshMargin) { return current.credentials }
        if let current, now < current.expires, let lastAsked, now.timeIntervalSince(lastAsked) < Self.askAgainAfter {
            return current.credentials
        }
        let task: Task<(AWSCredentials, Date), Error>
        if let pending { task = pending } else {
            lastAsked = now
            task = Task { try await self.fetch() }
            pending = task
        }
        defer { if pending == task { pending = nil } }
        do {
            let (credentials, expires) = try await task.value
            current = (credentials, expires)
            return credentials
        } catch {
            // Keys that have not expired yet still sign; the next request asks again.
            if let current, now < current.expires {
                logger.warning("cannot renew the instance role's credentials; using the current ones until they expire: \(error)")
                return current.credentials
            }
            throw FetchError.wrap(error, url: baseURL.redacted)
        }
    }

    /// `placement/region`, for a bucket whose region the config does not name.
    public func region() async throws(FetchError) -> String {
        let crawl = self.crawl()
        guard let body = try await crawl.fetch(crawl.url(for: "meta-data/placement/region"), cap: Self.cap),
              case let region = String(decoding: body, as: UTF8.self).trimmingWhitespace(newlines: true),
              S3Access.isRegion(region) else {
            throw FetchError.bound("instance metadata names no usable placement/region; set s3.region")
        }
        return region
    }

    static let cap = ByteCap(64 << 10, setting: "the instance credentials bound")

    /// The crawl's own GET (token, 401 renewal, no redirects, retries) under a deadline of its own.
    private func crawl() -> IMDSCrawl {
        let client = self.client ?? HTTPClient(maxConnections: 2)
        self.client = client
        let deadline = Deadline(seconds: min(settings.deadline, 60))
        let token = IMDSToken(client: client, baseURL: baseURL, settings: settings, deadline: deadline, logger: logger)
        return IMDSCrawl(client: client, token: token, baseURL: baseURL, settings: settings, includeCredentials: true,
                         userDataCap: Self.cap, deadline: deadline, logger: logger)
    }

    private func fetch() async throws -> (AWSCredentials, Date) {
        let crawl = self.crawl()
        let folder = "meta-data/iam/security-credentials/"
        guard let listing = try await crawl.fetch(crawl.url(for: folder), cap: Self.cap),
              let role = String(decoding: listing, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init),
              ActionList.isSafeName(role) else {
            throw FetchError.bound("this instance has no IAM role (instance metadata lists none at \(folder)); s3:// URLs need one")
        }
        guard let body = try await crawl.fetch(crawl.url(for: folder + role), cap: Self.cap) else {
            throw FetchError.bound("instance metadata lists the role \(role) but has no credentials for it")
        }
        struct Answer: Decodable {
            var Code: String?
            var AccessKeyId: String
            var SecretAccessKey: String
            var Token: String?
            var Expiration: String
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: body), answer.Code ?? "Success" == "Success",
              HeaderValue.isToken(answer.AccessKeyId, maxLength: 128), HeaderValue.isToken(answer.SecretAccessKey, maxLength: 256),
              answer.Token.map({ HeaderValue.isToken($0, maxLength: 8192) }) ?? true,
              let expires = try? Date(answer.Expiration, strategy: .iso8601) else {
            // Nothing of the body is shown: it holds the secret key.
            throw FetchError.bound("the credentials of the role \(role) from instance metadata are not usable (\(body.count) bytes)")
        }
        logger.debug("got the instance role's credentials", metadata: ["role": "\(role)", "expires": "\(answer.Expiration)"])
        return (AWSCredentials(accessKeyID: answer.AccessKeyId, secretAccessKey: answer.SecretAccessKey, sessionToken: answer.Token),
                expires)
    }
}
