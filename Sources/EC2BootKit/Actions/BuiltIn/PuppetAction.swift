#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `type: puppet`: a Puppet agent's first boot. Writes `puppet.conf` (merged by section) and
/// `csr_attributes.yaml` before the first agent run, since a certificate request made
/// without them cannot be fixed later; then runs the agent once and starts its service.
public struct PuppetAction: Action {
    public static let type = "puppet"
    public static let frequency = ActionFrequency.perInstance

    public static let schema = ActionSchema("A Puppet agent's first boot: puppet.conf, csr_attributes.yaml, then one agent run.", example: """
        server: puppet.example.com
        environment: production
        """, aliases: ["master": "server"], [
            .required("server", .string, "the Puppet server"),
            .optional("ca_server", .string, "the CA server, when not the server"),
            .optional("port", .number, "the server's port (serverport)"),
            .optional("environment", .string, "the agent's environment"),
            .optional("certname", .string, default: "%i", "the certificate name (templates; lower-cased, a-z 0-9 . _ -)"),
            .optional("waitforcert", .seconds, default: "120", "how long to wait for the certificate to be signed"),
            .optional("runinterval", .string, "the agent's run interval"),
            .optional("conf", .mapping, "any puppet.conf setting, by section, laid over the above"),
            .optional("csr_attributes", .mapping, "custom_attributes and extension_requests (pp_instance_id, pp_image_name, pp_region, pp_zone default to the metadata's)"),
            .optional("run", .boolean, default: "true", "the first agent run"),
        ] + ActionSchema.setup(package: "puppet-agent", service: "start_service"))

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
            if !PuppetAction.validCertname(certname.replacing("%", with: "x").lowercased()) {
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
        return "# Written by ec2-boot-init before the first agent run.\n" + YAMLWriting.sections(document)
    }
}
