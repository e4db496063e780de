#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `type: activemq`: makes this node the MCollective middleware with ActiveMQ. Writes a complete
/// `activemq.xml` (the broker starts from it alone): users and groups, an authorization map
/// that gives the `mcollective` group its collectives' topics and queues and everyone the
/// advisory topics and nothing else, and the STOMP connector. Then (re)starts the broker and
/// waits until STOMP takes a CONNECT.
public struct ActiveMQAction: BrokerAction {
    public static let type = "activemq"
    public static let frequency = ActionFrequency.perInstance

    public static let schema = ActionSchema("Sets up ActiveMQ as MCollective's broker: activemq.xml with users and STOMP.", example: """
        users:
          - {name: mcollective, password: mco-Pass-1}
        """, [
            .required("users", .mappings, secret: true, "each {name, password, groups} (groups default [mcollective])"),
            .optional("collectives", .strings, default: "[mcollective]", "their <c>.> topics and queues are the mcollective group's"),
            .optional("stomp_port", .number, default: "61613", "the STOMP connector"),
            .optional("listen_address", .string, default: "0.0.0.0", "where STOMP listens"),
            .optional("stomp_ssl", .mapping, secret: true, "{port, keystore, keystore_password, truststore, truststore_password}"),
            .optional("openwire", .boolean, default: "false", "an OpenWire connector too"),
            .optional("config_path", .string, default: "/etc/activemq/instances-available/main/activemq.xml", "the file written"),
            .optional("broker_name", .string, default: "mcollective", "the broker's name"),
            .optional("wait", .seconds, default: "120", "until STOMP takes a CONNECT"),
        ] + ActionSchema.setup(package: "activemq", service: "service"))

    public struct User: Decodable, Sendable {
        public var name: String
        public var password: String
        public var groups: [String]

        enum CodingKeys: String, CodingKey, CaseIterable { case name, password, groups }

        public init(from decoder: Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.brokerUser(.name)
            password = try c.decode(String.self, forKey: .password)
            // Spring would read `${…}` in the file as a placeholder and put something else there.
            try c.springSafe(password, .password)
            groups = try c.decodeIfPresent([String].self, forKey: .groups) ?? ["mcollective"]
            if let bad = groups.first(where: { !NameCheck.valid($0, marks: "_-") }) {
                throw DecodingError.dataCorruptedError(forKey: .groups, in: c, debugDescription: "\(bad): not a group name")
            }
        }
    }

    public struct Params: Decodable, Sendable {
        public var users: [User]
        public var collectives = ["mcollective"]
        public var stompPort = 61613
        public var listenAddress = "0.0.0.0"
        /// STOMP over TLS; ActiveMQ reads Java key stores (JKS or PKCS#12).
        public var stompSSL: SSL?
        public var openwire = false
        public var configPath = "/etc/activemq/instances-available/main/activemq.xml"
        public var brokerName = "mcollective"
        /// Seconds to wait for STOMP after a (re)start.
        public var wait = 120.0
        public var setup: SetupOptions

        public struct SSL: Decodable, Sendable {
            public var port = 61614
            public var keystore, keystorePassword, truststore, truststorePassword: String
            enum CodingKeys: String, CodingKey, CaseIterable {
                case port, keystore, keystorePassword = "keystore_password", truststore, truststorePassword = "truststore_password"
            }
            public init(from decoder: Decoder) throws {
                try decoder.rejectUnknownKeys(CodingKeys.self)
                let c = try decoder.container(keyedBy: CodingKeys.self)
                port = try c.integer(.port, in: 1...65535) ?? port
                keystore = try c.decode(String.self, forKey: .keystore)
                keystorePassword = try c.decode(String.self, forKey: .keystorePassword)
                truststore = try c.decode(String.self, forKey: .truststore)
                truststorePassword = try c.decode(String.self, forKey: .truststorePassword)
                for (key, value) in [(CodingKeys.keystore, keystore), (.keystorePassword, keystorePassword),
                                     (.truststore, truststore), (.truststorePassword, truststorePassword)] {
                    try c.springSafe(value, key)
                }
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case users, collectives, stompPort = "stomp_port", listenAddress = "listen_address", stompSSL = "stomp_ssl", openwire
            case configPath = "config_path", brokerName = "broker_name", wait, install, package, version, service
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            users = try c.decode([User].self, forKey: .users)
            guard !users.isEmpty else { throw DecodingError.dataCorruptedError(forKey: .users, in: c, debugDescription: "expected at least one user") }
            collectives = try c.decodeIfPresent([String].self, forKey: .collectives) ?? collectives
            guard !collectives.isEmpty, collectives.allSatisfy({ NameCheck.valid($0, marks: "_-") }) else {
                throw DecodingError.dataCorruptedError(forKey: .collectives, in: c, debugDescription: "expected a list of collective names")
            }
            stompPort = try c.integer(.stompPort, in: 1...65535) ?? stompPort
            listenAddress = try c.decodeIfPresent(String.self, forKey: .listenAddress) ?? listenAddress
            guard NameCheck.valid(listenAddress, marks: ".:") else {
                throw DecodingError.dataCorruptedError(forKey: .listenAddress, in: c, debugDescription: "expected an IP address")
            }
            stompSSL = try c.decodeIfPresent(SSL.self, forKey: .stompSSL)
            openwire = try c.decodeIfPresent(Bool.self, forKey: .openwire) ?? false
            configPath = try c.line(.configPath) ?? configPath
            guard configPath.hasPrefix("/") else {
                throw DecodingError.dataCorruptedError(forKey: .configPath, in: c, debugDescription: "expected an absolute path")
            }
            brokerName = try c.decodeIfPresent(String.self, forKey: .brokerName) ?? brokerName
            guard NameCheck.valid(brokerName, marks: "_.-") else {
                throw DecodingError.dataCorruptedError(forKey: .brokerName, in: c, debugDescription: "expected letters, digits, _ . -")
            }
            wait = try c.positive(.wait) ?? wait
            setup = try SetupOptions(c, package: "activemq", keys: (.install, .package, .version, .service))
        }
    }
}
