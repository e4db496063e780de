import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// Our YAML reader against the two readers it stands in for, document by document and
    /// value by value: PyYAML's SafeLoader (`tools/yaml-truth/pyyaml.py`, cloud-init's reading of
    /// cloud-config) and Ruby 3's Psych (`tools/yaml-truth/psych.rb`, the Ruby tool's reading of
    /// its user-data, whose `to_s` is what it wrote into facts.txt).
    @Suite struct YAMLTruthTests {
        /// Every scalar form YAML 1.1 resolves, each alone in a `v: FORM` document.
        static let scalars: [String] = {
            var forms: [String] = []
            for word in ["yes", "no", "true", "false", "on", "off", "y", "n", "null", "nil", "none"] {
                forms += [word, word.capitalized, word.uppercased(), String(word.enumerated().map { $0.offset % 2 == 1 ? Character($0.element.uppercased()) : $0.element })]
            }
            forms += ["~", "", "=", ":sym", ":sym:", "::x", "abc", "a1", "-", "_1", "1 2", "a b c d e f", ".", "-.", "+.", "x: y"]
            let numbers = ["0", "7", "017", "08", "0o17", "0x1F", "0x1f", "0X1F", "0b101", "0b", "0x", "0_7", "1_000", "1__0", "1,000",
                           "1,0,0", "1_", "12", "1:30", "1:30:15", "1:3:5:7", "12:60", "1:30.5", "0:30", "1.5", "1.", ".5", "1_0.5",
                           "1,000.5", ".inf", ".Inf", ".INF", ".iNf", ".nan", ".NaN", "1e3", "1.5e3", "1.5e+3", "1.5E-3", "1.e+5",
                           "0.1", "3.10", "100000000000000000.0", "1234567890123456.0", "123456789012345.0", "0.00001", "0.0001",
                           "9223372036854775807", "1.0e+16", "6.02e+23"]
            for sign in ["", "-", "+"] { forms += numbers.map { sign + $0 } }
            forms += ["2001-12-14", "2001-1-5", "2001-02-29", "2000-02-29", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10",
                      "2001-12-14T21:59:43Z", "2001-12-14 21:59:43 +5", "2001-12-14 21:59:43+05:30", "2001-12-14 21:59:43.5 -0130",
                      "2001-12-14T24:00:00Z", "20011214", "2001-12-14x"]
            forms += ["'yes'", "\"0x1F\"", "'1:30'", "\"~\"", "! 12", "!!str 12", "!!str yes", "|\n  literal\n", ">\n  folded\n  text\n"]
            return forms
        }()

        /// Psych's integers past 2^63 are bignums; we keep them as text.
        /// What a reference refuses after reading it, where we read on: PyYAML a date that is no
        /// day and a 24th hour (its resolver matched, its constructor raised; to us, text), `=` (no
        /// constructor for YAML's value tag; to us, text), a list as a key (unhashable in Python).
        static let refusedByTheReferenceOnly: Set<String> = ["v: 2001-02-29\n", "v: 2001-12-14T24:00:00Z\n", "v: =\n",
                                                             "? [a, b]\n: pair\n? {k: v}\n: map\n"]
        static let rubyBignums: Set<String> = ["9223372036854775807", "-9223372036854775807", "+9223372036854775807"]

        @Test func everyScalarFormReadsAsPyYAMLReadsIt() throws {
            let documents = Self.scalars.map { "v: \($0)\n" }
            try compare(documents, dialect: .python, truth: try Self.truth(documents, .python))
        }

        @Test func everyScalarFormReadsAsPsychReadsIt() throws {
            let forms = Self.scalars.filter { !Self.rubyBignums.contains($0) }
            let documents = forms.map { "v: \($0)\n" }
            try compare(documents, dialect: .ruby, truth: try Self.truth(documents, .ruby))
        }

        /// Anchors and aliases, merge keys (a mapping and a list of them, the own keys winning),
        /// flow and block collections, complex keys, block scalars, explicit tags, `!!binary`.
        static let structures = [
            "base: &b {a: 1, b: 2}\nover:\n  <<: *b\n  b: 3\n  c: 4\n",
            "x: &x {a: 1}\ny: &y {a: 2, b: 2}\nz:\n  <<: [*x, *y]\n  c: 3\n",
            "list: &l [1, two, 3.0]\nagain: *l\n",
            "? [a, b]\n: pair\n? {k: v}\n: map\n",
            "text: |\n  line one\n  line two\nfolded: >-\n  one\n  two\n",
            "typed: [!!int \"017\", !!float '1.20', !!bool 'yes', !!str 12, !!null '']\n",
            "blob: !!binary |\n  aGVsbG8gd29y\n  bGQ=\n",
            "nested:\n  - - deep\n    - {a: [1, {b: ~}]}\n",
            "'quoted key': \"tab\\there\"\nplain key: 'it''s'\n",
            "",
            "--- just text\n",
            "# only a comment\n",
        ]

        @Test func structuresReadAsPyYAMLReadsThem() throws {
            try compare(Self.structures, dialect: .python, truth: try Self.truth(Self.structures, .python))
        }

        @Test func structuresReadAsPsychReadsThem() throws {
            // Psych reads !!binary as its decoded text, !!int "017" through Integer(): not the Ruby
            // tool's forms. An empty document is `false` to Psych, no user-data to us.
            let documents = Self.structures.filter { !$0.contains("!!") && (try? YAMLDocument.parse($0, source: "t", maxNodes: 10)) != nil }
            try compare(documents, dialect: .ruby, truth: try Self.truth(documents, .ruby))
        }

        /// Debian's cloud-init examples (what its users start from) and this repository's own.
        @Test func theExamplesReadAsTheirReadersReadThem() throws {
            let debian = "/usr/share/doc/cloud-init/examples"
            var cloudConfig: [String] = []
            var duplicated: [String] = []
            for name in try FileManager.default.contentsOfDirectory(atPath: debian).sorted() where name.hasPrefix("cloud-config") {
                let path = debian + "/" + name
                let text: String = name.hasSuffix(".gz") ? try runProcess("/bin/gzip", ["-dc", path]).stdout : try String(contentsOfFile: path, encoding: .utf8)
                // A key given twice is our error (PyYAML keeps the last silently): said, not compared.
                do { _ = try YAMLDocument.parse(text, source: name, maxNodes: 100_000, dialect: .python) } catch {
                    if error.message.hasPrefix("duplicate keys") { duplicated.append(name); continue }
                }
                cloudConfig.append(text)
            }
            #expect(duplicated == ["cloud-config-add-apt-repos.txt", "cloud-config-disk-setup.txt.gz"], "keys given twice in those examples")
            #expect(cloudConfig.count >= 20, "Debian's cloud-init examples: \(cloudConfig.count)")
            try compare(cloudConfig, dialect: .python, truth: try Self.truth(cloudConfig, .python))
            let ours = try Self.repoFiles(under: "examples").filter { $0.hasSuffix("/user-data") }
                .map { try String(contentsOfFile: $0, encoding: .utf8) }
            let (cloud, ruby) = (ours.filter { $0.hasPrefix("#cloud-config") }, ours.filter { !$0.hasPrefix("#cloud-config") })
            #expect(!ruby.isEmpty)
            try compare(cloud, dialect: .python, truth: try Self.truth(cloud, .python))
            try compare(ruby, dialect: .ruby, truth: try Self.truth(ruby, .ruby))
        }

        static func repoFiles(under folder: String) throws -> [String] {
            let root = TestEnv.repoRoot.appendingPathComponent(folder).path
            let found = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
            return found.sorted().map { root + "/" + $0 }
        }

        /// The reference reader's trees for `documents`.
        static func truth(_ documents: [String], _ dialect: YAMLDialect) throws -> [Any] {
            let input = String(decoding: try JSONSerialization.data(withJSONObject: documents), as: UTF8.self)
            let result = switch dialect {
            case .python: try runProcess("/usr/bin/python3", [TestEnv.repoRoot.appendingPathComponent("tools/yaml-truth/pyyaml.py").path], stdin: input)
            case .ruby: try runProcess("/usr/bin/env", ["TZ=UTC", "ruby", TestEnv.repoRoot.appendingPathComponent("tools/yaml-truth/psych.rb").path], stdin: input)
            }
            try #require(result.status == 0, "\(result.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [Any])
        }

        func compare(_ documents: [String], dialect: YAMLDialect, truth: [Any]) throws {
            try #require(documents.count == truth.count)
            for (text, expected) in zip(documents, truth) {
                if let refused = (expected as? [String: Any])?["error"] {
                    let ours = Result { () throws(YAMLProblem) in try YAMLDocument.parse(text, source: "t", maxNodes: 100_000, dialect: dialect) }
                    if case .success = ours, !Self.refusedByTheReferenceOnly.contains(text) {
                        Issue.record("the reference refused \(text.debugDescription) (\(refused)); ours read it")
                    }
                    continue
                }
                let node = try YAMLDocument.parse(text, source: "t", maxNodes: 100_000, dialect: dialect)
                let ours = node.map { Self.tree($0, dialect) } ?? Self.tree(Node("", Tag(.null)), dialect)
                #expect(Self.same(ours, expected, exact: dialect == .ruby), "\(text.debugDescription): ours \(ours), theirs \(expected)")
            }
        }

        /// Our node as the scripts print theirs.
        static func tree(_ node: Node, _ dialect: YAMLDialect) -> Any {
            switch node {
            case .mapping(let mapping): return ["map": mapping.map { [tree($0.key, dialect), tree($0.value, dialect)] }]
            case .sequence(let list): return ["seq": list.map { tree($0, dialect) }]
            case .scalar(let scalar): return dialect == .python ? pythonScalar(scalar) : rubyScalar(node, scalar)
            }
        }

        static func pythonScalar(_ scalar: Node.Scalar) -> [String] {
            let node = Node.scalar(scalar)
            switch scalar.tag.name {
            case .bool: return ["bool", node.bool == true ? "True" : "False"]
            case .int: return ["int", node.int.map(String.init) ?? scalar.string]
            case .float: return ["float", node.float.map { "\($0)" } ?? "?"]
            case .null: return ["null", "None"]
            case .timestamp: return ["timestamp", YAML11.timestamp(scalar.string) ?? "?"]
            case .binary:   // the bytes, compared as Python prints them (base64 again, canonical)
                return ["binary", Data(base64Encoded: scalar.string, options: .ignoreUnknownCharacters)?.base64EncodedString() ?? "?"]
            default: return ["str", scalar.string]
            }
        }

        static func rubyScalar(_ node: Node, _ scalar: Node.Scalar) -> [String] {
            let kind = switch scalar.tag.name {
            case .bool: "bool"
            case .int: "int"
            case .float: "float"
            case .null: "null"
            case .timestamp: "timestamp"
            default: "str"
            }
            return [kind, YAMLDocument.rubyText(node) ?? "?"]
        }

        /// Equal trees. Unless `exact` (Ruby's `to_s`, which facts.txt shows), floats by value:
        /// Python's repr and Swift's description print some alike (1e15: `1000000000000000.0`, `1e+15`).
        static func same(_ ours: Any, _ theirs: Any, exact: Bool) -> Bool {
            switch (ours, theirs) {
            case let (a as [String], b as [Any]):
                guard b.count == 2, let kind = b[0] as? String, let text = b[1] as? String, a[0] == kind else { return false }
                if kind == "float", !exact, let x = Double(a[1]), let y = Double(text) { return x == y || (x.isNaN && y.isNaN) }
                return a[1] == text
            case let (a as [String: Any], b as [String: Any]):
                guard let key = a.keys.first, let x = a[key] as? [Any], let y = b[key] as? [Any], x.count == y.count else { return false }
                return zip(x, y).allSatisfy { same($0, $1, exact: exact) }
            case let (a as [Any], b as [Any]):
                return a.count == b.count && zip(a, b).allSatisfy { same($0, $1, exact: exact) }
            default:
                return false
            }
        }
    }
}
