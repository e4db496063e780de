#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// `hostname`, `fqdn`, `manage_etc_hosts`: cloud-init's set_hostname, update_hostname and
/// update_etc_hosts, on every boot as theirs: `/etc/hostname` (the short name, or the fqdn with
/// `prefer_fqdn_over_hostname`), the running hostname when the root is `/`, and `/etc/hosts`:
/// rewritten from cloud-init's Debian template for `true`, its 127.0.1.1 line kept right for `localhost`.
public struct HostnameAction: CloudConfigModule {
    public static let type = "set_hostname"
    public static let frequency = ActionFrequency.perBoot
    static let cloudConfigKeys = ["hostname", "fqdn", "prefer_fqdn_over_hostname", "preserve_hostname", "manage_etc_hosts"]
    static let cloudInitModules = ["set_hostname", "update_hostname", "update_etc_hosts"]

    public static let schema = ActionSchema("Sets the hostname and /etc/hosts (cloud-init's set_hostname, update_hostname, update_etc_hosts).",
                                            example: """
        hostname: web1
        fqdn: web1.example.com
        manage_etc_hosts: true
        """, [
            .optional("hostname", .string, "the short name; a dotted one is the fqdn (default: metadata's local-hostname)"),
            .optional("fqdn", .string, "the fully qualified name; hostname defaults to its first label"),
            .optional("prefer_fqdn_over_hostname", .boolean, default: "false", "write the fqdn to /etc/hostname"),
            .optional("preserve_hostname", .boolean, default: "false", "leave the hostname as it is"),
            .optional("manage_etc_hosts", .string, default: "false", "true: write /etc/hosts from the template; localhost: keep its 127.0.1.1 line"),
        ])

    public struct Params: Decodable, Sendable {
        public var hostname: String?
        public var fqdn: String?
        var prefer_fqdn_over_hostname: LooseBool?
        var preserve_hostname: LooseBool?
        public var manage_etc_hosts: String?
    }

    /// cloud-init's `get_hostname_fqdn`: the short name and the fqdn; what is not given comes from
    /// the metadata's local-hostname (its first label for the short name).
    static func names(_ params: Params, metadata: MetadataTree) -> (hostname: String, fqdn: String) {
        if let fqdn = params.fqdn, !fqdn.isEmpty {
            return (params.hostname ?? String(fqdn.split(separator: ".").first ?? ""), fqdn)
        }
        if let name = params.hostname, let dot = name.firstIndex(of: "."), dot > name.startIndex {
            return (String(name[..<dot]), name)
        }
        let local = metadata.leaves["local-hostname"] ?? metadata.leaves["hostname"] ?? "localhost"
        return (params.hostname ?? String(local.split(separator: ".").first ?? "localhost"), local)
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let (hostname, fqdn) = names(params, metadata: context.run.metadata)
        do {
            if params.preserve_hostname?.value != true {
                let chosen = params.prefer_fqdn_over_hostname?.value == true ? fqdn : hostname
                if let failure = try await set(chosen, context: context) { return ActionResult(.failed, message: failure) }
            }
            try EtcHosts.update(params.manage_etc_hosts, hostname: hostname, fqdn: fqdn, path: context.run.paths.host("/etc/hosts"),
                                logger: context.logger)
        } catch {
            return ActionResult(.failed, message: "\(error)")
        }
        return ActionResult(.ok)
    }

    /// `/etc/hostname` and the running name, as cloud-init's update_hostname: not `localhost`, and
    /// not when someone changed the name since we last set it (`previous-hostname` remembers ours).
    static func set(_ name: String, context: ActionContext) async throws -> String? {
        let paths = context.run.paths
        let etc = paths.host("/etc/hostname")
        let previousFile = paths.stateDir + "/previous-hostname"
        let read = { (path: String) in FileSystem.read(path).map { String(decoding: $0, as: UTF8.self).trimmingWhitespace(newlines: true) } }
        if let previous = read(previousFile), let current = read(etc), current != previous {
            context.logger.notice("the hostname was changed here since it was set (\(previous) → \(current)); left as it is")
            return nil
        }
        guard name != "localhost", !name.isEmpty else { return nil }
        try AtomicFile.write(name + "\n", to: etc, mode: 0o644)
        if paths.root == "/", let error = await SystemCommand.run(["hostname", name], context: context) { return error }
        try ActionEnvironment.preparePrivateDir(paths)
        try AtomicFile.write(name + "\n", to: previousFile, mode: 0o644, directoryMode: 0o700)
        context.logger.info("hostname set", metadata: ["hostname": "\(name)"])
        return nil
    }
}

/// `/etc/hosts` as cloud-init's update_etc_hosts leaves it on Debian.
enum EtcHosts {
    static func update(_ setting: String?, hostname: String, fqdn: String, path: String, logger: Logger) throws {
        let value = (setting ?? "false").trimmingWhitespace().lowercased()
        if LooseBool.isTrue(value) || value == "template" {
            try AtomicFile.write(template(hostname: hostname, fqdn: fqdn), to: path, mode: 0o644)
            logger.info("wrote /etc/hosts from the template")
        } else if value == "localhost" {
            let text = FileSystem.read(path).map { String(decoding: $0, as: UTF8.self) }
            try AtomicFile.write(localhost(text, hostname: hostname, fqdn: fqdn), to: path, mode: 0o644)
        }
    }

    /// cloud-init's hosts.debian.tmpl, rendered.
    static func template(hostname: String, fqdn: String) -> String {
        """
        # Your system has configured 'manage_etc_hosts' as True.
        # As a result, if you wish for changes to this file to persist
        # then you will need to either
        # a.) make changes to the master file in /etc/cloud/templates/hosts.debian.tmpl
        # b.) change or remove the value of 'manage_etc_hosts' in
        #     /etc/cloud/cloud.cfg or cloud-config from user-data
        #
        127.0.1.1 \(fqdn) \(hostname)
        127.0.0.1 localhost

        # The following lines are desirable for IPv6 capable hosts
        ::1 localhost ip6-localhost ip6-loopback
        ff02::1 ip6-allnodes
        ff02::2 ip6-allrouters


        """
    }

    /// The existing file with a `127.0.1.1 fqdn hostname` line (added, or put right).
    static func localhost(_ text: String?, hostname: String, fqdn: String) -> String {
        let wanted = "127.0.1.1 \(fqdn) \(hostname)"
        guard let text else { return "# Added by cloud-init\n\(wanted)\n" }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        if let index = lines.firstIndex(where: { $0.split(whereSeparator: \.isWhitespace).first == "127.0.1.1" }) {
            lines[index] = wanted
        } else {
            lines.append(wanted)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
