#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `type: shell`: runs `command` with `/bin/sh`, from a private file rather than argv.
public struct ShellAction: Action {
    public static let type = "shell"
    public static let frequency = ActionFrequency.perInstance

    public static let schema = ActionSchema("Runs a command with /bin/sh, from a private file rather than argv.", example: """
        command: echo hello > /etc/hello.txt
        creates: /etc/hello.txt
        """, [
            .required("command", .string, "the shell script to run"),
            .optional("creates", .string, "skip the action when this path exists (under --root)"),
            .optional("cwd", .string, "the working directory"),
            .optional("env", .mapping, "environment variables added for the command"),
            .optional("timeout", .seconds, default: "actions.timeout (30 minutes)", "after which the command's process group is killed"),
        ])

    public struct Params: Decodable, Sendable {
        public var command: String
        /// Skip the action when this path exists (under the root).
        public var creates: String?
        public var cwd: String?
        public var env: [String: String]?
        /// Seconds; default 30 minutes.
        public var timeout: Double?

        enum CodingKeys: String, CodingKey { case command, creates, cwd, env, timeout }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            command = try c.decode(String.self, forKey: .command)
            creates = try c.decodeIfPresent(String.self, forKey: .creates)
            cwd = try c.decodeIfPresent(String.self, forKey: .cwd)
            env = try c.decodeIfPresent([String: String].self, forKey: .env)
            timeout = try c.positive(.timeout)
        }
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        if let creates = params.creates, FileSystem.exists(context.run.paths.host(creates)) {
            context.logger.info("skipped: \(creates) exists")
            return ActionResult(.skipped, message: "\(creates) exists")
        }
        var environment = ActionEnvironment.base(context)
        for (name, value) in params.env ?? [:] { environment[name] = value }
        return await ActionEnvironment.executeScript(params.command, interpreter: "/bin/sh", environment: environment,
                                                     directory: params.cwd.map(context.run.paths.host),
                                                     timeout: params.timeout, context: context)
    }
}
