#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `type: chef_run`: one `chef-client` run against the server the `chef` action configured
/// (its `client.rb`), with exactly the run list given: what `watch` runs for a Chef command.
/// It takes no server or key, so whoever may send it cannot point the node anywhere else.
public struct ChefRunAction: Action {
    public static let type = "chef_run"
    public static let frequency = ActionFrequency.perBoot

    public static let schema = ActionSchema("One chef-client run against the server the chef action configured.", example: """
        run_list: ["recipe[base]"]
        """, [
            .required("run_list", .strings, "not empty: recipe[cookbook], recipe[cookbook::recipe], recipe[cookbook@version], role[name]"),
            .optional("attributes", .mapping, "beside run_list in the JSON chef-client gets"),
            .optional("environment", .string, "-E"),
        ])

    public struct Params: Decodable, Sendable {
        public var runList: [String]
        public var environment: String?
        /// Beside the run list in the JSON chef-client gets.
        public var attributes: [String: JSONValue]

        enum CodingKeys: String, CodingKey { case runList = "run_list", attributes, environment }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            runList = try c.decode([String].self, forKey: .runList)
            guard !runList.isEmpty else {
                // chef-client -j with an empty run list would empty the node's own.
                throw DecodingError.dataCorruptedError(forKey: .runList, in: c, debugDescription: "expected at least one item")
            }
            if let bad = runList.first(where: { !ChefAction.validRunListItem($0) }) {
                throw DecodingError.dataCorruptedError(forKey: .runList, in: c, debugDescription:
                    "\(bad): expected recipe[cookbook], recipe[cookbook::recipe], recipe[cookbook@version] or role[name]")
            }
            attributes = try c.decodeIfPresent([String: JSONValue].self, forKey: .attributes) ?? [:]
            environment = try c.decodeIfPresent(String.self, forKey: .environment)
            if let environment, !NameCheck.valid(environment, marks: "_-") {
                throw DecodingError.dataCorruptedError(forKey: .environment, in: c, debugDescription: "expected letters, digits, _ and -")
            }
        }
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let clientRB = context.run.paths.host("/etc/chef/client.rb")
        guard FileSystem.exists(clientRB) else {
            return ActionResult(.failed, message: "no \(clientRB): a chef action configures the node before chef_run can run")
        }
        var document = params.attributes
        document["run_list"] = .array(params.runList.map(JSONValue.string))
        let json = JSONValue.object(document).encoded()
        let folder = context.run.paths.privateDir
        let file = folder + "/chef-run-" + String(UInt64.random(in: 0...UInt64.max), radix: 36) + ".json"
        do {
            try ActionEnvironment.preparePrivateDir(context.run.paths)
            try AtomicFile.write(json, to: file, mode: 0o600, directoryMode: 0o700)
        } catch {
            return ActionResult(.failed, message: "cannot write the run list for chef-client: \(error)")
        }
        defer { unlink(file) }
        var argv = ["chef-client", "-c", clientRB, "-j", file]
        if let environment = params.environment { argv += ["-E", environment] }
        context.logger.info("chef-client run", metadata: ["run_list": "\(params.runList.joined(separator: ","))"])
        let result = await ActionEnvironment.execute(argv, environment: ActionEnvironment.base(context), directory: nil,
                                                     timeout: nil, context: context)
        return result.outcome == .ok ? result : ActionResult(result.outcome, exitCode: result.exitCode,
                                                             message: "chef-client: \(result.message ?? "")")
    }
}
