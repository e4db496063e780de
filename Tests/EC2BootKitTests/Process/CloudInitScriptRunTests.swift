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
        let boots = try Self.threeBootsInCloudInitsOrder(root, userData: userData)
        #expect(boots.first?.expected == "boothook i-1\n01-disks.sh\nJoin.sh\nnode-init.sh\nruncmd\nonce\nonce\n", "the list's order, not the default one")
        #expect(boots.first?.result.stderr.contains("scripts_per_instance is in none of the stages' module lists: its scripts (left-out.sh) do not run") == true,
                "\(boots.first?.result.stderr ?? "")")
    }

    /// A first boot, a reboot and a new instance of `root`'s user-data, each boot's order of
    /// what ran compared with cloud-init's own (`cloudInitsOrder`); each boot's expected order and run.
    static func threeBootsInCloudInitsOrder(_ root: String, userData: Data) throws -> [(expected: String, result: ToolResult)] {
        let boots: [(instance: String, firstOfInstance: Bool, firstOfMachine: Bool)] = [("i-1", true, true), ("i-1", false, false), ("i-2", true, false)]
        return try boots.enumerated().map { number, boot in
            try "".write(toFile: root + "/order", atomically: true, encoding: .utf8)
            try TestEnv.write("{\"ami-id\": \"ami-1\", \"instance-id\": \"\(boot.instance)\"}", to: root + "/seed/meta-data.json")
            let result = try run(root)
            #expect(result.status == 0, "boot \(number + 1): \(result.stderr)")
            let expected = try cloudInitsOrder(userData, instance: boot.instance, firstOfInstance: boot.firstOfInstance,
                                               firstOfMachine: boot.firstOfMachine)
            #expect(TestEnv.read(root + "/order") == expected, "boot \(number + 1)")
            return (expected, result)
        }
    }

    /// `[scripts-user, once]`: the user's scripts and runcmd (a file of that folder) run on the
    /// machine's first boot only, not on a new instance; a user script named like a per-once one
    /// is another script (each folder's names are its own), as cloud-init's own code gives.
    @Test func aOnceListRunsTheUserFolderAndRuncmdOncePerMachine() throws {
        let parts: [(String, String)] = [
            ("text/cloud-config", "#cloud-config\ncloud_final_modules:\n  - scripts-per-once\n  - [scripts-user, once]\nruncmd:\n  - [sh, -c, echo runcmd >> ROOT/order]"),
            ("text/x-shellscript-per-once; name=\"x.sh\"", "#!/bin/sh\necho x.sh >> ROOT/order"),
            ("text/x-shellscript; name=\"x.sh\"", "#!/bin/sh\necho x.sh >> ROOT/order"),
            ("text/x-shellscript; name=\"y.sh\"", "#!/bin/sh\necho y.sh >> ROOT/order"),
        ]
        let root = try seededRoot(Self.mime(parts))
        let userData = try #require(FileManager.default.contents(atPath: root + "/seed/user-data"))
        let boots = try Self.threeBootsInCloudInitsOrder(root, userData: userData)
        #expect(boots.map(\.expected) == ["x.sh\nruncmd\nx.sh\ny.sh\n", "", ""], "the first boot runs both x.sh; nothing later")
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

extension ProcessTier.CloudInitRunTests {
    /// Where a script runs here other than in cloud-init, `validate` says so before a boot: a
    /// boothook with no `#!` (ours runs it with /bin/sh), an empty one, per-once by name; a
    /// module list's unknown module and frequency, and what a list leaves out.
    @Test func validateSaysWhereScriptsDifferFromCloudInit() throws {
        let root = try makeRoot("validate-scripts")
        let file = root + "/user-data"
        try TestEnv.write(Self.mime([
            ("text/cloud-boothook", "#cloud-boothook\necho no-shebang"), ("text/cloud-boothook", "#cloud-boothook\n"),
            ("text/x-shellscript-per-once", "#!/bin/sh\necho once"),
            ("text/cloud-config", "#cloud-config\nruncmd: [date]\ncloud_final_modules: [scripts-usr, [scripts_user, sometimes]]\ncloud_config_modules: [ntp]"),
        ]), to: file)
        let plain = try tool(["validate", "--root", root, file])
        #expect(plain.status == 0, "\(plain.stderr)")
        for line in [
            "user-data (part-001): warning: the boothook has no #! after its header: /bin/sh runs it here (cloud-init fails to run it)",
            "user-data (part-002): warning: the boothook has nothing to run after its #cloud-boothook line (it fails)",
            "user-data (part-003): warning: part-003 (per-once): runs once on this machine by its name; cloud-init runs its per-once folder once per machine",
            "user-data (part-004):4:24: warning: cloud_config_modules: ntp is a cloud-init module ec2-boot-init does not carry out; not run",
            "user-data (part-004):3:23: warning: cloud_final_modules: scripts-usr is not a cloud-init module; ignored (did you mean scripts_user?)",
            "cloud_final_modules: scripts_user: sometimes is not a frequency (always, once-per-instance, once); the module's own is used",
            "note: runcmd is in none of the stages' module lists: not run (as in cloud-init)",
            "note: scripts_per_once is in none of the stages' module lists: its scripts (part-003) do not run (as in cloud-init)",
        ] {
            #expect(plain.stderr.contains(line), "\(line)\n\(plain.stderr)")
        }
        #expect(try tool(["validate", "--strict", "--root", root, file]).status == 2)
    }
}
