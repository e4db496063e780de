#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// What every provisioning action takes: `install` (default true), `package` and `version`
/// to override the package's name or pin its version, and `service` (default true) to enable
/// and restart the service at the end.
public struct SetupOptions: Sendable {
    public var install = true
    public var package: String
    public var version: String?
    public var service = true

    /// Reads the four keys from an action's parameters, checking the names an argv gets.
    public init<K: CodingKey>(_ c: KeyedDecodingContainer<K>, package defaultPackage: String,
                       keys: (install: K, package: K, version: K, service: K?)) throws {
        install = try c.decodeIfPresent(Bool.self, forKey: keys.install) ?? true
        package = try c.decodeIfPresent(String.self, forKey: keys.package) ?? defaultPackage
        version = try c.decodeIfPresent(String.self, forKey: keys.version)
        if let key = keys.service { service = try c.decodeIfPresent(Bool.self, forKey: key) ?? true }
        guard NameCheck.valid(package, marks: "+._-") else {
            throw DecodingError.dataCorruptedError(forKey: keys.package, in: c, debugDescription: "not a package name")
        }
        if let version, !NameCheck.valid(version, marks: ".+~:_-") {
            throw DecodingError.dataCorruptedError(forKey: keys.version, in: c, debugDescription: "not a package version")
        }
    }

    /// Installs the package when asked; nil when done (or not asked), else why it failed.
    public func installPackage(_ context: ActionContext) async -> String? {
        guard install else { return nil }
        return await PackageManager(context.run).ensure(package, version: version, context: context)
    }

    /// Enables and restarts `name` when asked.
    public func restartService(_ name: String, _ context: ActionContext) async -> String? {
        guard service else { return nil }
        return await ServiceManager(context.run).enableAndRestart(name, context: context)
    }
}

/// A scalar given as text, a number or a boolean, kept as the text a config file gets
/// (`plugin.rabbitmq.heartbeat_interval: 30` → `30`).
public struct ScalarText: Decodable, Sendable, Equatable {
    public let text: String

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let value = try? c.decode(Bool.self) { text = value ? "true" : "false" }
        else if let value = try? c.decode(Int.self) { text = String(value) }
        else if let value = try? c.decode(Double.self) { text = String(value) }
        else { text = try c.decode(String.self) }
    }
}

extension KeyedDecodingContainer {
    /// A string that ends up on one line of a config file: no line breaks or other control
    /// characters, which would add lines of their own.
    public func line(_ key: Key) throws -> String? {
        guard let value = try decodeIfPresent(String.self, forKey: key) else { return nil }
        try checkLine(value, key)
        return value
    }

    public func checkLine(_ value: String, _ key: Key) throws {
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription:
                "contains a line break or another control character")
        }
    }
}

/// Names that reach a config file or an argv: ASCII letters and digits plus a few marks.
public enum NameCheck {
    /// Non-empty, only ASCII letters, digits and `marks`, not starting with `-` (an option).
    public static func valid(_ text: String, marks: String) -> Bool {
        guard let first = text.unicodeScalars.first, first != "-" else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || marks.unicodeScalars.contains($0)) }
    }
}
