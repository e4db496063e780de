import Foundation
import Testing

extension PeerTier {
    /// The re-run channel closed: only commands signed by the operator for this node (or its group),
    /// unexpired and never seen before, run; ZooKeeper's ACLs keep others from overwriting a node's
    /// znodes; the watcher's own bounds. A real three-server ZooKeeper ensemble (started once for the
    /// suite), kazoo as the other client, keys and signatures made by signify-openbsd.
    @Suite struct WatchSecurityTests {
        static let chef = #"{"run_list":["recipe[secure]"]}"#

        /// A registered watcher on a node of its own.
        func started(_ id: String, watch: String = "", function: String = #function) throws -> (ZooKeeperServers.Fleet, WatchNode, Background) {
            let zk = try ZooKeeperServers.ensemble.get().fleet(function)
            let node = try WatchNode(id, zookeeper: zk.connect, watch: watch)
            let watcher = try node.start()
            guard eventually(30, { zkJSON(zk.connect, node.base + "/alive") != nil }) else { throw PeerFailed(output: node.logText) }
            return (zk, node, watcher)
        }

        func result(_ zk: ZooKeeperServers.Fleet, _ node: WatchNode) -> [String: Any]? {
            _ = eventually { zkJSON(zk.connect, node.base + "/result") != nil }
            return zkJSON(zk.connect, node.base + "/result")
        }

        /// Each way a command can be wrong is refused with its reason, and nothing runs.
        @Test(arguments: ["unsigned", "tampered", "other key", "other node", "expired", "a day ahead", "bad header", "garbage"])
        func aCommandThatIsNotTheOperatorsForThisNodeIsRefused(_ kind: String) throws {
            let (zk, node, watcher) = try started("i-0ref\(kind.filter(\.isLetter).prefix(10))")
            let key = try OperatorKey.shared.get()
            let data: String, reason: String
            switch kind {
            case "unsigned": (data, reason) = (Self.chef, "unsigned command refused")
            case "tampered":
                data = try key.sign(Self.chef, for: zk.target(node.base)).replacingOccurrences(of: "secure", with: "evil")
                reason = "does not match"
            case "other key": (data, reason) = (try OperatorKey().sign(Self.chef, for: zk.target(node.base)), "not in watch.public_keys")
            case "other node": (data, reason) = (try key.sign(Self.chef, for: "/ec2boot/nodes/i-0other"), "signed for /ec2boot/nodes/i-0other")
            case "expired": (data, reason) = (try key.sign(Self.chef, for: zk.target(node.base), expires: Date().addingTimeInterval(-5)), "expired at")
            case "a day ahead":
                (data, reason) = (try key.sign(Self.chef, for: zk.target(node.base), expires: Date().addingTimeInterval(90_000)), "more than a day ahead")
            case "bad header": (data, reason) = (try key.signMessage("target: \(zk.target(node.base))\nid: x\nrun: now\n\n\(Self.chef)"), "unknown header run")
            default: (data, reason) = (String(repeating: "x", count: 1_000_000), "bytes")
            }
            let written = try kazoo(zk.connect, ["set", node.base + "/command", "-"], stdin: data)
            #expect(written.status == 0, "\(written.stdout)\(written.stderr)")
            let answer = try #require(result(zk, node), "\(node.logText)")
            #expect(answer["outcome"] as? String == "refused" && answer["exit"] as? Int == 2, "\(answer)")
            #expect((answer["error"] as? String ?? "").contains(reason), "\(answer)")
            #expect(node.runs.isEmpty)
            // The watcher lives on: a good command still runs.
            #expect(try sendSigned(zk.connect, node.base, Self.chef).status == 0)
            #expect(eventually { node.runs.count == 2 }, "\(node.logText)")
            withExtendedLifetime(watcher) {}
        }

        /// A command signed (by signify alone) for a group runs once on every member; the same
        /// signed bytes written to a member's own command are refused there (signed for the group).
        @Test func aGroupCommandSignedForTheGroupRunsOnceOnEachMember() throws {
            let zk = try ZooKeeperServers.ensemble.get().fleet()
            let group = "/ec2boot/groups/signed"
            let nodes = try (0..<3).map { try WatchNode("i-0sg\($0)", zookeeper: zk.connect, watch: "  groups: [\(group)]\n") }
            let watchers = try nodes.map { try $0.start() }
            #expect(eventually(60) { (try? kazoo(zk.connect, ["children", group + "/members"]))?.stdout.split(separator: "\n").count == 3 })
            let signed = try OperatorKey.shared.get().sign(Self.chef, for: zk.target(group))
            #expect(try kazoo(zk.connect, ["set", group + "/command", "-"], stdin: signed).status == 0)
            #expect(eventually(60) { nodes.allSatisfy { $0.runs.count == 2 } }, "\(nodes.map(\.logText))")
            _ = try kazoo(zk.connect, ["set", nodes[0].base + "/command", "-"], stdin: signed)
            #expect(eventually { (zkJSON(zk.connect, nodes[0].base + "/result")?["error"] as? String)?.contains("signed for \(zk.target(group))") == true })
            usleep(500_000)
            #expect(nodes.allSatisfy { $0.runs.count == 2 }, "each member ran it once")
            withExtendedLifetime(watchers) {}
        }

        /// The same signed bytes written again, and the same id in new bytes: refused as replays; one run only.
        @Test func aReplayedCommandRunsOnce() throws {
            let (zk, node, watcher) = try started("i-0replay")
            let key = try OperatorKey.shared.get()
            let signed = try key.sign(Self.chef, for: zk.target(node.base), id: "replay-1")
            _ = try kazoo(zk.connect, ["set", node.base + "/command", "-"], stdin: signed)
            #expect(eventually { (zkJSON(zk.connect, node.base + "/result")?["outcome"] as? String) == "ok" }, "\(node.logText)")
            for again in [signed, try key.sign(#"{"run_list":["recipe[other]"]}"#, for: zk.target(node.base), id: "replay-1")] {
                _ = try kazoo(zk.connect, ["set", node.base + "/command", "-"], stdin: again)
                #expect(eventually { (zkJSON(zk.connect, node.base + "/result")?["outcome"] as? String) == "refused" }, "\(node.logText)")
                let error = zkJSON(zk.connect, node.base + "/result")?["error"] as? String
                #expect(error?.contains("already ran here") == true, "\(error ?? "")")
                _ = try kazoo(zk.connect, ["set", node.base + "/result", "{}"])  // the next refusal is a new answer
            }
            #expect(node.runs.count == 2, "one run only: \(node.runs)")
            withExtendedLifetime(watcher) {}
        }

        /// `require_signature: false` runs unsigned commands, says so at start, and marks each result.
        @Test func unsignedCommandsRunOnlyWhenAskedForWithAWarning() throws {
            let (zk, node, watcher) = try started("i-0unsigned", watch: "  require_signature: false\n")
            #expect(node.logText.contains("watch.require_signature is off"), "\(node.logText)")
            _ = try kazoo(zk.connect, ["set", node.base + "/command", Self.chef])
            let answer = try #require(result(zk, node))
            #expect(answer["outcome"] as? String == "ok" && answer["signed"] as? Bool == false, "\(answer)")
            withExtendedLifetime(watcher) {}
        }

        /// With an auth file and the operator's identity: nobody but the operator writes `command`,
        /// not an anonymous client, not the node's own identity; the operator's signed command runs.
        @Test func onlyTheOperatorsIdentityWritesACommand() throws {
            let zk = try ZooKeeperServers.ensemble.get().fleet()
            // ZooKeeper's digest id of ops:ops-Secret-pw, as docs/watch.md shows how to make with openssl.
            let id = try runProcess("/bin/sh", ["-c", "printf %s 'ops:ops-Secret-pw' | openssl dgst -binary -sha1 | openssl base64"])
            let node = try WatchNode("i-0acl", zookeeper: zk.connect,
                                     watch: "  auth_file: /etc/zk.auth\n  operator: \"ops:\(id.stdout.trimmingCharacters(in: .whitespacesAndNewlines))\"\n")
            try node.writeAuth("node-user:node-Secret-pw\n")
            let watcher = try node.start()
            #expect(eventually { zkJSON(zk.connect, node.base + "/alive") != nil }, "\(node.logText)")
            let anonymous = try sendSigned(zk.connect, node.base, Self.chef)
            #expect(anonymous.status == 3 && anonymous.stdout.contains("NoAuth"), "\(anonymous.stdout)\(anonymous.stderr)")
            #expect(try sendSigned(zk.connect, node.base, Self.chef, auth: "node-user:node-Secret-pw").status == 3, "the node's identity may not")
            #expect(try sendSigned(zk.connect, node.base, Self.chef, auth: "ops:ops-Secret-pw").status == 0)
            #expect(eventually { node.runs.count == 2 }, "\(node.logText)")
            #expect(!node.logText.contains("Secret-pw"))
            #expect(!(try kazoo(zk.connect, ["get", node.base + "/result"]).stdout.contains("Secret-pw")))
            withExtendedLifetime(watcher) {}
        }

        /// A command znode someone made beforehand, open to all: reported at start and set right.
        @Test func aPrecreatedWorldWritableCommandIsReportedAndRepaired() throws {
            let zk = try ZooKeeperServers.ensemble.get().fleet()
            #expect(try kazoo(zk.connect, ["create", "/ec2boot/nodes/i-0pre/command", ""]).status == 0)
            #expect(try kazoo(zk.connect, ["acl", "/ec2boot/nodes/i-0pre/command"]).stdout.contains("world anyone 31"))
            let node = try WatchNode("i-0pre", zookeeper: zk.connect, watch: "  auth_file: /etc/zk.auth\n")
            try node.writeAuth("node-user:node-pw\n")
            let watcher = try node.start()
            #expect(eventually { node.logText.contains("could be written by others (world:anyone:rwcda)") }, "\(node.logText)")
            let acl = try kazoo(zk.connect, ["acl", "/ec2boot/nodes/i-0pre/command"]).stdout
            #expect(acl.contains("world anyone 1") && acl.contains("digest node-user:") && !acl.contains("world anyone 31"), "\(acl)")
            #expect(try sendSigned(zk.connect, node.base, Self.chef).status == 3, "now refused to anonymous writers")
            withExtendedLifetime(watcher) {}
        }

        /// Settings that leave a node open stop the watch unit from starting, with the reason.
        /// The key files too (a path in `public_keys`): whoever may change one makes root run their
        /// commands, so it gets the auth file's rules: root's, nobody else writing it or a folder on
        /// its way (a sticky /tmp included), no symlink.
        @Test(arguments: [("0644", "is mode 644"), ("inline", "an inline password is refused"), ("no keys", "watch.public_keys is empty"),
                          ("operator alone", "watch.operator needs watch.auth_file"),
                          ("key 0666", "watch.public_keys /etc/keys/op.pub is mode 666 owned by uid 0; it must be root's and writable by root alone"),
                          ("key in 1777", "watch.public_keys /tmp/op.pub: its folder /tmp is mode 1777"),
                          ("key symlink", "watch.public_keys /etc/keys/link.pub is a symlink"),
                          ("key not root's", "watch.public_keys /etc/keys/nobody.pub is mode 644 owned by uid 65534; it must be root's and writable by root alone"),
                          ("auth in 0777", "watch.auth_file /srv/zk.auth: its folder /srv is mode 777")])
        func unsafeSettingsAreRefused(_ kind: String, _ reason: String) throws {
            let line = try OperatorKey.shared.get().publicLine
            let root = try makeRoot("unsafe", config: "watch:\n  zookeeper: 127.0.0.1:1\n" + [
                "0644": "  public_keys: [\"\(line)\"]\n  auth_file: /etc/zk.auth\n",
                "inline": "  public_keys: [\"\(line)\"]\n  auth:\n    user: ops\n    password: pw\n",
                "no keys": "",
                "operator alone": "  public_keys: [\"\(line)\"]\n  operator: \"ops:F8PNk4Kq0+cQ7ziNGzzpr7MSeqY=\"\n",
                "key 0666": "  public_keys: [/etc/keys/op.pub]\n",
                "key in 1777": "  public_keys: [/tmp/op.pub]\n",
                "key symlink": "  public_keys: [/etc/keys/link.pub]\n",
                "key not root's": "  public_keys: [/etc/keys/nobody.pub]\n",
                "auth in 0777": "  public_keys: [\"\(line)\"]\n  auth_file: /srv/zk.auth\n",
            ][kind]!)
            try TestEnv.write(#"{"instance-id": "i-0unsafe"}"#, to: root + "/seed/meta-data.json")
            try TestEnv.write("", to: root + "/seed/user-data")
            try TestEnv.write("node-user:pw\n", to: root + "/etc/zk.auth")
            chmod(root + "/etc/zk.auth", 0o644)
            let pub = try #require(TestEnv.read(try OperatorKey.shared.get().publicFile))
            for file in ["/etc/keys/op.pub", "/tmp/op.pub", "/etc/keys/nobody.pub"] { try TestEnv.write(pub, to: root + file) }
            chown(root + "/etc/keys/nobody.pub", 65534, 65534)
            chmod(root + "/etc/keys/nobody.pub", 0o644)
            chmod(root + "/etc/keys/op.pub", 0o666)
            chmod(root + "/tmp", 0o1777)
            chmod(root + "/tmp/op.pub", 0o644)
            symlink(root + "/tmp/op.pub", root + "/etc/keys/link.pub")
            try TestEnv.write("node-user:pw\n", to: root + "/srv/zk.auth")
            chmod(root + "/srv/zk.auth", 0o600)
            chmod(root + "/srv", 0o777)
            #expect(try tool(["run", "--root", root, "--seed", root + "/seed"]).status == 0, "the boot is not held up by watch settings")
            let check = try tool(["watch", "--check", "--root", root])
            #expect(check.status == 255 && check.stderr.contains(reason), "\(check.status) \(check.stderr)")
            let watch = try tool(["watch", "--root", root])
            #expect(watch.status == 2 && watch.stderr.contains(reason), "\(watch.status) \(watch.stderr)")
        }

        /// A second watcher on the same root says who runs and exits 2.
        @Test func oneWatcherPerRoot() throws {
            let (_, node, watcher) = try started("i-0twice")
            let second = try runProcess(TestEnv.binary, ["watch", "--root", node.root], limit: 30)
            #expect(second.status == 2 && second.stderr.contains("pid \(watcher.pid)"), "\(second.status) \(second.stderr)")
        }

        /// 10 MB of output: the result stays under 256 KiB, and the watcher takes the next command.
        @Test func aHugeOutputGivesABoundedResult() throws {
            let (zk, node, watcher) = try started("i-0huge", watch: "  allow: [shell, chef_run]\n")
            _ = try sendSigned(zk.connect, node.base, "- type: shell\n  command: \"yes $(printf %0400d 0) | head -c 10000000\"\n")
            #expect(eventually(60) { zkJSON(zk.connect, node.base + "/result") != nil }, "\(node.logText)")
            let raw = try kazoo(zk.connect, ["get", node.base + "/result"]).stdout
            #expect(raw.utf8.count < 256 * 1024 && raw.contains("\"outcome\":\"ok\""), "\(raw.utf8.count) bytes")
            _ = try sendSigned(zk.connect, node.base, Self.chef)
            #expect(eventually { node.runs.count == 2 }, "\(node.logText)")
            withExtendedLifetime(watcher) {}
        }

        /// A private key an action prints reaches neither the result nor the log.
        @Test func aPEMBlockInTheOutputIsRedacted() throws {
            let (zk, node, watcher) = try started("i-0pem", watch: "  allow: [shell]\n")
            let script = "printf -- '-----BEGIN RSA PRIVATE KEY-----\\nMIIEsecretKEYbody1\\nMIIEsecretKEYbody2\\n-----END RSA PRIVATE KEY-----\\nafter\\n'"
            _ = try sendSigned(zk.connect, node.base, "- type: shell\n  command: \"\(script)\"\n")
            let raw = try #require(result(zk, node).flatMap { try? JSONSerialization.data(withJSONObject: $0) }).map { String(decoding: $0, as: UTF8.self) }
            #expect(raw?.contains("after") == true && raw?.contains("redacted PEM block") == true, "\(raw ?? "")")
            #expect(raw?.contains("secretKEY") == false && !node.logText.contains("secretKEY"), "\(raw ?? "")")
            withExtendedLifetime(watcher) {}
        }

        /// SIGTERM mid-run of a command marked `rerun_if_interrupted`: it runs again after the restart.
        @Test func aCommandStoppedBySIGTERMRunsAgainAfterRestart() throws {
            var (zk, node, watcher) = try started("i-0term")
            try TestEnv.write("30", to: node.root + "/chef-sleep")
            let command = "actions:\n  - type: chef_run\n    run_list: [\"recipe[again]\"]\nrerun_if_interrupted: true\n"
            _ = try sendSigned(zk.connect, node.base, command)
            #expect(eventually { node.runs.count == 1 }, "\(node.logText)")
            #expect(watcher.stop(SIGTERM) == 0, "\(node.logText)")
            try TestEnv.write("0", to: node.root + "/chef-sleep")
            watcher = try node.start()
            #expect(eventually(30) { node.runs.filter { $0.hasPrefix("end") }.count == 1 }, "\(node.runs) \(node.logText)")
            #expect(node.runs.filter { $0.hasPrefix("start") }.count == 2, "\(node.runs)")
            #expect(eventually { (zkJSON(zk.connect, node.base + "/result")?["outcome"] as? String) == "ok" })
            withExtendedLifetime(watcher) {}
        }

        /// An action that leaves a daemon holding its output: no descriptor or thread stays behind in the watcher.
        @Test func aDaemonizingChildLeaksNothing() throws {
            let (zk, node, watcher) = try started("i-0daemon", watch: "  allow: [shell]\n")
            func counts() -> (fds: Int, threads: Int) {
                let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(watcher.pid)/fd").count) ?? -1
                let status = TestEnv.read("/proc/\(watcher.pid)/status") ?? ""
                let threads = status.split(separator: "\n").first { $0.hasPrefix("Threads:") }.flatMap { Int($0.split(separator: "\t").last ?? "") } ?? -1
                return (fds, threads)
            }
            func daemon(_ n: Int) throws {
                _ = try sendSigned(zk.connect, node.base, "- type: shell\n  command: \"sleep 60 & echo started \(n)\"\n")
                #expect(eventually(30) { (zkJSON(zk.connect, node.base + "/result")?["output"] as? [String])?.contains { $0.contains("started \(n)") } == true },
                        "\(node.logText)")
            }
            try daemon(0)
            usleep(500_000)
            let before = counts()
            for n in 1...4 { try daemon(n) }
            usleep(500_000)
            let after = counts()
            #expect(before.fds > 0 && after.fds <= before.fds, "descriptors \(before.fds) → \(after.fds)")
            #expect(after.threads <= before.threads + 2, "threads \(before.threads) → \(after.threads)")
            withExtendedLifetime(watcher) {}
        }

        /// ZooKeeper data is whoever wrote it: `nodes` and `push` print no control character from it.
        @Test func nodesPrintsNoControlCharacters() throws {
            let zk = try ZooKeeperServers.ensemble.get().fleet()
            let alive = #"{"hostname": "evil\u001b]0;owned\u0007\u001b[2J", "since": "x\u009b31m"}"#
            #expect(try kazoo(zk.connect, ["create", "/ec2boot/nodes/i-0esc/alive", alive]).status == 0)
            let listed = try tool(["nodes", "--zookeeper", zk.connect])
            #expect(listed.status == 0 && listed.stdout.contains("evil\\x1b]0;owned\\x7\\x1b[2J"), "\(listed.stdout)")
            #expect(!listed.stdout.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 || $0.value == 0x9b }, "\(listed.stdout)")
        }
    }
}
