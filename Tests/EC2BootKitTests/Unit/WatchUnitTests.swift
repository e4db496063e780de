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

        /// What push signs, signify-openbsd verifies (`-V -e`), and the node opens; a secret key
        /// made by signify is read as signify writes it.
        @Test func pushesSignatureIsSignifysOwnFormat() throws {
            let key = try OperatorKey()
            let secret = try Signify.secretKey(try #require(TestEnv.read(key.secretFile)))
            let command = Data(#"{"run_list":["recipe[a]"]}"#.utf8)
            let sealed = try SignedCommand.seal(command, target: "/ec2boot/nodes/i-1", expires: Date().addingTimeInterval(60), id: "u-1", key: secret)
            let file = try TestEnv.tempDir("sealed") + "/cmd.signed"
            try sealed.write(to: URL(fileURLWithPath: file))
            let verified = try runProcess("/usr/bin/signify-openbsd", ["-V", "-e", "-p", key.publicFile, "-x", file, "-m", file + ".msg"])
            #expect(verified.status == 0, "\(verified.stderr)")
            #expect(TestEnv.read(file + ".msg")?.hasSuffix("\n\n" + String(decoding: command, as: UTF8.self)) == true)
            let opened = try SignedCommand.open(sealed, keys: [try Signify.publicKey(key.publicLine)], target: "/ec2boot/nodes/i-1")
            #expect(opened.id == "u-1" && opened.body == command)
            #expect(throws: CommandRefused.self) { try SignedCommand.open(sealed, keys: [try Signify.publicKey(key.publicLine)], target: "/ec2boot/nodes/i-2") }
            #expect(throws: Signify.Problem.self) { try Signify.secretKey(try #require(TestEnv.read(key.publicFile))) }
        }

        /// A rebuilt ZooKeeper starts its write ids over: the same mzxid with other bytes is a new
        /// command; a signed id is taken once, until it expires.
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
            let later = ledger.claim("id-1", expires: now.addingTimeInterval(200), now: now.addingTimeInterval(120))
            #expect(taken && !replayed, "a replay is refused")
            #expect(later, "forgotten once expired (a replay then is refused as expired)")
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
