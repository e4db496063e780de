import Foundation
import Logging

/// cloud-init's `users: [default]` with its distro's `default_user`: the account made with
/// `useradd` (its missing groups made with `groupadd`), its password locked, its sudo rule in
/// /etc/sudoers.d (`SudoRules`), and the instance's key pair installed for it, root's keys saying to log in
/// as it (cloud-init's `disable_root`). An account that exists is kept as it is, as cloud-init
/// keeps it, and still gets the sudo rule and the keys. Under `--root` other than /, the account
/// tools work on that root's files (`--prefix`).
enum DefaultUser {

    /// Makes the account; the problems, each in a line.
    static func make(_ settings: DefaultUserSettings, paths: Paths, logger: Logger) async -> [String] {
        guard let name = settings.name else { return [] }
        let prefix = paths.root == "/" ? [] : ["--prefix", paths.root]
        var problems: [String] = []
        if AuthorizedKeys.Accounts(passwd: paths.host("/etc/passwd")).find(name) != nil {
            logger.info("default user \(name) exists; kept as it is")
        } else {
            let groups = Set(String(decoding: FileSystem.read(paths.host("/etc/group")) ?? Data(), as: UTF8.self)
                .split(separator: "\n").map { String($0.prefix { $0 != ":" }) })
            for group in settings.groups where !groups.contains(group) {
                if let problem = await SystemCommand.failure(["/usr/sbin/groupadd"] + prefix + [group]) { problems.append(problem) }
            }
            var useradd = ["/usr/sbin/useradd"] + prefix + ["--shell", settings.shell, "-m"]
            if let gecos = settings.gecos { useradd += ["--comment", gecos] }
            if !settings.groups.isEmpty { useradd += ["--groups", settings.groups.joined(separator: ",")] }
            if let problem = await SystemCommand.failure(useradd + [name]) { return problems + [problem] }
            logger.notice("made the default user \(name)")
        }
        if settings.lockPasswd, let problem = await SystemCommand.failure(["/usr/sbin/usermod"] + prefix + ["--lock", name]) { problems.append(problem) }
        if let rule = settings.sudo {
            do { try SudoRules.write([rule], for: name, paths: paths) } catch { problems.append("cannot write \(SudoRules.file): \(error)") }
        }
        return problems
    }
}
