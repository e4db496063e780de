import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// What the watcher makes of a command znode's data, before anything runs.
enum Admission {
    /// `id`: the signed id, or the write's mzxid for an unsigned command; `issued`, `expires`: the signature's.
    case run(Command, id: String, signed: Bool, issued: Date?, expires: Date?)
    case refuse(id: String, reason: String, signed: Bool)
}

extension WatchTarget {
    /// Signed (signify's embedded form): signature, target, issue and expiry times, then the
    /// command itself. Unsigned: refused unless `require_signature: false`. `size` is the znode's
    /// data length.
    func admit(_ data: Data, size: Int, path: String, key: WriteKey, now: Date = Date()) -> Admission {
        guard size <= Command.maxEnvelopeBytes, data.count <= Command.maxEnvelopeBytes else {
            return .refuse(id: key.mzxid, reason: "the command is \(max(size, data.count)) bytes; at most \(Command.maxEnvelopeBytes) are read",
                           signed: false)
        }
        guard data.starts(with: Data("untrusted comment:".utf8)) else {
            guard !requireSignature else {
                return .refuse(id: key.mzxid, reason: "unsigned command refused (watch.require_signature): sign it with "
                               + "signify-openbsd -S -e or push --sign-key", signed: false)
            }
            return command(data, size: size, id: key.mzxid, signed: false, expires: nil)
        }
        let signed: SignedCommand
        do {
            signed = try SignedCommand.open(data, keys: publicKeys, target: signedTarget(path.parentFolder), now: now)
        } catch {
            return .refuse(id: key.mzxid, reason: error.description, signed: false)
        }
        return command(signed.body, size: signed.body.count, id: signed.id, signed: true, issued: signed.issued, expires: signed.expires)
    }

    private func command(_ body: Data, size: Int, id: String, signed: Bool, issued: Date? = nil, expires: Date?) -> Admission {
        do {
            guard let command = try Command.parse(body, size: size, allow: allow) else {
                return .refuse(id: id, reason: "the command is empty", signed: signed)
            }
            return .run(command, id: id, signed: signed, issued: issued, expires: expires)
        } catch {
            return .refuse(id: id, reason: error.description, signed: signed)
        }
    }
}
