#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `type: mcollective`: installs an MCollective server, points it at the middleware and
/// gives it this node's facts. `server.cfg` is merged (keys we do not set are kept);
/// `facts.yaml` is written again on every boot.
public struct MCollectiveAction: Action {
    public static let type = "mcollective"
    public static let frequency = ActionFrequency.perInstance

    public static let schema = ActionSchema("Installs and configures the MCollective server (server.cfg, facts.yaml).", example: """
        connector: rabbitmq
        host: stomp.example.com
        user: mco
        password: mco-Secret-1
        psk: psk-Secret-2
        """, aliases: ["master": "host"], [
            .optional("connector", .choice(Connector.self), default: "activemq", "the middleware plugin (MCollective's packaged server.cfg's)"),
            .optional("hosts", .mappings, "the broker pool: each {host, port, user, password, ssl: {ca, cert, key, fallback}}"),
            .optional("host", .string, "a single broker, instead of hosts"),
            .optional("port", .number, default: "61613", "the single broker's STOMP port"),
            .optional("user", .string, "the single broker's user"),
            .optional("password", .string, secret: true, "the single broker's password"),
            .optional("vhost", .string, default: "/mcollective", "RabbitMQ's virtual host"),
            .optional("collectives", .strings, default: "[mcollective]", "the collectives this node is in"),
            .optional("main_collective", .string, default: "the first collective", "one of collectives"),
            .optional("securityprovider", .choice(Security.self), default: "psk", "how messages are signed"),
            .optional("psk", .string, secret: true, "the pre-shared key; with securityprovider psk, absent: server.cfg's own, unless it is a placeholder"),
            .optional("identity", .string, default: "%f", "the node's identity (%i %h %f %r %z templates); must match ^[\\w.-]+$"),
            .optional("registration", .choice(Registration.self), default: "none", "the registration agent"),
            .optional("registerinterval", .number, "seconds between registrations"),
            .optional("classesfile", .string, "Puppet's classes.txt, for MCollective's classes"),
            .optional("libdir", .string, "server.cfg libdir (a new file gets a default)"),
            .optional("logfile", .string, "server.cfg logfile (a new file gets a default)"),
            .optional("loglevel", .string, "server.cfg loglevel (a new file gets a default)"),
            .optional("settings", .mapping, "any other server.cfg key, as it is"),
            .optional("client", .boolean, default: "false", "write client.cfg too, with the same middleware settings"),
        ] + ActionSchema.setup(package: "mcollective", service: "service"))
    public static let everyBoot: (@Sendable (Params, ActionContext) async -> ActionResult)? = { params, context in
        if let failure = writeFacts(context) { return ActionResult(.failed, message: failure) }
        return ActionResult(.ok, message: "facts.yaml refreshed")
    }

    public enum Connector: String, Sendable, Decodable, CaseIterable { case activemq, rabbitmq }
    public enum Security: String, Sendable, Decodable, CaseIterable { case psk, ssl }
    public enum Registration: String, Sendable, Decodable, CaseIterable {
        case meta = "Meta", agentlist = "Agentlist", none
    }

    /// One middleware server of the pool.
    public struct Host: Decodable, Sendable {
        public var host: String
        public var port = 61613
        public var user: String?
        public var password: String?
        public var ssl: SSL?

        public struct SSL: Decodable, Sendable {
            public var ca: String
            public var cert: String
            public var key: String
            public var fallback = false

            enum CodingKeys: String, CodingKey, CaseIterable { case ca, cert, key, fallback }

            public init(from decoder: Decoder) throws {
                try decoder.rejectUnknownKeys(CodingKeys.self)
                let c = try decoder.container(keyedBy: CodingKeys.self)
                ca = try c.line(.ca) ?? { throw DecodingError.keyNotFound(CodingKeys.ca, .init(codingPath: c.codingPath, debugDescription: "")) }()
                cert = try c.line(.cert) ?? { throw DecodingError.keyNotFound(CodingKeys.cert, .init(codingPath: c.codingPath, debugDescription: "")) }()
                key = try c.line(.key) ?? { throw DecodingError.keyNotFound(CodingKeys.key, .init(codingPath: c.codingPath, debugDescription: "")) }()
                fallback = try c.decodeIfPresent(Bool.self, forKey: .fallback) ?? false
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case host, port, user, password, ssl }

        public init(from decoder: Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            try self.init(c, keys: (.host, .port, .user, .password), ssl: c.decodeIfPresent(SSL.self, forKey: .ssl))
        }

        /// From a host entry, or from the action's own `host`/`port`/`user`/`password`.
        public init<K: CodingKey>(_ c: KeyedDecodingContainer<K>, keys: (host: K, port: K, user: K, password: K), ssl: SSL?) throws {
            host = try c.decode(String.self, forKey: keys.host)
            guard NameCheck.valid(host, marks: ".:_-") else {
                throw DecodingError.dataCorruptedError(forKey: keys.host, in: c, debugDescription: "not a host name or address")
            }
            port = try c.integer(keys.port, in: 1...65535) ?? 61613
            user = try c.line(keys.user)
            password = try c.line(keys.password)
            self.ssl = ssl
        }

        /// `port`, `user` and `password` describe the single `host`; beside `hosts`, or
        /// without a host, they would be ignored without a word.
        public static func rejectStrays<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ keys: [K]) throws {
            if let stray = keys.first(where: c.contains) {
                throw DecodingError.dataCorruptedError(forKey: stray, in: c, debugDescription:
                    "goes with host (a single broker); with hosts, give it in each entry")
            }
        }
    }

    public struct Params: Decodable, Sendable {
        public var connector: Connector
        public var hosts: [Host]
        public var vhost = "/mcollective"
        public var collectives = ["mcollective"]
        public var mainCollective: String
        public var securityProvider = Security.psk
        public var psk: String?
        public var identity = "%f"
        public var registration = Registration.none
        public var registerInterval: Int?
        public var classesFile, libdir, logfile, loglevel: String?
        public var settings: [(key: String, value: String)] = []
        public var client = false
        public var setup: SetupOptions

        enum CodingKeys: String, CodingKey, CaseIterable {
            case connector, hosts, host, port, user, password, vhost, collectives
            case mainCollective = "main_collective", securityProvider = "securityprovider", psk, identity
            case registration, registerInterval = "registerinterval", classesFile = "classesfile", libdir, logfile, loglevel
            case settings, client, install, package, version, service
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            connector = try c.choice(.connector) ?? .activemq
            if let list = try c.decodeIfPresent([Host].self, forKey: .hosts) {
                guard !list.isEmpty, !c.contains(.host) else {
                    throw DecodingError.dataCorruptedError(forKey: .hosts, in: c, debugDescription:
                        list.isEmpty ? "expected at least one host" : "give either hosts or host, not both")
                }
                try Host.rejectStrays(c, [.port, .user, .password])
                hosts = list
            } else {
                hosts = [try Host(c, keys: (.host, .port, .user, .password), ssl: nil)]
            }
            vhost = try c.line(.vhost) ?? vhost
            collectives = try c.decodeIfPresent([String].self, forKey: .collectives) ?? collectives
            guard !collectives.isEmpty, collectives.allSatisfy({ NameCheck.valid($0, marks: "_-") }) else {
                throw DecodingError.dataCorruptedError(forKey: .collectives, in: c, debugDescription: "expected a list of collective names (letters, digits, _ and -)")
            }
            mainCollective = try c.decodeIfPresent(String.self, forKey: .mainCollective) ?? collectives[0]
            guard collectives.contains(mainCollective) else {
                throw DecodingError.dataCorruptedError(forKey: .mainCollective, in: c, debugDescription: "must be one of collectives")
            }
            securityProvider = try c.choice(.securityProvider) ?? securityProvider
            psk = try c.line(.psk)
            if psk?.isEmpty == true {
                throw DecodingError.dataCorruptedError(forKey: .psk, in: c, debugDescription: "expected a pre-shared key, not nothing")
            }
            identity = try c.decodeIfPresent(String.self, forKey: .identity) ?? identity
            if let problem = NameTemplate.check(identity) ?? (!Self.validIdentity(identity.replacing("%", with: "x"))
                                                              ? "must match ^[\\w.-]+$" : nil) {
                throw DecodingError.dataCorruptedError(forKey: .identity, in: c, debugDescription: problem)
            }
            registration = try c.choice(.registration) ?? registration
            registerInterval = try c.integer(.registerInterval, in: 1...86_400 * 7)
            classesFile = try c.line(.classesFile)
            libdir = try c.line(.libdir)
            logfile = try c.line(.logfile)
            loglevel = try c.line(.loglevel)
            if let map = try c.decodeIfPresent([String: ScalarText].self, forKey: .settings) {
                for (key, value) in map.sorted(by: { $0.key < $1.key }) {
                    guard NameCheck.valid(key, marks: "_.-") else {
                        throw DecodingError.dataCorruptedError(forKey: .settings, in: c, debugDescription: "\(key): not a server.cfg key")
                    }
                    try c.checkLine(value.text, .settings)
                    settings.append((key, value.text))
                }
            }
            client = try c.decodeIfPresent(Bool.self, forKey: .client) ?? false
            setup = try SetupOptions(c, package: "mcollective", keys: (.install, .package, .version, .service))
        }

        static func validIdentity(_ text: String) -> Bool { NameCheck.valid(text, marks: "_.-") }
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let names = await NameTemplate.current(context)
        let identity = names.expand(params.identity)
        guard Params.validIdentity(identity) else {
            return ActionResult(.failed, message: "identity \(params.identity) gives \"\(identity)\", which MCollective refuses (^[\\w.-]+$)")
        }
        if let failure = await params.setup.installPackage(context) { return ActionResult(.failed, message: failure) }
        let folder = context.run.paths.host("/etc/mcollective")
        let server = folder + "/server.cfg"
        if let refusal = pskRefusal(params, serverConfig: server) { return ActionResult(.failed, message: refusal) }
        do {
            try FileSystem.makeDirectories(folder, mode: 0o755)
            // 0640: the middleware passwords and the PSK are in it.
            let base = FileSystem.exists(server) ? [] : newFileDefaults
            try ConfigMerge.apply(base + middleware(params) + serverOnly(params, identity: identity), to: server, mode: 0o640)
            if params.client {
                try ConfigMerge.apply(middleware(params), to: folder + "/client.cfg", mode: 0o640)
            }
        } catch {
            return ActionResult(.failed, message: "cannot write the MCollective config: \(error)")
        }
        if let failure = writeFacts(context) { return ActionResult(.failed, message: failure) }
        context.logger.info("MCollective configured", metadata: ["identity": "\(identity)", "connector": "\(params.connector.rawValue)"])
        if let failure = await params.setup.restartService("mcollective", context) { return ActionResult(.failed, message: failure) }
        return ActionResult(.ok)
    }

    /// MCollective's placeholders for the pre-shared key, as its packages ship server.cfg.
    static let placeholderKeys: Set<String> = ["", "unset", "changeme", "change_me"]

    /// Without `psk` (the Ruby tool's `:master:` alone), server.cfg's own key is kept, but never
    /// a placeholder: with it, anyone who can publish to the broker can command the node.
    static func pskRefusal(_ params: Params, serverConfig: String) -> String? {
        guard params.securityProvider == .psk, params.psk == nil else { return nil }
        let text = FileSystem.read(serverConfig).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let existing = text.split(separator: "\n").map(String.init).last { ConfigMerge.settingKey($0) == "plugin.psk" }.map(ConfigMerge.value)
        guard let existing, !placeholderKeys.contains(existing.lowercased()) else {
            return "no pre-shared key: give the psk parameter, or set plugin.psk in \(serverConfig)"
                + (existing == nil ? "" : " (it holds MCollective's placeholder, which lets anyone who can publish to the broker command this node)")
        }
        return nil
    }

    /// What a fresh server.cfg starts with (a package's own file already has its own).
    static let newFileDefaults = [
        ConfigMerge.Setting(nil, "libdir", "/usr/share/mcollective/plugins"),
        ConfigMerge.Setting(nil, "logfile", "/var/log/mcollective.log"),
        ConfigMerge.Setting(nil, "loglevel", "info"),
        ConfigMerge.Setting(nil, "daemonize", "1"),
    ]

    /// The keys server.cfg and client.cfg share: collectives, security and the broker pool.
    static func middleware(_ p: Params) -> [ConfigMerge.Setting] {
        let plugin = "plugin.\(p.connector.rawValue)"
        var out: [ConfigMerge.Setting] = [
            .init(nil, "main_collective", p.mainCollective),
            .init(nil, "collectives", p.collectives.joined(separator: ",")),
            .init(nil, "securityprovider", p.securityProvider.rawValue),
        ]
        if let psk = p.psk { out.append(.init(nil, "plugin.psk", psk)) }
        for (key, value) in [("libdir", p.libdir), ("logfile", p.logfile), ("loglevel", p.loglevel)] {
            if let value { out.append(.init(nil, key, value)) }
        }
        out.append(.init(nil, "connector", p.connector.rawValue))
        if p.connector == .rabbitmq { out.append(.init(nil, "plugin.rabbitmq.vhost", p.vhost)) }
        out.append(.init(nil, "\(plugin).pool.size", String(p.hosts.count)))
        for (n, host) in zip(1..., p.hosts) {
            let prefix = "\(plugin).pool.\(n)"
            out.append(.init(nil, "\(prefix).host", host.host))
            out.append(.init(nil, "\(prefix).port", String(host.port)))
            if let user = host.user { out.append(.init(nil, "\(prefix).user", user)) }
            if let password = host.password { out.append(.init(nil, "\(prefix).password", password)) }
            out.append(.init(nil, "\(prefix).ssl", host.ssl == nil ? "0" : "1"))
            if let ssl = host.ssl {
                out.append(.init(nil, "\(prefix).ssl.ca", ssl.ca))
                out.append(.init(nil, "\(prefix).ssl.cert", ssl.cert))
                out.append(.init(nil, "\(prefix).ssl.key", ssl.key))
                out.append(.init(nil, "\(prefix).ssl.fallback", ssl.fallback ? "1" : "0"))
            }
        }
        return out + p.settings.map { .init(nil, $0.key, $0.value) }
    }

    /// The keys only the server reads: who it is, its facts and registration.
    static func serverOnly(_ p: Params, identity: String) -> [ConfigMerge.Setting] {
        var out: [ConfigMerge.Setting] = [
            .init(nil, "identity", identity),
            .init(nil, "factsource", "yaml"),
            .init(nil, "plugin.yaml", "/etc/mcollective/facts.yaml"),
        ]
        if let classes = p.classesFile { out.append(.init(nil, "classesfile", classes)) }
        if p.registration != .none {
            out.append(.init(nil, "registration", p.registration.rawValue))
            out.append(.init(nil, "registerinterval", String(p.registerInterval ?? 300)))
        }
        return out
    }

    /// `/etc/mcollective/facts.yaml`: this boot's facts (user-data's and, when written, the
    /// `ec2_` ones). No secrets: credentials never become facts.
    static func writeFacts(_ context: ActionContext) -> String? {
        let path = context.run.paths.host("/etc/mcollective/facts.yaml")
        do {
            try FacterFactsWriter(path: path).write(context.run.facts)
        } catch {
            return "cannot write \(path): \(error)"
        }
        context.logger.info("wrote MCollective facts", metadata: ["count": "\(context.run.facts.entries.count)", "file": "\(path)"])
        return nil
    }
}
