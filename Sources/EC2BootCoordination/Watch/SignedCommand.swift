import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// A command signed by the operator: signify's embedded form (`signify-openbsd -S -e`) over a
/// message of header lines that bind the command, a blank line, then the command itself:
///
///     target: /ec2boot/nodes/i-0abc      (the node's or group's znode, the chroot first: refused anywhere else)
///     issued: 2026-12-05T09:00:00Z       (a group refuses a command issued before the node joined it)
///     expires: 2026-12-05T10:00:00Z      (refused after it, and when more than a day ahead)
///     id: 20261204-web-1                 (a node never runs an id twice)
///
/// `issued` is required from version 0.2.0 on (its `push` writes it); a command without it is refused.
///     {"run_list": ["recipe[web]"]}
public struct SignedCommand: Sendable {
    public let id: String
    public let target: String
    public let issued: Date
    public let expires: Date
    /// The command, as `Command.parse` reads it.
    public let body: Data

    /// A signature good for longer could be replayed long after the operator meant it.
    public static let maxLifetime = 86_400.0
    static let headerBytes = 4096
    static let idMarks = "._:@-"
    static let headers = ["target", "issued", "expires", "id"]
    /// How far ahead of this node's clock `issued` may be: the operator's clock and ours differ a little.
    public static let clockSkew = 300.0

    /// Checks the signature over `data` read from `target`'s command znode, then the headers.
    public static func open(_ data: Data, keys: [Signify.PublicKey], target: String, now: Date = Date()) throws(CommandRefused) -> SignedCommand {
        let signature: Data, message: Data
        do {
            (signature, message) = try Signify.embedded(data)
            try Signify.verify(message, signature: signature, keys: keys, keysName: "watch.public_keys", signed: "command")
        } catch {
            throw CommandRefused(error.description)
        }
        let command = try parse(message)
        guard command.target == target else {
            throw CommandRefused("signed for \(command.target), not for \(target)")
        }
        guard command.expires > now else {
            throw CommandRefused("expired at \(Timestamp.string(command.expires))")
        }
        guard command.expires.timeIntervalSince(now) <= maxLifetime else {
            throw CommandRefused("expires \(Timestamp.string(command.expires)), more than a day ahead (at most \(Int(maxLifetime)) s)")
        }
        guard command.issued.timeIntervalSince(now) <= clockSkew else {
            throw CommandRefused("issued \(Timestamp.string(command.issued)), ahead of this node's clock (\(Timestamp.string(now)))")
        }
        guard command.issued <= command.expires, command.expires.timeIntervalSince(command.issued) <= maxLifetime else {
            throw CommandRefused("issued \(Timestamp.string(command.issued)) and expires \(Timestamp.string(command.expires)): "
                                 + "a signature is good for at most \(Int(maxLifetime)) s from its issue")
        }
        return command
    }

    /// The headers and the body of a verified message.
    static func parse(_ message: Data) throws(CommandRefused) -> SignedCommand {
        let blank = Data("\n\n".utf8)
        guard let end = message.prefix(headerBytes).firstRange(of: blank),
              let head = String(data: message[..<end.lowerBound], encoding: .utf8) else {
            throw CommandRefused("the signed text has no header lines (\(headers.joined(separator: ", "))) and blank line within \(headerBytes) bytes")
        }
        var fields: [String: String] = [:]
        for line in head.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let colon = line.firstIndex(of: ":") else { throw CommandRefused("header line without a colon: \(Printable.escape(String(line)))") }
            let name = String(line[..<colon]), value = line[line.index(after: colon)...].trimmingWhitespace()
            guard headers.contains(name) else {
                throw CommandRefused("unknown header \(Printable.escape(name)) (known: \(headers.joined(separator: ", ")))")
            }
            guard fields[name] == nil else { throw CommandRefused("header \(name) given twice") }
            fields[name] = value
        }
        guard let target = fields["target"], WatchSettings.validPath(target) else { throw CommandRefused("header target: expected a znode path") }
        guard let text = fields["expires"], let expires = Timestamp.parse(text) else {
            throw CommandRefused("header expires: expected a time such as 2026-12-05T10:00:00Z")
        }
        guard let stamp = fields["issued"] else {
            throw CommandRefused("header issued: missing (required from version 0.2.0, whose push writes it; add issued: with the time of signing)")
        }
        guard let issued = Timestamp.parse(stamp) else { throw CommandRefused("header issued: expected a time such as 2026-12-05T09:00:00Z") }
        guard let id = fields["id"], (1...128).contains(id.utf8.count), NameCheck.valid(id, marks: idMarks) else {
            throw CommandRefused("header id: expected 1 to 128 letters, digits and \(idMarks)")
        }
        return SignedCommand(id: id, target: target, issued: issued, expires: expires, body: Data(message[end.upperBound...]))
    }

    /// The message for `command`, signed with `key`: what `push --sign-key` writes. `target` is
    /// the znode's path on the ensemble, the chroot included.
    public static func seal(_ command: Data, target: String, issued: Date = Date(), expires: Date, id: String,
                            key: Signify.SecretKey) throws -> Data {
        let head = "target: \(target)\nissued: \(Timestamp.string(issued))\nexpires: \(Timestamp.string(expires))\nid: \(id)\n\n"
        return try Signify.signEmbedded(Data(head.utf8) + command, key: key, comment: "ec2-boot-init command \(id)")
    }
}
