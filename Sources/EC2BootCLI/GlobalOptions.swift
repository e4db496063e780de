import ArgumentParser
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// Options every subcommand takes; each also has a key in config.yaml.
public struct GlobalOptions: ParsableArguments {
    public init() {}

    @Option(help: ArgumentHelp("Take every host path (config, cache, facts, MOTD, lock, state) under DIR (default: $EC2BOOT_ROOT, which actions inherit, or /).", valueName: "DIR"))
    public var root: String?

    @Option(help: ArgumentHelp("Config file (default: <root>/etc/ec2-boot-init/config.yaml).", valueName: "FILE"))
    public var config: String?

    @Option(help: ArgumentHelp("Instance metadata service (default: http://169.254.169.254).", valueName: "URL"))
    public var metadataURL: String?

    @Option(help: ArgumentHelp("Read DIR/user-data and DIR/meta-data.json instead of IMDS.", valueName: "DIR"))
    public var seed: String?

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default: info).", valueName: "LEVEL"))
    public var logLevel: String?

    public var paths: Paths { Paths(root: root ?? ProcessInfo.processInfo.environment["EC2BOOT_ROOT"] ?? "/") }

    /// The config file with the options laid over it; sets up logging. Exit 2 when invalid.
    public func load() throws -> Config {
        var config: Config
        // The default file may be missing (defaults then); a file named on the command line must be there.
        if let named = self.config, !FileSystem.exists(named) {
            printError("ec2-boot-init: --config \(named): no such file")
            throw ExitCode(ExitStatus.badInput.rawValue)
        }
        do {
            config = try Config.load(path: self.config ?? paths.configFile)
        } catch {
            printError("ec2-boot-init: invalid config: \(error)")
            throw ExitCode(ExitStatus.badInput.rawValue)
        }
        if let metadataURL { config.metadataURL = metadataURL }
        if let seed { config.seed = seed }
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel) else {
                printError("ec2-boot-init: --log-level: expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
                throw ExitCode(ExitStatus.badInput.rawValue)
            }
            config.logLevel = level
        }
        LogSetup.bootstrap(level: config.logLevel, syslog: config.syslog)
        return config
    }

    /// The data source the config names.
    public func source(_ config: Config) throws -> any MetadataSource {
        if let seed = config.seed { return SeedSource(directory: seed, userDataMaxBytes: config.userData.maxBytes) }
        guard let url = URL(string: config.metadataURL), let scheme = url.scheme, ["http", "https"].contains(scheme) else {
            printError("ec2-boot-init: metadata URL \(config.metadataURL) is not an http URL")
            throw ExitCode(ExitStatus.badInput.rawValue)
        }
        return IMDSSource(baseURL: url, settings: config.imds, includeCredentials: config.metadata.includeCredentials,
                          userDataMaxBytes: config.userData.maxBytes)
    }
}

public let logger = Logger(label: "ec2-boot-init")

public func printError(_ message: String) {
    try? FileSystem.writeAll(Data((message + "\n").utf8), to: STDERR_FILENO, path: "stderr")
}

extension ExitCode {
    public init(_ status: ExitStatus) { self.init(status.rawValue) }
}
