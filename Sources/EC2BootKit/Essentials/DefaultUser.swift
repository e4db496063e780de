import Logging

/// cloud-init's `users: [default]` with its distro's `default_user`, made on an instance's first
/// boot as the users_groups action makes any user (`AccountTools`: its missing groups made, the
/// account with `useradd`, its password locked, its sudo rule in /etc/sudoers.d). An account
/// that exists is kept as it is, as cloud-init keeps it, and still gets the lock and the sudo
/// rule. The instance's key pair for it is the essentials' next step. Under `--root` other than
/// /, the account tools work on that root's files (`--prefix`).
enum DefaultUser {
    /// Makes the account (config.yaml's `default_user`, with what the user-data's `users` merge
    /// into it: `UsersGroupsAction.defaultUser`); the problems, each in a line.
    static func make(_ user: AccountTools.User, paths: Paths, logger: Logger) async -> [String] {
        var state = AccountTools.State(paths: paths)
        return await AccountTools.make(user: user, state: &state, paths: paths, logger: logger)
    }
}
