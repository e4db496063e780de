import Foundation
import Yams

/// `type: puppet`: a Puppet agent's first boot. Writes `puppet.conf` (merged by section) and
/// `csr_attributes.yaml` before the first agent run, since a certificate request made
/// without them cannot be fixed later; then runs the agent once and starts its service.
public struct PuppetAction: Action {
    public static let type = "puppet"
    public static let frequency = ActionFrequency.perInstance

    public struct Params: Decodable, Sendable {
        public var server: String
        public var caServer: String?
        public var port: Int?
        public var environment: String?
        public var certname = "%i"
        public var waitForCert = 120.0
        public var runInterval: String?
        /// section → key → value, laid over the settings above.
        public var conf: [(section: String, key: String, value: String)] = []
        public var customAttributes: [(String, String)] = []
        public var extensionRequests: [(String, String)] = []
        public var run = true
        public var setup: SetupOptions

        enum CodingKeys: String, CodingKey, CaseIterable {
            case server, caServer = "ca_server", port, environment, certname, waitForCert = "waitforcert"
            case runInterval = "runinterval", conf, csrAttributes = "csr_attributes", run, startService = "start_service"
            case install, package, version
        }

        enum CSRKeys: String, CodingKey, CaseIterable { case customAttributes = "custom_attributes", extensionRequests = "extension_requests" }

        public init(from decoder: Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            server = try c.decode(String.self, forKey: .server)
            caServer = try c.decodeIfPresent(String.self, forKey: .caServer)
            for (key, host) in [(CodingKeys.server, server), (.caServer, caServer)] {
                if let host, !NameCheck.valid(host, marks: ".:_-") {
                    throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "not a host name or address")
                }
            }
            port = try c.integer(.port, in: 1...65535)
            environment = try c.decodeIfPresent(String.self, forKey: .environment)
            if let environment, !NameCheck.valid(environment, marks: "_") {
                throw DecodingError.dataCorruptedError(forKey: .environment, in: c, debugDescription: "expected letters, digits and _")
            }
            certname = try c.decodeIfPresent(String.self, forKey: .certname) ?? certname
            if let problem = NameTemplate.check(certname) {
                throw DecodingError.dataCorruptedError(forKey: .certname, in: c, debugDescription: problem)
            }
            if !PuppetAction.validCertname(certname.replacingOccurrences(of: "%", with: "x").lowercased()) {
                throw DecodingError.dataCorruptedError(forKey: .certname, in: c, debugDescription: "Puppet accepts only a-z 0-9 . _ -")
            }
            waitForCert = try c.positive(.waitForCert) ?? waitForCert
            runInterval = try c.decodeIfPresent(ScalarText.self, forKey: .runInterval)?.text
            if let runInterval { try c.checkLine(runInterval, .runInterval) }
            if let sections = try c.decodeIfPresent([String: [String: ScalarText]].self, forKey: .conf) {
                for (section, settings) in sections.sorted(by: { $0.key < $1.key }) {
                    for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
                        guard NameCheck.valid(section, marks: "_"), NameCheck.valid(key, marks: "_") else {
                            throw DecodingError.dataCorruptedError(forKey: .conf, in: c, debugDescription: "\(section).\(key): not a puppet.conf section and setting")
                        }
                        try c.checkLine(value.text, .conf)
                        conf.append((section, key, value.text))
                    }
                }
            }
            if c.contains(.csrAttributes) {
                let csr = try c.nestedContainer(keyedBy: CSRKeys.self, forKey: .csrAttributes)
                try c.superDecoder(forKey: .csrAttributes).rejectUnknownKeys(CSRKeys.self)
                customAttributes = try Self.attributes(csr, .customAttributes)
                extensionRequests = try Self.attributes(csr, .extensionRequests)
            }
            run = try c.decodeIfPresent(Bool.self, forKey: .run) ?? true
            setup = try SetupOptions(c, package: "puppet-agent", keys: (.install, .package, .version, .startService))
        }

        /// A map of attribute name (a `pp_` name or an OID) to value, sorted.
        static func attributes(_ c: KeyedDecodingContainer<CSRKeys>, _ key: CSRKeys) throws -> [(String, String)] {
            let map = try c.decodeIfPresent([String: ScalarText].self, forKey: key) ?? [:]
            for name in map.keys where !NameCheck.valid(name, marks: "_.") {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(name): not an attribute name or OID")
            }
            return map.sorted { $0.key < $1.key }.map { ($0.key, $0.value.text) }
        }
    }

    static func validCertname(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let certname = await NameTemplate.current(context).expand(params.certname).lowercased()
        guard validCertname(certname) else {
            return ActionResult(.failed, message: "certname \(params.certname) gives \"\(certname)\", which Puppet refuses (a-z 0-9 . _ -)")
        }
        if let failure = await params.setup.installPackage(context) { return ActionResult(.failed, message: failure) }
        let layout = await PuppetLayout.find(context)
        do {
            for folder in layout.folders { try FileSystem.makeDirectories(folder, mode: 0o755) }
            try ConfigMerge.apply(settings(params, certname: certname), to: layout.confdir + "/puppet.conf")
            try AtomicFile.write(csrAttributes(params, metadata: context.run.metadata), to: layout.confdir + "/csr_attributes.yaml",
                                 mode: 0o640)
        } catch {
            return ActionResult(.failed, message: "cannot write the Puppet config: \(error)")
        }
        context.logger.info("Puppet configured", metadata: ["certname": "\(certname)", "server": "\(params.server)",
                                                            "confdir": "\(layout.confdir)"])
        if params.run, let failure = await agentRun(params, certname: certname, layout: layout, context: context) {
            return failure
        }
        if let failure = await params.setup.restartService("puppet", context) { return ActionResult(.failed, message: failure) }
        return ActionResult(.ok)
    }

    /// The first `puppet agent --test`: exit 0 (nothing changed) and 2 (changes applied) are
    /// success; 4 and 6 mean resources failed; 1 a failed run, such as an unsigned certificate.
    static func agentRun(_ params: Params, certname: String, layout: PuppetLayout, context: ActionContext) async -> ActionResult? {
        let wait = Int(params.waitForCert.rounded(.up))
        let argv = ["puppet", "agent", "--test", "--detailed-exitcodes", "--color=false",
                    "--waitforcert", String(min(wait, 10)), "--maxwaitforcert", String(wait)] + layout.agentFlags
        context.logger.info("first Puppet agent run", metadata: ["waitforcert": "\(wait)"])
        let result = await ActionEnvironment.execute(argv, environment: ActionEnvironment.base(context), directory: nil,
                                                     timeout: params.waitForCert + context.run.config.actions.timeout, context: context)
        if result.exitCode != 0, result.exitCode != 2, (result.message ?? "").contains("maxwaitforcert") {
            return ActionResult(.failed, exitCode: result.exitCode, message:
                "the certificate for \(certname) was not signed within waitforcert (\(wait) s); the CA's autosign policy refused it or nobody signed it")
        }
        let failure = layout.outcome(of: result, program: "puppet agent")
        if failure == nil { context.logger.info("Puppet agent run done", metadata: ["exit_code": "\(result.exitCode!)"]) }
        return failure
    }

    static func settings(_ p: Params, certname: String) -> [ConfigMerge.Setting] {
        var out: [ConfigMerge.Setting] = [.init("main", "server", p.server), .init("main", "certname", certname)]
        if let ca = p.caServer { out.append(.init("main", "ca_server", ca)) }
        if let port = p.port { out.append(.init("main", "serverport", String(port))) }
        if let environment = p.environment { out.append(.init("agent", "environment", environment)) }
        if let interval = p.runInterval { out.append(.init("agent", "runinterval", interval)) }
        for item in p.conf {
            out.removeAll { $0.section == item.section && $0.key == item.key }
            out.append(.init(item.section, item.key, item.value))
        }
        return out
    }

    /// The extension requests default to this instance's id, image, region and zone, so the
    /// CA's autosign policy can check them against EC2.
    static func csrAttributes(_ p: Params, metadata: MetadataTree) -> String {
        var extensions: [String: String] = [:]
        let defaults = [("pp_instance_id", metadata.leaves["instance-id"]), ("pp_image_name", metadata.leaves["ami-id"]),
                        ("pp_region", metadata.region), ("pp_zone", metadata.leaves["placement/availability-zone"])]
        for (name, value) in defaults { if let value, !value.isEmpty { extensions[name] = value } }
        for (name, value) in p.extensionRequests { extensions[name] = value }
        var document: [String: [String: String]] = ["extension_requests": extensions]
        if !p.customAttributes.isEmpty { document["custom_attributes"] = Dictionary(uniqueKeysWithValues: p.customAttributes) }
        return "# Written by ec2-boot-init before the first agent run.\n" + ((try? Yams.dump(object: document, sortKeys: true)) ?? "")
    }
}

/// Where Puppet keeps its files: the puppetlabs layout when `/etc/puppetlabs/puppet` exists,
/// else Debian's. Under a `--root` other than `/`, every folder is inside the root and the
/// agent is told so; on the host itself, `puppet config print` says where the confdir is.
public struct PuppetLayout: Sendable {
    public var confdir: String
    public var vardir: String
    public var ssldir: String
    var rundir: String
    var logdir: String
    var publicdir: String
    /// On `/`, the agent uses its own settings; elsewhere, these folders.
    var explicit: Bool

    /// What must exist before the agent runs: the confdir, and the parents of the folders the
    /// agent makes itself (with modes of its own).
    var folders: [String] {
        explicit ? [confdir] + [vardir, ssldir, rundir, logdir, publicdir].map { ($0 as NSString).deletingLastPathComponent } : [confdir]
    }

    var agentFlags: [String] {
        guard explicit else { return [] }
        return ["--confdir", confdir, "--vardir", vardir, "--ssldir", ssldir, "--rundir", rundir, "--logdir", logdir,
                "--publicdir", publicdir]
    }

    public static func find(_ context: ActionContext) async -> PuppetLayout {
        let paths = context.run.paths
        let labs = FileSystem.exists(paths.host("/etc/puppetlabs/puppet"))
        var layout = labs
            ? PuppetLayout(confdir: "/etc/puppetlabs/puppet", vardir: "/opt/puppetlabs/puppet/cache", ssldir: "/etc/puppetlabs/puppet/ssl",
                           rundir: "/var/run/puppetlabs", logdir: "/var/log/puppetlabs/puppet",
                           publicdir: "/opt/puppetlabs/puppet/public", explicit: paths.root != "/")
            : PuppetLayout(confdir: "/etc/puppet", vardir: "/var/cache/puppet", ssldir: "/var/lib/puppet/ssl", rundir: "/run/puppet",
                           logdir: "/var/log/puppet", publicdir: "/var/cache/puppet/public", explicit: paths.root != "/")
        if paths.root == "/" {
            // The installed agent knows best (a package may move them).
            if let (status, output) = await SystemCommand.capture(["puppet", "config", "print", "confdir", "publicdir", "ssldir", "--section", "agent"],
                                                                  context: context), status == 0 {
                for line in output.split(separator: "\n") {
                    let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard parts.count == 2, parts[1].hasPrefix("/") else { continue }
                    if parts[0] == "confdir" { layout.confdir = parts[1] }
                    if parts[0] == "publicdir" { layout.publicdir = parts[1] }
                    if parts[0] == "ssldir" { layout.ssldir = parts[1] }
                }
            }
            return layout
        }
        for path in [\PuppetLayout.confdir, \.vardir, \.ssldir, \.rundir, \.logdir, \.publicdir] {
            layout[keyPath: path] = paths.host(layout[keyPath: path])
        }
        return layout
    }

    /// The certname in puppet.conf (`[agent]`, then `[main]`), as the puppet action wrote it.
    public func certname() -> String? {
        guard let data = FileSystem.read(confdir + "/puppet.conf") else { return nil }
        var section = "main"
        var found: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init) {
            if let name = ConfigMerge.sectionName(line) { section = name; continue }
            if ConfigMerge.settingKey(line) == "certname" { found[section] = ConfigMerge.value(of: line) }
        }
        return found["agent"] ?? found["main"]
    }

    /// This node's certificate, key and the CA's, in the ssldir.
    public func certificates(certname: String) -> (ca: String, cert: String, key: String) {
        (ssldir + "/certs/ca.pem", ssldir + "/certs/\(certname).pem", ssldir + "/private_keys/\(certname).pem")
    }

    /// An agent run with `--detailed-exitcodes`: nil for 0 (nothing changed) and 2 (changes
    /// applied); 4 and 6 mean resources failed; anything else a failed run.
    func outcome(of result: ActionResult, program: String) -> ActionResult? {
        switch result.exitCode {
        case 0, 2:
            return nil
        case 4, 6:
            let failed = failedResources().map { "resources failed: \($0)" } ?? "resources failed"
            return ActionResult(.failed, exitCode: result.exitCode, message: "\(program): \(failed) (exit \(result.exitCode!))")
        default:
            return ActionResult(result.outcome == .ok ? .failed : result.outcome, exitCode: result.exitCode,
                                message: "\(program) failed: \(result.message ?? "")")
        }
    }

    /// `resources: failed:` from the agent's last run summary, when it wrote one.
    func failedResources() -> Int? {
        guard let data = FileSystem.read(publicdir + "/last_run_summary.yaml"),
              let summary = try? Yams.load(yaml: String(decoding: data, as: UTF8.self)) as? [String: Any],
              let resources = summary["resources"] as? [String: Any] else { return nil }
        return resources["failed"] as? Int
    }
}
