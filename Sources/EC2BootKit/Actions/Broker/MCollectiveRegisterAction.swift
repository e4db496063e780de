#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `type: mcollective_register`: proves on the first boot that this node reaches the broker
/// with its credentials, by publishing its registration to every collective and waiting for
/// the broker's receipt of each. Parameters not given come from the user-data's `mcollective`
/// action.
public struct MCollectiveRegisterAction: BrokerAction {
    public static let type = "mcollective_register"
    public static let frequency = ActionFrequency.perInstance

    public static let schema = ActionSchema("Proves this node reaches the broker: one registration per collective, each receipted.", example: """
        deadline: 60
        """, [
            .optional("connector", .choice(MCollectiveAction.Connector.self), default: "the mcollective action's", "the broker kind"),
            .optional("hosts", .mappings, default: "the mcollective action's", "each {host, port, user, password, ssl}"),
            .optional("host", .string, "a single broker, instead of hosts"),
            .optional("port", .number, default: "61613", "the single broker's STOMP port"),
            .optional("user", .string, "the single broker's user"),
            .optional("password", .string, secret: true, "the single broker's password"),
            .optional("vhost", .string, default: "the mcollective action's, or /mcollective", "RabbitMQ's virtual host"),
            .optional("collectives", .strings, default: "the mcollective action's, or [mcollective]", "one registration each"),
            .optional("identity", .string, default: "the mcollective action's, or %f", "the node's identity"),
            .optional("psk", .string, secret: true, "signs each registration (HMAC-SHA256 header)"),
            .optional("ssl", .scalarOrMapping, "puppet (this node's Puppet certificates) or {ca, cert, key}"),
            .optional("verify", .boolean, default: "true", "verify the broker's certificate and host name"),
            .optional("deadline", .seconds, default: "120", "for all the registrations, retries included"),
            .optional("expires", .number, "milliseconds a registration may wait in the broker"),
        ])

    public struct Params: Decodable, Sendable {
        public var connector: MCollectiveAction.Connector?
        public var hosts: [MCollectiveAction.Host]?
        public var vhost: String?
        public var collectives: [String]?
        public var identity: String?
        public var psk: String?
        /// `puppet`: this node's Puppet certificates; or `{ca, cert, key}` paths.
        public var ssl: SSL?
        public var verify = true
        /// Seconds, retries included, for all the registrations.
        public var deadline = 120.0
        /// Milliseconds a registration may wait in the broker (the `expires` header), if set.
        public var expires: Int?

        public enum SSL: Sendable, Decodable {
            case puppet
            case files(MCollectiveAction.Host.SSL)

            public init(from decoder: Decoder) throws {
                if let text = try? decoder.singleValueContainer().decode(String.self) {
                    guard text == "puppet" else {
                        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected puppet or {ca, cert, key}"))
                    }
                    self = .puppet
                } else {
                    self = .files(try MCollectiveAction.Host.SSL(from: decoder))
                }
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case connector, hosts, host, port, user, password, vhost, collectives, identity, psk, ssl, verify, deadline, expires
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            connector = try c.choice(.connector)
            hosts = try c.decodeIfPresent([MCollectiveAction.Host].self, forKey: .hosts)
            if hosts == nil, c.contains(.host) {
                hosts = [try MCollectiveAction.Host(c, keys: (.host, .port, .user, .password), ssl: nil)]
            } else {
                try MCollectiveAction.Host.rejectStrays(c, [.host, .port, .user, .password])
            }
            vhost = try c.line(.vhost)
            collectives = try c.decodeIfPresent([String].self, forKey: .collectives)
            if let collectives, collectives.isEmpty || !collectives.allSatisfy({ NameCheck.valid($0, marks: "_-") }) {
                throw DecodingError.dataCorruptedError(forKey: .collectives, in: c, debugDescription: "expected a list of collective names")
            }
            identity = try c.line(.identity)
            if let identity, let problem = NameTemplate.check(identity) {
                throw DecodingError.dataCorruptedError(forKey: .identity, in: c, debugDescription: problem)
            }
            psk = try c.line(.psk)
            ssl = try c.decodeIfPresent(SSL.self, forKey: .ssl)
            verify = try c.decodeIfPresent(Bool.self, forKey: .verify) ?? true
            deadline = try c.positive(.deadline) ?? deadline
            expires = try c.integer(.expires, in: 1...86_400_000)
        }
    }
}
