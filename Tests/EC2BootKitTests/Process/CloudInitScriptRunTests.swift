import Foundation
import Testing

extension ProcessTier.CloudInitRunTests {
    /// AWS's "run user data on every boot" recipe as people send it (a MIME saved with CRLF, named
    /// script parts, `cloud_final_modules: [[scripts-user, always]]`), across a first boot, a
    /// reboot and a new instance: the scripts run in the order cloud-init's folders and module
    /// lists give (from cloud-init's own code, truth.py), each as often as its module says.
    static let recipe = """
        Content-Type: multipart/mixed; boundary="//"
        MIME-Version: 1.0

        --//
        Content-Type: text/cloud-config; charset="us-ascii"
        MIME-Version: 1.0
        Content-Transfer-Encoding: 7bit
        Content-Disposition: attachment; filename="cloud-config.txt"

        #cloud-config
        cloud_final_modules:
          - [scripts-user, always]
          - scripts-per-once
          - scripts-per-boot
        runcmd:
          - [sh, -c, echo runcmd >> ROOT/order]

        --//
        Content-Type: text/x-shellscript; charset="us-ascii"
        Content-Disposition: attachment; filename="node-init.sh"

        #!/bin/bash
        [[ -n $BASH_VERSION ]] && echo node-init.sh >> ROOT/order
        --//
        Content-Type: text/x-shellscript; charset="us-ascii"
        Content-Disposition: attachment; filename="01-disks.sh"

        #!/bin/sh
        echo 01-disks.sh >> ROOT/order
        --//
        Content-Type: text/x-shellscript; charset="us-ascii"
        Content-Disposition: attachment; filename="Join.sh"

        #!/bin/sh
        echo Join.sh >> ROOT/order
        --//
        Content-Type: text/x-shellscript-per-once
        Content-Disposition: attachment; filename="once-a.sh"

        #!/bin/sh
        echo once >> ROOT/order
        --//
        Content-Type: text/x-shellscript-per-once
        Content-Disposition: attachment; filename="once-b.sh"

        #!/bin/sh
        echo once >> ROOT/order
        --//
        Content-Type: text/x-shellscript-per-instance
        Content-Disposition: attachment; filename="left-out.sh"

        #!/bin/sh
        echo left-out >> ROOT/order
        --//
        Content-Type: text/cloud-boothook
        Content-Disposition: attachment; filename="early"

        #cloud-boothook

        #!/bin/bash
        [[ -n $BASH_VERSION ]] && echo "boothook $INSTANCE_ID" >> ROOT/order
        --//--

        """.replacingOccurrences(of: "\n", with: "\r\n")

    /// What cloud-init runs on a boot: boothooks, then each folder whose module runs this boot
    /// (`always`; `once-per-instance` on an instance's first boot; `once` on the machine's first),
    /// in the stages' order, each folder's scripts as runparts sorts them. The scripts echo their
    /// names (the per-once pair both say "once"; boothooks and runcmd say theirs).
    static func cloudInitsOrder(_ userData: Data, instance: String, firstOfInstance: Bool, firstOfMachine: Bool) throws -> String {
        let scripts = try JSONSerialization.jsonObject(with: Data(try ProcessTier.CloudInitTruthTests.ask("scripts", userData: userData).utf8)) as! [String: [[String]]]
        let modules = try JSONSerialization.jsonObject(with: Data(try ProcessTier.CloudInitTruthTests.ask("modules", userData: userData).utf8)) as! [[String]]
        var lines = (scripts["boothooks"] ?? []).map { _ in "boothook \(instance)" }
        let folders = ["scripts_per_once": "per-once", "scripts_per_boot": "per-boot", "scripts_per_instance": "per-instance", "scripts_user": "user"]
        for module in modules {
            guard let folder = folders[module[1]] else { continue }
            let runs = module[2] == "always" || (module[2] == "once-per-instance" && firstOfInstance) || (module[2] == "once" && firstOfMachine)
            guard runs else { continue }
            lines += (scripts[folder] ?? []).map { $0[0].hasPrefix("once") ? "once" : $0[0] }
        }
        return lines.map { $0 + "\n" }.joined()
    }

    @Test func awsEveryBootRecipeInCRLFRunsAsCloudInitRunsIt() throws {
        let root = try seededRoot(Self.recipe)
        let userData = try #require(FileManager.default.contents(atPath: root + "/seed/user-data"))
        #expect(userData.contains(Data("\r\n".utf8)), "the user-data is CRLF")
        let boots: [(instance: String, firstOfInstance: Bool, firstOfMachine: Bool)] = [("i-1", true, true), ("i-1", false, false), ("i-2", true, false)]
        for (number, boot) in boots.enumerated() {
            try "".write(toFile: root + "/order", atomically: true, encoding: .utf8)
            try TestEnv.write("{\"ami-id\": \"ami-1\", \"instance-id\": \"\(boot.instance)\"}", to: root + "/seed/meta-data.json")
            let result = try run(root)
            #expect(result.status == 0, "boot \(number + 1): \(result.stderr)")
            let expected = try Self.cloudInitsOrder(userData, instance: boot.instance, firstOfInstance: boot.firstOfInstance,
                                                    firstOfMachine: boot.firstOfMachine)
            #expect(TestEnv.read(root + "/order") == expected, "boot \(number + 1)")
            if number == 0 {
                #expect(expected == "boothook i-1\n01-disks.sh\nJoin.sh\nnode-init.sh\nruncmd\nonce\nonce\n", "the list's order, not the default one")
                #expect(result.stderr.contains("scripts_per_instance is in none of the stages' module lists: its scripts (left-out.sh) do not run"),
                        "\(result.stderr)")
            }
        }
    }

    /// An empty boothook fails (never an "ok" that ran nothing); ssh keys with no account to take
    /// them fail naming the file; a `once` entry for a module other than the scripts is said to be per instance.
    @Test func nothingToRunAndNoAccountAreFailures() throws {
        let metadata = #"{"ami-id": "ami-1", "instance-id": "i-1", "public-keys": {"0": {"openssh-key": "ssh-ed25519 AAAAmeta pair"}}}"#
        let root = try seededRoot(Self.mime([("text/cloud-boothook", "#cloud-boothook\r\n  \r\n"),
                                             ("text/cloud-config", "#cloud-config\ncloud_init_modules: [[ssh, once]]")]), metadata: metadata)
        try TestEnv.write("daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n", to: root + "/etc/passwd")
        let result = try run(root)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("part-001 has nothing to run after its #cloud-boothook line"), "\(result.stderr)")
        #expect(result.stderr.contains("no account to install 1 keys for: \(root)/etc/passwd has neither root nor a default user (admin, "), "\(result.stderr)")
        #expect(result.stderr.contains("ssh: frequency once (once per machine) is once per instance for this module here"), "\(result.stderr)")
    }
}
