import Crypto
import EC2BootKit
import Foundation

/// `type: mcollective_register`: proves on the first boot that this node reaches the broker
/// with its credentials, by publishing its registration to every collective and waiting for
/// the broker's receipt of each. Parameters not given come from the user-data's `mcollective`
/// action.
public struct MCollectiveRegisterAction: Action {
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

    /// What the registration needs, after taking the defaults from the mcollective action.
    struct Settings {
        var connector: MCollectiveAction.Connector
        var hosts: [MCollectiveAction.Host]
        var vhost: String
        var collectives: [String]
        var identity: String
        var psk: String?
        var classesFile: String
    }

    static func settings(_ p: Params, context: ActionContext) -> Result<Settings, ActionFailure> {
        // Checked when the plan was made, with the rest of the user-data.
        let base = context.run.actions.lazy.compactMap { $0.params as? MCollectiveAction.Params }.first
        guard let connector = p.connector ?? base?.connector, let hosts = p.hosts ?? base?.hosts else {
            return .failure(ActionFailure("no connector and hosts: give them, or put an mcollective action in the same user-data"))
        }
        return .success(Settings(connector: connector, hosts: hosts, vhost: p.vhost ?? base?.vhost ?? "/mcollective",
                                 collectives: p.collectives ?? base?.collectives ?? ["mcollective"],
                                 identity: p.identity ?? base?.identity ?? "%f", psk: p.psk ?? base?.psk,
                                 classesFile: base?.classesFile ?? "/var/lib/puppet/state/classes.txt"))
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let settings: Settings
        switch Self.settings(params, context: context) {
        case .success(let found): settings = found
        case .failure(let failure): return ActionResult(.failed, message: failure.message)
        }
        let names = await NameTemplate.current(context)
        let identity = names.expand(settings.identity)
        var tls: StompEndpoint.TLS?
        switch params.ssl {
        case .puppet:
            let layout = await PuppetLayout.find(context)
            guard let certname = layout.certname() ?? (context.run.paths.root == "/" ? names.fqdn : nil) else {
                return ActionResult(.failed, message: "ssl: puppet, but no certname in \(layout.confdir)/puppet.conf")
            }
            let files = layout.certificates(certname: certname.lowercased())
            tls = .init(ca: files.ca, cert: files.cert, key: files.key, verify: params.verify)
        case .files(let ssl):
            tls = .init(ca: ssl.ca, cert: ssl.cert, key: ssl.key, verify: params.verify)
        case nil:
            break
        }
        if !params.verify { context.logger.warning("verify: false: the broker's certificate is not checked") }
        // One message per collective, made once, whichever host of the pool takes them.
        var messages: [(collective: String, body: [UInt8])] = []
        do {
            var document = registration(identity: identity, names: names, classesFile: settings.classesFile, context: context)
            for collective in settings.collectives {
                document["collective"] = collective
                messages.append((collective, Array(try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]))))
            }
        } catch {
            return ActionResult(.failed, message: "cannot make the registration: \(error)")
        }
        let deadline = ContinuousClock.now + .seconds(params.deadline)
        var lastError = ""
        // The pool's hosts in order, as MCollective tries them: the first that takes every registration.
        for host in settings.hosts {
            let hostTLS = tls ?? host.ssl.map { StompEndpoint.TLS(ca: $0.ca, cert: $0.cert, key: $0.key, verify: params.verify) }
            let endpoint = StompEndpoint(host: host.host, port: host.port, login: host.user, passcode: host.password,
                                         virtualHost: settings.connector == .rabbitmq ? settings.vhost : host.host, tls: hostTLS)
            do {
                let left = max(0.1, StompClient.seconds(until: deadline))
                try await StompClient.withSession(endpoint, deadline: left, logger: context.logger) { session in
                    for (collective, message) in messages {
                        var headers = [("content-type", "application/json"), ("persistent", "true")]
                        if let expires = params.expires {
                            headers.append(("expires", String(Int64(Date().timeIntervalSince1970 * 1000) + Int64(expires))))
                        }
                        if let psk = settings.psk { headers.append(("signature", signature(message, psk: psk))) }
                        try await session.send(destination(settings.connector, collective), headers: headers, body: message)
                    }
                }
                context.logger.info("registered with the broker", metadata: [
                    "broker": "\(endpoint.name)", "identity": "\(identity)", "collectives": "\(settings.collectives.joined(separator: ","))",
                ])
                return ActionResult(.ok, message: "registered \(identity) with \(endpoint.name)")
            } catch let error as StompError {
                lastError = "\(endpoint.name): \(error)"
                if case .broker = error { return ActionResult(.failed, message: lastError) }
                context.logger.warning("cannot register with \(endpoint.name): \(error)")
            } catch {
                lastError = "\(endpoint.name): \(error)"
            }
        }
        return ActionResult(.failed, message: lastError)
    }

    /// Where MCollective's registration agent listens.
    static func destination(_ connector: MCollectiveAction.Connector, _ collective: String) -> String {
        switch connector {
        case .activemq: return "/topic/\(collective).registration.agent"
        case .rabbitmq: return "/exchange/\(collective)_broadcast/registration"
        }
    }

    /// Hex HMAC-SHA256 of the body with the PSK: a consumer holding the PSK tells a forged one.
    static func signature(_ body: [UInt8], psk: String) -> String {
        HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(psk.utf8))).map { String(format: "%02x", $0) }.joined()
    }

    /// The registration's fields; `collective` is set per message.
    static func registration(identity: String, names: NameTemplate, classesFile: String, context: ActionContext) -> [String: Any] {
        let leaves = context.run.metadata.leaves
        var facts: [String: String] = [:]
        for fact in context.run.facts.entries { facts[fact.name] = fact.value }
        // The Puppet classes of this node, when Puppet ran before (MCollective's classesfile).
        let classes = FileSystem.read(context.run.paths.host(classesFile))
            .map { String(decoding: $0, as: UTF8.self).split(separator: "\n").map(String.init) } ?? []
        let document: [String: Any] = [
            "identity": identity, "instance_id": names.instanceID, "hostname": names.fqdn, "collective": "",
            "facts": facts, "classes": classes, "agentlist": [String](),
            "ec2": ["region": names.region, "availability_zone": leaves["placement/availability-zone"] ?? "",
                    "instance_type": leaves["instance-type"] ?? "", "ami_id": leaves["ami-id"] ?? ""],
            "booted_at": bootTime(), "agent": "ec2-boot-init", "version": EC2BootVersion.string,
        ]
        return document
    }

    /// When the kernel booted (`btime` in /proc/stat), ISO 8601.
    static func bootTime() -> String {
        let stat = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
        let seconds = stat.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) }
        return ISO8601DateFormatter().string(from: seconds.map(Date.init(timeIntervalSince1970:)) ?? Date())
    }
}

struct ActionFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
