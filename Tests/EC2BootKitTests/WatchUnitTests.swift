import Foundation
import Testing
@testable import EC2BootCoordination
@testable import EC2BootKit

/// The watch service's pure parts: settings merging and command checking, without ZooKeeper.
@Suite struct WatchUnitTests {
    @Test func userDataWatchKeysWinOverConfigOneByOneInEitherSpelling() throws {
        var config = WatchSettings()
        config.zookeeper = "10.0.0.1:2181,10.0.0.2:2181/prod"
        config.groups = ["/ec2boot/groups/all"]
        let userData = UserData.parse(Data(":watch:\n  :groups: [/ec2boot/groups/db]\n  :allow: [chef_run, shell]\n".utf8),
                                      limits: UserDataSettings())
        let target = try WatchTarget.resolve(config: config, userData: userData, instanceID: "i-1")
        #expect(target.hosts == "10.0.0.1:2181,10.0.0.2:2181/prod")
        #expect(target.groups == ["/ec2boot/groups/db"])
        #expect(target.allow == ["chef_run", "shell"])
        #expect(target.node == "/ec2boot/nodes/i-1")
        #expect(try WatchTarget.resolve(config: config, userData: UserData(), instanceID: "i-1").allow == ["chef_run", "puppet_run"])
        let bad = UserData.parse(Data("watch:\n  node: ../etc\n".utf8), limits: UserDataSettings())
        #expect(throws: WatchSetupError.self) { try WatchTarget.resolve(config: config, userData: bad, instanceID: "i-1") }
        #expect(throws: WatchSetupError.self) { try WatchTarget.resolve(config: WatchSettings(), userData: UserData(), instanceID: "i-1") }
    }

    @Test func theChefFormBecomesChefRunWithTheOtherKeysAsAttributes() throws {
        let command = try #require(try Command.parse(Data(#"{"run_list":["recipe[a::b]","role[web]"],"nginx":{"port":8080}}"#.utf8),
                                                     allow: Command.defaultAllow))
        #expect(command.actions.map(\.type) == ["chef_run"])
        let params = try #require(try JSONSerialization.jsonObject(with: command.actions[0].paramsJSON) as? [String: Any])
        #expect(params["run_list"] as? [String] == ["recipe[a::b]", "role[web]"])
        #expect(((params["attributes"] as? [String: Any])?["nginx"] as? [String: Int])?["port"] == 8080)
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
}
