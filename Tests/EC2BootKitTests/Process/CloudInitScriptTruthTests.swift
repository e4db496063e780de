import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier.CloudInitTruthTests {
    /// The scripts a user-data gives, as cloud-init's handlers write them and its final stage's
    /// folders run them, against ours: boothooks (part order), then each folder in runparts order.
    static func scriptsOf(_ userData: Data) throws -> (theirs: [String], ours: [String]) {
        let json = try JSONSerialization.jsonObject(with: Data(try ask("scripts", userData: userData).utf8)) as! [String: [[String]]]
        // How often each folder runs by default: boothooks and per-boot every boot, per-once once per machine.
        let folders = [("boothooks", "per-boot"), ("per-once", "once"), ("per-boot", "per-boot"), ("per-instance", "per-instance"), ("user", "per-instance")]
        let theirs = folders.flatMap { folder, frequency in (json[folder] ?? []).map { "\(frequency) \($0[0]): \($0[1])" } }
        let parsed = UserData.parse(userData, limits: UserDataSettings())
        try #require(parsed.problems.isEmpty, "\(parsed.problems)")
        let ours = try parsed.cloudActions.compactMap { action -> String? in
            let node = try #require(action.node.mapping)
            let frequency = node["once"]?.string == "true" ? "once" : node["frequency"]?.string ?? "?"
            switch node["type"]?.string {
            case "script":
                let content = try #require(node["content"]?.string)
                return "\(frequency) \(node["name"]?.string ?? ""): \(ScriptAction.runnable(content) ?? "")"
            case "runcmd":
                let commands = try YAMLDecoding.decode([ShellCommand].self, from: try #require(node["runcmd"]), source: "t", keyPrefix: "")
                return "\(frequency) runcmd: \(Shellify.script(commands))"
            default: return nil
            }
        }
        return (theirs, ours)
    }

    static func named(_ parts: [(type: String, name: String?, body: String)]) -> Data {
        mime(parts.map { part in
            (part.name.map { "Content-Type: \(part.type)\nContent-Disposition: attachment; filename=\"\($0)\"" } ?? "Content-Type: \(part.type)", part.body)
        })
    }

    /// Names as cloud-init writes and sorts them: named, unnamed (part-NNN), the same name twice
    /// (the later wins), upper case and digits, a slash, characters clean_filename drops, a part
    /// named runcmd (replaced by runcmd's script when there is one), and CRLF made LF.
    @Test(arguments: [
        ("named and unnamed, sorted", [
            ("text/x-shellscript", "node-init.sh", "#!/bin/sh\necho node"), ("text/x-shellscript", "01-disks.sh", "#!/bin/sh\necho disks"),
            ("text/x-shellscript", nil, "#!/bin/sh\necho unnamed"), ("text/x-shellscript", "Join.sh", "#!/bin/sh\necho join"),
            ("text/cloud-config", nil, "#cloud-config\nruncmd: [echo rc]"), ("text/x-shellscript", "_z.sh", "#!/bin/sh\necho z"),
        ]),
        ("the same name twice: the later replaces", [
            ("text/x-shellscript", "a.sh", "#!/bin/sh\necho first"), ("text/x-shellscript", "b.sh", "#!/bin/sh\necho b"),
            ("text/x-shellscript", "a.sh", "#!/bin/sh\necho second"),
        ]),
        ("names cleaned", [
            ("text/x-shellscript", "dir/with spaces&$.sh", "#!/bin/sh\necho x"), ("text/x-shellscript", "ünï(1).sh", "#!/bin/sh\necho y"),
        ]),
        ("a part named runcmd, and runcmd", [
            ("text/x-shellscript", "runcmd", "#!/bin/sh\necho part"), ("text/cloud-config", nil, "#cloud-config\nruncmd: [echo module]"),
        ]),
        ("a part named runcmd, no runcmd", [("text/x-shellscript", "runcmd", "#!/bin/sh\necho part")]),
        ("every folder, two per-once of one text", [
            ("text/x-shellscript-per-once", "b-once.sh", "#!/bin/sh\necho once"), ("text/x-shellscript-per-once", "a-once.sh", "#!/bin/sh\necho once"),
            ("text/x-shellscript-per-boot", "z.sh", "#!/bin/sh\necho boot"), ("text/x-shellscript-per-boot", "B.sh", "#!/bin/sh\necho Boot"),
            ("text/x-shellscript", "user.sh", "#!/bin/sh\necho user"),
        ]),
        ("CRLF scripts and a boothook with a blank line", [
            ("text/x-shellscript", "crlf.sh", "#!/bin/sh\r\necho crlf\r\n"), ("text/x-shellscript", "mixed.sh", "#!/bin/sh\necho lf\r\n"),
            ("text/cloud-boothook", "hook", "#cloud-boothook\r\n\r\n#!/bin/bash\r\necho hook\r\n"),
            ("text/cloud-boothook", nil, "#cloud-boothook\n  \n#!/bin/bash\necho blank"),
        ]),
    ] as [(String, [(String, String?, String)])])
    func scriptsAreNamedAndOrderedAsCloudInitDoes(_ name: String, _ parts: [(String, String?, String)]) throws {
        let (theirs, ours) = try Self.scriptsOf(Self.named(parts.map { ($0.0, $0.1, $0.2) }))
        #expect(ours == theirs, "\(name)")
        #expect(!theirs.isEmpty)
    }

    /// A whole MIME user-data saved with CRLF line endings (as on Windows): the same parts,
    /// scripts and boothook as cloud-init's, nothing left with a CR, the boothook's body whole.
    @Test func aMIMEUserDataInCRLFIsReadAsCloudInitReadsIt() throws {
        let lf = String(decoding: Self.named([
            ("text/cloud-config", "config.yaml", "#cloud-config\nruncmd:\n  - echo one\n  - [echo, two]"),
            ("text/x-shellscript", "setup.sh", "#!/bin/bash\nset -e\necho setup"),
            ("text/x-shellscript-per-boot", "every-boot.sh", "#!/bin/sh\necho again"),
            ("text/cloud-boothook", "early.sh", "#cloud-boothook\n#!/bin/sh\necho early"),
        ]), as: UTF8.self)
        let crlf = Data(lf.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let (theirs, ours) = try Self.scriptsOf(crlf)
        #expect(ours == theirs)
        #expect(theirs.count == 4 && !theirs.joined().contains("\r"), "\(theirs)")
        #expect(ours.contains("per-boot early.sh: #!/bin/sh\necho early"), "\(ours)")
    }

    /// cloud-init's module lists in the user-data: each stage's list replaced whole, names in
    /// either spelling, `[name, frequency]`, a mapping entry, an unknown frequency (the module's
    /// own) and an unknown module (skipped): the same modules in the same order, at the same frequency.
    @Test(arguments: [
        "",
        "cloud_final_modules:\n  - [scripts-user, always]\n",
        "cloud_final_modules:\n  - scripts_per_once\n  - [scripts-user, once]\n  - [runcmd, always]\n  - [cc_puppet.py]\n",
        "cloud_init_modules: [bootcmd, [write-files, always], {name: ssh, frequency: always}]\ncloud_config_modules: []\n",
        "cloud_final_modules:\n  - [scripts-user, sometimes]\n  - no-such-module\n  - ''\n  - [chef, once-per-instance]\n",
    ]) func moduleListsAreCloudInits(_ lists: String) throws {
        let userData = Data(("#cloud-config\nruncmd: [date]\n" + lists).utf8)
        let theirs = (try JSONSerialization.jsonObject(with: Data(try Self.ask("modules", userData: userData).utf8)) as! [[String]])
        let parsed = UserData.parse(userData, limits: UserDataSettings())
        let merged = try CloudConfig.merge([CloudConfig.Part(mapping: try #require(try YAMLDocument.parse(String(decoding: userData, as: UTF8.self), source: "t", maxNodes: 100_000, dialect: .python)?.mapping),
                                                             source: "t")])
        let ours = CloudInitModules.resolve(merged, carried: CloudConfig.carried).entries
        #expect(ours.map(\.name) == theirs.map { $0[1] }, "\(lists)")
        for (mine, their) in zip(ours, theirs) where CloudInitModules.frequencies[mine.name] != nil {
            #expect((mine.frequency ?? CloudInitModules.frequencies[mine.name])?.rawValue == their[2], "\(lists) \(mine.name)")
        }
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
    }

    /// Every kind of plain scalar PyYAML resolves, as a word of a runcmd list: the script is
    /// cloud-init's `shellify`, byte for byte (Python's str() of the value PyYAML made).
    @Test func shellifyPrintsEveryScalarAsPythonDoes() throws {
        let words = [
            "1.20", "2.50", ".25", "1.0e+2", "1.e+3", "-1.5", "+1.5", "1_000.5", "1:30.5", "-1:30.0", ".inf", "-.inf", "+.INF", ".nan", ".NaN",
            "1e5", "-.5", "0.1", "1e+16", "123456789012345678.0", "0.00001", "1.5e-7", "3.0", "-0.0", "1.", "0.000_1",
            "0b1010", "0x1F", "-0x1f", "017", "08", "1_000", "1:30", "190:20:30", "0", "-0", "+12", "0o17",
            "yes", "No", "ON", "off", "True", "FALSE", "y", "n", "Yes!", "~", "null", "NULL", "Null", "nil",
            "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2001-12-15T02:59:43.1Z",
            "2002-12-14 21:59:43", "2001-2-3 4:05:06", "2001-12-14 21:59:43.1234567", "2000-02-29",
            "2001-12-14 21:59:43.000000+05:75", "1.20.3", "v1.20", "-", "a:b",
            "12345678901234567.0", "9007199254740993.0", "1.0e+15", "123456789012.5", "999999999999999.9",
        ]
        // One command per word, one of quoted words, which stay as written, and one of quoted
        // words with an explicit tag, which PyYAML resolves by the tag.
        let lists = words.map { "  - [\($0)]\n" }.joined() + "  - [echo, '1.20', \"2.50\", !!str 3.0]\n"
            + "  - [echo, !!int \"017\", !!float '1.20', !!int '0x1F', !!bool 'yes', !!float \"1e3\"]\n"
        let userData = Data("#cloud-config\nruncmd:\n\(lists)".utf8)
        let theirs = try Self.ask("shellify", userData: userData, ["runcmd"])
        let parsed = UserData.parse(userData, limits: UserDataSettings())
        let node = try #require(parsed.cloudActions.first { $0.node.mapping?["type"]?.string == "runcmd" }?.node.mapping)
        let commands = try YAMLDecoding.decode([ShellCommand].self, from: try #require(node["runcmd"]), source: "t", keyPrefix: "")
        let ours = Shellify.script(commands).split(separator: "\n"), theirLines = theirs.split(separator: "\n")
        #expect(ours.count == words.count + 3 && theirLines.count == words.count + 3)
        for (index, word) in words.enumerated() where index + 1 < min(ours.count, theirLines.count) {
            #expect(ours[index + 1] == theirLines[index + 1], "\(word)")
        }
        #expect(ours.dropLast().last == theirLines.dropLast().last, "quoted words stay as written")
        #expect(ours.last == theirLines.last, "a tag decides: \(String(describing: ours.last)) \(String(describing: theirLines.last))")
        #expect(theirs.contains("'1.2'\n'2.5'\n'0.25'\n'100.0'\n"), "the case is the one meant")
    }

    /// A gzip part keeps its file name only (cloud-init rebuilds it): its Merge-Type is not applied.
    @Test func aGzipPartsMergeTypeIsNotApplied() throws {
        let second = try Self.gzip(Data("#cloud-config\nruncmd: [two]\n".utf8)).base64EncodedString()
        let userData = Self.mime([
            ("Content-Type: text/cloud-config", "#cloud-config\nruncmd: [one]"),
            ("Content-Type: application/x-gzip\nContent-Transfer-Encoding: base64\nMerge-Type: list(append)+dict(recurse_array)\n"
             + "Content-Disposition: attachment; filename=\"two.gz\"", second),
        ])
        let theirs = try JSONSerialization.jsonObject(with: Data(try Self.ask("merged", userData: userData).utf8)) as! [String: Any]
        let parsed = UserData.parse(userData, limits: UserDataSettings())
        #expect(parsed.parts.map(\.filename) == ["part-001", "two.gz"])
        #expect(parsed.parts.map(\.mergeType) == [nil, nil])
        #expect(theirs["runcmd"] as? [String] == ["two"])
        let node = try #require(parsed.cloudActions.first { $0.node.mapping?["type"]?.string == "runcmd" }?.node.mapping)
        #expect(node["runcmd"]?.sequence?.compactMap(\.string) == ["two"])
    }

    /// Launch-Index: the parts for another instance of the launch are left out, as the EC2
    /// datasource's launch_index filter leaves them out (a header, a gzip part's header kept, an
    /// archive entry's key, a cloud-config's own key, the header winning over it, an index that
    /// is no number); without an index in the metadata every part is kept.
    @Test(arguments: [nil, "0", "1", "2"] as [String?])
    func partsForAnotherLaunchIndexAreLeftOut(_ launch: String?) throws {
        let zipped = try Self.gzip(Data("#!/bin/sh\necho zipped\n".utf8)).base64EncodedString()
        let userData = Self.mime([
            ("Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"all.sh\"", "#!/bin/sh\necho all"),
            ("Content-Type: text/x-shellscript\nLaunch-Index: 0\nContent-Disposition: attachment; filename=\"zero.sh\"", "#!/bin/sh\necho 0"),
            ("Content-Type: text/x-shellscript\nLaunch-Index: 1\nContent-Disposition: attachment; filename=\"one.sh\"", "#!/bin/sh\necho 1"),
            ("Content-Type: application/x-gzip\nContent-Transfer-Encoding: base64\nLaunch-Index: 1\n"
             + "Content-Disposition: attachment; filename=\"one.gz\"", zipped),
            ("Content-Type: text/cloud-config\nContent-Disposition: attachment; filename=\"key1.cfg\"", "#cloud-config\nlaunch-index: 1\nruncmd: [k]"),
            ("Content-Type: text/cloud-config\nLaunch-Index: 0\nContent-Disposition: attachment; filename=\"header0.cfg\"",
             "#cloud-config\nlaunch-index: 1\nruncmd: [h]"),
            ("Content-Type: text/x-shellscript\nLaunch-Index: x\nContent-Disposition: attachment; filename=\"bad.sh\"", "#!/bin/sh\necho bad"),
            ("Content-Type: text/cloud-config-archive", "- {content: \"#!/bin/sh\\necho a0\", filename: a0.sh, launch-index: 0}\n"
             + "- {content: \"#!/bin/sh\\necho a2\", filename: a2.sh, launch-index: 2}"),
        ])
        let theirs = try JSONSerialization.jsonObject(with: Data(try Self.ask("parts", userData: userData, launch.map { [$0] } ?? []).utf8))
            as! [[String: String]]
        let parsed = UserData.parse(userData, limits: UserDataSettings(), launchIndex: launch.flatMap { Int($0) })
        #expect(parsed.parts.map(\.filename) == theirs.map { $0["filename"]! }, "\(String(describing: launch))")
        #expect(parsed.parts.map(\.contentType) == theirs.map { $0["type"]! })
        #expect(parsed.unsupported.isEmpty, "launch-index is the user-data's key, not an unsupported one: \(parsed.unsupported)")
    }

    /// An `#include` inside a `#cloud-config-archive` is not expanded (cloud-init has no handler
    /// for it there): never fetched, and said as passed over, naming its type.
    @Test func anArchivesIncludeIsPassedOver() throws {
        let userData = Data("#cloud-config-archive\n- \"#include\\nhttp://127.0.0.1:9/x.txt\\n\"\n- {type: text/x-include-url, content: 'http://127.0.0.1:9/y'}\n".utf8)
        let theirs = try JSONSerialization.jsonObject(with: Data(try Self.ask("parts", userData: userData).utf8)) as! [[String: String]]
        let parsed = UserData.parse(userData, limits: UserDataSettings())
        #expect(parsed.parts.map(\.contentType) == theirs.map { $0["type"]! })
        #expect(UserDataParts.pendingIncludes(userData, maxBytes: 1 << 20, included: [:]).isEmpty)
        #expect(parsed.passedOver == ["part-001 (text/x-include-url): no handler for this type; passed over",
                                      "part-002 (text/x-include-url): no handler for this type; passed over"], "\(parsed.passedOver)")
    }
}
