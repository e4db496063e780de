import EC2BootKit
import Foundation

/// `type: activemq`: makes this node the MCollective middleware with ActiveMQ. Writes a complete
/// `activemq.xml` (the broker starts from it alone): users and groups, an authorization map
/// that gives the `mcollective` group its collectives' topics and queues and everyone the
/// advisory topics and nothing else, and the STOMP connector. Then (re)starts the broker and
/// waits until STOMP takes a CONNECT.
public struct ActiveMQAction: Action {
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

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        if let failure = await params.setup.installPackage(context) { return ActionResult(.failed, message: failure) }
        let paths = context.run.paths
        let file = paths.host(params.configPath)
        do {
            // 0640 and the broker's group: the passwords are in it, and the broker runs as activemq.
            // Debian ships the file root:root 0644; the broker, running as activemq, must still read it.
            var info = stat()
            let uid = stat(file, &info) == 0 ? info.st_uid : 0
            let gid = getgrnam("activemq").map { $0.pointee.gr_gid } ?? (uid == 0 ? 0 : info.st_gid)
            let owner: (uid_t, gid_t)? = (uid, gid)
            try FileSystem.makeDirectories((file as NSString).deletingLastPathComponent, mode: 0o755)
            try AtomicFile.write(xml(params), to: file, mode: 0o640, owner: owner)
            if params.configPath.hasPrefix("/etc/activemq/instances-available/") {
                let instance = (params.configPath as NSString).deletingLastPathComponent
                let link = paths.host("/etc/activemq/instances-enabled/" + (instance as NSString).lastPathComponent)
                if !FileSystem.exists(link) {
                    try FileSystem.makeDirectories((link as NSString).deletingLastPathComponent, mode: 0o755)
                    guard symlink("../instances-available/" + (instance as NSString).lastPathComponent, link) == 0 else {
                        throw FileSystemError.posix("enable the instance at \(link)", errno)
                    }
                }
            }
        } catch {
            return ActionResult(.failed, message: "cannot write \(file): \(error)")
        }
        context.logger.info("wrote the ActiveMQ configuration", metadata: ["file": "\(file)", "users": "\(params.users.count)"])
        guard params.setup.service else { return ActionResult(.ok) }
        if let failure = await params.setup.restartService("activemq", context) { return ActionResult(.failed, message: failure) }
        guard ServiceManager(context.run).kind != .none else { return ActionResult(.ok) }
        // Up means a STOMP CONNECT with the first user succeeds.
        let user = params.users[0]
        let host = ["0.0.0.0", "::"].contains(params.listenAddress) ? "127.0.0.1" : params.listenAddress
        let endpoint = StompEndpoint(host: host, port: params.stompPort, login: user.name, passcode: user.password)
        do {
            try await StompClient.withSession(endpoint, deadline: params.wait, logger: context.logger) { _ in }
        } catch {
            return ActionResult(.failed, message: "ActiveMQ did not take a STOMP CONNECT within \(Int(params.wait)) s: \(error)")
        }
        return ActionResult(.ok)
    }

    static func xml(_ p: Params) -> String {
        var users = ""
        for user in p.users {
            let groups = Array(Set(user.groups + ["everyone"])).sorted().joined(separator: ",")
            users += "          <authenticationUser username=\"\(escape(user.name))\" password=\"\(escape(user.password))\" groups=\"\(escape(groups))\"/>\n"
        }
        var entries = ""
        for collective in p.collectives {
            for kind in ["topic", "queue"] {
                entries += "            <authorizationEntry \(kind)=\"\(collective).>\" read=\"mcollective\" write=\"mcollective\" admin=\"mcollective\"/>\n"
            }
        }
        entries += "            <authorizationEntry topic=\"ActiveMQ.Advisory.>\" read=\"everyone\" write=\"everyone\" admin=\"everyone\"/>\n"
        var connectors = "      <transportConnector name=\"stomp\" uri=\"stomp+nio://\(p.listenAddress):\(p.stompPort)\"/>\n"
        var sslContext = ""
        if let ssl = p.stompSSL {
            connectors += "      <transportConnector name=\"stomp+ssl\" uri=\"stomp+ssl://\(p.listenAddress):\(ssl.port)?needClientAuth=true\"/>\n"
            sslContext = """
                    <sslContext>
                      <sslContext keyStore="\(escape(ssl.keystore))" keyStorePassword="\(escape(ssl.keystorePassword))"
                                  trustStore="\(escape(ssl.truststore))" trustStorePassword="\(escape(ssl.truststorePassword))"/>
                    </sslContext>

                """
        }
        if p.openwire { connectors += "      <transportConnector name=\"openwire\" uri=\"tcp://\(p.listenAddress):61616\"/>\n" }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- Written by ec2-boot-init (activemq action): the MCollective middleware. Changes are lost when it runs again. -->
            <beans xmlns="http://www.springframework.org/schema/beans"
                   xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                   xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd
                                       http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
              <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer"/>
              <broker xmlns="http://activemq.apache.org/schema/core" brokerName="\(p.brokerName)" useJmx="false"
                      dataDirectory="${activemq.data}" schedulePeriodForDestinationPurge="60000">
                <persistenceAdapter>
                  <kahaDB directory="${activemq.data}/kahadb"/>
                </persistenceAdapter>
                <plugins>
                  <simpleAuthenticationPlugin>
                    <users>
            \(users)        </users>
                  </simpleAuthenticationPlugin>
                  <authorizationPlugin>
                    <map>
                      <authorizationMap>
                        <authorizationEntries>
            \(entries)            </authorizationEntries>
                      </authorizationMap>
                    </map>
                  </authorizationPlugin>
                </plugins>
            \(sslContext)    <transportConnectors>
            \(connectors)    </transportConnectors>
              </broker>
            </beans>

            """
    }

    /// XML attribute text: a `"`, `<` or `&` in a password is only text.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension KeyedDecodingContainer {
    /// A value for activemq.xml: Spring would read `${…}` as a placeholder and put something else
    /// there, and XML 1.0 has no way to write most control characters.
    func springSafe(_ value: String, _ key: Key) throws {
        guard !value.contains("${") else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "must not contain ${ (a Spring placeholder)")
        }
        try checkLine(value, key)
    }
}
