#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `type: rabbitmq`: makes this node the MCollective middleware. Enables the STOMP and
/// management plugins, writes the STOMP listeners to `rabbitmq.conf` (merged), restarts the
/// broker, then creates through the management API, idempotently: the vhost, the users with
/// their tags and permissions, and per collective the `<c>_broadcast` (topic) and
/// `<c>_directed` (direct) exchanges. A second run changes nothing and says so.
public struct RabbitMQAction: BrokerAction {
    public static let type = "rabbitmq"
    public static let frequency = ActionFrequency.perInstance

    public static let schema = ActionSchema("Sets up RabbitMQ as MCollective's broker: STOMP, the vhost, users, exchanges.", example: """
        admin: {user: admin, password: admin-Pass-1}
        users:
          - {name: mcollective, password: mco-Pass-2}
        """, [
            .required("admin", .mapping, secret: true, "{user, password}: made an administrator with every permission"),
            .optional("management_url", .url, default: "http://127.0.0.1:15672", "the management API"),
            .optional("vhost", .string, default: "/mcollective", "the virtual host"),
            .optional("users", .mappings, secret: true, "each {name, password, tags, permissions: {configure, write, read}}"),
            .optional("collectives", .strings, default: "[mcollective]", "each gets <c>_broadcast and <c>_directed exchanges"),
            .optional("stomp_port", .number, default: "61613", "the STOMP listener"),
            .optional("listen_address", .string, default: "0.0.0.0", "where STOMP listens"),
            .optional("stomp_ssl", .mapping, "{port, cacert, cert, key}: STOMP over TLS, client certificates required"),
            .optional("delete_guest", .boolean, default: "true", "delete the guest user last"),
            .optional("wait", .seconds, default: "120", "for the management API"),
        ] + ActionSchema.setup(package: "rabbitmq-server", service: "service"))

    public struct User: Decodable, Sendable {
        public var name: String
        public var password: String
        public var tags: [String] = []
        public var configure = ".*", write = ".*", read = ".*"

        enum CodingKeys: String, CodingKey, CaseIterable { case name, password, tags, permissions }
        enum PermissionKeys: String, CodingKey, CaseIterable { case configure, write, read }

        init(name: String, password: String, tags: [String]) {
            self.name = name
            self.password = password
            self.tags = tags
        }

        public init(from decoder: Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.brokerUser(.name)
            password = try c.decode(String.self, forKey: .password)
            tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
            if let bad = tags.first(where: { !NameCheck.valid($0, marks: "_-") }) {
                throw DecodingError.dataCorruptedError(forKey: .tags, in: c, debugDescription: "\(bad): not a tag")
            }
            if c.contains(.permissions) {
                try c.superDecoder(forKey: .permissions).rejectUnknownKeys(PermissionKeys.self)
                let p = try c.nestedContainer(keyedBy: PermissionKeys.self, forKey: .permissions)
                configure = try p.decodeIfPresent(String.self, forKey: .configure) ?? configure
                write = try p.decodeIfPresent(String.self, forKey: .write) ?? write
                read = try p.decodeIfPresent(String.self, forKey: .read) ?? read
            }
        }
    }

    public struct Params: Decodable, Sendable {
        public var vhost = "/mcollective"
        public var users: [User] = []
        public var collectives = ["mcollective"]
        public var admin: (user: String, password: String)
        public var managementURL: URL
        public var stompPort = 61613
        public var listenAddress = "0.0.0.0"
        public var stompSSL: (port: Int, cacert: String, cert: String, key: String)?
        public var deleteGuest = true
        /// Seconds to wait for the management API after a (re)start.
        public var wait = 120.0
        public var setup: SetupOptions

        enum CodingKeys: String, CodingKey, CaseIterable {
            case vhost, users, collectives, admin, managementURL = "management_url", stompPort = "stomp_port"
            case listenAddress = "listen_address", stompSSL = "stomp_ssl", deleteGuest = "delete_guest", wait
            case install, package, version, service
        }
        enum AdminKeys: String, CodingKey, CaseIterable { case user, password }
        enum SSLKeys: String, CodingKey, CaseIterable { case port, cacert, cert, key }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            vhost = try c.line(.vhost) ?? vhost
            users = try c.decodeIfPresent([User].self, forKey: .users) ?? []
            collectives = try c.decodeIfPresent([String].self, forKey: .collectives) ?? collectives
            guard !collectives.isEmpty, collectives.allSatisfy({ NameCheck.valid($0, marks: "_-") }) else {
                throw DecodingError.dataCorruptedError(forKey: .collectives, in: c, debugDescription: "expected a list of collective names")
            }
            try c.superDecoder(forKey: .admin).rejectUnknownKeys(AdminKeys.self)
            let a = try c.nestedContainer(keyedBy: AdminKeys.self, forKey: .admin)
            admin = (try a.brokerUser(.user), try a.decode(String.self, forKey: .password))
            let text = try c.decodeIfPresent(String.self, forKey: .managementURL) ?? "http://127.0.0.1:15672"
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw DecodingError.dataCorruptedError(forKey: .managementURL, in: c, debugDescription: "expected an http or https URL")
            }
            managementURL = url
            stompPort = try c.integer(.stompPort, in: 1...65535) ?? stompPort
            listenAddress = try c.decodeIfPresent(String.self, forKey: .listenAddress) ?? listenAddress
            guard NameCheck.valid(listenAddress, marks: ".:") else {
                throw DecodingError.dataCorruptedError(forKey: .listenAddress, in: c, debugDescription: "expected an IP address")
            }
            if c.contains(.stompSSL) {
                try c.superDecoder(forKey: .stompSSL).rejectUnknownKeys(SSLKeys.self)
                let s = try c.nestedContainer(keyedBy: SSLKeys.self, forKey: .stompSSL)
                stompSSL = (try s.integer(.port, in: 1...65535) ?? 61614, try s.line(.cacert) ?? "", try s.line(.cert) ?? "", try s.line(.key) ?? "")
                if stompSSL!.cacert.isEmpty || stompSSL!.cert.isEmpty || stompSSL!.key.isEmpty {
                    throw DecodingError.dataCorruptedError(forKey: .stompSSL, in: c, debugDescription: "needs cacert, cert and key")
                }
            }
            deleteGuest = try c.decodeIfPresent(Bool.self, forKey: .deleteGuest) ?? true
            wait = try c.positive(.wait) ?? wait
            setup = try SetupOptions(c, package: "rabbitmq-server", keys: (.install, .package, .version, .service))
            // The admin is a user like the others: an administrator with every permission on the vhost.
            if let listed = users.first(where: { $0.name == admin.user }), listed.password != admin.password {
                throw DecodingError.dataCorruptedError(forKey: .users, in: c, debugDescription:
                    "\(admin.user) is the admin and is listed with another password; give it once")
            }
            if !users.contains(where: { $0.name == admin.user }) {
                users.append(User(name: admin.user, password: admin.password, tags: ["administrator"]))
            }
        }
    }
}
