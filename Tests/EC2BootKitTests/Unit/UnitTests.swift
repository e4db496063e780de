import Foundation
import Testing
import CCurl
@testable import EC2BootKit

extension UnitTier {
    /// The pure pieces, without processes.
    @Suite struct UnitTests {
        /// One record, one line: nothing a message carries can start a log line of its own.
        @Test func aLogMessageStaysOnOneLine() {
            #expect(LogFormat.oneLine("plain") == "plain")
            #expect(LogFormat.oneLine("a\n\u{1E}result {}\r\nb") == "a\\n\u{1E}result {}\\r\\nb")
            #expect(LogFormat.oneLine("é\nü") == "é\\nü")
        }

        /// Trimming by the standard library's tables (no ICU) trims what Foundation's CharacterSets did.
        @Test func whitespaceIsTrimmedAsFoundationTrimmedIt() {
            let scalars = (0...0x10FFFF).compactMap { $0 % 7 == 0 || $0 < 0x3100 ? Unicode.Scalar($0) : nil }
            for scalar in scalars {
                let text = "\(scalar)a\(scalar)b\(scalar)"
                #expect(text.trimmingWhitespace() == text.trimmingCharacters(in: .whitespaces), "U+\(String(scalar.value, radix: 16))")
                #expect(text.trimmingWhitespace(newlines: true) == text.trimmingCharacters(in: .whitespacesAndNewlines),
                        "U+\(String(scalar.value, radix: 16))")
            }
            #expect(" \t\n".trimmingWhitespace() == "\n" && " \t\n".trimmingWhitespace(newlines: true) == "")
        }

        /// The crawl's own path encoding (no ICU) encodes as Foundation's `urlPathAllowed` less "/" did.
        @Test func metadataPathsAreEncodedAsFoundationEncodedThem() {
            var allowed = CharacterSet.urlPathAllowed
            allowed.remove("/")
            let texts = (0..<128).map { String(UnicodeScalar(UInt8($0))) } + ["Cost Center", "a=b;c", "tag/ü€😀", "50%", "a+b@c:d"]
            for text in texts {
                #expect(PercentEncoding.encode(text, keeping: PercentEncoding.isPathSegment) == text.addingPercentEncoding(withAllowedCharacters: allowed),
                        "\(text.debugDescription)")
            }
        }

        @Test func flatteningFollowsTheRubyTool() {
            let tree = MetadataTree(leaves: [
                "ami-id": "ami-1",
                "placement/availability-zone": "us-east-1a",
                "public-keys/0/openssh-key": "ssh-rsa AAA key\n",
                "security-groups": "a\nb\n",
                "tags/instance/Cost Center": "42",
                "tags/instance/a=b": "x",
            ])
            #expect(tree.flattened() == [
                "ami_id": "ami-1",
                "placement_availability_zone": "us-east-1a",
                "public_keys_0_openssh_key": "ssh-rsa AAA key",
                "security_groups_0": "a",
                "security_groups_1": "b",
                "tags_instance_Cost_Center": "42",
                "tags_instance_a_b": "x",
            ])
        }

        @Test func regionPrefersPlacementRegion() {
            #expect(MetadataTree(leaves: ["placement/availability-zone": "us-west-2-lax-1a", "placement/region": "us-west-2"]).region == "us-west-2")
            #expect(MetadataTree(leaves: ["placement/availability-zone": "us-east-1d"]).region == "us-east-1")
            #expect(MetadataTree(leaves: [:]).region == nil)
        }

        @Test func nestedJSONRoundTrips() throws {
            let tree = MetadataTree(leaves: ["a/b/c": "1", "a/d": "two\nlines", "e": ""])
            #expect(try MetadataTree(nestedJSON: tree.nestedJSON()) == tree)
        }

        @Test func listingsParseFoldersLeavesKeysAndRejectHostileNames() {
            let entries = IMDSListingEntry.parse("ami-id\nplacement/\n0=my-key\n\n../x\n..\n.\na/b\nbad\u{1}name\n  spaced  \n")
            #expect(entries == [.leaf("ami-id"), .folder("placement"), .folder("0"), .rejected("../x"), .rejected(".."),
                                .rejected("."), .rejected("a/b"), .rejected("bad\u{1}name"), .leaf("spaced")])
        }

        @Test func backoffHasFullJitterUnderItsCap() {
            let policy = RetryPolicy(backoffBase: 0.1, backoffMax: 2)
            for attempt in 0..<40 {
                let delay = policy.delay(afterAttempt: attempt)
                #expect(delay >= 0 && delay <= min(2, 0.1 * pow(2, Double(attempt))))
            }
            let spread = Set((0..<50).map { _ in policy.delay(afterAttempt: 5) })
            #expect(spread.count > 40, "jitter spreads retries")
        }

        @Test func onlyTransientFailuresAreRetried() {
            #expect(FetchError.status(500, url: "u").retryable)
            #expect(FetchError.status(429, url: "u").retryable)
            #expect(!FetchError.status(404, url: "u").retryable)
            #expect(!FetchError.status(403, url: "u").retryable)
            #expect(CurlTransfer.error(CURLE_COULDNT_CONNECT, url: "u", detail: "").retryable)
            #expect(CurlTransfer.error(CURLE_PARTIAL_FILE, url: "u", detail: "").retryable)
            #expect(CurlTransfer.error(CURLE_GOT_NOTHING, url: "u", detail: "").retryable)
            #expect(CurlTransfer.error(CURLE_OPERATION_TIMEDOUT, url: "u", detail: "").retryable)
            #expect(!CurlTransfer.error(CURLE_UNSUPPORTED_PROTOCOL, url: "u", detail: "").retryable)
            #expect(!CurlTransfer.error(CURLE_PEER_FAILED_VERIFICATION, url: "u", detail: "").retryable)
            #expect(CurlTransfer.error(CURLE_FILE_COULDNT_READ_FILE, url: "u", detail: "").isNotFound)
        }

        @Test func redactedURLsDropCredentialsAndQueries() {
            #expect(URL(string: "https://u:p@host:8443/a/b?sig=x#f")!.redacted == "https://host:8443/a/b?…")
            #expect(URL(string: "http://169.254.169.254/latest/meta-data/")!.redacted == "http://169.254.169.254/latest/meta-data/")
        }

        @Test func motdRenderingLeavesUnknownAndNonKeysAlone() {
            let (text, unknown) = MOTD.render("@@a@@ @@b@@ @@ x @@ @@@@ @@a@@@@", lookup: { $0 == "a" ? "A" : nil })
            #expect(text == "A @@b@@ @@ x @@ @@@@ A@@")
            #expect(unknown == ["b"])
        }

        @Test func controlCharactersBecomeSpacesAndNothingElseChanges() {
            #expect(Printable.cleaned("plain = value C:\\temp é 🚀") == nil)
            #expect(Printable.cleaned("a\u{1b}[2J\u{7}b\nc\r\u{85}d\u{2028}e\u{2029}f\u{7f}\u{0}") == "a [2J b c  d e f  ")
        }

        @Test func rubySymbolsNormaliseOnlyWhenUnquoted() throws {
            let node = try #require(try YAMLDocument.parse(":a: :b\n\":c\": ':d'\n!ruby/symbol e: f\n", source: "t", maxNodes: 1000))
            let pairs = try #require(node.mapping).map { ($0.key.string!, $0.value.string!) }
            #expect(pairs.map(\.0) == ["a", ":c", "e"])
            #expect(pairs.map(\.1) == ["b", ":d", "f"])
        }

        /// The reader and every walk over its nodes recurse: nesting past 1,000 levels is refused
        /// where it starts (libyaml itself has no bound; 100,000 `[` would overflow the stack).
        @Test func nestingDeeperThanTheBoundIsRefusedWithItsPlace() throws {
            let deep = "a: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "\n"
            let problem = #expect(throws: YAMLProblem.self) { try YAMLDocument.parse(deep, source: "t", maxNodes: 1_000_000) }
            #expect(problem?.description == "t:1:1003: invalid YAML: nested deeper than 1000 levels")
            let fine = "a: " + String(repeating: "[", count: 999) + String(repeating: "]", count: 999) + "\n"
            #expect(try YAMLDocument.parse(fine, source: "t", maxNodes: 1_000_000) != nil)
        }

        /// Psych reads `1:30` as base 60 by its own arithmetic (5400; `ruby -ryaml` prints the same) and
        /// Yams trapped on overflow (found by scripts/fuzz.sh): an overflowing one stays text, a
        /// typed reader says it wants a number, and nothing stops.
        @Test func base60NumbersTooLargeForAnIntStayText() throws {
            let text = "a: 899999999999999999:999999999:9\nb: 1:30\nc: 0:0:0:0:0:0:0:0:0:0:0:0\nd: -1:30\n"
            let node = try #require(try YAMLDocument.parse(text, source: "t", maxNodes: 1000))
            let json = UserData.json(node)
            #expect(json["a"] == .string("899999999999999999:999999999:9"))
            #expect(json["b"] == .int(5400))
            #expect(json["c"] == .string("0:0:0:0:0:0:0:0:0:0:0:0"))
            #expect(json["d"] == .int(-1800))
            struct Numbers: Decodable { let a: Int }
            #expect(throws: YAMLProblem.self) { try YAMLDecoding.decode(Numbers.self, from: node, source: "t") }
            FuzzEntryPoints.userData(Data("#cloud-config\n:facts:\n  n: 899999999999999999:999999999:9\n".utf8))
        }

        @Test func atomicWritesReplaceWholeFilesWithTheirMode() throws {
            let dir = try TestEnv.tempDir()
            let path = dir + "/sub/file"
            try AtomicFile.write("one", to: path, mode: 0o600)
            try AtomicFile.write("two", to: path, mode: 0o640)
            #expect(TestEnv.read(path) == "two")
            #expect(TestEnv.mode(path) == 0o640)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/sub") == ["file"])
            let writer = try AtomicFileWriter(path: path, mode: 0o600)
            try writer.write(Data("three".utf8))
            writer.discard()
            #expect(TestEnv.read(path) == "two")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/sub") == ["file"])
        }

        @Test func facterValuesAreDoubleQuotedYAMLThatReadsBackExactly() throws {
            let values = ["plain", "quote \" and \\ back", "line\nbreak\r\n", "tab\there", "\u{1b}[2Jbell\u{7}", "del\u{7f}",
                          "nel\u{85}ls\u{2028}ps\u{2029}", "bom\u{feff}", "C:\\temp", "true", "0755", "", "emoji 🚀 é",
                          "\u{0}nul", "#not a comment", "- not a list", "{not: a map}"]
            for value in values {
                let text = "k: " + YAMLWriting.quoted(value) + "\n"
                let parsed = try YAMLDocument.parse(text, source: "t", maxNodes: 10, dialect: .python)
                #expect(parsed?["k"]?.string == value, "\(text.debugDescription)")
                #expect(!text.dropLast().contains("\n"), "one line: \(text.debugDescription)")
            }
        }

        @Test func redactionCatchesTheCloudsCredentialForms() {
            let lines = [
                "export AWS_SECRET_ACCESS_KEY=abc123SECRET", "aws_secret_access_key = abc123SECRET",
                #"{"SecretAccessKey" : "abc123SECRET", "Token": "abc123SECRET"}"#, "mysql --password abc123SECRET -u root",
                "tool --token=abc123SECRET", "Authorization: Bearer abc123SECRET", "authorization: AWS4-HMAC-SHA256 Credential=abc123SECRET",
                "fetching https://deploy:abc123SECRET@git.example.com/repo.git",
                "GET https://b.s3.amazonaws.com/k?X-Amz-Credential=abc123SECRET&X-Amz-Signature=abc123SECRET&x=1",
                "password=abc123SECRET", "db_pass: 'abc123SECRET'", "api-key: abc123SECRET", "PRIVATE_KEY=abc123SECRET",
            ]
            for line in lines {
                let redacted = Redaction.redact(line)
                #expect(!redacted.contains("abc123SECRET"), "\(line) → \(redacted)")
                #expect(redacted.contains("<redacted>"))
            }
            for plain in ["installed 3 files", "key_name=ops-key", "tokens are renewed before they expire"] {
                #expect(Redaction.redact(plain) == plain)
            }
            // A 64 KiB line (the longest an action's output line gets) of what makes regexes backtrack.
            let start = ContinuousClock.now
            for filler in [".", "-", "a.", "-a", "pass."] {
                _ = Redaction.redact(String(repeating: filler, count: 65536 / filler.count))
            }
            #expect(ContinuousClock.now - start < .seconds(2), "linear, not quadratic")
        }

        /// A failed request's message names its URL, then libcurl's or our reason: only secrets
        /// are redacted, never the reason after a path that ends in a secret's word.
        @Test(arguments: ["http://169.254.169.254/latest/api/token", "http://169.254.169.254/latest/meta-data/iam/security-credentials/web",
                          "https://actions.example.com/ec2/private-key", "http://10.0.0.1/secrets/password", "s3://bucket/keys/access_key"])
        func aFailedRequestsReasonIsNotRedacted(_ url: String) {
            for reason in ["Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server", "Timeout was reached",
                           "Operation timed out after 2001 milliseconds with 0 bytes received", "Could not resolve host: imds.invalid",
                           "gave up at the deadline", "HTTP 401", "Empty reply from server"] {
                let line = "\(url): \(reason)"
                #expect(Redaction.redact(line) == line, "\(line) → \(Redaction.redact(line))")
            }
            #expect(Redaction.redact("\(url)?token=abc123SECRET: HTTP 403").contains("token=<redacted>"), "a query's token still is")
        }

        /// The pre-check that lets most lines skip the expressions never skips a line a rule changes.
        @Test func redactionsPreCheckSkipsOnlyLinesNoRuleChanges() {
            let parts = ["pass", "PassWord", "=", ": ", " ", "abc", "--", "-", "tok", "en", "x-amz-", "signature=", "://u:p@h", "Authori",
                         "zation", "-----BEGIN KEY-----", "key", "API", "_", "\"", "'", "secret", "é", "\u{212A}", "ſ", "psk", "access",
                         "credential", "private", "done 3 files", "/", "@"]
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            var skipped = 0
            for _ in 0..<4000 {
                var line = ""
                for _ in 0..<6 {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    line += parts[Int(state >> 33) % parts.count]
                }
                if !Redaction.mayHoldSecret(line) { skipped += 1 }
                #expect(Redaction.redact(line) == Redaction.applyRules(line), "\(line.debugDescription)")
            }
            #expect(skipped > 100, "the pre-check skipped \(skipped) of 4000 lines")
            #expect(!Redaction.mayHoldSecret("fetched instance data cache_ms=3 keys=88 source=imds"))
        }

        /// The hand-written rules against the expressions they replaced (NSRegularExpression, kept
        /// here as the reference): the same output for every generated line. ASCII case folding only:
        /// ICU's `(?i)` also folds `ſ` and the Kelvin sign into `s` and `k`, which no secret's name uses.
        @Test func redactionRulesDoWhatTheirExpressionsDid() throws {
            let name = #"[\w.-]{0,64}(?:pass(?:word|wd)?|psk|secret|token|api[_-]?key|private[_-]?key|credentials?|access[_-]?key)[\w.-]{0,64}"#
            let reference = try [
                (#"-----BEGIN [A-Z0-9 ]{1,64}-----[\s\S]*?(?:-----END [A-Z0-9 ]{1,64}-----|$)"#, "-----BEGIN … <redacted PEM block>"),
                (#"(?i)(authorization["']?\s*[:=]\s*)[^\r\n]*"#, "$1<redacted>"),
                (#"(?i)(://[^/\s:@]+:)[^/\s@]+(@)"#, "$1<redacted>$2"),
                (#"(?i)(x-amz-(?:signature|credential|security-token)=)[^&\s"']+"#, "$1<redacted>"),
                (#"(?i)((?<![\w.-])--?"# + name + #"(?:=|\s+))("[^"]*"|'[^']*'|[^\s-]\S*)"#, "$1<redacted>"),
                (#"(?i)((?<![\w./-])"# + name + #"["']?\s*[:=]\s*)("[^"]*"|'[^']*'|\S+)"#, "$1<redacted>"),
            ].map { (try NSRegularExpression(pattern: $0.0), $0.1) }
            func expected(_ line: String) -> String {
                reference.reduce(line) { text, rule in
                    rule.0.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: rule.1)
                }
            }
            let parts = ["pass", "PassWord", "passwd", "=", ": ", " ", "  ", "abc", "--", "-", "tok", "en", "token", "x-amz-", "X-Amz-Signature=",
                         "credential=", "security-token=", "://u:p@h", "://user@h", "http://", "Authori", "zation", "AUTHORIZATION", "-----BEGIN KEY-----",
                         "-----END KEY-----", "-----BEGIN ", "-----END ", "RSA PRIVATE KEY", "key", "API", "api_key", "_", "\"", "'", "secret", "é",
                         "psk", "access", "access-key", "credential", "credentials", "private", "private_key", "done 3 files", "/", "@", ".", "\n",
                         "\r\n", "\t", ":", "&", "x", "…", String(repeating: "a", count: 60), String(repeating: "-", count: 70)]
            var state: UInt64 = 0x2545_F491_4F6C_DD1D
            for _ in 0..<20000 {
                var line = ""
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                for _ in 0..<(1 + Int(state >> 60) % 10) {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    line += parts[Int(state >> 33) % parts.count]
                }
                let ours = Redaction.applyRules(line), theirs = expected(line)
                #expect(ours == theirs, "\(line.debugDescription): \(ours.debugDescription) != \(theirs.debugDescription)")
                if ours != theirs { return }
            }
        }

        @Test func redirectsAreCheckedHopByHop() throws {
            let policy = RedirectPolicy(maxHops: 2, allowedHosts: ["Actions.example.com"])
            let https = URL(string: "https://actions.example.com/ec2/list.txt")!
            #expect(try policy.next(after: https, location: "/other/list.txt", hop: 0).absoluteString
                    == "https://actions.example.com/other/list.txt")
            #expect(throws: FetchError.self, "https to http") { try policy.next(after: https, location: "http://actions.example.com/x", hop: 0) }
            #expect(throws: FetchError.self, "another host") { try policy.next(after: https, location: "https://evil.example.net/x", hop: 0) }
            #expect(throws: FetchError.self, "file URL") { try policy.next(after: https, location: "file:///etc/shadow", hop: 0) }
            #expect(throws: FetchError.self, "past the hops") { try policy.next(after: https, location: "/x", hop: 2) }
            #expect(throws: FetchError.self, "no Location") { try policy.next(after: https, location: nil, hop: 0) }
            #expect(throws: FetchError.self, "metadata never") { try RedirectPolicy.never.next(after: https, location: "/x", hop: 0) }
            let open = RedirectPolicy(maxHops: 5, allowedHosts: [])
            #expect(try open.next(after: URL(string: "http://a.example/x")!, location: "http://b.example/y", hop: 4).host == "b.example")
        }
    }
}
