
/// `runcmd`: cloud-init's module. The commands become one `/bin/sh` script as cloud-init writes
/// it (run once per instance, where cloud-init's scripts_user runs it); `runcmd_fail_fast: true`
/// stops at the first command that fails and says which.
public struct RuncmdAction: CloudConfigModule {
    public static let type = "runcmd"
    public static let frequency = ActionFrequency.perInstance
    static let cloudConfigKeys = ["runcmd", "runcmd_fail_fast"]

    public static let schema = ActionSchema("Runs commands once per instance with /bin/sh (cloud-init's runcmd).", example: """
        runcmd:
          - echo hello > /etc/hello.txt
          - [sh, -c, 'echo "$HOME"']
        runcmd_fail_fast: true
        """, [
            .required("runcmd", .strings, "commands: a string is a line of shell, a list one command whose words are quoted"),
            .optional("runcmd_fail_fast", .boolean, default: "false", "stop at the first command that fails, and say which"),
            .optional("once", .boolean, default: "false", "run once on this machine (scripts_user listed with frequency once runs it)"),
        ])

    public struct Params: Decodable, Sendable {
        public var runcmd: [ShellCommand]
        var runcmd_fail_fast: LooseBool?
        var once: Bool?
    }

    static func applies(to keys: Node.Mapping) -> Bool { keys["runcmd"] != nil }

    static func adapt(_ keys: Node.Mapping) -> Node.Mapping {
        var adapted = keys
        adapted["runcmd"] = Shellify.adapt(keys["runcmd"])
        return adapted
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let script = params.runcmd_fail_fast?.value == true ? Shellify.failFastScript(params.runcmd, name: "runcmd")
            : Shellify.script(params.runcmd)
        let marker = ScriptAction.onceMarker(name: ScriptFolders.Folder.user.rawValue + "/runcmd", stateDir: context.run.paths.stateDir)
        return await ScriptAction.onlyOnce(params.once == true, marker: (marker, [marker]), context: context) {
            await ActionEnvironment.executeScript(script, interpreter: nil, environment: ActionEnvironment.base(context),
                                                  directory: nil, timeout: nil, context: context)
        }
    }
}
