#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// The fetch stage's half of `#include`: the URLs the user-data (and what it includes) lists,
/// fetched concurrently with the bounds of every download (user_data.max_bytes each, redirects
/// and `actions.allowed_hosts`, one deadline), at most `UserDataParts.maxIncludes` in all.
/// `#include-once` URLs already fetched on an earlier boot are not fetched again (they often
/// hold a token that works once). A failure is recorded for the parser: the user-data is invalid.
enum IncludeFetcher {
    /// `previous`: what the cache holds from an earlier boot (read only when an `#include-once` needs it).
    static func fetch(_ data: inout BootData, previous: () -> [String: UserDataParts.Included], config: Config, logger: Logger) async {
        guard var userData = data.userData else { return }
        let maxBytes = config.userData.maxBytes
        if Gzip.isCompressed(userData) {
            guard let inflated = try? Gzip.inflate(userData, maxInflatedSize: maxBytes) else { return }
            userData = inflated
        }
        // Most user-data includes nothing: one scan, instead of splitting it a second time.
        // (A MIME message may hide one in a base64 or gzip part: it is always split.)
        guard MIMEMessage.isMIME(userData) || userData.firstRange(of: Data("nclude".utf8)) != nil
                || userData.firstRange(of: Data("NCLUDE".utf8)) != nil else { return }
        var included: [String: UserDataParts.Included] = [:]
        let policy = config.imds.downloadPolicy(deadline: 60)
        let deadline = Deadline(seconds: policy.deadline)
        var client: Download?  // made for the first URL: a boot without includes never loads libcurl
        var earlier: [String: UserDataParts.Included]?
        for _ in 0...UserDataParts.maxIncludeDepth {
            var pending: [(url: String, once: Bool)] = []
            for entry in UserDataParts.pendingIncludes(userData, maxBytes: maxBytes, included: included)
            where !pending.contains(where: { $0.url == entry.url }) {
                pending.append(entry)
            }
            if pending.isEmpty { break }
            var scheduled = included.count
            for entry in pending {
                scheduled += 1
                if scheduled > UserDataParts.maxIncludes {
                    included[entry.url] = .failed("more than \(UserDataParts.maxIncludes) #include URLs")
                } else if entry.once {
                    earlier = earlier ?? previous()
                    if case .body? = earlier?[entry.url] { included[entry.url] = earlier?[entry.url] }
                }
            }
            let download = client ?? Download(config: config, maxConnections: 4, metadataRegion: data.metadata.region, logger: logger)
            client = download
            let results = await withTaskGroup(of: (String, UserDataParts.Included).self) { group in
                for entry in pending where included[entry.url] == nil {
                    group.addTask { (entry.url, await get(entry.url, download: download, policy: policy, deadline: deadline, config: config, logger: logger)) }
                }
                return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            included.merge(results) { $1 }
        }
        data.included = included
    }

    private static func get(_ text: String, download: Download, policy: RetryPolicy, deadline: Deadline, config: Config,
                            logger: Logger) async -> UserDataParts.Included {
        guard let url = URL(string: text), url.scheme != nil else { return .failed("not a URL") }
        do {
            let answer = try await download.get(url, policy: policy, deadline: deadline,
                                                cap: ByteCap(config.userData.maxBytes, setting: "user_data.max_bytes"),
                                                redirects: config.actions.redirects, logger: logger)
            logger.info("fetched #include", metadata: ["url": "\(url.redacted)", "bytes": "\(answer.value?.count ?? 0)"])
            return .body(answer.value ?? Data())
        } catch {
            return .failed("cannot fetch it: \(error)")
        }
    }
}
