import Foundation
import Logging
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// The same user-data through cloud-init's own Python (Debian's cloud-init package, through
    /// tools/cloud-init-truth/truth.py) and through ours: the same parts in the same order, the
    /// same merged cloud-config, the same files (bytes, modes, owners), the same runcmd script.
    @Suite struct CloudInitTruthTests {
        static let truth = TestEnv.repoRoot.appendingPathComponent("tools/cloud-init-truth/truth.py").path

        /// cloud-init's answer for `arguments`, with the user-data written to a file first.
        static func ask(_ command: String, userData: Data, _ extra: [String] = []) throws -> String {
            let dir = try TestEnv.tempDir("truth")
            let file = dir + "/user-data"
            try userData.write(to: URL(fileURLWithPath: file))
            let arguments = command == "write-files" ? [command] + extra + [file] : [command, file] + extra
            let result = try runProcess("/usr/bin/python3", [truth] + arguments)
            try #require(result.status == 0, "cloud-init's \(command): \(result.stderr)")
            return result.stdout
        }

        static func mime(_ parts: [(headers: String, body: String)], boundary: String = "==XYZ==") -> Data {
            var text = "Content-Type: multipart/mixed; boundary=\"\(boundary)\"\nMIME-Version: 1.0\n\n"
            for part in parts { text += "--\(boundary)\n\(part.headers)\n\n\(part.body)\n" }
            return Data((text + "--\(boundary)--\n").utf8)
        }

        static func gzip(_ data: Data) throws -> Data {
            let encoded = try runProcess("/bin/sh", ["-c", "printf '%s' \"$0\" | base64 -d | gzip -c | base64 -w0", data.base64EncodedString()])
            return try #require(Data(base64Encoded: encoded.stdout))
        }

        static let samples: [(String, Data)] = [
            ("cloud-config", Data("#cloud-config\nruncmd: [ls]\n".utf8)),
            ("header in capitals after blanks", Data("  #CLOUD-CONFIG\npackages: [vim]\n".utf8)),
            ("script", Data("#!/bin/sh\necho hi\n".utf8)),
            ("boothook", Data("#cloud-boothook\n#!/bin/sh\necho early\n".utf8)),
            ("our own YAML", Data("facts:\n  role: web\n".utf8)),
            ("cloud-config-archive", Data("""
                #cloud-config-archive
                - type: text/cloud-config
                  content: |
                    #cloud-config
                    runcmd: [a]
                - "#!/bin/sh\\necho x"
                - content: 'hello: 1'
                  filename: named.yaml
                - content: '#cloud-boothook\\necho early'
                  type: text/plain

                """.utf8)),
            ("multipart", mime([
                ("Content-Type: text/cloud-config; charset=\"us-ascii\"\nContent-Disposition: attachment; filename=\"a.yaml\"",
                 "#cloud-config\npackages: [vim]"),
                ("Content-Type: text/x-shellscript", "#!/bin/sh\necho hi"),
                ("Content-Type: text/x-shellscript", "not a script"),
                ("Content-Type: text/plain", "#cloud-boothook\necho boot"),
                ("Content-Type: text/x-shellscript-per-boot", "#!/bin/sh\necho perboot"),
                ("Content-Type: text/x-shellscript-per-once", "#!/bin/sh\necho once"),
                ("Content-Type: application/node.eks.aws", "apiVersion: node.eks.aws/v1alpha1"),
                ("Content-Type: text/plain", "just text"),
                ("Content-Type: text/x-shellscript\nContent-Transfer-Encoding: base64", Data("#!/bin/sh\necho b64\n".utf8).base64EncodedString()),
                ("Content-Type: text/cloud-config\nContent-Transfer-Encoding: quoted-printable", "#cloud-config\nhostname: q=3Dp\nfqdn: =\nlong"),
                ("Content-Type: text/x-shellscript; charset=\"utf-8\"", "#!/bin/sh\r\necho crlf\r"),
                ("Content-Type: text/x-shellscript\nContent-Transfer-Encoding: base64", "IyEvYmluL3NoCmVjaG8gdW5wYWRkZWQK"),
                ("Content-Type: text/x-shellscript\nContent-Transfer-Encoding: base64", "IyEvYmluL3NoCmVjaG8gbm8tcGFk"),
                ("Content-Type: text/cloud-config\nContent-Transfer-Encoding: quoted-printable", "#cloud-config\nhostname: a=+Ab=3d"),
            ])),
            ("headers running into the body", Data("""
                Content-Type: multipart/mixed; boundary="==B=="
                MIME-Version: 1.0

                --==B==
                Content-Type: text/cloud-boothook; charset="us-ascii"
                #!/bin/bash
                echo boot
                --==B==
                Content-Type: text/x-shellscript
                echo it: is a body line
                --==B==--

                """.utf8)),
            ("nested multipart", mime([
                ("Content-Type: multipart/alternative; boundary=\"inner\"",
                 "--inner\nContent-Type: text/cloud-config\n\n#cloud-config\nruncmd: [date]\n--inner--"),
                ("Content-Type: text/x-shellscript", "#!/bin/sh\necho after"),
            ])),
        ]

        /// `#include` with file URLs, which both read without a network: the included
        /// documents' parts (MIME, gzip, an include of an include) in place of the URL lines.
        @Test func includedPartsAreCloudInits() throws {
            let dir = try TestEnv.tempDir("includes")
            try TestEnv.write("#cloud-config\nruncmd: [one]\n", to: dir + "/one.yaml")
            try Self.gzip(Data("#!/bin/sh\necho two\n".utf8)).write(to: URL(fileURLWithPath: dir + "/two.gz"))
            try Self.mime([("Content-Type: text/x-shellscript", "#!/bin/sh\necho three"),
                           ("Content-Type: text/x-include-url", "file://\(dir)/one.yaml")]).write(to: URL(fileURLWithPath: dir + "/three.mime"))
            let userData = Data("#include\n# a comment\n\nfile://\(dir)/one.yaml\n  file://\(dir)/two.gz  \n#include-once file://\(dir)/three.mime\n".utf8)
            let theirs = try JSONSerialization.jsonObject(with: Data(try Self.ask("parts", userData: userData).utf8)) as! [[String: String]]
            var included: [String: UserDataParts.Included] = [:]
            while let next = UserDataParts.pendingIncludes(userData, maxBytes: 1 << 20, included: included).first {
                included[next.url] = .body(try #require(FileManager.default.contents(atPath: String(next.url.dropFirst("file://".count)))))
            }
            #expect(included.count == 3)
            let ours = try UserDataParts.split(userData, maxBytes: 1 << 20, source: "include", included: included)
            #expect(ours.map(\.contentType) == theirs.map { $0["type"]! })
            #expect(ours.map(\.filename) == theirs.map { $0["filename"]! })
            #expect(ours.map(\.payload) == theirs.map { Data(base64Encoded: $0["payload"]!)! })
            #expect(ours.count == 4, "one, two, three and one again: \(ours.map(\.text))")
        }

        /// cloud-init's own shipped examples (Debian's /usr/share/doc/cloud-init/examples): the
        /// same parts, the same merged keys, the same runcmd and bootcmd scripts; the keys we do
        /// not implement are exactly the warnings. (The #include examples name hosts on the
        /// Internet, which cloud-init would fetch: they are read for their URLs only.)
        @Test func cloudInitsShippedExamplesReadAsCloudInitReadsThem() throws {
            let folder = "/usr/share/doc/cloud-init/examples"
            let names = try #require(try? FileManager.default.contentsOfDirectory(atPath: folder), "Debian's cloud-init examples")
                .filter { $0.hasSuffix(".txt") || $0.hasSuffix(".txt.gz") }.sorted()
            #expect(names.count >= 30)
            for name in names {
                let raw = try #require(FileManager.default.contents(atPath: folder + "/" + name))
                let data = Gzip.isCompressed(raw) ? try Gzip.inflate(raw, maxInflatedSize: 1 << 22) : raw
                if name.hasPrefix("include") {
                    #expect(UserDataParts.pendingIncludes(data, maxBytes: 1 << 22, included: [:]).count >= 1, "\(name)")
                    continue
                }
                let theirs = try JSONSerialization.jsonObject(with: Data(try Self.ask("parts", userData: raw).utf8)) as! [[String: String]]
                let userData = UserData.parse(raw, source: name, limits: UserDataSettings(), included: [:])
                let types = userData.parts.map { $0.contentType == UserDataParts.ownType ? "text/x-not-multipart" : $0.contentType }
                #expect(types == theirs.map { $0["type"]! }, "\(name)")
                #expect(userData.parts.map(\.payload) == theirs.map { Data(base64Encoded: $0["payload"]!)! }, "\(name)")
                guard types.contains("text/cloud-config") else { continue }
                // A key given twice: cloud-init keeps the last silently; we refuse it, naming it (see docs/cloud-init.md).
                if userData.problems.contains(where: { $0.message.hasPrefix("duplicate keys") }) {
                    #expect(["cloud-config-add-apt-repos.txt", "cloud-config-disk-setup.txt.gz"].contains(name), "\(name)")
                    continue
                }
                #expect(userData.problems.isEmpty, "\(name): \(userData.problems)")
                let merged = try JSONSerialization.jsonObject(with: Data(try Self.ask("merged", userData: raw).utf8)) as! [String: Any]
                let implemented = Set(CloudConfig.modules.flatMap { $0.cloudConfigKeys } + CloudConfig.mappings.map(\.key)).union(CloudConfig.stageKeys)
                // Top-level keys only (a mapped module's own keys without an equivalent, and a module list's entries, are warned about too).
                let unsupported = Set(userData.unsupported.map { String($0.message.prefix { $0 != " " }) }.filter { !$0.contains(".") && !$0.hasSuffix(":") })
                #expect(unsupported == Set(merged.keys).subtracting(implemented).subtracting(["merge_how", "merge_type"]).subtracting(CloudConfig.userDataKeys), "\(name)")
                for key in ["runcmd", "bootcmd"] where merged[key] != nil {
                    let script = try Self.ask("shellify", userData: raw, [key])
                    let node = try #require(userData.cloudActions.first { $0.node.mapping?["type"]?.string == key }?.node.mapping, "\(name) \(key)")
                    let commands = try YAMLDecoding.decode([ShellCommand].self, from: try #require(node[Node(key)]), source: name, keyPrefix: "")
                    #expect(Shellify.script(commands) == script, "\(name) \(key)")
                }
            }
        }

        /// Includes of includes, each URL many times: bounded in all, not per level.
        @Test func repeatedIncludesAreBoundedInAll() throws {
            let inner = "#include\n" + String(repeating: "http://x/leaf\n", count: 40)
            let outer = "#include\n" + String(repeating: "http://x/inner\n", count: 40)
            let included: [String: UserDataParts.Included] = ["http://x/inner": .body(Data(inner.utf8)), "http://x/leaf": .body(Data("#include\n".utf8))]
            #expect(throws: YAMLProblem.self) {
                _ = try UserDataParts.split(Data(outer.utf8), maxBytes: 1 << 20, source: "t", included: included)
            }
            let few = "#include\nhttp://x/inner\n"
            let small: [String: UserDataParts.Included] = ["http://x/inner": .body(Data("#include\nhttp://x/leaf\n".utf8)),
                                                           "http://x/leaf": .body(Data("#cloud-config\nruncmd: [a]\n".utf8))]
            #expect(try UserDataParts.split(Data(few.utf8), maxBytes: 1 << 20, source: "t", included: small).map(\.contentType) == ["text/cloud-config"])
        }

        @Test func permissionsOutsideAModeAre0644() {
            let logger = Logger(label: "test")
            for text in ["-1", "0o-1", "0o77777", "99999999999999999999999", "rwx"] {
                #expect(FileWriting.permissions(text, label: "t", logger: logger) == 0o644, "\(text)")
            }
            #expect(FileWriting.permissions("0o1204", label: "t", logger: logger) == 0o1204)
        }

        @Test func partsAreCloudInits() throws {
            for (name, userData) in Self.samples + [("gzip", try Self.gzip(Self.samples[0].1))] {
                let theirs = try JSONSerialization.jsonObject(with: Data(try Self.ask("parts", userData: userData).utf8)) as! [[String: String]]
                var data = userData
                if Gzip.isCompressed(data) { data = try Gzip.inflate(data, maxInflatedSize: 1 << 20) }
                let ours = try UserDataParts.split(data, maxBytes: 1 << 20, source: name)
                #expect(ours.count == theirs.count, "\(name): \(ours.map(\.contentType)) vs \(theirs.map { $0["type"]! })")
                for (mine, their) in zip(ours, theirs) {
                    // A header-less user-data is cloud-init's text/x-not-multipart, which it passes
                    // over, and ours: the Ruby tool's YAML.
                    let type = mine.contentType == UserDataParts.ownType ? "text/x-not-multipart" : mine.contentType
                    #expect(type == their["type"], "\(name) \(mine.filename)")
                    #expect(mine.filename == their["filename"], "\(name)")
                    #expect(mine.payload == Data(base64Encoded: their["payload"]!), "\(name) \(mine.filename): \(mine.text)")
                }
            }
        }

        static let cloudConfigs = mime([
            ("Content-Type: text/cloud-config", """
                #cloud-config
                runcmd: [first]
                hostname: one
                write_files:
                  - path: /etc/first
                    content: from part one
                """),
            ("Content-Type: text/cloud-config", """
                #cloud-config
                runcmd:
                  - echo "it's $HOME"
                  - [sh, -c, "echo 'quoted' && exit 0", 1, true, 0644]
                  - ~
                  - |
                    if true; then
                      echo multi-line
                    fi
                packages: [curl, [nginx, 1.22]]
                """),
        ])

        @Test func partsMergeAsCloudInitMergesThem() throws {
            let theirs = try JSONSerialization.jsonObject(with: Data(try Self.ask("merged", userData: Self.cloudConfigs).utf8)) as! [String: Any]
            let userData = UserData.parse(Self.cloudConfigs, limits: UserDataSettings())
            var parts: [CloudConfig.Part] = []
            for part in userData.parts {
                let node = try #require(try YAMLDocument.parse(part.text, source: "t", maxNodes: 100_000, dialect: .python))
                parts.append(CloudConfig.Part(mapping: try #require(node.mapping), source: part.filename))
            }
            let merged = try CloudConfig.merge(parts)
            #expect(merged.map { $0.key.string! } == ["runcmd", "hostname", "write_files", "packages"])
            #expect(Set(merged.map { $0.key.string! }) == Set(theirs.keys))
            #expect(merged.first { $0.key.string == "runcmd" }?.source == "part-002", "the later part's list replaces the earlier")
            #expect((theirs["runcmd"] as? [Any])?.count == 4)
        }

        /// merge_how (a string or a list) and Merge-Type headers, each strategy of cloud-init's
        /// mergers, against what cloud-init's handler merges.
        @Test(arguments: [
            ("", ""),
            ("merge_how: 'list(append)+dict(recurse_array)+str()'\n", ""),
            ("merge_how: 'dict(recurse_array,no_replace)+list(append)+str(append)'\n", ""),
            ("merge_type: 'list(prepend)+dict(no_replace,recurse_list)+str()'\n", ""),
            ("merge_how:\n  - name: list\n    settings: [append]\n  - name: dict\n    settings: [no_replace, recurse_list]\n", ""),
            ("", "X-Merge-Type: list(append)+dict(recurse_list)+str()\n"),
            ("", "Merge-Type: dict(no_replace)+list(no_replace)\n"),
            ("merge_how: 'dict(replace,allow_delete)+list()'\n", ""),
            ("merge_how: 'list(replace,recurse_dict)+dict(recurse_array)+str()'\n", ""),
        ]) func mergeStrategiesAreCloudInits(how: String, header: String) throws {
            let first = "#cloud-config\nruncmd: [one, two, three]\nwrite_files: [{path: /a, content: a}]\nhostname: first\n"
                + "puppet:\n  conf: {agent: {server: a, certname: x}}\n  install: true\nbootcmd: [b1]\ncount: 1\n"
            let second = "#cloud-config\n" + how + "runcmd: [four]\nwrite_files: [{path: /b, content: b}]\nhostname: second\n"
                + "puppet:\n  conf: {agent: {server: b}}\n  version: '7'\nbootcmd: ~\ncount: 2\npackages: [vim]\n"
            let userData = Data(("Content-Type: multipart/mixed; boundary=\"B\"\nMIME-Version: 1.0\n\n--B\nContent-Type: text/cloud-config\n\n"
                                 + first + "\n--B\nContent-Type: text/cloud-config\n" + header + "\n" + second + "\n--B--\n").utf8)
            let theirs = try #require(JSONValue(json: Data(try Self.ask("merged", userData: userData).utf8)))
            let parsed = UserData.parse(userData, limits: UserDataSettings())
            var parts: [CloudConfig.Part] = []
            for part in parsed.parts {
                let node = try #require(try YAMLDocument.parse(part.text, source: "t", maxNodes: 100_000, dialect: .python))
                parts.append(CloudConfig.Part(mapping: try #require(node.mapping), source: part.filename, mergeHeader: part.mergeType))
            }
            let merged = try CloudConfig.merge(parts)
            let ours = Node.Mapping(merged.map { ($0.key, $0.value) })
            #expect(String(decoding: UserData.json(.mapping(ours)).encoded(), as: UTF8.self)
                    == String(decoding: theirs.encoded(), as: UTF8.self), "\(how)\(header)")
        }

        @Test func runcmdScriptIsCloudInitsByteForByte() throws {
            let theirs = try Self.ask("shellify", userData: Self.cloudConfigs, ["runcmd"])
            let userData = UserData.parse(Self.cloudConfigs, limits: UserDataSettings())
            let node = try #require(userData.cloudActions.first { $0.node.mapping?["type"]?.string == "runcmd" }?.node)
            var mapping = try #require(node.mapping)
            mapping["type"] = nil
            mapping["frequency"] = nil
            let params = try YAMLDecoding.decode(RuncmdAction.Params.self, from: .mapping(mapping), source: "test", keyPrefix: "")
            #expect(Shellify.script(params.runcmd) == theirs)
            #expect(theirs.contains("'sh' '-c' 'echo '\\''quoted'\\'' && exit 0' '1' 'True' '420'\n"), "the case is the one meant")
        }

        @Test func etcHostsIsCloudInitsTemplate() throws {
            let result = try runProcess("/usr/bin/python3", [Self.truth, "hosts", "web1", "web1.example.com"])
            try #require(result.status == 0, "\(result.stderr)")
            #expect(EtcHosts.template(hostname: "web1", fqdn: "web1.example.com") == result.stdout)
        }

        static let writeFiles = """
            #cloud-config
            write_files:
              - path: /etc/wf/plain.txt
                content: |
                  hello
              - path: /etc/wf/plain.txt
                content: "more\\n"
                append: true
              - path: /etc/wf/b64
                encoding: b64
                content: QjY0Cg==
                permissions: '0600'
                owner: nobody:nogroup
              - path: /etc/wf/shortened
                encoding: b64
                content: CiMgVGhpcyBmaWxlIGNvbnRyb2xzIHRoZSBzdGF0ZSBvZiBTRUxpbnV4...
              - path: /etc/wf/shortened-binary
                content: !!binary |
                  f0VMRgIBAQAAAAAAAAAAAAIAPgABAAAAwARAAAAAAABAAAAAAAAAAJAVAAAAAAAAAAAAAEAAOAAI
                  ....
              - path: /etc/wf/base64
                encoding: base64
                content: QjY0Cg==
                owner: nobody
              - path: /etc/wf/gzb64
                encoding: gz+b64
                content: H4sIAAAAAAACA3OP4gIAlx4VKgMAAAA=
                permissions: 0755
              - path: /etc/wf/gzip+base64
                encoding: gzip+base64
                content: H4sIAAAAAAACA3OP4gIAlx4VKgMAAAA=
                permissions: '0o640'
              - path: /etc/wf/binary
                encoding: gzip
                content: !!binary H4sIAAAAAAACA3OP4gIAlx4VKgMAAAA=
              - path: /etc/wf/decimal
                content: x
                permissions: 644
              - path: /etc/wf/badperm
                content: x
                permissions: rwx
              - path: /etc/wf/unknown-encoding
                encoding: rot13
                content: plain
              - path: /etc/wf/text-plain
                encoding: text/plain
                content: plain
              - path: etc/wf/relative
                content: relative
              - path: /etc/wf/sub/../dotdot
                content: folded
              - path: /etc/wf/empty
              - path: ""
                content: no path
              - path: /etc/wf/owner-none
                content: x
                owner: "none:-1"
              - path: /etc/wf/deferred
                content: later
                defer: true
                permissions: '0400'
            """

        @Test func writeFilesAreCloudInitsFiles() throws {
            let root = try seededRoot(Self.writeFiles)
            let result = try run(root)
            #expect(result.status == 0, "\(result.stderr)")
            let truthRoot = try TestEnv.tempDir("truth-root")
            _ = try Self.ask("write-files", userData: Data(Self.writeFiles.utf8), [truthRoot])
            let ours = try Self.tree(root + "/etc/wf")
            let theirs = try Self.tree(truthRoot + "/etc/wf")
            #expect(ours.count == 17 && theirs.count == 17, "\(ours.keys.sorted()) \(theirs.keys.sorted())")
            for (path, file) in theirs.sorted(by: { $0.key < $1.key }) {
                #expect(ours[path] == file, "\(path)")
            }
            #expect(ours["/plain.txt"]?.data == Data("hello\nmore\n".utf8))
            #expect(ours["/decimal"]?.mode == 0o1204, "a plain 644 is the number 644 to Python")
            #expect(ours["/b64"]?.owner != "0:0")
        }

        struct File: Equatable {
            let data: Data?
            let mode: Int
            let owner: String
        }

        /// Every file and folder under `folder`: bytes, mode, uid:gid.
        static func tree(_ folder: String) throws -> [String: File] {
            var files: [String: File] = [:]
            let enumerator = FileManager.default.enumerator(atPath: folder)
            while let relative = enumerator?.nextObject() as? String {
                let path = folder + "/" + relative
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                let isFile = info.st_mode & S_IFMT == S_IFREG
                files["/" + relative] = File(data: isFile ? FileManager.default.contents(atPath: path) : nil,
                                             mode: Int(info.st_mode & 0o7777), owner: "\(info.st_uid):\(info.st_gid)")
            }
            return files
        }
    }
}
