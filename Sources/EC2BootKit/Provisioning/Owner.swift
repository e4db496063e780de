#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// A file's owner as cloud-init writes it (`util.extract_usergroup`, `chownbyname`):
/// `user:group`, `user` alone; an empty, `-1` or `none` side is left as it is.
enum Owner {
    struct Unknown: Error, CustomStringConvertible { let description: String }

    /// The uid and gid for `spec`, the unchanged sides taken from the file at `existing`
    /// (or this process's when there is none). Names are looked up on the running system.
    static func resolve(_ spec: String, existing: String) throws -> (uid_t, gid_t) {
        let sides = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
        var info = stat()
        let current = stat(existing, &info) == 0 ? (info.st_uid, info.st_gid) : (geteuid(), getegid())
        let user = named(sides[0])
        let group = sides.count == 2 ? named(sides[1]) : nil
        var uid = current.0
        var gid = current.1
        if let user {
            guard let entry = getpwnam(user) else { throw Unknown(description: "no user \(Printable.escape(user)) on this system") }
            uid = entry.pointee.pw_uid
        }
        if let group {
            guard let entry = getgrnam(group) else { throw Unknown(description: "no group \(Printable.escape(group)) on this system") }
            gid = entry.pointee.gr_gid
        }
        return (uid, gid)
    }

    private static func named(_ side: String) -> String? {
        side.isEmpty || side == "-1" || side.lowercased() == "none" ? nil : side
    }
}
