import ArgumentParser

/// What `ec2-boot-init-watch` does, told once: its commands use these, and `ec2-boot-init`
/// lists them in its help before it hands them over (see `HelperProgram`).
public enum HelperCommands {
    public static let watch = CommandConfiguration(
        commandName: "watch",
        abstract: "Run commands written to this node's ZooKeeper znode (and its groups'), and report the results.",
        discussion: """
        A long-running service (ec2-boot-init-watch.service), after the boot run; one per root. Settings: watch: in config.yaml, with user-data's :watch: over it key by key (zookeeper, node, groups, public_keys, require_signature, auth_file, operator, allow, session_timeout). The node keeps an ephemeral <node>/alive, reads commands from <node>/command and <group>/command, runs those signed by a key in watch.public_keys for this node or group (signify's embedded form; push --sign-key makes them) through the action engine under the boot run's lock, writes <node>/result (or <group>/results/<instance-id>). Unsigned, tampered, expired, replayed or misaddressed commands (another node, group or chroot), a group's commands issued before the node joined it, and any while the clock is behind the latest time a command was admitted at, are refused and nothing runs. By default a command may run only chef_run and puppet_run (watch.allow widens it). Exit 2 when the settings are not usable or safe, or when a znode of this node is held by another ZooKeeper identity.
        """
    )

    public static let push = CommandConfiguration(
        commandName: "push",
        abstract: "Send a command to a node or a group through ZooKeeper, and wait for the results.",
        discussion: """
        Writes <node>/command or <group>/command, then waits: for a node until it answers, for a group until every member registered at push time has. The command is checked first, before connecting. With --sign-key it goes out signed for that node's or group's path, the chroot of --zookeeper included (signify's embedded form, with target, issued, expires and id), as watchers require by default; the secret key stays on this machine. Prints one line per node (instance id, outcome, exit, duration); a result whose ACL shows it was not written by the fleet's or the operator's identity is ignored, and said. Exit 0 when all succeeded; 1 when one failed or did not answer within --wait; 2 for a command that is not valid.
        """
    )

    public static let nodes = CommandConfiguration(
        commandName: "nodes",
        abstract: "List the live nodes registered in ZooKeeper, with their last command's result."
    )
}
