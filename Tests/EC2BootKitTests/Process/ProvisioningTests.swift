import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// The shared provisioning pieces (config merging, package and service managers, name
    /// templates) and the mcollective and chef actions. Puppet has its own suite (a real server).
    @Suite struct ProvisioningTests {
        static let metadata = #"{"ami-id": "ami-1", "instance-id": "i-0abc", "local-hostname": "ip-10-0-0-1.internal", "placement": {"availability-zone": "eu-west-1a"}}"#
        func seeded(_ userData: String, config: String = "", name: String = #function) throws -> String {
            try EC2BootKitTests.seededRoot(userData, metadata: Self.metadata, config: config, name: name)
        }


        /// The settings in a `key = value` file, in order.
        func settings(_ text: String) -> [String: String] {
            var out: [String: String] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2 { out[parts[0]] = parts[1] }
            }
            return out
        }

        // MARK: config merging

        @Test func mergeReplacesInPlaceKeepsTheRestAndAddsPerSection() {
            let before = """
                # the operator's comment
                [main]
                server = old.example.com   
                logdir = /var/log/puppet
                server = duplicate.example.com

                [agent]
                ; another comment
                report = true
                """
            let merged = ConfigMerge.merge(before, [
                .init("main", "server", "puppet.example.com"), .init("agent", "environment", "prod"),
                .init("main", "certname", "i-1"), .init("user", "color", "false"),
            ])
            #expect(merged == """
                # the operator's comment
                [main]
                server = puppet.example.com
                logdir = /var/log/puppet
                certname = i-1

                [agent]
                ; another comment
                report = true
                environment = prod

                [user]
                color = false

                """)
            // Merging again changes nothing.
            #expect(ConfigMerge.merge(merged, [.init("main", "server", "puppet.example.com"), .init("user", "color", "false")]) == merged)
            #expect(ConfigMerge.merge("", [.init(nil, "a", "1")]) == "a = 1\n")
            #expect(ConfigMerge.merge("", [.init(nil, "libdir", "/default"), .init(nil, "b", "2"), .init(nil, "libdir", "/mine")])
                    == "b = 2\nlibdir = /mine\n", "a key given twice is written once, the later value")
        }

        @Test func applyKeepsTheOriginalOnceThenWritesNothingWhenUnchanged() throws {
            let dir = try TestEnv.tempDir()
            let path = dir + "/server.cfg"
            try TestEnv.write("# package default\nloglevel = warn\nidentity = x\n", to: path)
            chmod(path, 0o600)
            chown(path, 65534, 65534)
            #expect(try ConfigMerge.apply([.init(nil, "identity", "web1")], to: path))
            #expect(TestEnv.read(path + ".orig") == "# package default\nloglevel = warn\nidentity = x\n")
            #expect(TestEnv.read(path) == "# package default\nloglevel = warn\nidentity = web1\n")
            var info = stat()
            stat(path, &info)
            #expect(info.st_uid == 65534 && info.st_gid == 65534 && info.st_mode & 0o7777 == 0o600)
            let inode = info.st_ino
            #expect(try !ConfigMerge.apply([.init(nil, "identity", "web1")], to: path))
            stat(path, &info)
            #expect(info.st_ino == inode, "an unchanged file is not rewritten")
            #expect(try ConfigMerge.apply([.init(nil, "identity", "web2")], to: path, mode: 0o640))
            #expect(TestEnv.read(path + ".orig") == "# package default\nloglevel = warn\nidentity = x\n", "the .orig is the first original")
            #expect(TestEnv.mode(path) == 0o640)
        }

        @Test func nameTemplates() {
            let names = NameTemplate(instanceID: "i-9", fqdn: "web1.example.com", region: "eu-west-1")
            #expect(names.expand("%h-%i.%r") == "web1-i-9.eu-west-1")
            #expect(names.expand("%f") == "web1.example.com")
            #expect(names.expand("100%%") == "100%")
            #expect(NameTemplate.check("%x") != nil && NameTemplate.check("a%") != nil && NameTemplate.check("%i%%") == nil)
        }

        @Test func osReleasePicksThePackageManager() throws {
            let dir = try TestEnv.tempDir()
            for (text, kind) in [("ID=debian\n", PackageManager.Kind.apt), ("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", .apt),
                                 ("ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n", .zypper), ("ID=alpine\n", .none)] {
                try TestEnv.write(text, to: dir + "/os-release")
                #expect(PackageManager.detect(osRelease: dir + "/os-release") == kind, "\(text)")
            }
        }

        // MARK: package and service managers, through stand-ins for apt and systemctl
        // (the host's own must not change under a test): explicit `packages.manager: apt`.

        /// A folder with `dpkg-query` (mcollective missing), `apt-get` (locked the first `locked`
        /// times) and `systemctl`, each recording its argv and environment.
        func standIns(locked: Int) throws -> String {
            let bin = try TestEnv.tempDir("standins")
            try TestEnv.write("#!/bin/sh\necho \"dpkg-query $*\" >> \(bin)/calls\necho \"dpkg-query: no packages found matching $5\" >&2\nexit 1\n",
                              to: bin + "/dpkg-query")
            try TestEnv.write("""
                #!/bin/sh
                echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> \(bin)/calls
                [ "$1" = update ] && exit 0
                n=$(cat \(bin)/tries 2>/dev/null || echo 0); echo $((n + 1)) > \(bin)/tries
                if [ "$n" -lt \(locked) ]; then
                  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2; exit 100
                fi
                exit 0
                """, to: bin + "/apt-get")
            try TestEnv.write("#!/bin/sh\necho \"systemctl $*\" >> \(bin)/calls\n", to: bin + "/systemctl")
            for name in ["dpkg-query", "apt-get", "systemctl"] { chmod(bin + "/" + name, 0o755) }
            return bin
        }

        static let mco = """
            actions:
              - type: mcollective
                connector: activemq
                host: stomp.example.com
                user: mcollective
                password: pw-Secret-1
                psk: psk-Secret-2
                version: 2.12.5-1
            """

        @Test func aLockedPackageDatabaseIsWaitedForThenTheServiceRestarted() throws {
            let bin = try standIns(locked: 2)
            let root = try seeded(Self.mco, config: "packages: {manager: apt, lock_wait: 60}\nservices: {manager: systemd}\n")
            let result = try run(root, path: bin)
            #expect(result.status == 0, "\(result.stderr)")
            let calls = (TestEnv.read(bin + "/calls") ?? "").split(separator: "\n").map(String.init)
            let install = "apt-get install -y -q -o Dpkg::Options::=--force-confold mcollective=2.12.5-1 DEBIAN_FRONTEND=noninteractive"
            // The root has no apt lists (a fresh image): apt-get update comes first.
            #expect(calls == ["dpkg-query -W -f ${Status} ${Version} mcollective", "apt-get update -q DEBIAN_FRONTEND=noninteractive",
                              install, install, install,
                              "systemctl enable mcollective", "systemctl restart mcollective"], "\(calls)")
            #expect(result.stderr.components(separatedBy: "the package database is locked").count == 3)
        }

        @Test func aLockHeldPastLockWaitFailsTheAction() throws {
            let bin = try standIns(locked: 100)
            let root = try seeded(Self.mco, config: "packages: {manager: apt, lock_wait: 3}\nservices: {manager: systemd}\n")
            let result = try run(root, path: bin)
            #expect(result.status == 1)
            #expect(result.stderr.contains("cannot install mcollective 2.12.5-1"), "\(result.stderr)")
            #expect(!(TestEnv.read(bin + "/calls") ?? "").contains("systemctl"), "no restart after a failed install")
            #expect(!FileManager.default.fileExists(atPath: root + "/etc/mcollective/server.cfg"), "nothing configured")
        }

        // MARK: mcollective

        /// `%h` from `hostname -f`, else from the metadata's local-hostname when the host cannot
        /// name itself. A stand-in `hostname` on PATH says which, so the host's resolver plays no part.
        @Test(arguments: [("web-7.example.internal", 0, "web-7"), ("hostname: Name or service not known", 1, "ip-10-0-0-1")])
        func mcollectiveServerConfigForActiveMQ(hostnameSays: String, hostnameExit: Int, host: String) throws {
            let root = try seeded("""
                :facts:
                  role: web
                actions:
                  - type: mcollective
                    connector: activemq
                    identity: "%h-%i"
                    hosts:
                      - {host: stomp1.example.com, user: mco, password: pw-Secret-1}
                      - host: stomp2.example.com
                        port: 61614
                        user: mco
                        password: pw-Secret-3
                        ssl: {ca: /etc/ssl/ca.pem, cert: /etc/ssl/c.pem, key: /etc/ssl/k.pem}
                    collectives: [mcollective, eu_collective]
                    psk: psk-Secret-2
                    registration: Meta
                    registerinterval: 600
                    classesfile: /var/lib/puppet/state/classes.txt
                    settings:
                      plugin.activemq.heartbeat_interval: 30
                    client: true
                """)
            let result = try run(root, path: try hostnameStandIn(root, says: hostnameSays, exit: hostnameExit))
            #expect(result.status == 0, "\(result.stderr)")
            let cfg = root + "/etc/mcollective/server.cfg"
            let s = settings(try #require(TestEnv.read(cfg)))
            let expected: [String: String] = [
                "connector": "activemq", "plugin.activemq.pool.size": "2",
                "plugin.activemq.pool.1.host": "stomp1.example.com", "plugin.activemq.pool.1.port": "61613",
                "plugin.activemq.pool.1.user": "mco", "plugin.activemq.pool.1.password": "pw-Secret-1", "plugin.activemq.pool.1.ssl": "0",
                "plugin.activemq.pool.2.host": "stomp2.example.com", "plugin.activemq.pool.2.port": "61614",
                "plugin.activemq.pool.2.user": "mco", "plugin.activemq.pool.2.password": "pw-Secret-3", "plugin.activemq.pool.2.ssl": "1",
                "plugin.activemq.pool.2.ssl.ca": "/etc/ssl/ca.pem", "plugin.activemq.pool.2.ssl.cert": "/etc/ssl/c.pem",
                "plugin.activemq.pool.2.ssl.key": "/etc/ssl/k.pem", "plugin.activemq.pool.2.ssl.fallback": "0",
                "collectives": "mcollective,eu_collective", "main_collective": "mcollective",
                "securityprovider": "psk", "plugin.psk": "psk-Secret-2", "identity": "\(host)-i-0abc",
                "factsource": "yaml", "plugin.yaml": "/etc/mcollective/facts.yaml", "registration": "Meta", "registerinterval": "600",
                "classesfile": "/var/lib/puppet/state/classes.txt", "plugin.activemq.heartbeat_interval": "30",
                "libdir": "/usr/share/mcollective/plugins", "logfile": "/var/log/mcollective.log", "loglevel": "info", "daemonize": "1",
            ]
            #expect(s == expected)
            #expect(TestEnv.mode(cfg) == 0o640)
            let client = settings(try #require(TestEnv.read(root + "/etc/mcollective/client.cfg")))
            #expect(client["plugin.activemq.pool.2.password"] == "pw-Secret-3" && client["identity"] == nil && client["plugin.psk"] == "psk-Secret-2")
            #expect(TestEnv.mode(root + "/etc/mcollective/client.cfg") == 0o640)
            let facts = try #require(TestEnv.read(root + "/etc/mcollective/facts.yaml"))
            #expect(facts.contains("\"role\": \"web\""))
            #expect(TestEnv.mode(root + "/etc/mcollective/facts.yaml") == 0o644)
            // Secrets never in the log or the status.
            let status = try tool(["status", "--json", "--root", root])
            for secret in ["pw-Secret-1", "psk-Secret-2", "pw-Secret-3"] {
                #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret) && !status.stdout.contains(secret))
                #expect(!(facts.contains(secret)))
            }
        }

        @Test func mcollectiveRabbitMQMergesIntoTheInstalledFileAndRefreshesFactsEveryBoot() throws {
            let userData = """
                :facts:
                  role: ROLE
                actions:
                  - type: mcollective
                    connector: rabbitmq
                    host: rabbit.example.com
                    user: mco
                    password: pw-Secret-1
                    psk: psk-Secret-2
                    identity: web1.example.com
                """
            let root = try seeded(userData.replacingOccurrences(of: "ROLE", with: "web"))
            let cfg = root + "/etc/mcollective/server.cfg"
            try TestEnv.write("# Installed by the package\nlibdir = /opt/plugins\nconnector = activemq\nplugin.custom.key = kept\n", to: cfg)
            chmod(cfg, 0o644)
            var result = try run(root)
            #expect(result.status == 0, "\(result.stderr)")
            let text = try #require(TestEnv.read(cfg))
            #expect(text.hasPrefix("# Installed by the package\nlibdir = /opt/plugins\nconnector = rabbitmq\nplugin.custom.key = kept\n"))
            let s = settings(text)
            #expect(s["plugin.rabbitmq.vhost"] == "/mcollective" && s["plugin.rabbitmq.pool.1.host"] == "rabbit.example.com"
                    && s["plugin.rabbitmq.pool.1.port"] == "61613" && s["identity"] == "web1.example.com" && s["logfile"] == nil)
            #expect(TestEnv.mode(cfg) == 0o640, "it holds passwords")
            #expect(TestEnv.read(cfg + ".orig")?.hasPrefix("# Installed by the package") == true)
            let configured = try #require(FileManager.default.contents(atPath: cfg))

            // The next boot: the instance's actions are done, but facts.yaml follows the new facts.
            try TestEnv.write(userData.replacingOccurrences(of: "ROLE", with: "db"), to: root + "/seed/user-data")
            result = try run(root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(TestEnv.read(root + "/etc/mcollective/facts.yaml")?.contains("\"role\": \"db\"") == true)
            #expect(FileManager.default.contents(atPath: cfg) == configured, "server.cfg is written on the first boot only")
            let status = try tool(["status", "--json", "--root", root]).stdout
            #expect(status.contains("facts.yaml refreshed"), "\(status)")
        }

        // MARK: chef (chef-client is not packaged for Debian: a recording stand-in runs instead)

        /// A `chef-client` that records its argv and whether the validation key was there, and
        /// exits with `code`.
        func chefClient(exit code: Int) throws -> String {
            let bin = try TestEnv.tempDir("chefbin")
            try TestEnv.write("""
                #!/bin/sh
                printf '%s\\n' "$@" > \(bin)/argv
                [ -f "$EC2BOOT_ROOT/etc/chef/validation.pem" ] && echo present > \(bin)/key-during-run
                exit \(code)
                """, to: bin + "/chef-client")
            chmod(bin + "/chef-client", 0o755)
            return bin
        }

        static let key = "-----BEGIN RSA PRIVATE KEY-----\\nMIIEow-not-a-real-key\\n-----END RSA PRIVATE KEY-----\\n"

        /// Values written to break out of a Ruby string literal, each of which must come back as is.
        static let hostile = #"a"; system("touch /tmp/pwned") #{`id`} \" \\ '"#

        @Test func chefClientRBIsInertRubyAndTheRunGetsTheRightArgv() throws {
            let bin = try chefClient(exit: 0)
            let root = try seeded("""
                actions:
                  - type: chef
                    server_url: "https://chef.example.com/organizations/acme?x=\\"#{1}"
                    validation_name: acme-validator
                    validation_key: "\(Self.key)"
                    node_name: "%i.%r"
                    environment: production
                    run_list: ["recipe[base]", "recipe[nginx::default@1.2.0]", "role[web]"]
                    initial_attributes: {nginx: {port: 8080}}
                    encrypted_data_bag_secret: "s3cret\\nline"
                    ssl_verify_mode: verify_none
                    log_level: info
                """)
            let result = try run(root, path: bin)
            #expect(result.status == 0, "\(result.stderr)")
            let etc = root + "/etc/chef"
            #expect(TestEnv.read(bin + "/argv") == "-c\n\(etc)/client.rb\n-j\n\(etc)/first-boot.json\n-E\nproduction\n")
            #expect(TestEnv.read(bin + "/key-during-run") == "present\n")
            #expect(!FileManager.default.fileExists(atPath: etc + "/validation.pem"), "removed after a successful run")
            #expect(TestEnv.mode(etc + "/encrypted_data_bag_secret") == 0o600)
            #expect(TestEnv.mode(etc + "/client.rb") == 0o644)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(TestEnv.read(etc + "/first-boot.json")!.utf8)) as? [String: Any])
            #expect(json["run_list"] as? [String] == ["recipe[base]", "recipe[nginx::default@1.2.0]", "role[web]"])
            #expect((json["nginx"] as? [String: Any])?["port"] as? Int == 8080)
            let settings = try evaluate(etc + "/client.rb")
            #expect(settings["chef_server_url"] == "https://chef.example.com/organizations/acme?x=\"#{1}")
            #expect(settings["node_name"] == "i-0abc.eu-west-1")
            #expect(settings["validation_key"] == etc + "/validation.pem")
            #expect(settings["ssl_verify_mode"] == ":verify_none")
            #expect(!result.stderr.contains("MIIEow") && !result.stderr.contains("s3cret"))
        }

        /// Evaluates client.rb in real Ruby with a DSL that records each setting (and would record
        /// any other call, such as `system`), after `ruby -c` checks its syntax.
        func evaluate(_ path: String) throws -> [String: String] {
            let check = try runProcess("/usr/bin/env", ["ruby", "-c", path])
            #expect(check.status == 0, "\(check.stderr)")
            let script = """
                require "json"
                class Recorder < BasicObject
                  def initialize; @settings = {}; end
                  def method_missing(name, *args); @settings[name.to_s] = args.map { |a| a.is_a?(::Symbol) ? ":#{a}" : a }.join(","); end
                  def settings; @settings; end
                end
                r = Recorder.new
                r.instance_eval(File.read(ARGV[0]), ARGV[0])
                puts JSON.generate(r.settings)
                """
            let result = try runProcess("/usr/bin/env", ["ruby", "-e", script, path])
            #expect(result.status == 0, "\(result.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String])
        }

        @Test func hostileValuesInClientRBStayStrings() throws {
            // Straight to the writer, with a value no user-data check would let through elsewhere.
            let params = try YAMLDecoding.decode(ChefAction.Params.self, from: try #require(try YAMLDocument.parse("""
                server_url: https://chef.example.com
                validation_name: v
                validation_key: "-----BEGIN KEY-----"
                environment: prod
                """, source: "t", maxNodes: 100, setting: "t")), source: "t")
            let text = ChefAction.clientRB(params, nodeName: Self.hostile + "\n\u{7}\u{2028}end", files: (key: Self.hostile, secret: "x\r\ny"))
            let dir = try TestEnv.tempDir()
            try TestEnv.write(text, to: dir + "/client.rb")
            let settings = try evaluate(dir + "/client.rb")
            #expect(settings["node_name"] == Self.hostile + "\n\u{7}\u{2028}end")
            #expect(settings["validation_key"] == Self.hostile)
            #expect(settings["encrypted_data_bag_secret"] == "x\r\ny")
            #expect(Set(settings.keys) == ["chef_server_url", "validation_client_name", "validation_key", "node_name", "ssl_verify_mode",
                                           "environment", "encrypted_data_bag_secret"], "no call but the settings")
            #expect(!FileManager.default.fileExists(atPath: "/tmp/pwned"))
        }

        @Test func aFailedChefRunKeepsTheValidationKey() throws {
            let bin = try chefClient(exit: 3)
            let root = try seeded("""
                actions:
                  - type: chef
                    server_url: https://chef.example.com
                    validation_name: acme-validator
                    validation_key: "\(Self.key)"
                """)
            let result = try run(root, path: bin)
            #expect(result.status == 1)
            #expect(result.stderr.contains("validation.pem kept"), "\(result.stderr)")
            #expect(TestEnv.mode(root + "/etc/chef/validation.pem") == 0o600)
            #expect(TestEnv.read(bin + "/argv") == "-c\n\(root)/etc/chef/client.rb\n-j\n\(root)/etc/chef/first-boot.json\n")
        }

        @Test func chefValidationKeyFromAURLIsPinnedBySHA256() throws {
            let key = "-----BEGIN RSA PRIVATE KEY-----\nfrom-the-web\n-----END RSA PRIVATE KEY-----\n"
            let (sim, root) = try serve(["validation.pem": key])
            let sha = SHA256Hex.of(key)
            for (pin, code) in [(String(repeating: "0", count: 64), Int32(1)), (sha, 0)] {
                let bin = try chefClient(exit: 0)
                try TestEnv.write("""
                    actions:
                      - type: chef
                        server_url: https://chef.example.com
                        validation_name: v
                        validation_key_url: \(sim.url)/files/validation.pem
                        sha256: \(pin)
                        delete_validation_after_run: false
                    """, to: root + "/seed/user-data")
                let result = try run(root, ["--force"], path: bin)
                #expect(result.status == code, "\(result.stderr)")
                if code == 0 {
                    #expect(TestEnv.read(root + "/etc/chef/validation.pem") == key)
                    #expect(TestEnv.mode(root + "/etc/chef/validation.pem") == 0o600)
                } else {
                    #expect(result.stderr.contains("sha256"), "\(result.stderr)")
                    #expect(!FileManager.default.fileExists(atPath: bin + "/argv"), "chef-client not run without its key")
                }
            }
        }

        // MARK: validate

        @Test func validateReportsEveryMistakeWithItsPlaceAndRunsNothing() throws {
            let root = try makeRoot()
            let userData = """
                actions:
                  - type: mcollective
                    connector: zeromq
                  - type: mcollective
                    connector: activemq
                    host: stomp
                    psk: ""
                  - type: mcollective
                    connector: activemq
                    host: stomp
                    psk: x
                    identity: "web 1"
                  - type: puppet
                    server: puppet
                    certname: "Web_%q"
                  - type: puppet
                    port: 8140
                  - type: chef
                    server_url: http://chef.example.com
                    validation_name: v
                    validation_key: x
                  - type: chef
                    server_url: https://chef.example.com
                    validation_name: v
                    validation_key_url: https://example.com/v.pem
                  - type: chef
                    server_url: https://chef.example.com
                    validation_name: v
                    validation_key: "-----BEGIN"
                    run_list: ["recipe[ok]", "nginx"]
                  - type: chef
                    server_url: https://chef.example.com
                    validation_name: v
                    validation_key: "-----BEGIN"
                    omnibus: true
                  - type: shell
                    command: touch ROOT/ran
                """.replacingOccurrences(of: "ROOT", with: root)
            let result = try tool(["validate", "-"], stdin: userData)
            #expect(result.status == 2)
            let expected = [
                ":3:5: actions[0].connector: expected one of activemq, rabbitmq",
                ":7:5: actions[1].psk: expected a pre-shared key, not nothing",
                ":12:5: actions[2].identity: must match ^[\\w.-]+$",
                ":15:5: actions[3].certname: unknown %q",
                ":16:5: actions[4].server: missing (required)",
                ":19:5: actions[5].server_url: expected an https URL",
                ":22:5: actions[6].sha256: validation_key_url needs the key's sha256",
                ":30:5: actions[7].run_list: nginx: expected recipe[cookbook]",
                ":35:5: actions[8].omnibus: the omnibus installer is not supported",
            ]
            for text in expected { #expect(result.stdout.contains(text) || result.stderr.contains(text), "\(text)\n\(result.stdout)\(result.stderr)") }
            try TestEnv.write(#"{"instance-id": "i-1"}"#, to: root + "/seed/meta-data.json")
            try TestEnv.write(userData, to: root + "/seed/user-data")
            let boot = try tool(["run", "--root", root, "--seed", root + "/seed"])
            #expect(boot.status == 2)
            #expect(!FileManager.default.fileExists(atPath: root + "/ran"))
            #expect(!FileManager.default.fileExists(atPath: root + "/etc/mcollective"))
        }
    }

    enum SHA256Hex {
        static func of(_ text: String) -> String {
            let result = try? runProcess("/usr/bin/sha256sum", [], stdin: text)
            return String(result?.stdout.prefix(64) ?? "")
        }
    }
}
