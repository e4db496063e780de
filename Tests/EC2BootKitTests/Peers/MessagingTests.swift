import Foundation
import NIOCore
import NIOEmbedded
import Testing
import EC2BootKit
@testable import EC2BootMessaging

/// Debian's real rabbitmq-server, started once for the whole test process on free 127.0.0.1
/// ports from a temp folder (STOMP, STOMP over TLS with a test CA, the management API), with an
/// administrator `fixture-admin` so that no test depends on `guest`.
enum RabbitMQ {
    static let admin = (user: "fixture-admin", password: "fixture-Pass-0")

    static let started: Result<(stomp: Int, stomps: Int, management: Int, tls: String), PeerFailed> = {
        do {
            let dir = try TestEnv.tempDir("rabbitmq")
            let script = TestEnv.repoRoot.appendingPathComponent("scripts/peers/rabbitmq.sh").path
            let result = try runProcess("/bin/bash", [script, dir, String(getpid())], limit: 180)
            let ports = result.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
            guard result.status == 0, ports.count == 3 else { return .failure(PeerFailed(output: result.stderr)) }
            print("rabbitmq: \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            return .success((ports[0], ports[1], ports[2], dir + "/tls"))
        } catch {
            return .failure(PeerFailed(output: "\(error)"))
        }
    }()

    /// The management API's view of an object (curl, not our client).
    static func get(_ path: String) throws -> [String: JSONValue]? {
        let broker = try started.get()
        let result = try runProcess("/usr/bin/curl", ["-s", "-u", "\(admin.user):\(admin.password)", "http://127.0.0.1:\(broker.management)/api/\(path)"])
        return JSONValue(json: Data(result.stdout.utf8))?.object
    }
}

/// A free 127.0.0.1 TCP port.
func freePort() throws -> Int {
    let result = try runProcess("/usr/bin/env", [TestEnv.python, "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
    return Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
}

/// tools/stomp/stomp_sub.py, a STOMP subscriber independent of our client, subscribed (and
/// confirmed by the broker) when init returns.
final class Subscriber {
    let process = Process()
    let output = Pipe()
    private var buffered = Data()

    init(port: Int, vhost: String, login: String, passcode: String, destination: String, count: Int = 1, seconds: Double = 60) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [TestEnv.python, TestEnv.repoRoot.appendingPathComponent("tools/stomp/stomp_sub.py").path, "--port", String(port),
                             "--vhost", vhost, "--login", login, "--passcode", passcode, "--destination", destination,
                             "--count", String(count), "--seconds", String(seconds)]
        process.standardOutput = output
        try process.run()
        let first = readLine()
        guard first == "READY" else { throw PeerFailed(output: "subscriber: \(first ?? "no output")") }
    }

    func readLine() -> String? {
        while true {
            if let newline = buffered.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffered[..<newline], as: UTF8.self)
                buffered.removeSubrange(...newline)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffered.append(chunk)
        }
    }

    /// The messages received until the subscriber ended (after `count`, or its time).
    func messages() -> [(headers: [String: String], body: String)] {
        var out: [(headers: [String: String], body: String)] = []
        while let line = readLine() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            out.append((object["headers"] as? [String: String] ?? [:], object["body"] as? String ?? ""))
        }
        process.waitUntilExit()
        return out
    }

    deinit { if process.isRunning { process.terminate() } }
}

extension PeerTier {
    @Suite struct MessagingTests {
        static let metadata = #"{"ami-id": "ami-5", "instance-id": "i-0feed", "instance-type": "t3.small", "placement": {"availability-zone": "eu-west-1b"}}"#
        func seeded(_ userData: String, name: String = #function) throws -> String {
            try EC2BootKitTests.seededRoot(userData, metadata: Self.metadata, name: name)
        }

        /// With the stand-in `hostname` (mcollective_register names the host with `hostname -f`).
        func boot(_ root: String, _ extra: [String] = []) throws -> ToolResult {
            try run(root, extra, path: try hostnameStandIn(root), limit: 300)
        }

        /// The broker host's user-data (a vhost and a user of the test's own: users are broker-wide,
        /// and tests run at once), run against the shared broker.
        func brokerHost(vhost: String, user: String, password: String, name: String = #function) throws {
            let broker = try RabbitMQ.started.get()
            let root = try seeded("""
                actions:
                  - type: rabbitmq
                    install: false
                    service: false
                    management_url: http://127.0.0.1:\(broker.management)
                    admin: {user: \(RabbitMQ.admin.user), password: \(RabbitMQ.admin.password)}
                    vhost: \(vhost)
                    users:
                      - {name: \(user), password: \(password)}
                    delete_guest: false
                """, name: name + "-broker")
            let result = try boot(root)
            #expect(result.status == 0, "\(result.stderr)")
        }

        // MARK: the broker host

        @Test func rabbitmqHostIsConfiguredThroughTheManagementAPIAndASecondRunChangesNothing() throws {
            let broker = try RabbitMQ.started.get()
            let root = try seeded("""
                actions:
                  - type: rabbitmq
                    install: false
                    service: false
                    management_url: http://127.0.0.1:\(broker.management)
                    stomp_port: 61613
                    admin: {user: admin, password: admin-Pass-1}
                    vhost: /mcollective
                    users:
                      - name: mcollective
                        password: mco-Pass-2
                        tags: [management]
                        permissions: {configure: "^mcollective", write: ".*", read: ".*"}
                    collectives: [mcollective, eu_collective]
                    delete_guest: true
                """)
            let first = try boot(root)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(try RabbitMQ.get("vhosts/%2Fmcollective")?["name"]?.string == "/mcollective")
            let mco = try #require(try RabbitMQ.get("users/mcollective"))
            #expect(ManagementAPI.tags(mco) == ["management"])
            #expect(ManagementAPI.passwordMatches(mco, "mco-Pass-2") && !ManagementAPI.passwordMatches(mco, "other"))
            #expect(try RabbitMQ.get("permissions/%2Fmcollective/mcollective")?["configure"]?.string == "^mcollective")
            #expect(ManagementAPI.tags(try #require(try RabbitMQ.get("users/admin"))) == ["administrator"])
            for (name, kind) in [("mcollective_broadcast", "topic"), ("mcollective_directed", "direct"),
                                 ("eu_collective_broadcast", "topic"), ("eu_collective_directed", "direct")] {
                let exchange = try #require(try RabbitMQ.get("exchanges/%2Fmcollective/\(name)"), "\(name)")
                #expect(exchange["type"]?.string == kind && exchange["durable"] == .bool(true))
            }
            #expect(try RabbitMQ.get("users/guest")?["error"]?.string == "Object Not Found", "guest deleted")
            #expect(first.stderr.contains("deleted guest"))
            #expect(TestEnv.read(root + "/etc/rabbitmq/rabbitmq.conf") == "stomp.listeners.tcp.1 = 0.0.0.0:61613\n")
            let second = try boot(root, ["--force"])
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stderr.contains("RabbitMQ configured: no change"), "\(second.stderr)")
            for secret in ["admin-Pass-1", "mco-Pass-2"] {
                #expect(!first.stderr.contains(secret) && !second.stderr.contains(secret))
                #expect(!(try tool(["status", "--json", "--root", root]).stdout.contains(secret)))
            }
        }

        /// The ActiveMQ broker host's user-data; the test starts the broker from the file it writes.
        static func activemqHost(port: Int, users: String) -> String {
            """
            actions:
              - type: activemq
                install: false
                service: false
                stomp_port: \(port)
                listen_address: 127.0.0.1
                users:
            \(users)
            """
        }

        @Test func activemqHostStartsFromTheGeneratedFileAlone() throws {
            let port = try freePort()
            let root = try seeded(Self.activemqHost(port: port, users: """
                      - {name: mcollective, password: 'mco"<&Pass', groups: [mcollective]}
                      - {name: outsider, password: out-Pass-1, groups: [other]}
                """))
            let result = try boot(root)
            #expect(result.status == 0, "\(result.stderr)")
            let xml = root + "/etc/activemq/instances-available/main/activemq.xml"
            #expect(TestEnv.mode(xml) == 0o640)
            #expect(TestEnv.read(xml)?.contains("password=\"mco&quot;&lt;&amp;Pass\"") == true)
            let started = try runProcess("/bin/bash", [TestEnv.repoRoot.appendingPathComponent("scripts/peers/activemq.sh").path,
                                                       try TestEnv.tempDir("activemq"), xml, String(port), String(getpid())], limit: 180)
            #expect(started.status == 0, "\(started.stderr)")
            let ok = try Subscriber(port: port, vhost: "localhost", login: "mcollective", passcode: "mco\"<&Pass",
                                    destination: "/topic/mcollective.registration.agent", seconds: 1)
            _ = ok.messages()
            for (login, passcode, refusal) in [("outsider", "out-Pass-1", "not authorized to read"), ("mcollective", "wrong", "password is invalid")] {
                #expect(throws: PeerFailed.self) {
                    _ = try Subscriber(port: port, vhost: "localhost", login: login, passcode: passcode, destination: "/topic/mcollective.registration.agent")
                }
                let refused = try runProcess("/usr/bin/env", [TestEnv.python, TestEnv.repoRoot.appendingPathComponent("tools/stomp/stomp_sub.py").path,
                                                              "--port", String(port), "--login", login, "--passcode", passcode,
                                                              "--destination", "/topic/mcollective.registration.agent", "--seconds", "5"])
                #expect(refused.status == 3 && refused.stdout.contains(refusal), "\(refused.stdout)")
            }
            // A node registers with it, and a subscriber of the group receives exactly that.
            let subscriber = try Subscriber(port: port, vhost: "localhost", login: "mcollective", passcode: "mco\"<&Pass",
                                            destination: "/topic/mcollective.registration.agent", count: 2, seconds: 10)
            let node = try seeded(Self.nodeUserData(connector: "activemq", port: port, vhost: "/", user: "mcollective",
                                                    password: "'mco\"<&Pass'"), name: "activemq-node")
            let registered = try boot(node)
            #expect(registered.status == 0, "\(registered.stderr)")
            let messages = subscriber.messages()
            #expect(messages.count == 1 && messages.first?.body.contains("\"identity\":\"web1.example.com\"") == true, "\(messages)")
            #expect(messages.first?.headers["signature"]?.count == 64)
        }

        // MARK: registration

        static func nodeUserData(connector: String, host: String = "127.0.0.1", port: Int, vhost: String, user: String, password: String,
                                 extra: String = "") -> String {
            """
            :facts:
              role: web
            actions:
              - type: mcollective
                connector: \(connector)
                host: \(host)
                port: \(port)
                user: \(user)
                password: \(password)
                vhost: \(vhost)
                psk: psk-Secret-7
                identity: web1.example.com
                install: false
                service: false
              - type: mcollective_register
            \(extra)
            """
        }

        @Test func aNodeRegistersWithRabbitMQAndTheSignatureVerifies() throws {
            let broker = try RabbitMQ.started.get()
            try brokerHost(vhost: "/reg-ok", user: "node-ok", password: "node-Pass-3")
            let subscriber = try Subscriber(port: broker.stomp, vhost: "/reg-ok", login: "node-ok", passcode: "node-Pass-3",
                                            destination: "/exchange/mcollective_broadcast/registration", count: 2, seconds: 15)
            let root = try seeded(Self.nodeUserData(connector: "rabbitmq", port: broker.stomp, vhost: "/reg-ok", user: "node-ok", password: "node-Pass-3"))
            let result = try boot(root)
            #expect(result.status == 0, "\(result.stderr)")
            let messages = subscriber.messages()
            #expect(messages.count == 1, "exactly the node's registration: \(messages)")
            let message = try #require(messages.first)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(message.body.utf8)) as? [String: Any])
            #expect(body["identity"] as? String == "web1.example.com" && body["instance_id"] as? String == "i-0feed")
            #expect(body["collective"] as? String == "mcollective" && body["agent"] as? String == "ec2-boot-init")
            #expect((body["facts"] as? [String: String])?["role"] == "web")
            #expect((body["ec2"] as? [String: String]) == ["region": "eu-west-1", "availability_zone": "eu-west-1b",
                                                           "instance_type": "t3.small", "ami_id": "ami-5"])
            #expect(message.headers["content-type"] == "application/json")
            let hmac = try runProcess("/usr/bin/openssl", ["dgst", "-sha256", "-hmac", "psk-Secret-7", "-r"], stdin: message.body)
            #expect(message.headers["signature"] == String(hmac.stdout.prefix(64)), "the signature is the HMAC of the body")
            #expect(!result.stderr.contains("node-Pass-3") && !result.stderr.contains("psk-Secret-7"))
        }

        @Test func aWrongPasswordFailsAtOnceWithTheBrokersMessage() throws {
            let broker = try RabbitMQ.started.get()
            try brokerHost(vhost: "/reg-bad", user: "node-bad", password: "node-Pass-4")
            let root = try seeded(Self.nodeUserData(connector: "rabbitmq", port: broker.stomp, vhost: "/reg-bad", user: "node-bad",
                                                    password: "wrong-Pass-5"))
            let result = try boot(root)
            #expect(result.status == 1)
            #expect(result.seconds < 10, "no retries after a refusal: \(result.seconds) s")
            #expect(result.stderr.contains("the broker said:") && result.stderr.contains("ccess refused"), "\(result.stderr)")
            #expect(TestEnv.read(root + "/etc/motd")?.contains("failed: action 1 (mcollective_register)") == true)
            #expect(!result.stderr.contains("wrong-Pass-5"))
            #expect(!(try tool(["status", "--json", "--root", root]).stdout.contains("wrong-Pass-5")))
        }

        @Test func aBrokerThatComesUpLateIsWaitedForAndOneThatNeverDoesFailsAtTheDeadline() throws {
            // ActiveMQ started 5 s after the run, on the port the node is told.
            let port = try freePort()
            let broker = try seeded(Self.activemqHost(port: port, users: "      - {name: node, password: node-Pass-6}"), name: "late-broker")
            #expect(try boot(broker).status == 0)
            let root = try seeded(Self.nodeUserData(connector: "activemq", port: port, vhost: "/", user: "node", password: "node-Pass-6",
                                                    extra: "    deadline: 90"))
            let dir = try TestEnv.tempDir("activemq-late")
            let xml = broker + "/etc/activemq/instances-available/main/activemq.xml"
            let script = TestEnv.repoRoot.appendingPathComponent("scripts/peers/activemq.sh").path
            let starter = Thread {
                Thread.sleep(forTimeInterval: 5)
                _ = try? runProcess("/bin/bash", [script, dir, xml, String(port), String(getpid())], limit: 180)
            }
            starter.start()
            let result = try boot(root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.seconds > 5, "it waited for the broker")
            #expect(result.stderr.contains("the broker is not reachable yet"))

            // Never up: a port nobody listens on, a 3 s deadline.
            let never = try seeded(Self.nodeUserData(connector: "activemq", port: try freePort(), vhost: "/", user: "node", password: "x",
                                                     extra: "    deadline: 3"), name: "never")
            let failed = try boot(never)
            #expect(failed.status == 1)
            // Without the 3 s deadline it would retry for the default 120 s; the margin is for a loaded machine.
            #expect(failed.seconds >= 3 && failed.seconds < 40, "failed at the deadline: \(failed.seconds) s")
            #expect(failed.stderr.contains("cannot reach the broker"), "\(failed.stderr)")
        }

        @Test func registrationOverTLSNeedsTheRightCA() throws {
            let broker = try RabbitMQ.started.get()
            try brokerHost(vhost: "/reg-tls", user: "node-tls", password: "node-Pass-8")
            for (client, ok) in [("client", true), ("other-client", false)] {
                let root = try seeded(Self.nodeUserData(connector: "rabbitmq", host: "localhost", port: broker.stomps, vhost: "/reg-tls",
                                                        user: "node-tls", password: "node-Pass-8",
                                                        extra: "    ssl: {ca: \(broker.tls)/ca.pem, cert: \(broker.tls)/\(client).pem, key: \(broker.tls)/\(client).key}\n    deadline: 60"),
                                  name: "tls-\(client)")
                let result = try boot(root)
                #expect(result.status == (ok ? 0 : 1), "\(client): \(result.stderr)")
                if ok {
                    #expect(result.stderr.contains("registered with the broker") && result.stderr.contains("stomp+ssl://localhost"))
                } else {
                    #expect(result.stderr.contains("TLS:") && result.seconds < 30, "refused, not retried until the deadline: \(result.stderr)")
                }
            }
        }

        @Test func sslPuppetUsesThisNodesPuppetCertificates() throws {
            let broker = try RabbitMQ.started.get()
            try brokerHost(vhost: "/reg-puppet", user: "node-puppet", password: "node-Pass-9")
            let root = try seeded(Self.nodeUserData(connector: "rabbitmq", host: "localhost", port: broker.stomps, vhost: "/reg-puppet",
                                                    user: "node-puppet", password: "node-Pass-9", extra: "    ssl: puppet\n    deadline: 60"))
            // Where the puppet action leaves them: puppet.conf's certname, the agent's ssldir (Debian layout).
            try TestEnv.write("[main]\nserver = puppet\ncertname = node1.example.com\n", to: root + "/etc/puppet/puppet.conf")
            let ssl = root + "/var/lib/puppet/ssl"
            for (from, to) in [("ca.pem", "certs/ca.pem"), ("client.pem", "certs/node1.example.com.pem"),
                               ("client.key", "private_keys/node1.example.com.pem")] {
                try TestEnv.write(try #require(TestEnv.read(broker.tls + "/" + from)), to: ssl + "/" + to)
            }
            let result = try boot(root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("registered with the broker") && result.stderr.contains("stomp+ssl://localhost"))
        }
    }
}
