import EC2BootKit
import Foundation

/// `type: rabbitmq`: makes this node the MCollective middleware. Enables the STOMP and
/// management plugins, writes the STOMP listeners to `rabbitmq.conf` (merged), restarts the
/// broker, then creates through the management API, idempotently: the vhost, the users with
/// their tags and permissions, and per collective the `<c>_broadcast` (topic) and
/// `<c>_directed` (direct) exchanges. A second run changes nothing and says so.
public struct RabbitMQAction: Action {
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

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let logger = context.logger
        if let failure = await params.setup.installPackage(context) { return ActionResult(.failed, message: failure) }
        let services = ServiceManager(context.run)
        do {
            let changed = try ConfigMerge.apply(listenerSettings(params), to: context.run.paths.host("/etc/rabbitmq/rabbitmq.conf"))
            if changed { logger.info("wrote the STOMP listeners to rabbitmq.conf") }
        } catch {
            return ActionResult(.failed, message: "cannot write rabbitmq.conf: \(error)")
        }
        if params.setup.service {
            if services.kind == .none {
                logger.info("services.manager is none here: would enable rabbitmq_stomp and rabbitmq_management")
            } else if let failure = await SystemCommand.run(["rabbitmq-plugins", "enable", "--offline", "rabbitmq_stomp", "rabbitmq_management"],
                                                            context: context) {
                return ActionResult(.failed, message: failure)
            }
            if let failure = await params.setup.restartService("rabbitmq-server", context) { return ActionResult(.failed, message: failure) }
        }
        let api = ManagementAPI(base: params.managementURL, logger: logger)
        do {
            try await api.waitUntilUp(admin: params.admin, seconds: params.wait)
            let changes = try await configure(params, api: api)
            let summary = changes.isEmpty ? "no change" : "\(changes.count) change(s): \(changes.joined(separator: ", "))"
            logger.info("RabbitMQ configured: \(summary)")
            return ActionResult(.ok, message: summary)
        } catch {
            return ActionResult(.failed, message: "\(error)")
        }
    }

    static func listenerSettings(_ p: Params) -> [ConfigMerge.Setting] {
        var out = [ConfigMerge.Setting(nil, "stomp.listeners.tcp.1", "\(p.listenAddress):\(p.stompPort)")]
        if let ssl = p.stompSSL {
            out += [.init(nil, "stomp.listeners.ssl.1", "\(p.listenAddress):\(ssl.port)"), .init(nil, "ssl_options.cacertfile", ssl.cacert),
                    .init(nil, "ssl_options.certfile", ssl.cert), .init(nil, "ssl_options.keyfile", ssl.key),
                    .init(nil, "ssl_options.verify", "verify_peer"), .init(nil, "ssl_options.fail_if_no_peer_cert", "true")]
        }
        return out
    }

    /// The idempotent part: each object is read first and written only when it differs.
    static func configure(_ p: Params, api: ManagementAPI) async throws -> [String] {
        var changes: [String] = []
        let vhost = ManagementAPI.segment(p.vhost)
        if try await api.get("vhosts/\(vhost)") == nil {
            try await api.put("vhosts/\(vhost)", [:], what: "vhost \(p.vhost)")
            changes.append("vhost \(p.vhost)")
        }
        for user in p.users {
            let path = "users/\(ManagementAPI.segment(user.name))"
            let current = try await api.get(path)
            let tags = Set(user.tags)
            if current == nil || !ManagementAPI.passwordMatches(current!, user.password) || ManagementAPI.tags(current!) != tags {
                try await api.put(path, ["password": user.password, "tags": user.tags.joined(separator: ",")], what: "user \(user.name)")
                changes.append("user \(user.name)")
            }
            let permissions = "permissions/\(vhost)/\(ManagementAPI.segment(user.name))"
            let wanted = ["configure": user.configure, "write": user.write, "read": user.read]
            let have = try await api.get(permissions)
            if have.map({ current in wanted.allSatisfy { current[$0.key] as? String == $0.value } }) != true {
                try await api.put(permissions, wanted, what: "permissions of \(user.name) on \(p.vhost)")
                changes.append("permissions of \(user.name)")
            }
        }
        // From here on as the admin, who exists now.
        api.credentials = p.admin
        for collective in p.collectives {
            for (name, kind) in [("\(collective)_broadcast", "topic"), ("\(collective)_directed", "direct")] {
                let path = "exchanges/\(vhost)/\(ManagementAPI.segment(name))"
                if let current = try await api.get(path) {
                    guard current["type"] as? String == kind else {
                        throw ManagementAPI.Failure("exchange \(name) exists as \(current["type"] ?? "?"), not \(kind); delete it first")
                    }
                    continue
                }
                try await api.put(path, ["type": kind, "durable": true], what: "exchange \(name)")
                changes.append("exchange \(name)")
            }
        }
        if p.deleteGuest && p.admin.user != "guest", try await api.get("users/guest") != nil {
            try await api.delete("users/guest", what: "user guest")
            changes.append("deleted guest")
        }
        return changes
    }
}
