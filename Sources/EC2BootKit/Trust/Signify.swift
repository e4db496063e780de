import Crypto
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// OpenBSD signify's Ed25519 files, so operators sign with Debian's `signify-openbsd`: a public
/// key is `Ed` + an 8-byte key number + the 32-byte key, a signature `Ed` + the key number + the
/// 64-byte signature, each base64 on the line after an "untrusted comment:" line. The whole
/// message is signed (not a hash of it). The embedded form (`signify -S -e`) is the comment
/// line, the signature line, then the message itself.
public enum Signify {
    public struct PublicKey: Sendable {
        public let number: Data
        let key: Curve25519.Signing.PublicKey
    }

    /// An unencrypted secret key (`signify-openbsd -G -n`), for `push --sign-key`.
    public struct SecretKey: Sendable {
        public let number: Data
        let key: Curve25519.Signing.PrivateKey
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

    /// A `.sec` file's text: `Ed`, `BK`, kdf rounds (0: no passphrase), salt, checksum, key number, then
    /// the 64-byte secret (seed and public key). A passphrase needs bcrypt_pbkdf, which we do not carry.
    public static func secretKey(_ text: String) throws(Problem) -> SecretKey {
        let bytes = try decode(text, length: 104, what: "secret key")
        guard bytes[2..<4] == Data("BK".utf8) else { throw Problem(description: "not a signify secret key") }
        guard bytes[4..<8].allSatisfy({ $0 == 0 }) else {
            throw Problem(description: "the secret key has a passphrase; make one with signify-openbsd -G -n, or sign with signify-openbsd -S -e yourself")
        }
        let secret = bytes[40..<104]
        guard Data(SHA512.hash(data: secret).prefix(8)) == bytes[24..<32],
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: secret.prefix(32)),
              key.publicKey.rawRepresentation == secret.suffix(32) else {
            throw Problem(description: "the secret key's checksum does not match")
        }
        return SecretKey(number: bytes[32..<40], key: key)
    }

    /// Checks `signature` (a `.sig` file) over `message` with the key whose number it names;
    /// `keysName` and `signed` name the keys and the message in errors.
    public static func verify(_ message: Data, signature: Data, keys: [PublicKey], keysName: String = "actions.public_keys",
                              signed: String = "list") throws(Problem) {
        let bytes = try decode(String(decoding: signature, as: UTF8.self), length: 74, what: "signature")
        let number = bytes[2..<10]
        guard let key = keys.first(where: { $0.number == number }) else {
            throw Problem(description: "signed with key \(number.hex), which is not in \(keysName)")
        }
        guard key.key.isValidSignature(bytes[10...], for: message) else {
            throw Problem(description: "the signature does not match the \(signed)")
        }
    }

    /// Splits the embedded form into its signature (the first two lines) and the message after them.
    public static func embedded(_ data: Data) throws(Problem) -> (signature: Data, message: Data) {
        let comment = Data("untrusted comment:".utf8)
        guard data.starts(with: comment), let first = data.firstIndex(of: 0x0A),
              let second = data[(first + 1)...].firstIndex(of: 0x0A) else {
            throw Problem(description: "not signify's embedded form (an untrusted comment line, a signature line, then the message)")
        }
        return (Data(data[..<(second + 1)]), Data(data[(second + 1)...]))
    }

    /// `message` signed with `key` in the embedded form, as `signify-openbsd -S -e` writes it.
    public static func signEmbedded(_ message: Data, key: SecretKey, comment: String) throws -> Data {
        let signature = try key.key.signature(for: message)
        let line = (Data("Ed".utf8) + key.number + signature).base64EncodedString()
        return Data("untrusted comment: \(comment)\n\(line)\n".utf8) + message
    }

    private static func decode(_ text: String, length: Int, what: String) throws(Problem) -> Data {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }
        let line = lines.first { !$0.isEmpty && !$0.hasPrefix("untrusted comment:") } ?? ""
        guard let bytes = Data(base64Encoded: line), bytes.count == length, bytes.prefix(2) == Data("Ed".utf8) else {
            throw Problem(description: "not a signify Ed25519 \(what)")
        }
        return Data(bytes)
    }
}
