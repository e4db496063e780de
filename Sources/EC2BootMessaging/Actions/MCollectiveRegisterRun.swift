import Crypto
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// What `MCollectiveRegisterAction` does, in the broker helper.
extension MCollectiveRegisterAction {
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

    static func perform(_ params: Params, context: ActionContext) async -> ActionResult {
        let settings: Settings
        switch Self.settings(params, context: context) {
        case .success(let found): settings = found
        case .failure(let failure): return ActionResult(.failed, message: failure.message)
        }
        let names = await NameTemplate.current(context)
        let identity = names.expand(settings.identity)
        let tls: StompEndpoint.TLS?
        switch await Self.tls(params, fqdn: names.fqdn, context: context) {
        case .success(let found): tls = found
        case .failure(let failure): return ActionResult(.failed, message: failure.message)
        }
        if !params.verify { context.logger.warning("verify: false: the broker's certificate is not checked") }
        // One message per collective, made once, whichever host of the pool takes them.
        var messages: [(collective: String, body: [UInt8])] = []
        var document = registration(identity: identity, names: names, classesFile: settings.classesFile, context: context)
        for collective in settings.collectives {
            document["collective"] = .string(collective)
            messages.append((collective, Array(JSONValue.object(document).encoded())))
        }
        let deadline = Deadline(seconds: params.deadline)
        var lastError = ""
        // The pool's hosts in order, as MCollective tries them: the first that takes every registration.
        for host in settings.hosts {
            let hostTLS = tls ?? host.ssl.map { StompEndpoint.TLS(ca: $0.ca, cert: $0.cert, key: $0.key, verify: params.verify) }
            let endpoint = StompEndpoint(host: host.host, port: host.port, login: host.user, passcode: host.password,
                                         virtualHost: settings.connector == .rabbitmq ? settings.vhost : host.host, tls: hostTLS)
            do {
                let left = max(0.1, deadline.remaining)
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

    struct NoCertificate: Error {
        let message: String
    }

    /// The TLS the registration uses for every host: Puppet's certificates for this node
    /// (`ssl: puppet`), the files given, or none (a host's own `ssl` may still give some).
    static func tls(_ params: Params, fqdn: String?, context: ActionContext) async -> Result<StompEndpoint.TLS?, NoCertificate> {
        switch params.ssl {
        case .puppet:
            let layout = await PuppetLayout.find(context)
            guard let certname = layout.certname() ?? (context.run.paths.root == "/" ? fqdn : nil) else {
                return .failure(NoCertificate(message: "ssl: puppet, but no certname in \(layout.confdir)/puppet.conf"))
            }
            let files = layout.certificates(certname: certname.lowercased())
            return .success(.init(ca: files.ca, cert: files.cert, key: files.key, verify: params.verify))
        case .files(let ssl):
            return .success(.init(ca: ssl.ca, cert: ssl.cert, key: ssl.key, verify: params.verify))
        case nil:
            return .success(nil)
        }
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
        HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(psk.utf8))).hex
    }

    /// The registration's fields; `collective` is set per message.
    static func registration(identity: String, names: NameTemplate, classesFile: String, context: ActionContext) -> [String: JSONValue] {
        let leaves = context.run.metadata.leaves
        var facts: [String: JSONValue] = [:]
        for fact in context.run.facts.entries { facts[fact.name] = .string(fact.value) }
        // The Puppet classes of this node, when Puppet ran before (MCollective's classesfile).
        let classes = FileSystem.read(context.run.paths.host(classesFile))
            .map { String(decoding: $0, as: UTF8.self).split(separator: "\n").map(String.init) } ?? []
        let document: [String: JSONValue] = [
            "identity": .string(identity), "instance_id": .string(names.instanceID), "hostname": .string(names.fqdn), "collective": "",
            "facts": .object(facts), "classes": .array(classes.map(JSONValue.string)), "agentlist": [],
            "ec2": ["region": .string(names.region), "availability_zone": .string(leaves["placement/availability-zone"] ?? ""),
                    "instance_type": .string(leaves["instance-type"] ?? ""), "ami_id": .string(leaves["ami-id"] ?? "")],
            "booted_at": .string(bootTime()), "agent": "ec2-boot-init", "version": .string(EC2BootVersion.string),
        ]
        return document
    }

    /// When the kernel booted (`btime` in /proc/stat), ISO 8601.
    static func bootTime() -> String {
        let stat = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
        let seconds = stat.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) }
        return Timestamp.string(seconds.map(Date.init(timeIntervalSince1970:)) ?? Date())
    }
}

struct ActionFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
