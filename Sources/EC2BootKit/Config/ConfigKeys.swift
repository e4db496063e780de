/// Every key of config.yaml, declared once, in the order a person reads them: the packaged
/// `/etc/ec2-boot-init/config.yaml` (each line commented out), the block in
/// docs/configuration.md and `schema --config` all come from here. The unit tests check it
/// against the decoders: the same keys, and these defaults decode to `Config()`.
public enum ConfigKeys {
    public struct Entry: Sendable {
        /// The section (`imds`), or nil for a top-level key.
        public let section: String?
        /// The key; nil for a section's own line.
        public let key: String?
        /// The default as YAML (a section line has none).
        public let value: String?
        public let note: String?
        /// An example, not a default (`seed` has none): left out of the defaults.
        public let example: Bool
    }

    static func key(_ key: String, _ value: String, _ note: String? = nil, example: Bool = false) -> Entry {
        Entry(section: nil, key: key, value: value, note: note, example: example)
    }

    static func section(_ name: String, _ note: String? = nil, _ keys: [(String, String, String?)]) -> [Entry] {
        [Entry(section: name, key: nil, value: nil, note: note, example: false)]
            + keys.map { Entry(section: name, key: $0.0, value: $0.1, note: $0.2, example: false) }
    }

    public static let all: [Entry] = [
        key("metadata_url", "http://169.254.169.254"),
        key("seed", "/path/to/seed", "read a folder instead of IMDS", example: true),
        key("platform", "auto", "ec2, none; auto: DMI decides (the kernel's ec2-boot-init.platform= wins)"),
        key("log_level", "info", "trace, debug, info, notice, warning, error, critical"),
        key("syslog", "true", "also log to syslog (journald)"),
        key("write_ec2_facts", "false"),
        key("lock_timeout", "300", "seconds a run waits for another run's lock"),
    ] + actions + imds + section("metadata", nil, [("include_credentials", "false", nil)])
        + section("packages", nil, [
            ("manager", "auto", "apt, dnf, yum, zypper, none; auto is none under --root other than /"),
            ("lock_wait", "300", "seconds to wait for a package database another job holds"),
        ])
        + section("services", nil, [("manager", "auto", "systemd, sysv, none; auto is none under --root other than /")])
        + section("user_data", nil, [
            ("max_bytes", "33554432", "plain, or inflated from gzip"),
            ("max_nodes", "100000", "YAML nodes once aliases are expanded"),
        ])
        + section("s3", "where s3:// URLs go", [
            ("region", "null", "default: the instance's own"),
            ("endpoint", "null", "default: https://s3.<region>.amazonaws.com"),
            ("addressing", "auto", "virtual, path"),
        ]) + watch + essentials

    static let essentials = section("essentials", "what a new instance gets without cloud-init (none while cloud-init is enabled)", [
        ("enabled", "true", "false: none of them"),
        ("ssh_deletekeys", "true", "the image's SSH host keys deleted on an instance's first boot"),
        ("ssh_genkeytypes", "[rsa, ecdsa, ed25519]", "host keys made then (when the image has an SSH server)"),
        ("growpart", "{mode: auto, devices: [/], ignore_growroot_disabled: false}", "every boot: partitions grown to their disk's end; mode: off to leave them"),
        ("resize_rootfs", "true", "every boot: the root filesystem grown to its partition (ext4, xfs, btrfs)"),
        ("instance_store", "true", "every boot: block-device-mapping's ephemeral0 on /mnt (ephemeralN on /media/ephemeralN) and swap disk in fstab, mounted"),
        ("mount_default_fields", "[null, null, auto, 'defaults,nofail,x-systemd.requires=ec2-boot-init.service,_netdev', '0', '2']", "fstab fields a user-data mounts entry's missing ones take; the instance store takes the options (as cloud-init's ephemeral0)"),
    ]) + section("default_user", "cloud-init's system_info.default_user, made on an instance's first boot", [
        ("name", "null", "e.g. admin, as Debian's AMIs; null: none is made"),
        ("gecos", "null", nil),
        ("groups", "[]", "e.g. [adm, sudo]; a missing group is made"),
        ("sudo", "null", "e.g. ALL=(ALL) NOPASSWD:ALL"),
        ("shell", "/bin/bash", nil),
        ("lock_passwd", "true", "the password locked: key logins only"),
    ])

    static let actions = section("actions", nil, [
        ("on_failure", "continue", "or stop"),
        ("default_frequency", "per-instance", "or per-boot: when an action without frequency: runs"),
        ("timeout", "1800", "seconds an action may run"),
        ("require_sha256", "false", "getactions refuses unpinned files"),
        ("allowed_hosts", "[]", "hosts getactions (and each redirect) may use; empty: any, and file:// too"),
        ("max_file_bytes", "67108864", "one action file (fetch's --max-bytes default too)"),
        ("max_list_bytes", "1048576", "one action list"),
        ("max_list_entries", "1000", "lines in one action list; a longer list is refused whole"),
        ("max_redirects", "5", "hops a list, a file or fetch may follow"),
        ("public_keys", "[]", "signify public key lines (not paths) that may sign action lists"),
        ("require_signature", "false", "refuse a list without a good list.txt.sig"),
        ("fetch_concurrency", "8", "files of one list downloaded at once (1 to 64)"),
    ])

    static let imds = section("imds", nil, [
        ("require_v2", "false", nil),
        ("token_ttl", "21600", "1 to 21600 seconds"),
        ("token_timeout", "2", "seconds before falling back to IMDSv1"),
        ("request_timeout", "5", "seconds, one request"),
        ("deadline", "120", "seconds, all requests and retries"),
        ("concurrency", "12", "requests in flight (1 to 64)"),
        ("backoff_base", "0.1", "seconds; waits are random up to base * 2^attempt"),
        ("backoff_max", "5", nil),
        ("max_leaf_bytes", "1048576", "one metadata value, or the identity document"),
        ("max_listing_bytes", "1048576", "one folder listing"),
        ("max_depth", "16", "folders inside folders"),
        ("max_leaves", "10000", "values listed in the whole tree"),
        ("max_requests", "20000", "requests in one crawl"),
    ])

    static let watch = section("watch", "ec2-boot-init watch; user-data's :watch: wins key by key", [
        ("zookeeper", "null", "host:port[,host:port][/chroot]; unset: ec2-boot-init-watch.service is skipped"),
        ("node", "null", "default: /ec2boot/nodes/<instance-id>"),
        ("groups", "[]", nil),
        ("public_keys", "[]", "the operator's signify keys (key line or .pub path); commands must be signed by one"),
        ("require_signature", "true", "false: unsigned commands run too (a warning at start)"),
        ("auth_file", "null", "the fleet's ZooKeeper identity (every node's): a 0600 root-owned file holding user:password"),
        ("operator", "null", "the operator's digest ACL id, user:base64(sha1(user:password)): sole writer of command znodes"),
        ("allow", "[chef_run, puppet_run]", nil),
        ("session_timeout", "10", "seconds"),
    ])

    /// The settings as YAML, each at its default, with its note.
    public static func yaml(commentedOut: Bool = false, examples: Bool = true) -> String {
        let mark = commentedOut ? "#" : ""
        var lines: [String] = []
        for entry in all where examples || !entry.example {
            let indent = entry.section != nil && entry.key != nil ? "  " : ""
            let text = entry.key.map { "\(indent)\($0): \(entry.value ?? "")" } ?? "\(entry.section ?? ""):"
            let padded = entry.note == nil ? text : text.padded(to: max(text.count + 1, 27))
            lines.append(mark + padded + (entry.note.map { "# \($0)" } ?? ""))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// /etc/ec2-boot-init/config.yaml as the packages install it.
    public static var packagedFile: String {
        """
        # ec2-boot-init settings: each line below is a setting at its default (seed has none). Uncomment to change.
        # A missing key means its default; an unknown key or a value out of range stops a run (exit 2).
        # See `man ec2-boot-init` and docs/configuration.md.


        """ + yaml(commentedOut: true)
    }
}
