#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `type: puppet_run`: one `puppet agent --onetime --no-daemonize` run against the server the
/// `puppet` action configured, optionally limited to some tags: what `watch` runs for a
/// Puppet command. It takes no server, so whoever may send it cannot point the node elsewhere.
public struct PuppetRunAction: Action {
    public static let type = "puppet_run"
    public static let frequency = ActionFrequency.perBoot

    public static let schema = ActionSchema("One puppet agent run against the server the puppet action configured.", example: """
        tags: [nginx]
        """, [
            .optional("tags", .strings, "--tags"),
            .optional("environment", .string, "--environment"),
            .optional("noop", .boolean, default: "false", "--noop"),
        ])

    public struct Params: Decodable, Sendable {
        public var tags: [String] = []
        public var environment: String?
        public var noop = false

        enum CodingKeys: String, CodingKey, CaseIterable { case tags, environment, noop }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
            if let bad = tags.first(where: { !NameCheck.valid($0, marks: "_:-") }) {
                throw DecodingError.dataCorruptedError(forKey: .tags, in: c, debugDescription: "\(bad): expected letters, digits, _ : -")
            }
            environment = try c.decodeIfPresent(String.self, forKey: .environment)
            if let environment, !NameCheck.valid(environment, marks: "_") {
                throw DecodingError.dataCorruptedError(forKey: .environment, in: c, debugDescription: "expected letters, digits and _")
            }
            noop = try c.decodeIfPresent(Bool.self, forKey: .noop) ?? false
        }
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let layout = await PuppetLayout.find(context)
        guard FileSystem.exists(layout.confdir + "/puppet.conf") else {
            return ActionResult(.failed, message: "no \(layout.confdir)/puppet.conf: a puppet action configures the node before puppet_run can run")
        }
        var argv = ["puppet", "agent", "--onetime", "--no-daemonize", "--detailed-exitcodes", "--color=false"] + layout.agentFlags
        if !params.tags.isEmpty { argv += ["--tags", params.tags.joined(separator: ",")] }
        if let environment = params.environment { argv += ["--environment", environment] }
        if params.noop { argv.append("--noop") }
        context.logger.info("Puppet agent run", metadata: ["tags": "\(params.tags.joined(separator: ","))"])
        let result = await ActionEnvironment.execute(argv, environment: ActionEnvironment.base(context), directory: nil,
                                                     timeout: nil, context: context)
        return layout.outcome(of: result, program: "puppet agent") ?? ActionResult(.ok, exitCode: result.exitCode)
    }
}
