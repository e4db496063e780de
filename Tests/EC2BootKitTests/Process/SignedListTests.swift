import Foundation
import Testing

extension ProcessTier {
    /// Action lists signed with Debian's real `signify-openbsd`, verified before any file is fetched.
    @Suite struct SignedListTests {
        /// A key pair made by signify in `dir`; returns the public key's base64 line.
        func keyPair(_ dir: String, _ name: String) throws -> String {
            let made = try runProcess("/usr/bin/signify-openbsd", ["-G", "-n", "-p", "\(dir)/\(name).pub", "-s", "\(dir)/\(name).sec"])
            try #require(made.status == 0, "signify-openbsd is installed by scripts/deps.sh: \(made.stderr)")
            return String(try #require(TestEnv.read("\(dir)/\(name).pub")).split(separator: "\n")[1])
        }

        func sign(_ file: String, with key: String) throws {
            let signed = try runProcess("/usr/bin/signify-openbsd", ["-S", "-s", key, "-m", file, "-x", file + ".sig"])
            try #require(signed.status == 0, "\(signed.stderr)")
        }

        func setUp(config: (String) -> String, name: String = #function) throws -> (Simulator, String, String) {
            let keys = try TestEnv.tempDir(name + "keys")
            let good = try keyPair(keys, "good")
            let (sim, root) = try serve(["list.txt": "greet.sh\n", "greet.sh": "#!/bin/sh\ntouch \"$EC2BOOT_ROOT/greeted\"\n"],
                                        config: config(good), name: name)
            try TestEnv.write("actions:\n  - {type: getactions, url: \"\(sim.url)/files/\", list: list.txt}\n  - {type: greet}\n",
                              to: root + "/seed/user-data")
            return (sim, root, keys)
        }

        func runAgain(_ root: String) throws -> ToolResult {
            try run(root, ["--force"])
        }

        @Sendable static func required(_ key: String) -> String { "actions:\n  public_keys: [\"\(key)\"]\n  require_signature: true\n" }

        @Test func aListSignedByAConfiguredKeyIsInstalled() throws {
            let (sim, root, keys) = try setUp(config: Self.required)
            defer { withExtendedLifetime(sim) {} }
            try sign(root + "/served/list.txt", with: keys + "/good.sec")
            let result = try runAgain(root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("the action list's signature is good"))
            #expect(FileManager.default.fileExists(atPath: root + "/greeted"))
        }

        @Test func aTamperedListIsRefusedBeforeAnyFileIsFetched() async throws {
            let (sim, root, keys) = try setUp(config: Self.required)
            try sign(root + "/served/list.txt", with: keys + "/good.sec")
            try TestEnv.write("greet.sh\nevil.sh\n", to: root + "/served/list.txt")
            let result = try runAgain(root)
            #expect(result.status == 1)
            #expect(result.stderr.contains("the signature does not match the list; nothing installed"), "\(result.stderr)")
            #expect(try await sim.stats().by_path["/files/greet.sh"] == nil)
            #expect(!FileManager.default.fileExists(atPath: root + "/greeted"))
        }

        @Test func aListSignedByAnotherKeyOrNotSignedIsRefused() throws {
            let (sim, root, keys) = try setUp(config: Self.required)
            defer { withExtendedLifetime(sim) {} }
            _ = try keyPair(keys, "other")
            try sign(root + "/served/list.txt", with: keys + "/other.sec")
            let other = try runAgain(root)
            #expect(other.status == 1)
            #expect(other.stderr.contains("which is not in actions.public_keys"), "\(other.stderr)")

            try FileManager.default.removeItem(atPath: root + "/served/list.txt.sig")
            let unsigned = try runAgain(root)
            #expect(unsigned.status == 1)
            #expect(unsigned.stderr.contains("cannot fetch the list's signature (actions.require_signature is true)"), "\(unsigned.stderr)")
            #expect(!FileManager.default.fileExists(atPath: root + "/greeted"))
        }

        @Test func withoutRequireSignatureAnUnsignedListIsUsedWithAWarning() throws {
            let (sim, root, _) = try setUp(config: { "actions:\n  public_keys: [\"\($0)\"]\n" })
            defer { withExtendedLifetime(sim) {} }
            let result = try runAgain(root)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("the action list is not signed"))
            #expect(FileManager.default.fileExists(atPath: root + "/greeted"))
        }

        @Test func badKeysAndRequireWithoutKeysAreConfigErrors() throws {
            let root = try makeRoot()
            try TestEnv.write("actions:\n  public_keys: [\"bm90IGEga2V5\"]\n", to: root + "/etc/ec2-boot-init/config.yaml")
            let bad = try tool(["validate", "--root", root, "-"], stdin: "")
            #expect(bad.status == 2)
            #expect(bad.stderr.contains("not a signify Ed25519 public key"), "\(bad.stderr)")
            // A path is not read here (unlike watch.public_keys): it is refused as not a key.
            let pub = try OperatorKey.shared.get().publicFile
            try TestEnv.write("actions:\n  public_keys: [\(pub)]\n", to: root + "/etc/ec2-boot-init/config.yaml")
            let path = try tool(["validate", "--root", root, "-"], stdin: "")
            #expect(path.status == 2 && path.stderr.contains("actions.public_keys: not a signify Ed25519 public key"), "\(path.stderr)")
            try TestEnv.write("actions:\n  require_signature: true\n", to: root + "/etc/ec2-boot-init/config.yaml")
            let none = try tool(["validate", "--root", root, "-"], stdin: "")
            #expect(none.status == 2)
            #expect(none.stderr.contains("needs actions.public_keys"), "\(none.stderr)")
        }
    }
}
