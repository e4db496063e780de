import Foundation
import Testing

extension PeerTier {
    /// `watch`, `push` and `nodes` against real ZooKeeper servers; commands are written by kazoo
    /// (a second, independent client) as well as by our push. chef-client is a recording stand-in.
    @Suite struct WatchTests {
        static let chefCommand = #"{"run_list":["recipe[cookbook_c]"]}"#

        /// The documented scenario: an operator signs a run list with signify-openbsd alone and a
        /// plain ZooKeeper client writes it; chef-client runs once with exactly it, the command is
        /// cleared, the result says exit 0 and signed.
        @Test func aRunListWrittenByAnotherClientRunsChefOnceAndIsCleared() throws {
            let zk = try ZooKeeperServers.shared.get()
            let node = try WatchNode("i-0doc", zookeeper: zk.connect)
            let notify = try NotifySocket()
            let watcher = try node.start(environment: ["NOTIFY_SOCKET": notify.path])
            let base = "/ec2boot/nodes/i-0doc"
            #expect(notify.receive(within: 20) == "READY=1", "Type=notify: ready once registered")
            #expect(zkJSON(zk.connect, base + "/alive") != nil, "registered before it said ready: \(node.logText)")
            let alive = try #require(zkJSON(zk.connect, base + "/alive"))
            #expect(alive["instance_id"] as? String == "i-0doc")
            #expect((alive["facts"] as? [String: String])?["role"] == "web")
            let written = try sendSigned(zk.connect, base, Self.chefCommand)
            #expect(written.status == 0, "\(written.stdout)\(written.stderr)")
            #expect(eventually { zkJSON(zk.connect, base + "/result") != nil }, "\(node.logText)")
            let result = try #require(zkJSON(zk.connect, base + "/result"))
            #expect(result["exit"] as? Int == 0 && result["outcome"] as? String == "ok", "\(result)")
            #expect(result["signed"] as? Bool == true, "\(result)")
            #expect(((result["output"] as? [String]) ?? []).contains { $0.contains("converged") }, "\(result)")
            #expect(node.runs == [#"start {"run_list":["recipe[cookbook_c]"]}"#, #"end {"run_list":["recipe[cookbook_c]"]}"#])
            #expect(try kazoo(zk.connect, ["get", base + "/command"]).stdout == "", "the command is cleared")
            // The clear fires the watch again; an empty command runs nothing.
            usleep(500_000)
            #expect(node.runs.count == 2)
            let commandStatus = try tool(["status", "--command", "--root", node.root])
            #expect(commandStatus.status == 0 && commandStatus.stdout.contains("chef_run"), "\(commandStatus.stdout)\(commandStatus.stderr)")
            let listed = try tool(["nodes", "--zookeeper", zk.connect])
            #expect(listed.status == 0 && listed.stdout.contains("i-0doc") && listed.stdout.contains("last: ok"), "\(listed.stdout)\(listed.stderr)")
            watcher.stop(SIGTERM)
            #expect(try kazoo(zk.connect, ["get", base + "/alive"]).status == 4, "a stopped watcher's presence goes at once")
        }

        /// A command written while one runs waits for it and runs next; nothing runs twice.
        @Test func aCommandWrittenDuringARunIsKeptAndRunsNext() throws {
            let zk = try ZooKeeperServers.shared.get()
            let node = try WatchNode("i-0busy", zookeeper: zk.connect)
            try TestEnv.write("2", to: node.root + "/chef-sleep")
            let watcher = try node.start()
            let base = "/ec2boot/nodes/i-0busy"
            #expect(eventually { zkJSON(zk.connect, base + "/alive") != nil })
            try sendSigned(zk.connect, base, #"{"run_list":["recipe[first]"]}"#)
            #expect(eventually { node.runs.count == 1 }, "\(node.logText)")
            try sendSigned(zk.connect, base, #"{"run_list":["recipe[second]"]}"#)
            #expect(eventually(30) { node.runs.count == 4 && (try? kazoo(zk.connect, ["get", base + "/command"]).stdout) == "" }, "\(node.logText)")
            usleep(1_000_000)
            #expect(node.runs == [#"start {"run_list":["recipe[first]"]}"#, #"end {"run_list":["recipe[first]"]}"#,
                                  #"start {"run_list":["recipe[second]"]}"#, #"end {"run_list":["recipe[second]"]}"#], "\(node.logText)")
            withExtendedLifetime(watcher) {}
        }

        /// A command that arrives while a boot run holds the lock waits for it, then runs.
        @Test func aCommandWaitsForTheBootRunsLock() throws {
            let zk = try ZooKeeperServers.shared.get()
            let node = try WatchNode("i-0lock", zookeeper: zk.connect)
            let base = "/ec2boot/nodes/i-0lock"
            let watcher = try node.start()
            #expect(eventually { zkJSON(zk.connect, base + "/alive") != nil })
            let holder = try Background("/usr/bin/flock", [node.root + "/run/ec2-boot-init.lock", "sleep", "4"],
                                        environment: ProcessInfo.processInfo.environment, log: node.root + "/flock.log")
            usleep(300_000)
            _ = try sendSigned(zk.connect, base, Self.chefCommand)
            #expect(eventually { node.logText.contains("holds") }, "the watcher says who it waits for: \(node.logText)")
            #expect(node.runs.isEmpty, "nothing runs while the boot run holds the lock")
            holder.stop(SIGKILL)
            #expect(eventually { node.runs.count == 2 }, "\(node.logText)")
            withExtendedLifetime(watcher) {}
        }

        /// kill -9 mid-run, then a restart: the interrupted command is reported, not run again;
        /// the finished one before it is not repeated either.
        @Test func aWatcherKilledMidRunReportsTheInterruptedCommandAndRepeatsNothing() throws {
            let zk = try ZooKeeperServers.shared.get()
            let node = try WatchNode("i-0kill", zookeeper: zk.connect)
            let base = "/ec2boot/nodes/i-0kill"
            var watcher = try node.start()
            #expect(eventually { zkJSON(zk.connect, base + "/alive") != nil })
            try sendSigned(zk.connect, base, #"{"run_list":["recipe[done]"]}"#)
            #expect(eventually { node.runs.count == 2 && zkJSON(zk.connect, base + "/result") != nil })
            try TestEnv.write("30", to: node.root + "/chef-sleep")
            try sendSigned(zk.connect, base, #"{"run_list":["recipe[slow]"]}"#)
            #expect(eventually { node.runs.count == 3 })
            watcher.stop(SIGKILL)
            try TestEnv.write("0", to: node.root + "/chef-sleep")
            watcher = try node.start()
            #expect(eventually { (zkJSON(zk.connect, base + "/result")?["outcome"] as? String) == "interrupted" }, "\(node.logText)")
            #expect(eventually { (try? kazoo(zk.connect, ["get", base + "/command"]).stdout) == "" })
            usleep(1_000_000)
            #expect(node.runs.filter { $0.hasPrefix("start") } == [#"start {"run_list":["recipe[done]"]}"#, #"start {"run_list":["recipe[slow]"]}"#],
                    "\(node.runs)")
            withExtendedLifetime(watcher) {}
        }

        /// Each refused command (signed, but its body is bad) gets an error result, and nothing runs.
        @Test(arguments: [
            ("not json {", "expected {\"run_list\""),
            (#"{"run_list": ["recipe[a]""#, "invalid YAML"),
            ("- type: shell\n  command: touch /tmp/pwned\n", "not allowed"),
            (#"{"run_list":["recipe[x];touch /tmp/pwned"]}"#, "expected recipe"),
            (#"{"run_list":["recipe[$(id)]"]}"#, "expected recipe"),
        ])
        func aBadCommandIsRefusedAndNothingRuns(command: String, reason: String) throws {
            let zk = try ZooKeeperServers.shared.get()
            let id = "i-0bad\(abs(command.hashValue) % 100_000)"
            let node = try WatchNode(id, zookeeper: zk.connect)
            let base = node.base
            let watcher = try node.start()
            #expect(eventually { zkJSON(zk.connect, base + "/alive") != nil })
            let written = try sendSigned(zk.connect, base, command)
            #expect(written.status == 0, "\(written.stdout)\(written.stderr)")
            #expect(eventually { zkJSON(zk.connect, base + "/result") != nil }, "\(node.logText)")
            let result = try #require(zkJSON(zk.connect, base + "/result"))
            #expect(result["outcome"] as? String == "refused" && result["exit"] as? Int == 2, "\(result)")
            #expect((result["error"] as? String ?? "").contains(reason), "\(result)")
            #expect(node.runs.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: "/tmp/pwned"))
            withExtendedLifetime(watcher) {}
        }

        /// ZooKeeper down when the watcher starts: it waits, warns at a bounded rate, and works
        /// once ZooKeeper is up.
        @Test func aWatcherStartedBeforeZooKeeperWaitsAndThenWorks() throws {
            let port = try freePort()
            let node = try WatchNode("i-0late", zookeeper: "127.0.0.1:\(port)")
            let watcher = try node.start()
            sleep(6)
            let warnings = node.logText.split(separator: "\n").filter { $0.contains("not answering") }
            #expect((1...4).contains(warnings.count), "backoff, not a line per attempt: \(warnings.count)")
            let zk = try ZooKeeperServers(port: port)
            let base = "/ec2boot/nodes/i-0late"
            #expect(eventually(90) { zkJSON(zk.connect, base + "/alive") != nil }, "\(node.logText)")
            _ = try sendSigned(zk.connect, base, Self.chefCommand)
            #expect(eventually { node.runs.count == 2 }, "\(node.logText)")
            withExtendedLifetime(watcher) {}
        }

        /// The session expires while the watcher is stopped (SIGSTOP past the session timeout);
        /// continued, it starts a new session: presence and watches come back.
        @Test func afterSessionExpiryPresenceAndWatchesComeBack() throws {
            let zk = try ZooKeeperServers.shared.get()
            let node = try WatchNode("i-0expire", zookeeper: zk.connect)
            let base = "/ec2boot/nodes/i-0expire"
            let watcher = try node.start()
            #expect(eventually { zkJSON(zk.connect, base + "/alive") != nil })
            watcher.signal(SIGSTOP)
            #expect(eventually(20) { (try? kazoo(zk.connect, ["get", base + "/alive"]))?.status == 4 }, "ZooKeeper expires the session")
            watcher.signal(SIGCONT)
            #expect(eventually(30) { zkJSON(zk.connect, base + "/alive") != nil }, "\(node.logText)")
            #expect(node.logText.contains("session expired"))
            _ = try sendSigned(zk.connect, base, Self.chefCommand)
            #expect(eventually { node.runs.count == 2 }, "\(node.logText)")
            withExtendedLifetime(watcher) {}
        }

        /// Three servers; the leader is killed while the node watches; the next command still runs.
        @Test func theNextCommandRunsAfterTheLeaderIsKilled() throws {
            let zk = try ZooKeeperServers(servers: 3)
            let node = try WatchNode("i-0leader", zookeeper: zk.connect)
            let base = "/ec2boot/nodes/i-0leader"
            let watcher = try node.start()
            #expect(eventually(30) { zkJSON(zk.connect, base + "/alive") != nil }, "\(node.logText)")
            let leader = try #require(zk.leader())
            kill(leader.pid, SIGKILL)
            let push = try tool(["push", "--zookeeper", zk.connect, "--node", "i-0leader", "--run-list", "recipe[after]", "--wait", "60",
                                 "--sign-key", try OperatorKey.shared.get().secretFile])
            #expect(push.status == 0, "\(push.stdout)\(push.stderr)\n\(node.logText)")
            #expect(node.runs.contains(#"end {"run_list":["recipe[after]"]}"#))
            withExtendedLifetime(watcher) {}
        }

        /// A group push to 20 watcher processes, signed for the group: each runs exactly once, push reports 20 of 20.
        @Test func aGroupPushReachesEveryMemberOnce() throws {
            let zk = try ZooKeeperServers.shared.get()
            let count = 20
            let nodes = try (0..<count).map {
                try WatchNode(String(format: "i-0grp%02d", $0), zookeeper: zk.connect, watch: "  groups: [/ec2boot/groups/web]\n")
            }
            let watchers = try nodes.map { try $0.start() }
            #expect(eventually(60) { nodes.allSatisfy { $0.logText.contains("registered in ZooKeeper") } })
            let members = try kazoo(zk.connect, ["children", "/ec2boot/groups/web/members"]).stdout.split(separator: "\n")
            #expect(members.count == count, "\(members)")
            let push = try tool(["push", "--zookeeper", zk.connect, "--group", "web", "--run-list", "recipe[fleet]", "--wait", "120",
                                 "--sign-key", try OperatorKey.shared.get().secretFile])
            #expect(push.status == 0, "\(push.stdout)\(push.stderr)")
            #expect(push.stdout.contains("\(count) of \(count) ok"), "\(push.stdout)")
            #expect(nodes.allSatisfy { $0.runs == [#"start {"run_list":["recipe[fleet]"]}"#, #"end {"run_list":["recipe[fleet]"]}"#] })
            #expect(try kazoo(zk.connect, ["get", "/ec2boot/groups/web/command"]).stdout.contains("fleet"), "a node never clears a group's command")
            withExtendedLifetime(watchers) {}
        }
    }
}
