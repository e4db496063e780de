
/// cloud-init's three module stages as Debian 12's /etc/cloud/cloud.cfg lists them, in the
/// order they run. A cloud-config's `cloud_init_modules`, `cloud_config_modules` or
/// `cloud_final_modules` replaces that stage's list whole, as in cloud-init (the user-data's
/// configuration wins over cloud.cfg's): each entry a module's name (`scripts-user` or
/// `scripts_user`) or `[name, frequency]`, the frequency one of always, once-per-instance, once.
/// A pure value: what runs, in which order, how often; tested as a table.
enum CloudInitModules {
    enum Frequency: String, Sendable, Equatable {
        case always
        case perInstance = "once-per-instance"
        case once
    }

    struct Stage {
        let key: String
        let modules: [String]
    }

    static let stages: [Stage] = [
        Stage(key: "cloud_init_modules", modules: [
            "migrator", "seed_random", "bootcmd", "write_files", "growpart", "resizefs", "disk_setup", "mounts", "set_hostname",
            "update_hostname", "update_etc_hosts", "ca_certs", "rsyslog", "users_groups", "ssh",
        ]),
        Stage(key: "cloud_config_modules", modules: [
            "snap", "ssh_import_id", "keyboard", "locale", "set_passwords", "grub_dpkg", "apt_pipelining", "apt_configure", "ntp",
            "timezone", "disable_ec2_metadata", "runcmd", "byobu",
        ]),
        Stage(key: "cloud_final_modules", modules: [
            "package_update_upgrade_install", "fan", "landscape", "lxd", "write_files_deferred", "puppet", "chef", "mcollective",
            "salt_minion", "reset_rmc", "refresh_rmc_and_interface", "rightscale_userdata", "scripts_vendor", "scripts_per_once",
            "scripts_per_boot", "scripts_per_instance", "scripts_user", "ssh_authkey_fingerprints", "keys_to_console",
            "install_hotplug", "phone_home", "final_message", "power_state_change",
        ]),
    ]

    /// The frequency each module we carry out has in cloud-init (its `meta`).
    static let frequencies: [String: Frequency] = [
        "bootcmd": .always, "write_files": .perInstance, "set_hostname": .perInstance, "update_hostname": .always,
        "update_etc_hosts": .always, "ssh": .perInstance, "runcmd": .perInstance, "package_update_upgrade_install": .perInstance,
        "write_files_deferred": .perInstance, "puppet": .perInstance, "chef": .always, "mcollective": .perInstance,
        "scripts_per_once": .once, "scripts_per_boot": .always, "scripts_per_instance": .perInstance, "scripts_user": .perInstance,
        "growpart": .always, "resizefs": .always, "mounts": .perInstance, "users_groups": .perInstance,
    ]

    /// Every module cloud-init 22.4 has (its cloudinit/config/cc_*.py): a name outside these is
    /// one cloud-init cannot find.
    static let all: Set<String> = Set(stages.flatMap(\.modules)).union([
        "ansible", "apk_configure", "resolv_conf", "rh_subscription", "spacewalk", "ubuntu_advantage", "ubuntu_autoinstall",
        "ubuntu_drivers", "wireguard", "yum_add_repo", "zypper_add_repo",
    ])

    /// One module that runs: its name, and the frequency its list gave it (nil: its own).
    struct Entry: Equatable, Sendable {
        let name: String
        var frequency: Frequency?
    }

    /// The modules that run, in order, and what the lists say that we do not do (with their lines).
    /// `carried`: the modules ec2-boot-init carries out; another listed is said with its line.
    static func resolve(_ config: [(key: Node, value: Node, source: String)], carried: Set<String>) -> (entries: [Entry], notes: [YAMLProblem]) {
        var entries: [Entry] = []
        var notes: [YAMLProblem] = []
        for stage in stages {
            guard let given = config.first(where: { $0.key.string == stage.key }) else {
                entries += stage.modules.map { Entry(name: $0, frequency: nil) }
                continue
            }
            let read = entriesOf(given.value, key: stage.key, source: given.source, carried: carried)
            entries += read.entries
            notes += read.notes
        }
        return (entries, notes)
    }

    /// One stage's list as cloud-init's `_read_modules`/`_fixup_modules` read it: empty items
    /// skipped, an unknown frequency warned and the module's own used, an unknown name warned.
    private static func entriesOf(_ list: Node, key: String, source: String, carried: Set<String>) -> (entries: [Entry], notes: [YAMLProblem]) {
        var entries: [Entry] = []
        var notes: [YAMLProblem] = []
        for item in list.sequence ?? [] {
            let fields: [Node] = item.mapping.map { [$0["name"] ?? "", $0["frequency"] ?? ""] } ?? item.sequence.map { Array($0) } ?? [item]
            let words = fields.map { YAMLDocument.scalarText($0)?.trimmingWhitespace(newlines: true) ?? "" }
            let name = canonical(words.first ?? "")
            guard !name.isEmpty else { continue }
            guard all.contains(name) else {
                notes.append(YAMLProblem(source: source, mark: item.mark, message: "\(key): \(words[0]) is not a cloud-init module; ignored"
                                         + Suggestion.hint(name, among: all.sorted())))
                continue
            }
            if !carried.contains(name) {
                notes.append(YAMLProblem(source: source, mark: item.mark, message: "\(key): \(name) is a cloud-init module ec2-boot-init does not carry out; not run"))
            }
            var frequency: Frequency?
            if words.count > 1, !words[1].isEmpty {
                frequency = Frequency(rawValue: words[1])
                if frequency == nil {
                    notes.append(YAMLProblem(source: source, mark: item.mark, message: "\(key): \(name): \(words[1]) is not a frequency "
                                             + "(always, once-per-instance, once); the module's own is used"))
                }
            }
            entries.append(Entry(name: name, frequency: frequency))
        }
        if list.sequence == nil, YAMLDocument.scalarText(list) != nil || list.mapping != nil {
            notes.append(YAMLProblem(source: source, mark: list.mark, message: "\(key): expected a list of modules, found \(YAMLDocument.kind(list)); none run"))
        }
        return (entries, notes)
    }

    /// A module's name as cloud-init's `form_module_name` makes it: `-` is `_`, no `.py`, no `cc_`.
    static func canonical(_ name: String) -> String {
        var canon = name.replacing("-", with: "_")
        if canon.lowercased().hasSuffix(".py") { canon = String(canon.dropLast(3)) }
        canon = canon.trimmingWhitespace()
        return canon.hasPrefix("cc_") ? String(canon.dropFirst(3)) : canon
    }
}
