
/// `write_files_deferred`: the entries of `write_files` with `defer: true`, written in
/// cloud-init's final stage (after packages and users exist, so an owner can be one of them).
public struct WriteFilesDeferredAction: CloudConfigModule {
    public static let type = "write_files_deferred"
    public static let frequency = ActionFrequency.perInstance
    static let cloudConfigKeys = ["write_files"]

    public static let schema = ActionSchema("Writes the write_files entries that have defer: true (cloud-init's write_files_deferred).",
                                            example: """
        write_files:
          - path: /home/app/.config
            content: ready
            owner: app:app
            defer: true
        """, WriteFilesAction.schema.parameters)

    public typealias Params = WriteFilesAction.Params

    static func applies(to keys: Node.Mapping) -> Bool { WriteFilesAction.entries(keys).contains(where: WriteFilesAction.isDeferred) }

    static func adapt(_ keys: Node.Mapping) -> Node.Mapping { FileWriting.adaptEntries(keys) }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        await FileWriting.write(params.write_files.enumerated().filter { $0.element.deferred }, context: context)
    }
}
