#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `type: chef`: a Chef node's first boot. Writes `client.rb` (every value a Ruby string
/// literal nothing can break out of), the validation key and the data bag secret (0600),
/// `first-boot.json`, then runs `chef-client` once. Installs from packages only.
public struct ChefAction: Action {
    public static let type = "chef"
    public static let frequency = ActionFrequency.perInstance

    public static let schema = ActionSchema("A Chef node's first boot: client.rb, the validation key, first-boot.json, one chef-client run.", example: """
        server_url: https://chef.example.com/organizations/acme
        validation_name: acme-validator
        validation_key_url: https://keys.example.com/acme-validator.pem
        sha256: 0000000000000000000000000000000000000000000000000000000000000000
        run_list: ["recipe[base]"]
        """, [
            .required("server_url", .url, "the Chef server (https)"),
            .required("validation_name", .string, "the validator client's name"),
            .optional("validation_key", .string, secret: true, "the validator's PEM key; or validation_key_url"),
            .optional("validation_key_url", .url, "where to fetch the validator's key (http, https, file, s3)"),
            .optional("sha256", .string, "the key's sha256; required with validation_key_url"),
            .optional("node_name", .string, default: "%i", "the node's name (templates)"),
            .optional("environment", .string, "the node's environment"),
            .optional("run_list", .strings, default: "[]", "recipe[cookbook], recipe[cookbook::recipe], recipe[cookbook@version], role[name]"),
            .optional("initial_attributes", .mapping, "beside run_list in first-boot.json"),
            .optional("encrypted_data_bag_secret", .string, secret: true, "written to encrypted_data_bag_secret (0600)"),
            .optional("ssl_verify_mode", .choice(VerifyMode.self), default: "verify_peer", "client.rb ssl_verify_mode"),
            .optional("log_level", .choice(LogLevel.self), "client.rb log_level"),
            .optional("delete_validation_after_run", .boolean, default: "true", "remove the validation key after a successful run"),
            .optional("run", .boolean, default: "true", "the first chef-client run"),
            .optional("omnibus", .boolean, default: "false", "refused when true: Chef is installed from packages only"),
        ] + ActionSchema.setup(package: "chef", service: nil))

    public enum VerifyMode: String, Sendable, Decodable, CaseIterable { case verifyPeer = "verify_peer", verifyNone = "verify_none" }
    public enum LogLevel: String, Sendable, Decodable, CaseIterable { case auto, trace, debug, info, warn, error, fatal }

    public struct Params: Decodable, Sendable {
        public var serverURL: String
        public var validationName: String
        public var validationKey: String?
        public var validationKeyURL: URL?
        public var sha256: String?
        public var nodeName = "%i"
        public var environment: String?
        public var runList: [String] = []
        /// Beside the run list in first-boot.json.
        public var initialAttributes: [String: JSONValue] = [:]
        public var sslVerifyMode = VerifyMode.verifyPeer
        public var encryptedDataBagSecret: String?
        public var logLevel: LogLevel?
        public var deleteValidationAfterRun = true
        public var run = true
        public var setup: SetupOptions

        enum CodingKeys: String, CodingKey {
            case serverURL = "server_url", validationName = "validation_name", validationKey = "validation_key"
            case validationKeyURL = "validation_key_url", sha256, nodeName = "node_name", environment
            case runList = "run_list", initialAttributes = "initial_attributes", sslVerifyMode = "ssl_verify_mode"
            case encryptedDataBagSecret = "encrypted_data_bag_secret", logLevel = "log_level"
            case deleteValidationAfterRun = "delete_validation_after_run", run, omnibus, install, package, version
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            serverURL = try c.decode(String.self, forKey: .serverURL)
            guard let url = URL(string: serverURL), url.scheme?.lowercased() == "https", url.host != nil else {
                throw DecodingError.dataCorruptedError(forKey: .serverURL, in: c, debugDescription: "expected an https URL")
            }
            validationName = try c.decode(String.self, forKey: .validationName)
            guard NameCheck.valid(validationName, marks: "_.-") else {
                throw DecodingError.dataCorruptedError(forKey: .validationName, in: c, debugDescription: "expected letters, digits, _ . -")
            }
            validationKey = try c.decodeIfPresent(String.self, forKey: .validationKey)
            if let text = try c.decodeIfPresent(String.self, forKey: .validationKeyURL) {
                guard let url = URL(string: text), Download.schemes.contains(url.scheme?.lowercased() ?? "") else {
                    throw DecodingError.dataCorruptedError(forKey: .validationKeyURL, in: c, debugDescription: "expected an http, https, file or s3 URL")
                }
                validationKeyURL = url
                sha256 = try c.decodeIfPresent(String.self, forKey: .sha256)?.lowercased()
                guard let sha256, sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
                    throw DecodingError.dataCorruptedError(forKey: .sha256, in: c, debugDescription:
                        "validation_key_url needs the key's sha256 (64 hex digits)")
                }
            }
            guard (validationKey == nil) != (validationKeyURL == nil) else {
                throw DecodingError.dataCorruptedError(forKey: .validationKey, in: c, debugDescription:
                    "give exactly one of validation_key and validation_key_url")
            }
            if let key = validationKey, !key.contains("-----BEGIN") {
                throw DecodingError.dataCorruptedError(forKey: .validationKey, in: c, debugDescription: "expected a PEM private key")
            }
            nodeName = try c.decodeIfPresent(String.self, forKey: .nodeName) ?? nodeName
            if let problem = NameTemplate.check(nodeName) ?? (ChefAction.validName(nodeName.replacing("%", with: "x"))
                                                              ? nil : "expected letters, digits, _ . : -") {
                throw DecodingError.dataCorruptedError(forKey: .nodeName, in: c, debugDescription: problem)
            }
            environment = try c.decodeIfPresent(String.self, forKey: .environment)
            if let environment, !NameCheck.valid(environment, marks: "_-") {
                throw DecodingError.dataCorruptedError(forKey: .environment, in: c, debugDescription: "expected letters, digits, _ and -")
            }
            runList = try c.decodeIfPresent([String].self, forKey: .runList) ?? []
            if let bad = runList.first(where: { !ChefAction.validRunListItem($0) }) {
                throw DecodingError.dataCorruptedError(forKey: .runList, in: c, debugDescription:
                    "\(bad): expected recipe[cookbook], recipe[cookbook::recipe] or role[name]")
            }
            initialAttributes = try c.decodeIfPresent([String: JSONValue].self, forKey: .initialAttributes) ?? [:]
            sslVerifyMode = try c.choice(.sslVerifyMode) ?? sslVerifyMode
            encryptedDataBagSecret = try c.decodeIfPresent(String.self, forKey: .encryptedDataBagSecret)
            logLevel = try c.choice(.logLevel)
            deleteValidationAfterRun = try c.decodeIfPresent(Bool.self, forKey: .deleteValidationAfterRun) ?? true
            run = try c.decodeIfPresent(Bool.self, forKey: .run) ?? true
            if try c.decodeIfPresent(Bool.self, forKey: .omnibus) == true {
                throw DecodingError.dataCorruptedError(forKey: .omnibus, in: c, debugDescription:
                    "the omnibus installer is not supported: Chef is installed from packages only")
            }
            setup = try SetupOptions(c, package: "chef", keys: (.install, .package, .version, nil))
            setup.service = false
        }
    }

    static func validName(_ name: String) -> Bool { NameCheck.valid(name, marks: "_.:-") }

    /// `recipe[cookbook]`, `recipe[cookbook::recipe]`, `recipe[cookbook@1.2.3]`, `role[name]`.
    static func validRunListItem(_ item: String) -> Bool {
        for kind in ["recipe", "role"] where item.hasPrefix(kind + "[") && item.hasSuffix("]") {
            let inner = item.dropFirst(kind.count + 1).dropLast()
            return NameCheck.valid(String(inner), marks: kind == "recipe" ? "_.:@-" : "_.-")
        }
        return false
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let nodeName = await NameTemplate.current(context).expand(params.nodeName)
        guard validName(nodeName) else {
            return ActionResult(.failed, message: "node_name \(params.nodeName) gives \"\(nodeName)\", which Chef refuses")
        }
        if let failure = await params.setup.installPackage(context) { return ActionResult(.failed, message: failure) }
        let paths = context.run.paths
        let folder = paths.host("/etc/chef")
        let files = (client: folder + "/client.rb", key: folder + "/validation.pem", secret: folder + "/encrypted_data_bag_secret",
                     json: folder + "/first-boot.json")
        do {
            try FileSystem.makeDirectories(folder, mode: 0o755)
            if let key = params.validationKey {
                try AtomicFile.write(key.hasSuffix("\n") ? key : key + "\n", to: files.key, mode: 0o600)
            } else if let failure = await fetchKey(params, to: files.key, context: context) {
                return ActionResult(.failed, message: failure)
            }
            if let secret = params.encryptedDataBagSecret { try AtomicFile.write(secret, to: files.secret, mode: 0o600) }
            try AtomicFile.write(clientRB(params, nodeName: nodeName, files: (files.key, params.encryptedDataBagSecret == nil ? nil : files.secret)),
                                 to: files.client, mode: 0o644)
            try AtomicFile.write(firstBoot(params), to: files.json, mode: 0o600)
        } catch {
            return ActionResult(.failed, message: "cannot write the Chef config: \(error)")
        }
        context.logger.info("Chef configured", metadata: ["node_name": "\(nodeName)", "client_rb": "\(files.client)"])
        guard params.run else { return ActionResult(.ok) }
        var argv = ["chef-client", "-c", files.client, "-j", files.json]
        if let environment = params.environment { argv += ["-E", environment] }
        let result = await ActionEnvironment.execute(argv, environment: ActionEnvironment.base(context), directory: nil,
                                                     timeout: nil, context: context)
        guard result.outcome == .ok else {
            return ActionResult(result.outcome, exitCode: result.exitCode,
                                message: "chef-client: \(result.message ?? "") (validation.pem kept for the next try)")
        }
        if params.deleteValidationAfterRun {
            // The node has its own client key now; the organisation-wide one must not stay.
            try? FileSystem.remove(files.key)
            context.logger.info("removed the validation key after the first run")
        }
        return ActionResult(.ok, exitCode: 0)
    }

    static func fetchKey(_ params: Params, to path: String, context: ActionContext) async -> String? {
        guard let url = params.validationKeyURL else { return nil }
        let settings = context.run.config.actions
        let policy = context.run.config.imds.downloadPolicy(deadline: 120)
        let download = Download(config: context.run.config, maxConnections: 1,
                                metadataRegion: context.run.metadata.region, logger: context.logger)
        do {
            try await download.fetch(url, to: path, sha256: params.sha256, mode: 0o600, policy: policy,
                                     deadline: Deadline(seconds: policy.deadline),
                                     cap: ByteCap(1 << 20, setting: "the validation key's 1 MiB bound"),
                                     redirects: settings.redirects, logger: context.logger)
        } catch {
            return "cannot fetch the validation key: \(error)"
        }
        return nil
    }

    static func clientRB(_ p: Params, nodeName: String, files: (key: String, secret: String?)) -> String {
        var lines = ["# Written by ec2-boot-init; changes are lost when its chef action runs again.",
                     "chef_server_url \(rubyString(p.serverURL))",
                     "validation_client_name \(rubyString(p.validationName))",
                     "validation_key \(rubyString(files.key))",
                     "node_name \(rubyString(nodeName))",
                     "ssl_verify_mode :\(p.sslVerifyMode.rawValue)"]
        if let environment = p.environment { lines.append("environment \(rubyString(environment))") }
        if let secret = files.secret { lines.append("encrypted_data_bag_secret \(rubyString(secret))") }
        if let level = p.logLevel { lines.append("log_level :\(level.rawValue)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `{"run_list": [...]}` with the initial attributes beside it.
    static func firstBoot(_ p: Params) -> Data {
        var document = p.initialAttributes
        document["run_list"] = .array(p.runList.map(JSONValue.string))
        return JSONValue.object(document).encoded(pretty: true) + Data("\n".utf8)
    }

    /// A Ruby double-quoted string literal that is only ever that string: `"`, `\` and `#`
    /// (which would start `#{…}`) escaped, control characters as escapes, so a value cannot
    /// end the literal, interpolate, or start a line of its own.
    static func rubyString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "#": out += "\\#"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.properties.generalCategory == .control
                || scalar.properties.generalCategory == .lineSeparator || scalar.properties.generalCategory == .paragraphSeparator:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
