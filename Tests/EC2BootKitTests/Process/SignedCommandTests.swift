import Foundation
import Testing
@testable import EC2BootCoordination
@testable import EC2BootKit

extension ProcessTier {
    /// Signed commands against the real signify-openbsd, which signs and verifies them (process
    /// tier: it starts that program).
    @Suite struct SignedCommandTests {
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

        /// `issued:` is required, may not be ahead of the node's clock by more than the skew, nor
        /// make the signature good for more than a day; the target carries the chroot.
        @Test(arguments: [
            ("no issued", nil as Double?, 600.0, "header issued: missing"),
            ("issued ahead", 3600, 4000, "ahead of this node's clock"),
            ("issued long before", -90_000, 600, "good for at most 86400 s"),
            ("good", -10, 600, ""),
        ])
        func issuedIsChecked(_ name: String, _ issued: Double?, _ expires: Double, _ reason: String) throws {
            let key = try OperatorKey.shared.get()
            let now = Date()
            let stamp = { ISO8601DateFormatter().string(from: now.addingTimeInterval($0)) }
            let head = "target: /staging/ec2boot/nodes/i-1\n" + (issued.map { "issued: \(stamp($0))\n" } ?? "") + "expires: \(stamp(expires))\nid: a-1\n\n"
            let signed = Data(try key.signMessage(head + #"{"run_list":["recipe[a]"]}"#).utf8)
            let keys = [try Signify.publicKey(key.publicLine)]
            do {
                let opened = try SignedCommand.open(signed, keys: keys, target: "/staging/ec2boot/nodes/i-1", now: now)
                #expect(reason.isEmpty && opened.id == "a-1", "\(name)")
                #expect(throws: CommandRefused.self, "another chroot") { try SignedCommand.open(signed, keys: keys, target: "/prod/ec2boot/nodes/i-1", now: now) }
            } catch {
                #expect(!reason.isEmpty && error.description.contains(reason), "\(name): \(error)")
            }
        }
    }
}
