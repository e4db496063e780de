import EC2BootKit
import Foundation

/// A command signed by the operator: signify's embedded form (`signify-openbsd -S -e`) over a
/// message of header lines that bind the command, a blank line, then the command itself:
///
///     target: /ec2boot/nodes/i-0abc      (the node's or group's znode: refused anywhere else)
///     expires: 2026-12-05T10:00:00Z      (refused after it, and when more than a day ahead)
///     id: 20261204-web-1                 (a node never runs an id twice)
///
///     {"run_list": ["recipe[web]"]}
public struct SignedCommand: Sendable {
    public let id: String
    public let target: String
    public let expires: Date
    /// The command, as `Command.parse` reads it.
    public let body: Data

    /// A signature good for longer could be replayed long after the operator meant it.
    public static let maxLifetime = 86_400.0
    static let headerBytes = 4096
    static let idMarks = "._:@-"

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
        return command
    }

    /// The headers and the body of a verified message.
    static func parse(_ message: Data) throws(CommandRefused) -> SignedCommand {
        let blank = Data("\n\n".utf8)
        guard let end = message.prefix(headerBytes).firstRange(of: blank),
              let head = String(data: message[..<end.lowerBound], encoding: .utf8) else {
            throw CommandRefused("the signed text has no header lines (target, expires, id) and blank line within \(headerBytes) bytes")
        }
        var fields: [String: String] = [:]
        for line in head.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let colon = line.firstIndex(of: ":") else { throw CommandRefused("header line without a colon: \(Printable.escape(String(line)))") }
            let name = String(line[..<colon]), value = line[line.index(after: colon)...].trimmingWhitespace()
            guard ["target", "expires", "id"].contains(name) else { throw CommandRefused("unknown header \(Printable.escape(name)) (known: target, expires, id)") }
            guard fields[name] == nil else { throw CommandRefused("header \(name) given twice") }
            fields[name] = value
        }
        guard let target = fields["target"], WatchSettings.validPath(target) else { throw CommandRefused("header target: expected a znode path") }
        guard let text = fields["expires"], let expires = Timestamp.parse(text) else {
            throw CommandRefused("header expires: expected a time such as 2026-12-05T10:00:00Z")
        }
        guard let id = fields["id"], (1...128).contains(id.utf8.count), NameCheck.valid(id, marks: idMarks) else {
            throw CommandRefused("header id: expected 1 to 128 letters, digits and \(idMarks)")
        }
        return SignedCommand(id: id, target: target, expires: expires, body: Data(message[end.upperBound...]))
    }

    /// The message for `command`, signed with `key`: what `push --sign-key` writes.
    public static func seal(_ command: Data, target: String, expires: Date, id: String, key: Signify.SecretKey) throws -> Data {
        let head = "target: \(target)\nexpires: \(Timestamp.string(expires))\nid: \(id)\n\n"
        return try Signify.signEmbedded(Data(head.utf8) + command, key: key, comment: "ec2-boot-init command \(id)")
    }
}
