import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// What `RabbitMQAction` does, in the broker helper.
extension RabbitMQAction {
    static func perform(_ params: Params, context: ActionContext) async -> ActionResult {
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
                try await api.put(path, ["password": .string(user.password), "tags": .string(user.tags.joined(separator: ","))], what: "user \(user.name)")
                changes.append("user \(user.name)")
            }
            let permissions = "permissions/\(vhost)/\(ManagementAPI.segment(user.name))"
            let wanted: [String: JSONValue] = ["configure": .string(user.configure), "write": .string(user.write), "read": .string(user.read)]
            let have = try await api.get(permissions)
            if have.map({ current in wanted.allSatisfy { current[$0.key] == $0.value } }) != true {
                try await api.put(permissions, .object(wanted), what: "permissions of \(user.name) on \(p.vhost)")
                changes.append("permissions of \(user.name)")
            }
        }
        // From here on as the admin, who exists now.
        api.credentials = p.admin
        for collective in p.collectives {
            for (name, kind) in [("\(collective)_broadcast", "topic"), ("\(collective)_directed", "direct")] {
                let path = "exchanges/\(vhost)/\(ManagementAPI.segment(name))"
                if let current = try await api.get(path) {
                    guard current["type"]?.string == kind else {
                        throw ManagementAPI.Failure("exchange \(name) exists as \(current["type"]?.scalarText ?? "?"), not \(kind); delete it first")
                    }
                    continue
                }
                try await api.put(path, ["type": .string(kind), "durable": true], what: "exchange \(name)")
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
