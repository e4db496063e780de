
/// `bootcmd`: cloud-init's module: the commands as one `/bin/sh` script on every boot, early
/// (before write_files), with INSTANCE_ID set.
public struct BootcmdAction: CloudConfigModule {
    public static let type = "bootcmd"
    public static let frequency = ActionFrequency.perBoot
    static let cloudConfigKeys = ["bootcmd"]

    public static let schema = ActionSchema("Runs commands on every boot, first, with /bin/sh (cloud-init's bootcmd).", example: """
        bootcmd:
          - echo "$INSTANCE_ID" > /run/booted-as
        """, [
            .required("bootcmd", .strings, "commands: a string is a line of shell, a list one command whose words are quoted"),
        ])

    public struct Params: Decodable, Sendable {
        public var bootcmd: [ShellCommand]
    }

    static func adapt(_ keys: Node.Mapping) -> Node.Mapping {
        var adapted = keys
        adapted["bootcmd"] = Shellify.adapt(keys["bootcmd"])
        return adapted
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        var environment = ActionEnvironment.base(context)
        environment["INSTANCE_ID"] = context.run.metadata.leaves["instance-id"]
        return await ActionEnvironment.executeScript(Shellify.script(params.bootcmd), interpreter: "/bin/sh", environment: environment,
                                                     directory: nil, timeout: nil, context: context)
    }
}
