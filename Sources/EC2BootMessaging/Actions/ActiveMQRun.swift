import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// What `ActiveMQAction` does, in the broker helper.
extension ActiveMQAction {
    static func perform(_ params: Params, context: ActionContext) async -> ActionResult {
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
            try FileSystem.makeDirectories(file.parentFolder, mode: 0o755)
            try AtomicFile.write(xml(params), to: file, mode: 0o640, owner: owner)
            if params.configPath.hasPrefix("/etc/activemq/instances-available/") {
                let instance = params.configPath.parentFolder
                let link = paths.host("/etc/activemq/instances-enabled/" + instance.baseName)
                if !FileSystem.exists(link) {
                    try FileSystem.makeDirectories(link.parentFolder, mode: 0o755)
                    guard symlink("../instances-available/" + instance.baseName, link) == 0 else {
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
