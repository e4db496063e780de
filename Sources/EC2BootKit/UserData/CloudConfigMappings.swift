
/// cloud-config's `puppet`, `chef` and `mcollective`, mapped onto our built-in actions of those
/// names (cloud-init's key names accepted): what maps is given to the built-in, whose schema then
/// checks it as any action's; what does not map is reported like an unsupported key.
struct CloudConfigMapping: Sendable {
    /// The cloud-config key, and the built-in action it becomes.
    let key: String
    let type: String
    /// The built-in's parameters, and the keys (with their marks) that have no equivalent here.
    let translate: @Sendable (Node.Mapping) -> (params: [(Node, Node)], unmapped: [Node])

    static let puppet = CloudConfigMapping(key: "puppet", type: PuppetAction.type) { value in
        var params: [(Node, Node)] = []
        var unmapped: [Node] = []
        var conf = value["conf"]?.mapping ?? Node.Mapping([])
        // cloud-init's server and certname live in puppet.conf's sections; ours are parameters
        // (the certname's %i and %f are our templates too).
        params.append(("server", take("server", from: &conf) ?? "puppet"))
        if let certname = take("certname", from: &conf) { params.append(("certname", certname)) }
        if !conf.isEmpty { params.append(("conf", .mapping(conf))) }
        for (key, item) in value {
            switch key.string ?? "" {
            case "install", "version", "start_service", "csr_attributes": params.append((key, item))
            case "package_name": params.append(("package", item))
            case "exec": params.append(("run", item))
            case "install_type" where item.string == "packages": continue
            case "conf": continue
            default: unmapped.append(key)
            }
        }
        // cloud-init runs no agent unless `exec: true`.
        if value["exec"] == nil { params.append(("run", "false")) }
        return (params, unmapped)
    }

    static let chef = CloudConfigMapping(key: "chef", type: ChefAction.type) { value in
        var params: [(Node, Node)] = []
        var unmapped: [Node] = []
        let same: Set<String> = ["server_url", "node_name", "validation_name", "environment", "run_list", "initial_attributes",
                                 "ssl_verify_mode", "log_level"]
        for (key, item) in value {
            let name = key.string ?? ""
            switch name {
            case _ where same.contains(name): params.append((key, item))
            case "validation_cert" where item.string != "system": params.append(("validation_key", item))
            case "exec": params.append(("run", item))
            case "install_type" where item.string == "packages": continue
            case "install_type" where item.string == "omnibus": params.append(("omnibus", "true"))
            case "validation_key" where item.string == "/etc/chef/validation.pem": continue
            default: unmapped.append(key)
            }
        }
        if value["exec"] == nil { params.append(("run", "false")) }
        return (params, unmapped)
    }

    static let mcollective = CloudConfigMapping(key: "mcollective", type: MCollectiveAction.type) { value in
        var unmapped: [Node] = value.keys.filter { $0.string != "conf" }
        var settings = value["conf"]?.mapping ?? Node.Mapping([])
        for cert in ["public-cert", "private-cert"] {
            if let key = settings.keys.first(where: { $0.string == cert }) { unmapped.append(key) }
            settings[Node(cert)] = nil
        }
        var params: [(Node, Node)] = []
        for (setting, parameter) in [("connector", "connector"), ("securityprovider", "securityprovider"), ("plugin.psk", "psk"),
                                     ("identity", "identity"), ("main_collective", "main_collective")] {
            if let item = take(setting, fromFlat: &settings) { params.append((Node(parameter), item)) }
        }
        if let hosts = pool(&settings) { params.append(("hosts", hosts)) }
        if !settings.isEmpty { params.append(("settings", .mapping(settings))) }
        return (params, unmapped)
    }

    /// server.cfg's broker pool (`plugin.activemq.pool.1.host`, …) as our `hosts`, taken out of the settings.
    private static func pool(_ settings: inout Node.Mapping) -> Node? {
        var hosts: [Node] = []
        for connector in ["activemq", "rabbitmq"] {
            let prefix = "plugin.\(connector).pool."
            _ = take(prefix + "size", fromFlat: &settings)
            for index in 1...64 {
                var broker: [(Node, Node)] = []
                for field in ["host", "port", "user", "password"] {
                    if let value = take(prefix + "\(index).\(field)", fromFlat: &settings) { broker.append((Node(field), value)) }
                }
                guard !broker.isEmpty else { break }
                hosts.append(.mapping(Node.Mapping(broker)))
            }
        }
        return hosts.isEmpty ? nil : .sequence(Node.Sequence(hosts))
    }

    /// A key of any puppet.conf section (agent first, then main), taken out of it.
    private static func take(_ name: String, from conf: inout Node.Mapping) -> Node? {
        for section in ["agent", "main"] {
            guard var keys = conf[Node(section)]?.mapping, let found = keys[Node(name)] else { continue }
            keys[Node(name)] = nil
            conf[Node(section)] = keys.isEmpty ? nil : .mapping(keys)
            return found
        }
        return nil
    }

    private static func take(_ name: String, fromFlat settings: inout Node.Mapping) -> Node? {
        guard let found = settings[Node(name)] else { return nil }
        settings[Node(name)] = nil
        return found
    }
}
