import Foundation
import Testing
@testable import EC2BootCoordination
@testable import EC2BootKit

extension UnitTier {
    /// The watch service's pure parts: settings merging and command checking, without ZooKeeper.
    @Suite struct WatchUnitTests {
        @Test func userDataWatchKeysWinOverConfigOneByOneInEitherSpelling() throws {
            var config = WatchSettings()
            config.requireSignature = false
            config.zookeeper = "10.0.0.1:2181,10.0.0.2:2181/prod"
            config.groups = ["/ec2boot/groups/all"]
            let userData = UserData.parse(Data(":watch:\n  :groups: [/ec2boot/groups/db]\n  :allow: [chef_run, shell]\n".utf8),
                                          limits: UserDataSettings())
            let target = try WatchTarget.resolve(config: config, userData: userData, instanceID: "i-1", paths: Paths(root: "/"))
            #expect(target.hosts == "10.0.0.1:2181,10.0.0.2:2181/prod")
            #expect(target.groups == ["/ec2boot/groups/db"])
            #expect(target.allow == ["chef_run", "shell"])
            #expect(target.node == "/ec2boot/nodes/i-1")
            #expect(try WatchTarget.resolve(config: config, userData: UserData(), instanceID: "i-1", paths: Paths(root: "/")).allow == ["chef_run", "puppet_run"])
            let bad = UserData.parse(Data("watch:\n  node: ../etc\n".utf8), limits: UserDataSettings())
            #expect(throws: WatchSetupError.self) { try WatchTarget.resolve(config: config, userData: bad, instanceID: "i-1", paths: Paths(root: "/")) }
            #expect(throws: WatchSetupError.self) { try WatchTarget.resolve(config: WatchSettings(), userData: UserData(), instanceID: "i-1", paths: Paths(root: "/")) }
        }

        @Test func theChefFormBecomesChefRunWithTheOtherKeysAsAttributes() throws {
            let command = try #require(try Command.parse(Data(#"{"run_list":["recipe[a::b]","role[web]"],"nginx":{"port":8080}}"#.utf8),
                                                         allow: Command.defaultAllow))
            #expect(command.actions.map(\.type) == ["chef_run"])
            let params = try #require(command.actions[0].params as? ChefRunAction.Params)
            #expect(params.runList == ["recipe[a::b]", "role[web]"])
            #expect(params.attributes == ["nginx": .object(["port": .int(8080)])])
            #expect(!command.rerunIfInterrupted)
        }

        @Test func anActionListInYAMLWithItsOptions() throws {
            let text = "actions:\n  - type: puppet_run\n    tags: [nginx, \"apache::mod\"]\nrerun_if_interrupted: true\n"
            let command = try #require(try Command.parse(Data(text.utf8), allow: Command.defaultAllow))
            #expect(command.actions.map(\.type) == ["puppet_run"] && command.rerunIfInterrupted)
            #expect(try Command.parse(Data("  \n".utf8), allow: nil) == nil, "an empty command is none")
            for refused in ["actions: []\n", "actions:\n  - type: chef_run\n    run_list: []\n", "{actions: [], when: now}",
                            "- type: puppet_run\n  tags: [\"a b\"]\n", "- type: getactions\n  url: http://x/\n"] {
                #expect(throws: CommandRefused.self, "\(refused)") { try Command.parse(Data(refused.utf8), allow: Command.defaultAllow) }
            }
        }

        @Test func aDigestIdentityMatchesZooKeepersOwnDigest() {
            // From ZooKeeper's DigestAuthenticationProvider.generateDigest("super:test").
            #expect(ZKDigest(user: "super", password: "test").aclID == "super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
            #expect(ZKDigest("ops:pa:ss")?.description == "ops:<password>")
        }

        /// A rebuilt ZooKeeper starts its write ids over: the same mzxid with other bytes is a new
        /// command; a signed id is taken once, and kept a day past its expiry.
        @Test func aReusedMzxidIsANewWriteAndAnIdIsTakenOnce() {
            var ledger = CommandLedger()
            var stat = ZKStat(mzxid: 0x2a, version: 1, mtime: 0, dataLength: 3, ephemeralOwner: 0)
            let first = WriteKey(stat, Data("one".utf8))
            ledger.finished(first, at: "/n/command")
            #expect(ledger.verdict(first, at: "/n/command", isGroup: false) == .done)
            stat.version = 5
            #expect(ledger.verdict(WriteKey(stat, Data("two".utf8)), at: "/n/command", isGroup: false) == .run)
            let now = Date()
            let taken = ledger.claim("id-1", expires: now.addingTimeInterval(60), now: now)
            let replayed = ledger.claim("id-1", expires: now.addingTimeInterval(60), now: now)
            let pastExpiry = ledger.claim("id-1", expires: now.addingTimeInterval(60), now: now.addingTimeInterval(3600))
            let pastMargin = ledger.claim("id-1", expires: now.addingTimeInterval(200), now: now.addingTimeInterval(60 + CommandLedger.idMargin + 1))
            #expect(taken && !replayed, "a replay is refused")
            #expect(!pastExpiry, "kept past its expiry: a clock stepped back by less than the margin still finds it")
            #expect(pastMargin, "forgotten after the margin (a replay then is refused as expired, or by the clock rule)")
        }

        /// Each situation of the ledger's decisions, one row: (what is recorded, the write seen) → verdict.
        @Test(arguments: [
            ("unknown node source", false, false, CommandLedger.Verdict.run),
            ("unknown group source", false, true, .joinedAfter),
            ("handled write", true, false, .done),
        ])
        func verdicts(_ name: String, _ handled: Bool, _ isGroup: Bool, _ expected: CommandLedger.Verdict) {
            var ledger = CommandLedger()
            let key = WriteKey(ZKStat(mzxid: 7, version: 1, mtime: 0, dataLength: 1, ephemeralOwner: 0), Data("x".utf8))
            if handled { ledger.finished(key, at: "/p/command") }
            #expect(ledger.verdict(key, at: "/p/command", isGroup: isGroup) == expected, "\(name)")
        }

        /// An older version's bare mzxids are dropped on load (a rebuilt ZooKeeper reuses them), so
        /// they never clear a new command unrun; write keys and signed ids stay; a group known
        /// without a join time is joined now.
        @Test func anOldLedgerIsMigrated() throws {
            let old = #"{"sources": {"/n/command": {"handled": ["2a", "2b-0011223344556677"], "running": "2c"}, "/g/command": {"handled": []}}, "ids": {"x": 1e12}}"#
            let ledger = try JSONDecoder().decode(CommandLedger.self, from: Data(old.utf8))
            let now = Date(timeIntervalSince1970: 1_800_000_000.6)
            let (migrated, dropped) = ledger.migrated(now: now)
            #expect(dropped == 2)
            #expect(migrated.sources["/n/command"]?.handled == ["2b-0011223344556677"] && migrated.sources["/n/command"]?.running == nil)
            #expect(migrated.joined("/g/command") == Date(timeIntervalSince1970: 1_800_000_000), "whole seconds, as issued: is written")
            #expect(migrated.ids == ["x": 1e12])
            let reused = WriteKey(ZKStat(mzxid: 0x2a, version: 1, mtime: 0, dataLength: 3, ephemeralOwner: 0), Data("new".utf8))
            #expect(migrated.verdict(reused, at: "/n/command", isGroup: false) == .run)
        }

        /// A clock behind the latest admission (stepped back) is reported with that time; time
        /// going on is not; only an admission moves the latest time, and never back.
        @Test func aClockSteppedBackIsSeen() {
            var ledger = CommandLedger()
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            #expect(ledger.clockBehind(now) == nil)
            ledger.admitted(at: now.addingTimeInterval(10))
            #expect(ledger.clockBehind(now.addingTimeInterval(10)) == nil)
            #expect(ledger.clockBehind(now) == now.addingTimeInterval(10))
            ledger.admitted(at: now)
            #expect(ledger.latest == now.addingTimeInterval(10).timeIntervalSince1970, "an earlier admission never lowers the latest time")
        }

        @Test(arguments: [("zk1:2181,zk2:2181/staging", "/staging"), ("zk1:2181", ""), ("zk1:2181/a/b/", "/a/b"), ("127.0.0.1:1/", "")])
        func theChrootComesFromTheConnectString(_ hosts: String, _ chroot: String) {
            #expect(WatchTarget.chroot(hosts) == chroot)
        }

        /// Whom `push` believes: a result only those who may create in its folder may write.
        @Test(arguments: [
            ("the fleet's result in the fleet's folder", "digest:fleet:31,digest:ops:31,world:anyone:1", "digest:fleet:31,digest:ops:31,world:anyone:1", true),
            ("the operator's set-up: fleet creates", "digest:fleet:31,digest:ops:31,world:anyone:1", "digest:ops:31,digest:fleet:5,world:anyone:1", true),
            ("open by configuration", "world:anyone:31", "world:anyone:31", true),
            ("a squatter's own identity, old open-create folder", "digest:squat:31,world:anyone:1", "digest:fleet:31,world:anyone:5", false),
            ("a squatter's world-writable result, closed folder", "world:anyone:31", "digest:fleet:31,world:anyone:5", false),
            ("a squatter's identity in an open folder", "digest:squat:31,world:anyone:1", "world:anyone:31", false),
            ("nobody may write it", "world:anyone:1", "world:anyone:31", false),
        ])
        func pushBelievesAResultWrittenByTheFolderCreators(_ name: String, _ result: String, _ folder: String, _ believed: Bool) {
            func acl(_ text: String) -> ZKACL {
                ZKACL(entries: text.split(separator: ",").map { entry in
                    let parts = entry.split(separator: ":").map(String.init)
                    return ZKACL.Entry(perms: Int32(parts[2])!, scheme: parts[0], id: parts[1])
                })
            }
            #expect(acl(result).isWrittenByCreatorsOf(acl(folder)) == believed, "\(name)")
        }

        /// Without an identity the world is the node; with one, the world writing is someone else.
        @Test func othersWritingCountsTheWorldOnlyWhenTheNodeHasAnIdentity() {
            let open = ZKACL.open
            #expect(open.othersWriting([], holder: nil).isEmpty)
            #expect(open.othersWriting(["fleet:x"], holder: "fleet:x").count == 1)
            let squat = ZKACL(entries: [.init(perms: ZKACL.all, scheme: "digest", id: "squat:y"), .init(perms: ZKACL.read, scheme: "world", id: "anyone")])
            #expect(squat.othersWriting([], holder: nil).map(\.id) == ["squat:y"])
            #expect(ZKACL(entries: [.init(perms: ZKACL.read | ZKACL.create, scheme: "world", id: "anyone")]).worldReadOnly.entries.first?.perms == ZKACL.read)
        }

        /// ZooKeeper shows `user:x` for a digest entry to a client without ADMIN on the znode.
        /// Where the node's own identity is among the writers it would have ADMIN, so a redacted
        /// entry is a squatter's, even one under the fleet's user name; on the operator's command
        /// znode (the node only reads it) the operator's entry is matched by its user.
        @Test(arguments: [
            // entry seen,   writers,                        holder,          someone else's
            ("ops:x",        ["ops:OPSHASH"],                "fleet:FLEETHASH", false),
            ("opsx:x",       ["ops:OPSHASH"],                "fleet:FLEETHASH", true),
            ("fleet:x",      ["fleet:FLEETHASH", "ops:OPSHASH"], "fleet:FLEETHASH", true),
            ("ops:x",        ["fleet:FLEETHASH", "ops:OPSHASH"], "fleet:FLEETHASH", true),
            ("fleet:FLEETHASH", ["fleet:FLEETHASH", "ops:OPSHASH"], "fleet:FLEETHASH", false),
            ("fleet:OTHER",  ["fleet:FLEETHASH"],            "fleet:FLEETHASH", true),
        ])
        func aRedactedEntryIsMatchedByUserOnlyWhereTheNodeHasNoAdmin(_ seen: String, _ writers: [String], _ holder: String, _ foreign: Bool) {
            let acl = ZKACL(entries: [.init(perms: ZKACL.all, scheme: "digest", id: seen)])
            #expect(acl.othersWriting(writers, holder: holder).isEmpty != foreign, "\(seen) \(writers)")
        }

        /// However much an action printed or failed with, a result fits in 256 KiB.
        @Test func aResultIsCutTo256KiB() throws {
            let long = String(repeating: "x", count: 300_000)
            let action = RunStatus.ActionStatus(index: 0, type: "shell", frequency: nil, result: .failed, exitCode: 1, durationMS: 1,
                                                message: long, fingerprint: "f")
            let result = CommandResult(command: "id", signed: true, source: "/n/command", instanceID: "i-1", outcome: .failed, exit: 1,
                                       started: "", finished: "", actions: Array(repeating: action, count: 3), error: long,
                                       output: Array(repeating: String(repeating: "y", count: 400), count: 20))
            let json = result.json
            #expect(json.count <= 256 * 1024 && json.count > 1000, "\(json.count)")
            let decoded = try JSONDecoder().decode(CommandResult.self, from: json)
            #expect(decoded.outcome == .failed && decoded.actions.count == 3, "the actions' rows stay; their messages are cut")
        }

        /// A PEM block is dropped from output across its lines, and from a single string whole.
        @Test func pemBlocksAreRedacted() {
            var filter = PEMFilter()
            let lines = ["before", "-----BEGIN OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXk", "-----END OPENSSH PRIVATE KEY-----", "after"]
            let shown = lines.compactMap { filter.pass(Array($0.utf8)) }.map { String(decoding: $0, as: UTF8.self) }
            #expect(shown == ["before", "-----BEGIN … <redacted PEM block>", "after"])
            let text = Redaction.redact("key: -----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE----- done")
            #expect(!text.contains("MIIB") && text.hasSuffix(" done"), "\(text)")
        }
    }
}
