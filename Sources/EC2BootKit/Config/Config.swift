#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// Settings from `/etc/ec2-boot-init/config.yaml`; every key is optional.
/// Command-line options override what the file says.
public struct Config: Sendable, Decodable {
    public var metadataURL = "http://169.254.169.254"
    public var seed: String?
    /// Whether the boot reads the metadata service: `auto` lets DMI decide (see `Platform`).
    public var platform = Platform.Setting.auto
    public var logLevel = Logger.Level.info
    public var writeEC2Facts = false
    /// Log to syslog (journald) as well as stderr.
    public var syslog = true
    /// Seconds a run waits for another run's lock.
    public var lockTimeout = 300.0
    public var imds = IMDSSettings()
    public var metadata = MetadataSettings()
    public var actions = ActionsSettings()
    public var userData = UserDataSettings()
    public var packages = PackagesSettings()
    public var services = ServicesSettings()
    public var s3 = S3Settings()
    public var watch = WatchSettings()
    public var essentials = EssentialsSettings()
    public var defaultUser = DefaultUserSettings()
    /// The file this was read from (the broker helper reads it again); not a setting.
    public var file: String?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case metadataURL = "metadata_url", seed, platform, logLevel = "log_level", writeEC2Facts = "write_ec2_facts"
        case lockTimeout = "lock_timeout", syslog, imds, metadata, actions, userData = "user_data", packages, services, s3, watch
        case essentials, defaultUser = "default_user"
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Config()
        metadataURL = try c.decodeIfPresent(String.self, forKey: .metadataURL) ?? defaults.metadataURL
        seed = try c.decodeIfPresent(String.self, forKey: .seed)
        platform = try c.choice(.platform) ?? defaults.platform
        logLevel = try c.choice(.logLevel) ?? defaults.logLevel
        writeEC2Facts = try c.decodeIfPresent(Bool.self, forKey: .writeEC2Facts) ?? defaults.writeEC2Facts
        lockTimeout = try c.positive(.lockTimeout) ?? defaults.lockTimeout
        syslog = try c.decodeIfPresent(Bool.self, forKey: .syslog) ?? defaults.syslog
        imds = try c.decodeIfPresent(IMDSSettings.self, forKey: .imds) ?? defaults.imds
        metadata = try c.decodeIfPresent(MetadataSettings.self, forKey: .metadata) ?? defaults.metadata
        actions = try c.decodeIfPresent(ActionsSettings.self, forKey: .actions) ?? defaults.actions
        userData = try c.decodeIfPresent(UserDataSettings.self, forKey: .userData) ?? defaults.userData
        packages = try c.decodeIfPresent(PackagesSettings.self, forKey: .packages) ?? defaults.packages
        services = try c.decodeIfPresent(ServicesSettings.self, forKey: .services) ?? defaults.services
        s3 = try c.decodeIfPresent(S3Settings.self, forKey: .s3) ?? defaults.s3
        watch = try c.decodeIfPresent(WatchSettings.self, forKey: .watch) ?? defaults.watch
        essentials = try c.decodeIfPresent(EssentialsSettings.self, forKey: .essentials) ?? defaults.essentials
        defaultUser = try c.decodeIfPresent(DefaultUserSettings.self, forKey: .defaultUser) ?? defaults.defaultUser
    }

    /// Reads the config file; a missing file means defaults.
    public static func load(path: String) throws(YAMLProblem) -> Config {
        var config = try read(path)
        config.file = path
        return config
    }

    private static func read(_ path: String) throws(YAMLProblem) -> Config {
        guard let data = FileSystem.read(path) else { return Config() }
        guard let text = String(data: data, encoding: .utf8) else {
            throw YAMLProblem(source: path, mark: nil, message: "not UTF-8 text")
        }
        guard let node = try YAMLDocument.parse(text, source: path, maxNodes: UserDataSettings().maxNodes,
                                                     setting: "the config file's bound") else { return Config() }
        guard case .mapping = node else {
            throw YAMLProblem(source: path, mark: node.mark, message: "expected a mapping of settings")
        }
        return try YAMLDecoding.decode(Config.self, from: node, source: path)
    }
}

/// How the instance metadata service is asked.
public struct IMDSSettings: Sendable, Decodable {
    /// Refuse IMDSv1: fail rather than fall back when no token can be had.
    public var requireV2 = false
    public var tokenTTL = 21600
    /// Seconds to wait for the token endpoint before falling back to IMDSv1.
    public var tokenTimeout = 2.0
    public var requestTimeout = 5.0
    /// Seconds the whole fetch may take, retries included.
    public var deadline = 120.0
    /// Requests in flight at once, and so connections open at most.
    public var concurrency = 12
    public var backoffBase = 0.1
    public var backoffMax = 5.0
    /// Bounds on what IMDS may send. Real IMDS lists a few hundred leaves, nests six or seven
    /// levels and has no leaf past a few tens of KiB; anything far outside that is hostile.
    public var maxLeafBytes = 1 << 20
    public var maxListingBytes = 1 << 20
    public var maxDepth = 16
    public var maxLeaves = 10_000
    public var maxRequests = 20_000

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case requireV2 = "require_v2", tokenTTL = "token_ttl", tokenTimeout = "token_timeout"
        case requestTimeout = "request_timeout", deadline, concurrency
        case backoffBase = "backoff_base", backoffMax = "backoff_max"
        case maxLeafBytes = "max_leaf_bytes", maxListingBytes = "max_listing_bytes", maxDepth = "max_depth"
        case maxLeaves = "max_leaves", maxRequests = "max_requests"
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = IMDSSettings()
        requireV2 = try c.decodeIfPresent(Bool.self, forKey: .requireV2) ?? d.requireV2
        tokenTTL = try c.integer(.tokenTTL, in: 1...21600) ?? d.tokenTTL
        tokenTimeout = try c.positive(.tokenTimeout) ?? d.tokenTimeout
        requestTimeout = try c.positive(.requestTimeout) ?? d.requestTimeout
        deadline = try c.positive(.deadline) ?? d.deadline
        concurrency = try c.integer(.concurrency, in: 1...64) ?? d.concurrency
        backoffBase = try c.positive(.backoffBase) ?? d.backoffBase
        backoffMax = try c.positive(.backoffMax) ?? d.backoffMax
        maxLeafBytes = try c.integer(.maxLeafBytes, in: 1...(1 << 30)) ?? d.maxLeafBytes
        maxListingBytes = try c.integer(.maxListingBytes, in: 1...(1 << 30)) ?? d.maxListingBytes
        maxDepth = try c.integer(.maxDepth, in: 1...256) ?? d.maxDepth
        maxLeaves = try c.integer(.maxLeaves, in: 1...10_000_000) ?? d.maxLeaves
        maxRequests = try c.integer(.maxRequests, in: 1...10_000_000) ?? d.maxRequests
    }

    public var retryPolicy: RetryPolicy {
        RetryPolicy(requestTimeout: requestTimeout, deadline: deadline, backoffBase: backoffBase, backoffMax: backoffMax)
    }

    /// How an action's downloads (action lists and files, a validation key) retry: 30 s a
    /// request, IMDS's backoff, `deadline` for all of them.
    public func downloadPolicy(deadline: Double) -> RetryPolicy {
        RetryPolicy(requestTimeout: 30, deadline: deadline, backoffBase: backoffBase, backoffMax: backoffMax)
    }
}

/// What of the metadata tree is fetched.
public struct MetadataSettings: Sendable, Decodable {
    /// Fetch `iam/security-credentials/*` too (secrets: kept in the 0600 cache only).
    public var includeCredentials = false

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case includeCredentials = "include_credentials"
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        includeCredentials = try c.decodeIfPresent(Bool.self, forKey: .includeCredentials) ?? false
    }
}

/// How actions run.
public struct ActionsSettings: Sendable, Decodable {
    /// `stop`: an action that fails stops the run; `continue`: later actions still run.
    public var stopOnFailure = false
    /// getactions refuses files the list does not pin with a sha256.
    public var requireSHA256 = false
    /// Hosts getactions may fetch from; empty means any (and `file` URLs too).
    public var allowedHosts: [String] = []
    /// Seconds one action may run, unless it says otherwise.
    public var timeout = 1800.0
    /// Bounds on what an action server may send.
    public var maxFileBytes = 64 << 20
    public var maxListBytes = 1 << 20
    public var maxListEntries = 1000
    /// Redirects a list, file or `fetch` may follow (each hop checked against `allowedHosts`).
    public var maxRedirects = 5
    /// signify Ed25519 keys that may sign action lists (`list.txt.sig`).
    public var publicKeys: [Signify.PublicKey] = []
    /// Refuse a list without a good signature by one of `publicKeys`.
    public var requireSignature = false
    /// When an action without `frequency:` runs (a type that is per-boot by nature stays so).
    public var defaultFrequency = ActionFrequency.perInstance
    /// Files of one action list downloaded at once (and connections open to its server).
    public var fetchConcurrency = 8

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case onFailure = "on_failure", requireSHA256 = "require_sha256", allowedHosts = "allowed_hosts", timeout
        case maxFileBytes = "max_file_bytes", maxListBytes = "max_list_bytes", maxListEntries = "max_list_entries"
        case maxRedirects = "max_redirects", publicKeys = "public_keys", requireSignature = "require_signature"
        case defaultFrequency = "default_frequency", fetchConcurrency = "fetch_concurrency"
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decodeIfPresent(String.self, forKey: .onFailure) {
        case nil, "continue": stopOnFailure = false
        case "stop": stopOnFailure = true
        default:
            throw DecodingError.dataCorruptedError(forKey: .onFailure, in: c, debugDescription: "expected stop or continue")
        }
        requireSHA256 = try c.decodeIfPresent(Bool.self, forKey: .requireSHA256) ?? false
        allowedHosts = try c.decodeIfPresent([String].self, forKey: .allowedHosts) ?? []
        timeout = try c.positive(.timeout) ?? timeout
        maxFileBytes = try c.integer(.maxFileBytes, in: 1...(1 << 40)) ?? maxFileBytes
        maxListBytes = try c.integer(.maxListBytes, in: 1...(1 << 30)) ?? maxListBytes
        maxListEntries = try c.integer(.maxListEntries, in: 1...1_000_000) ?? maxListEntries
        maxRedirects = try c.integer(.maxRedirects, in: 0...20) ?? maxRedirects
        for text in try c.decodeIfPresent([String].self, forKey: .publicKeys) ?? [] {
            do { publicKeys.append(try Signify.publicKey(text)) } catch {
                throw DecodingError.dataCorruptedError(forKey: .publicKeys, in: c, debugDescription: "\(error) (the second line of a signify .pub file)")
            }
        }
        requireSignature = try c.decodeIfPresent(Bool.self, forKey: .requireSignature) ?? false
        fetchConcurrency = try c.integer(.fetchConcurrency, in: 1...64) ?? fetchConcurrency
        if let frequency = try c.decodeIfPresent(String.self, forKey: .defaultFrequency) {
            guard let parsed = ActionFrequency(rawValue: frequency) else {
                throw DecodingError.dataCorruptedError(forKey: .defaultFrequency, in: c, debugDescription: "expected per-instance or per-boot")
            }
            defaultFrequency = parsed
        }
        if requireSignature, publicKeys.isEmpty {
            throw DecodingError.dataCorruptedError(forKey: .requireSignature, in: c, debugDescription: "needs actions.public_keys")
        }
    }

    /// How a list, an action file or `fetch` may be redirected.
    public var redirects: RedirectPolicy { RedirectPolicy(maxHops: maxRedirects, allowedHosts: allowedHosts) }
}

/// Bounds on user-data, however it arrives (IMDS, a seed, `validate`).
public struct UserDataSettings: Sendable, Decodable {
    public init(maxBytes: Int) { self.maxBytes = maxBytes }

    /// Bytes of user-data, plain or inflated from gzip (EC2's own limit is 16 KiB).
    public var maxBytes = 32 << 20
    /// YAML nodes after aliases are expanded: stops a "billion laughs" document.
    public var maxNodes = 100_000

    /// What is wrong with user-data past `maxBytes`, wherever it was read.
    public var tooLarge: String { "user-data is larger than user_data.max_bytes (\(ByteCount(maxBytes)))" }

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxBytes = "max_bytes", maxNodes = "max_nodes"
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxBytes = try c.integer(.maxBytes, in: 1...(1 << 30)) ?? maxBytes
        maxNodes = try c.integer(.maxNodes, in: 1...100_000_000) ?? maxNodes
    }
}



extension Double {
    func clamped(to range: ClosedRange<Double>) -> Double { isNaN ? range.lowerBound : Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
