import Foundation
import Logging
import Yams

/// Settings from `/etc/ec2-boot-init/config.yaml`; every key is optional.
/// Command-line options override what the file says.
public struct Config: Sendable, Decodable {
    public var metadataURL = "http://169.254.169.254"
    public var seed: String?
    public var logLevel = Logger.Level.info
    public var writeEC2Facts = false
    /// Log to syslog (journald) as well as stderr.
    public var syslog = true
    /// Seconds a run waits for another run's lock.
    public var lockTimeout = 300.0
    public var imds = IMDSSettings()
    public var metadata = MetadataSettings()
    public var actions = ActionsSettings()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case metadataURL = "metadata_url", seed, logLevel = "log_level", writeEC2Facts = "write_ec2_facts"
        case lockTimeout = "lock_timeout", syslog, imds, metadata, actions
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Config()
        metadataURL = try c.decodeIfPresent(String.self, forKey: .metadataURL) ?? defaults.metadataURL
        seed = try c.decodeIfPresent(String.self, forKey: .seed)
        if let level = try c.decodeIfPresent(String.self, forKey: .logLevel) {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw DecodingError.dataCorruptedError(forKey: .logLevel, in: c, debugDescription:
                    "expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logLevel = parsed
        }
        writeEC2Facts = try c.decodeIfPresent(Bool.self, forKey: .writeEC2Facts) ?? defaults.writeEC2Facts
        lockTimeout = try c.decodeIfPresent(Double.self, forKey: .lockTimeout) ?? defaults.lockTimeout
        syslog = try c.decodeIfPresent(Bool.self, forKey: .syslog) ?? defaults.syslog
        imds = try c.decodeIfPresent(IMDSSettings.self, forKey: .imds) ?? defaults.imds
        metadata = try c.decodeIfPresent(MetadataSettings.self, forKey: .metadata) ?? defaults.metadata
        actions = try c.decodeIfPresent(ActionsSettings.self, forKey: .actions) ?? defaults.actions
    }

    /// Reads the config file; a missing file means defaults.
    public static func load(path: String) throws(YAMLProblem) -> Config {
        guard let data = FileSystem.read(path) else { return Config() }
        guard let text = String(data: data, encoding: .utf8) else {
            throw YAMLProblem(source: path, mark: nil, message: "not UTF-8 text")
        }
        guard let node = try YAMLDocument.parse(text, source: path) else { return Config() }
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

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case requireV2 = "require_v2", tokenTTL = "token_ttl", tokenTimeout = "token_timeout"
        case requestTimeout = "request_timeout", deadline, concurrency
        case backoffBase = "backoff_base", backoffMax = "backoff_max"
    }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = IMDSSettings()
        requireV2 = try c.decodeIfPresent(Bool.self, forKey: .requireV2) ?? d.requireV2
        tokenTTL = try c.decodeIfPresent(Int.self, forKey: .tokenTTL) ?? d.tokenTTL
        tokenTimeout = try c.positive(.tokenTimeout) ?? d.tokenTimeout
        requestTimeout = try c.positive(.requestTimeout) ?? d.requestTimeout
        deadline = try c.positive(.deadline) ?? d.deadline
        concurrency = try c.decodeIfPresent(Int.self, forKey: .concurrency) ?? d.concurrency
        backoffBase = try c.positive(.backoffBase) ?? d.backoffBase
        backoffMax = try c.positive(.backoffMax) ?? d.backoffMax
        guard (1...21600).contains(tokenTTL) else {
            throw DecodingError.dataCorruptedError(forKey: .tokenTTL, in: c, debugDescription: "expected 1 to 21600 seconds")
        }
        guard (1...64).contains(concurrency) else {
            throw DecodingError.dataCorruptedError(forKey: .concurrency, in: c, debugDescription: "expected 1 to 64")
        }
    }

    public var retryPolicy: RetryPolicy {
        RetryPolicy(requestTimeout: requestTimeout, deadline: deadline, backoffBase: backoffBase, backoffMax: backoffMax)
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

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case onFailure = "on_failure", requireSHA256 = "require_sha256", allowedHosts = "allowed_hosts", timeout
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
    }
}

extension KeyedDecodingContainer {
    /// A number of seconds above zero.
    func positive(_ key: Key) throws -> Double? {
        guard let value = try decodeIfPresent(Double.self, forKey: key) else { return nil }
        guard value > 0 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected a number above 0")
        }
        return value
    }
}
