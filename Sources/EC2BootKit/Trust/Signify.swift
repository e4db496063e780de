import Crypto
import Foundation

/// OpenBSD signify's Ed25519 files, so operators sign action lists with Debian's
/// `signify-openbsd`: a public key is `Ed` + an 8-byte key number + the 32-byte key, a
/// signature `Ed` + the key number + the 64-byte signature, each base64 on the line after an
/// "untrusted comment:" line. The whole message is signed (not a hash of it).
public enum Signify {
    public struct PublicKey: Sendable {
        public let number: Data
        let key: Curve25519.Signing.PublicKey
    }

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// A key from a `.pub` file's text, or its base64 line alone.
    public static func publicKey(_ text: String) throws(Problem) -> PublicKey {
        let bytes = try decode(text, length: 42, what: "public key")
        do {
            return PublicKey(number: bytes[2..<10], key: try Curve25519.Signing.PublicKey(rawRepresentation: bytes[10...]))
        } catch {
            throw Problem(description: "not an Ed25519 public key")
        }
    }

    /// Checks `signature` (a `.sig` file) over `message` with the key whose number it names.
    public static func verify(_ message: Data, signature: Data, keys: [PublicKey]) throws(Problem) {
        let bytes = try decode(String(decoding: signature, as: UTF8.self), length: 74, what: "signature")
        let number = bytes[2..<10]
        guard let key = keys.first(where: { $0.number == number }) else {
            throw Problem(description: "signed with key \(number.map { String(format: "%02x", $0) }.joined()), which is not in actions.public_keys")
        }
        guard key.key.isValidSignature(bytes[10...], for: message) else {
            throw Problem(description: "the signature does not match the list")
        }
    }

    private static func decode(_ text: String, length: Int, what: String) throws(Problem) -> Data {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let line = lines.first { !$0.isEmpty && !$0.hasPrefix("untrusted comment:") } ?? ""
        guard let bytes = Data(base64Encoded: line), bytes.count == length, bytes.prefix(2) == Data("Ed".utf8) else {
            throw Problem(description: "not a signify Ed25519 \(what)")
        }
        return Data(bytes)
    }
}
