import Foundation
import Testing

extension PeerTier {
    /// The watch channel's second review: a signed command runs only where and when the operator
    /// meant it (no replay onto a node that joined later, none across chroots, none after the clock
    /// went back), nobody squats a node's znodes, and push believes only a node's own result. Each
    /// fails without its fix. A real three-server ensemble (a chroot of its own per test), kazoo
    /// as the other client (anonymous, or a squatter's identity), keys and envelopes by signify-openbsd.
    @Suite struct WatchTrustTests {
        static let chef = #"{"run_list":["recipe[trust]"]}"#

        func groupNode(_ zk: ZooKeeperServers.Fleet, _ id: String, _ group: String) throws -> (WatchNode, Background) {
            let node = try WatchNode(id, zookeeper: zk.connect, watch: "  groups: [\(group)]\n")
            let watcher = try node.start()
            guard eventually(60, { (try? kazoo(zk.connect, ["get", group + "/members/" + id]))?.status == 0 }) else {
                throw PeerFailed(output: node.logText)
            }
            return (node, watcher)
        }

        func groupResult(_ zk: ZooKeeperServers.Fleet, _ group: String, _ id: String) -> [String: Any]? {
            zkJSON(zk.connect, group + "/results/" + id)
        }

        /// Point 1: node A runs grp-1; node B joins later and does not; the same bytes written back
        /// by an anonymous client are a replay on both (B claimed the id when it joined).
        @Test func aGroupCommandIsNotReplayedOntoANodeThatJoinedLater() throws {
            let zk = try ZooKeeperServers.ensemble.get().fleet()
            let group = "/ec2boot/groups/late"
            let (a, watcherA) = try groupNode(zk, "i-0lateA", group)
            let signed = try OperatorKey.shared.get().sign(Self.chef, for: zk.target(group), id: "grp-1")
            #expect(try kazoo(zk.connect, ["set", group + "/command", "-"], stdin: signed).status == 0)
            #expect(eventually(30) { a.runs.count == 2 }, "\(a.logText)")
            let (b, watcherB) = try groupNode(zk, "i-0lateB", group)
            #expect(eventually { b.logText.contains("predates this node; not run") }, "\(b.logText)")
            let standing = try kazoo(zk.connect, ["get", group + "/command"]).stdout
            #expect(try kazoo(zk.connect, ["set", group + "/command", "-"], stdin: standing).status == 0, "anyone may write it: no identities here")
            #expect(eventually(30) { (groupResult(zk, group, "i-0lateB")?["error"] as? String)?.contains("grp-1 already ran here (a replay)") == true },
                    "\(b.logText)")
            #expect(eventually(30) { (groupResult(zk, group, "i-0lateA")?["error"] as? String)?.contains("a replay") == true }, "\(a.logText)")
            #expect(b.runs.isEmpty && a.runs.count == 2, "\(b.runs) \(a.runs)")
            withExtendedLifetime((watcherA, watcherB)) {}
        }

        /// Point 1: an older command of the group (issued before B joined, never standing while B
        /// watched) is refused by its `issued:` time, by name; a new one runs.
        @Test func aGroupCommandIssuedBeforeTheNodeJoinedIsRefused() throws {
            let zk = try ZooKeeperServers.ensemble.get().fleet()
            let group = "/ec2boot/groups/issued"
            let (b, watcher) = try groupNode(zk, "i-0issued", group)
            let key = try OperatorKey.shared.get()
            let old = try key.sign(Self.chef, for: zk.target(group), id: "grp-old", issued: Date().addingTimeInterval(-120))
            _ = try kazoo(zk.connect, ["set", group + "/command", "-"], stdin: old)
            #expect(eventually(30) { (groupResult(zk, group, "i-0issued")?["error"] as? String)?.contains("before this node joined \(group) at") == true },
                    "\(b.logText)")
            #expect(b.runs.isEmpty)
            _ = try kazoo(zk.connect, ["set", group + "/command", "-"], stdin: try key.sign(Self.chef, for: zk.target(group), id: "grp-new"))
            #expect(eventually(30) { b.runs.count == 2 }, "\(b.logText)")
            withExtendedLifetime(watcher) {}
        }

        /// Point 1: the signed target is the znode's whole path, chroot included: a command signed
        /// for the same node path in another chroot (staging's, with prod trusting the same key),
        /// or without one, is refused.
        @Test func aCommandSignedForAnotherChrootIsRefused() throws {
            let zk = try ZooKeeperServers.ensemble.get().fleet()
            let node = try WatchNode("i-0chroot", zookeeper: zk.connect)
            let watcher = try node.start()
            #expect(eventually(30) { zkJSON(zk.connect, node.base + "/alive") != nil }, "\(node.logText)")
            let key = try OperatorKey.shared.get()
            for other in ["/staging" + node.base, node.base] {
                _ = try kazoo(zk.connect, ["set", node.base + "/command", "-"], stdin: try key.sign(Self.chef, for: other))
                #expect(eventually { (zkJSON(zk.connect, node.base + "/result")?["error"] as? String)?.contains("signed for \(other), not for \(zk.target(node.base))") == true },
                        "\(node.logText)")
                _ = try kazoo(zk.connect, ["set", node.base + "/result", "{}"])
            }
            #expect(node.runs.isEmpty)
            withExtendedLifetime(watcher) {}
        }

        /// Point 3: a client that made a node's znode (or a group's command znode) first, with an ACL
        /// of its own: the watcher exits 2 naming it, at once (never a retry loop, never stuck).
        @Test(arguments: ["node", "group command", "node under the fleet's name", "member with a child"])
        func aSquattedZnodeIsAFatalNamedError(_ kind: String) throws {
            let tag = kind.filter(\.isLetter).prefix(12)
            let zk = try ZooKeeperServers.ensemble.get().fleet("squat" + tag)
            let id = "i-0squat" + tag.prefix(5)
            let group = "/ec2boot/groups/sq"
            // The fleet's folders as versions before 0.2.0 left them, open to all; then the squatter.
            for folder in [WatchNode.nodesRoot, "/ec2boot/groups"] { _ = try kazoo(zk.connect, ["create", folder, ""]) }
            var watch = "", held = "digest:squat:rwcda", squatted = WatchNode.nodesRoot + "/" + id
            switch kind {
            case "group command":
                (watch, squatted) = ("  groups: [\(group)]\n", group + "/command")
                #expect(try kazoo(zk.connect, ["create", "--private", squatted, ""], auth: "squat:squat-pw").status == 0)
            case "node under the fleet's name":
                // ZooKeeper shows this node `fleet:x` for the squatter's entry (no ADMIN): the same
                // user name, another password; everyone may add znodes under it, so registering works.
                (watch, held) = ("  auth_file: /etc/zk.auth\n", "digest:fleet:rwcda")
                #expect(try kazoo(zk.connect, ["create", "--private", "--others-create", squatted, ""], auth: "fleet:squat-pw").status == 0)
            case "member with a child":
                // Members are ephemeral (no children): one with a child was made by someone else.
                (watch, squatted) = ("  groups: [\(group)]\n", group + "/members/" + id)
                #expect(try kazoo(zk.connect, ["create", squatted + "/child", ""]).status == 0)
            default:
                #expect(try kazoo(zk.connect, ["create", "--private", squatted, ""], auth: "squat:squat-pw").status == 0)
            }
            let node = try WatchNode(id, zookeeper: zk.connect, watch: watch)
            if kind.contains("fleet") { try node.writeAuth("fleet:fleet-Secret-pw\n") }
            let watcher = try node.start()
            let status = watcher.exited(within: 30)
            #expect(status == 2, "\(String(describing: status)) \(node.logText)")
            if kind == "member with a child" {
                #expect(node.logText.contains("cannot register \(node.base): \(squatted): not empty"), "\(node.logText)")
            } else {
                #expect(node.logText.contains("\(squatted) is held by \(held), not by this node's identity"), "\(node.logText)")
                #expect(node.logText.contains("deleteall \(squatted)"), "\(node.logText)")
            }
        }

        /// Point 3: the shared folders give CREATE to the fleet's identity and the operator's only:
        /// an anonymous client cannot make another node's znode, nor join a group, nor add a result.
        @Test func theSharedFoldersLetNoStrangerCreate() throws {
            let zk = try ZooKeeperServers.ensemble.get().fleet()
            let group = "/ec2boot/groups/closed"
            let node = try WatchNode("i-0closed", zookeeper: zk.connect, watch: "  auth_file: /etc/zk.auth\n  groups: [\(group)]\n")
            try node.writeAuth("fleet:fleet-Secret-pw\n")
            let watcher = try node.start()
            #expect(eventually(30) { zkJSON(zk.connect, node.base + "/alive") != nil }, "\(node.logText)")
            for path in [WatchNode.nodesRoot + "/i-0other", group + "/members/i-0other", group + "/results/i-0other", "/ec2boot/groups/other"] {
                let made = try kazoo(zk.connect, ["create", path, ""])
                #expect(made.status == 3 && made.stdout.contains("NoAuth"), "\(path): \(made.stdout)\(made.stderr)")
            }
            let other = try kazoo(zk.connect, ["create", WatchNode.nodesRoot + "/i-0other", ""], auth: "fleet:fleet-Secret-pw")
            #expect(other.status == 0, "the fleet's identity may: \(other.stdout)")
            withExtendedLifetime(watcher) {}
        }

        /// Point 3: push believes a member's result only when the ACL shows the fleet wrote it; one
        /// a squatter made in an open folder (as versions before 0.2.0 left them) is ignored, named.
        @Test func pushIgnoresAResultTheMemberDidNotWrite() throws {
            let zk = try ZooKeeperServers.ensemble.get().fleet()
            let group = "/ec2boot/groups/forged"
            let (real, watcher) = try groupNode(zk, "i-0real", group)
            #expect(try kazoo(zk.connect, ["create", group + "/members/i-0fake", ""], auth: "squat:squat-pw").status == 0)
            let forged = #"{"command":"push-forged","source":"\#(group)/command","instance_id":"i-0fake","outcome":"ok","exit":0,"started":"","finished":"","actions":[],"output":[]}"#
            #expect(try kazoo(zk.connect, ["create", "--private", group + "/results/i-0fake", forged], auth: "squat:squat-pw").status == 0)
            let key = try OperatorKey.shared.get()
            let pushed = try tool(["push", "--zookeeper", zk.connect, "--group", "forged", "--run-list", "recipe[trust]",
                                   "--sign-key", key.secretFile, "--id", "push-forged", "--wait", "15"])
            #expect(pushed.status == 1, "\(pushed.stdout)\(pushed.stderr)")
            #expect(pushed.stdout.contains("i-0fake\tno answer within 15 s; a result there was ignored: written by digest:squat:rwcda"), "\(pushed.stdout)")
            #expect(pushed.stdout.contains("i-0real\tok") && pushed.stdout.contains("1 of 2 ok, 1 answered"), "\(pushed.stdout)")
            #expect(real.runs.count == 2)
            withExtendedLifetime(watcher) {}
        }

        /// Point 4: the clock stepped back behind the latest admission (an hour, as after a VM
        /// snapshot restore): commands are refused, naming both times, and nothing runs.
        @Test func aClockSteppedBackRefusesCommands() throws {
            let zk = try ZooKeeperServers.ensemble.get().fleet()
            let node = try WatchNode("i-0clock", zookeeper: zk.connect)
            let ahead = Date().addingTimeInterval(3600).timeIntervalSince1970
            try TestEnv.write(#"{"sources": {}, "latest": \#(ahead)}"#, to: node.root + "/var/lib/ec2-boot-init/watch.json")
            chmod(node.root + "/var/lib/ec2-boot-init/watch.json", 0o600)
            let watcher = try node.start()
            #expect(eventually(30) { zkJSON(zk.connect, node.base + "/alive") != nil }, "\(node.logText)")
            try sendSigned(zk.connect, node.base, Self.chef)
            #expect(eventually { (zkJSON(zk.connect, node.base + "/result")?["error"] as? String)?.contains("is behind the latest time it admitted a command at") == true },
                    "\(node.logText)")
            let aheadText = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: ahead.rounded(.down)))
            #expect(node.logText.contains("warning: this node's clock (") && node.logText.contains(aheadText), "\(node.logText)")
            #expect(node.runs.isEmpty)
            withExtendedLifetime(watcher) {}
        }

        /// Point 4: only an admitted command moves the latest time: a write refused (here
        /// unsigned, by a client without the key) leaves it, so a clock that ran ahead while
        /// such writes came cannot hold later commands up.
        @Test func onlyAnAdmittedCommandMovesTheLatestTime() throws {
            let zk = try ZooKeeperServers.ensemble.get().fleet()
            let node = try WatchNode("i-0latest", zookeeper: zk.connect)
            let ledgerFile = node.root + "/var/lib/ec2-boot-init/watch.json"
            let earlier = Date().addingTimeInterval(-3600).timeIntervalSince1970.rounded(.down)
            try TestEnv.write(#"{"sources": {}, "latest": \#(earlier)}"#, to: ledgerFile)
            chmod(ledgerFile, 0o600)
            func latest() -> Double? { TestEnv.json(ledgerFile)?["latest"] as? Double }
            let watcher = try node.start()
            #expect(eventually(30) { zkJSON(zk.connect, node.base + "/alive") != nil }, "\(node.logText)")
            #expect(try kazoo(zk.connect, ["set", node.base + "/command", "run_list: recipe[x]\n"]).status == 0)
            #expect(eventually { (zkJSON(zk.connect, node.base + "/result")?["error"] as? String) != nil }, "\(node.logText)")
            #expect(latest() == earlier, "a refused write moved the latest time: \(String(describing: latest()))")
            try sendSigned(zk.connect, node.base, Self.chef)
            #expect(eventually { (zkJSON(zk.connect, node.base + "/result")?["outcome"] as? String) == "ok" }, "\(node.logText)")
            #expect((latest() ?? 0) > Date().addingTimeInterval(-120).timeIntervalSince1970, "\(String(describing: latest()))")
            withExtendedLifetime(watcher) {}
        }

        /// Point 5: a ledger an older version wrote (a bare mzxid) whose id a rebuilt ZooKeeper
        /// reuses for a new command: the command runs, it is not cleared unrun.
        @Test func anOldLedgerEntryNeverClearsANewCommandUnrun() throws {
            let zk = try ZooKeeperServers.ensemble.get().fleet()
            let node = try WatchNode("i-0oldledger", zookeeper: zk.connect)
            let signed = try OperatorKey.shared.get().sign(Self.chef, for: zk.target(node.base))
            #expect(try kazoo(zk.connect, ["create", node.base + "/command", signed]).status == 0)
            let stat = try kazoo(zk.connect, ["stat", node.base + "/command"]).stdout
            let mzxid = try #require(stat.split(separator: " ").dropFirst().first.map(String.init), "\(stat)")
            let old = #"{"sources": {"\#(node.base)/command": {"handled": ["\#(mzxid)"]}}}"#
            try TestEnv.write(old, to: node.root + "/var/lib/ec2-boot-init/watch.json")
            chmod(node.root + "/var/lib/ec2-boot-init/watch.json", 0o600)
            let watcher = try node.start()
            #expect(eventually(30) { (zkJSON(zk.connect, node.base + "/result")?["outcome"] as? String) == "ok" }, "\(node.logText)")
            #expect(node.runs.count == 2)
            #expect(node.logText.contains("dropped 1 handled-command entries of an older watch.json format"), "\(node.logText)")
            withExtendedLifetime(watcher) {}
        }
    }
}
