#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// EC2's instance metadata service: user-data, the identity document and the whole
/// `meta-data/` tree, crawled concurrently over a few kept-alive connections.
public struct IMDSSource: MetadataSource {
    public let name = "imds"
    public let baseURL: URL
    public let settings: IMDSSettings
    public let includeCredentials: Bool
    public let userDataMaxBytes: Int

    public init(baseURL: URL, settings: IMDSSettings, includeCredentials: Bool, userDataMaxBytes: Int) {
        self.baseURL = baseURL
        self.settings = settings
        self.includeCredentials = includeCredentials
        self.userDataMaxBytes = userDataMaxBytes
    }

    public func load(logger: Logger, mirror: MirrorWriter?) async throws -> BootData {
        let client = HTTPClient(maxConnections: settings.concurrency)
        let deadline = Deadline(seconds: settings.deadline)
        let token = IMDSToken(client: client, baseURL: baseURL, settings: settings, deadline: deadline, logger: logger)
        let crawl = IMDSCrawl(client: client, token: token, baseURL: baseURL, settings: settings,
                              includeCredentials: includeCredentials, userDataCap: ByteCap(userDataMaxBytes, setting: "user_data.max_bytes"),
                              deadline: deadline, logger: logger)
        do {
            return try await crawl.run(mirror: mirror)
        } catch let error as FetchError {
            throw SourceUnavailable("the metadata service at \(baseURL.redacted) did not answer: \(error)")
        }
    }
}

/// The crawl itself: a pool of at most `concurrency` requests in flight. Folder listings
/// go first, because the deepest folder chain sets how long the crawl takes. The shape is
/// bounded (depth, leaves, requests, bytes per answer): past a bound the crawl stops at once.
struct IMDSCrawl: Sendable {
    let client: HTTPClient
    let token: IMDSToken
    let baseURL: URL
    let settings: IMDSSettings
    let includeCredentials: Bool
    let userDataCap: ByteCap
    let deadline: Deadline
    let logger: Logger

    enum Job: Sendable {
        case userData, identity
        case folder(String)
        case leaf(String)
    }

    enum Outcome: Sendable {
        case userData(Data?)
        case userDataRefused(String)
        case identity(Data?)
        case folder(String, [IMDSListingEntry]?)
        case leaf(String, String?)
    }

    func run(mirror: MirrorWriter? = nil) async throws -> BootData {
        var folders: [String] = [""]
        var others: [Job] = [.userData, .identity]
        var leaves: [String: String] = [:]
        var userData: Data?
        var userDataRefused: String?
        var identity: Data?
        var requests = 0
        var listedLeaves = 0
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            var inFlight = 0
            func fill() throws(FetchError) {
                while inFlight < settings.concurrency {
                    let job: Job
                    if let folder = folders.popLast() { job = .folder(folder) }
                    else if let other = others.popLast() { job = other }
                    else { return }
                    requests += 1
                    guard requests <= settings.maxRequests else {
                        throw .bound("instance metadata needs more than imds.max_requests (\(settings.maxRequests)) requests")
                    }
                    inFlight += 1
                    group.addTask { try await perform(job) }
                }
            }
            try fill()
            while let outcome = try await group.next() {
                inFlight -= 1
                switch outcome {
                case .userData(let data): userData = data
                case .userDataRefused(let why): userDataRefused = why
                case .identity(let data): identity = data
                case .leaf(let path, let value?):
                    leaves[path] = value
                    // Written while the other requests are still on the wire.
                    try mirror?.add(path, value)
                case .leaf: break
                case .folder(let path, nil):
                    if path.isEmpty { throw FetchError.status(404, url: url(for: "meta-data/").redacted) }
                case .folder(let path, let entries?):
                    let (newFolders, newLeaves) = expand(path, entries)
                    if !newFolders.isEmpty, path.split(separator: "/").count + 1 > settings.maxDepth {
                        throw FetchError.bound("metadata folder meta-data/\(MetadataPath.printable(path))/ nests deeper than imds.max_depth (\(settings.maxDepth))")
                    }
                    listedLeaves += newLeaves.count
                    guard listedLeaves <= settings.maxLeaves else {
                        throw FetchError.bound("instance metadata lists more than imds.max_leaves (\(settings.maxLeaves)) leaves (at meta-data/\(MetadataPath.printable(path))/)")
                    }
                    folders += newFolders
                    others += newLeaves.map(Job.leaf)
                }
                try fill()
            }
        }
        return BootData(userData: userData, metadata: MetadataTree(leaves: leaves), identityDocument: identity,
                        userDataRefused: userDataRefused)
    }

    /// Children of a listing worth fetching; folder wins over a leaf of the same name.
    func expand(_ path: String, _ entries: [IMDSListingEntry]) -> (folders: [String], leaves: [String]) {
        var folders: [String] = []
        var leaves: [String] = []
        let prefix = path.isEmpty ? "" : path + "/"
        for entry in entries {
            switch entry {
            case .rejected(let name):
                logger.warning("ignoring a metadata name that is not a safe path part",
                               metadata: ["folder": "\(prefix)", "name": "\(MetadataPath.printable(name))"])
            case .folder(let name):
                if name == "security-credentials", !includeCredentials { continue }
                folders.append(prefix + name)
            case .leaf(let name):
                if name == "security-credentials", !includeCredentials { continue }
                leaves.append(prefix + name)
            }
        }
        let folderSet = Set(folders)
        let clashing = leaves.filter { folderSet.contains($0) }
        for name in clashing {
            logger.warning("metadata lists both a file and a folder; keeping the folder", metadata: ["path": "\(MetadataPath.printable(name))"])
        }
        return (folders.reversed(), leaves.filter { !folderSet.contains($0) }.reversed())
    }

    func perform(_ job: Job) async throws -> Outcome {
        switch job {
        case .userData:
            do {
                return .userData(try await fetch(url(for: "user-data", top: true), cap: userDataCap))
            } catch {
                // Bad user-data, not a bad metadata service: the run goes on as for invalid user-data.
                guard case .tooLarge(_, let cap, _) = error else { throw error }
                return .userDataRefused(UserDataSettings(maxBytes: cap).tooLarge)
            }
        case .identity:
            return .identity(try await fetch(url(for: "dynamic/instance-identity/document", top: true), cap: leafCap))
        case .folder(let path):
            let body = try await fetch(url(for: "meta-data/" + (path.isEmpty ? "" : path + "/")), cap: listingCap)
            return .folder(path, body.map { IMDSListingEntry.parse(String(decoding: $0, as: UTF8.self)) })
        case .leaf(let path):
            let body = try await fetch(url(for: "meta-data/" + path), cap: leafCap)
            return .leaf(path, body.map { String(decoding: $0, as: UTF8.self) })
        }
    }

    var leafCap: ByteCap { ByteCap(settings.maxLeafBytes, setting: "imds.max_leaf_bytes") }
    var listingCap: ByteCap { ByteCap(settings.maxListingBytes, setting: "imds.max_listing_bytes") }

    /// GET with the token; nil for 404. A 401 renews the token and is tried again. A redirect
    /// is an error: real IMDS never redirects, and the token must not leave the metadata host.
    func fetch(_ url: URL, cap: ByteCap) async throws(FetchError) -> Data? {
        let policy = settings.retryPolicy
        do {
            return try await Retry.run(url: url.redacted, policy: policy, deadline: deadline, logger: logger) { timeout throws(FetchError) in
                let headers = try await token.headers()
                let response = try await client.perform(url, headers: headers, timeout: timeout, cap: cap)
                switch response.status {
                case 200..<300: return response.body
                case 300..<400:
                    throw FetchError.redirect(url: url.redacted, location: FetchError.shown(response.location),
                                              reason: "instance metadata never redirects")
                case 401:
                    await token.invalidate(headers)
                    throw FetchError.transport("HTTP 401 (token refused)", url: url.redacted, retryable: true)
                default: throw FetchError.status(response.status, url: url.redacted)
                }
            }
        } catch where error.isNotFound {
            return nil
        }
    }

    /// `latest/<path>` under the base, each part percent-encoded (tag keys may hold spaces).
    func url(for path: String, top: Bool = false) -> URL {
        let encoded = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { PercentEncoding.encode($0, keeping: PercentEncoding.isPathSegment) }
            .joined(separator: "/")
        return URL(string: baseURL.absoluteString.trimmingSuffix("/") + "/latest/" + encoded)!
    }
}
