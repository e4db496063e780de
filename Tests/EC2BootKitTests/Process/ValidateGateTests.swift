import Foundation
import Testing

extension ProcessTier {
    /// `validate --strict` is a gate worth running before baking an image: a typo in a key or a
    /// type is named with its line and the nearest name, and fails it.
    @Suite struct ValidateGateTests {
        @Test(arguments: [
            ("ruby", ":facts:\n  role: web\n:action:\n  - :type: :shell\n    :command: echo hi\n",
             "3:1: KIND: action is not a key of ec2-boot-init's user-data (facts, write_ec2_facts, actions, watch); ignored (did you mean actions?)"),
            ("type", "actions:\n  - type: shel\n    command: echo hi\n",
             "2:5: KIND: actions[0]: type shel is not built in and not in ROOT/etc/ec2-boot-init/actions: getactions or the image must provide it (did you mean shell?)"),
            ("cloud-config", "#cloud-config\npackges: [vim]\n", "2:1: KIND: packges is not supported by ec2-boot-init; ignored (did you mean packages?)"),
            ("write_file", "#cloud-config\nwrite_file:\n  - path: /x\n", "2:1: KIND: write_file is not supported by ec2-boot-init; ignored (did you mean write_files?)"),
            ("encoding", "#cloud-config\nwrite_files:\n  - path: /a\n    content: aGk=\n    encoding: base65\n",
             "5:15: KIND: write_files[0].encoding: base65 is not one of b64, base64, gz, gz+b64, gz+base64, gzip, gzip+b64, gzip+base64, text/plain; it would be written as text (did you mean base64?)"),
            ("permissions", "#cloud-config\nwrite_files:\n  - path: /b\n    content: x\n    permissions: rwxr-xr-x\n",
             "5:18: KIND: write_files[0].permissions: rwxr-xr-x is not an octal mode such as '0644'; it would be written 0644"),
            ("no path", "#cloud-config\nwrite_files:\n  - content: x\n",
             "3:5: KIND: write_files[0]: no path (cloud-init's schema requires one); the entry would be passed over"),
            ("append", "#cloud-config\nwrite_files:\n  - path: /c\n    append: maybe\n",
             "4:13: KIND: write_files[0].append: maybe is not a boolean (true or false); it would be read as false"),
            ("entry key", "#cloud-config\nwrite_files:\n  - path: /d\n    permisions: '0600'\n",
             "4:5: KIND: write_files[0]: unknown key permisions (did you mean permissions?)"),
            ("package_update", "#cloud-config\npackage_update: \"yes\"\n",
             "2:17: KIND: package_update: yes is not a boolean (true or false); it would be read as true"),
        ])
        func aTypoIsNamedWithItsLineAndFailsStrict(_ kind: String, _ text: String, _ said: String) throws {
            let root = try makeRoot("gate" + kind.filter(\.isLetter))
            let file = root + "/user-data"
            try TestEnv.write(text, to: file)
            let plain = try tool(["validate", "--root", root, file])
            let line = file + ":" + said.replacingOccurrences(of: "ROOT", with: root)
            #expect(plain.status == 0 && plain.stderr.contains(line.replacingOccurrences(of: "KIND", with: "warning")), "\(plain.stderr)")
            let strict = try tool(["validate", "--strict", "--root", root, file])
            #expect(strict.status == 2 && strict.stderr.contains(line.replacingOccurrences(of: "KIND", with: "error")), "\(strict.stderr)")
        }

        /// A YAML error names where the mistake is (the unclosed quote) and where the parser noticed
        /// it, as cloud-init prints both marks; a tab is named as a tab.
        @Test func aYAMLErrorNamesWhereTheMistakeIs() throws {
            let root = try makeRoot()
            for (text, said) in [
                ("facts:\n  a: 1\n  b: 2\n  c: 3\n  d: 4\n  note: \"two]\n  e: 5\n  f: 6\n",
                 "user-data:6:9: invalid YAML: while scanning a quoted scalar at line 6, column 9: found unexpected end of stream at line 9, column 1"),
                ("facts:\n  role: web\nactions:\n\t- type: shell\n", "user-data:4:1: invalid YAML: while scanning for the next token at line 4, "
                 + "column 1: found character that cannot start any token at line 4, column 1 (a tab: YAML indents with spaces, never tabs)"),
            ] {
                try TestEnv.write(text, to: root + "/user-data")
                let result = try tool(["validate", "--root", root, root + "/user-data"])
                #expect(result.status == 2 && result.stderr.contains(root + "/" + said), "\(result.stderr)")
            }
        }

        /// The user-data's `:watch:` section is checked as `watch` reads it: a misspelt key, or a
        /// key line that is no signify key, fails validate now rather than `watch --check` later.
        @Test func theWatchSectionIsChecked() throws {
            let root = try makeRoot()
            for (text, said) in [(":facts:\n  role: web\n:watch:\n  :zookeper: zk1:2181\n", "user-data:4:3: watch.zookeper: unknown key (known: "),
                                 ("watch:\n  zookeeper: zk1:2181\n  public_keys: [\"RWQnotakey\"]\n", "user-data:3:3: watch.public_keys: not a signify")] {
                try TestEnv.write(text, to: root + "/user-data")
                let result = try tool(["validate", "--root", root, root + "/user-data"])
                #expect(result.status == 2 && result.stderr.contains(root + "/" + said), "\(result.stderr)")
            }
            try TestEnv.write(":watch:\n  :zookeper: zk1:2181\n", to: root + "/user-data")
            #expect(try tool(["validate", "--root", root, root + "/user-data"]).stderr.contains("(did you mean zookeeper?)"))
            // Every mistake of the section, not only the first.
            try TestEnv.write(":watch:\n  :zookeper: x\n  :public_keys: [nope]\n  :session_timeout: soon\n", to: root + "/user-data")
            let three = try tool(["validate", "--root", root, root + "/user-data"])
            #expect(three.status == 2 && ["2:3: watch.zookeper", "3:3: watch.public_keys", "4:3: watch.session_timeout"].allSatisfy { three.stderr.contains($0) },
                    "\(three.stderr)")
        }

        /// An error never hides the rest: the warnings and type typos beside it are said too, all
        /// in the order of the text.
        @Test func anErrorHidesNoWarning() throws {
            let root = try makeRoot()
            try TestEnv.write(":actions:\n- :type: shel\n- :type: shell\n  :bogus: 1\n:action: []\n", to: root + "/user-data")
            let result = try tool(["validate", "--strict", "--root", root, root + "/user-data"])
            let lines = result.stderr.split(separator: "\n").map { String($0.dropFirst(root.count + "/user-data:".count)) }
            #expect(result.status == 2 && lines.map { $0.prefix(4) } == ["2:3:", "3:3:", "4:3:", "5:1:"], "\(result.stderr)")
            #expect(lines.first?.contains("error: actions[0]: type shel") == true && lines.last?.contains("error: action is not a key") == true, "\(lines)")
        }

        /// A hosted type a getactions earlier in the list brings is no typo: a warning, and --strict passes.
        @Test func aHostedTypeAfterGetactionsPassesStrict() throws {
            let root = try makeRoot()
            let file = root + "/user-data"
            try TestEnv.write("actions:\n  - {type: getactions, url: \"http://actions.example.com/\"}\n  - {type: deploy_app, release: 7}\n", to: file)
            let strict = try tool(["validate", "--strict", "--root", root, file])
            #expect(strict.status == 0 && strict.stderr.contains("warning: actions[1]: type deploy_app is not built in"), "\(strict.stderr)")
        }
    }
}
