
/// `packages`, `package_update`, `package_upgrade`: cloud-init's package_update_upgrade_install,
/// with the system's package manager (`packages.manager`): refresh the package lists when
/// anything is to be installed or upgraded, upgrade, then install what is missing.
public struct PackagesAction: CloudConfigModule {
    public static let type = "packages"
    public static let frequency = ActionFrequency.perInstance
    static let cloudConfigKeys = ["packages", "package_update", "package_upgrade", "apt_update", "apt_upgrade"]
    static let cloudInitModules = ["package_update_upgrade_install"]

    public static let schema = ActionSchema("Installs packages, after refreshing and upgrading when asked (cloud-init's package_update_upgrade_install).",
                                            example: """
        package_update: true
        packages:
          - curl
          - [nginx, 1.22.1-9]
        """, [
            .optional("packages", .strings, "packages to install: a name, or [name, version]"),
            .optional("package_update", .boolean, default: "false", "refresh the package lists (also when packages are given)"),
            .optional("package_upgrade", .boolean, default: "false", "upgrade every package (apt-get dist-upgrade)"),
            .optional("apt_update", .boolean, default: "false", "the old name of package_update"),
            .optional("apt_upgrade", .boolean, default: "false", "the old name of package_upgrade"),
        ])

    /// The flags' values as cloud-init's schema checks them (`package_update: maybe` is false to its module).
    static func warnings(_ value: Node, key: String, source: String) -> [YAMLProblem] {
        key == "packages" ? [] : [LooseBool.warning(value, label: key, source: source)].compactMap { $0 }
    }

    public struct Params: Decodable, Sendable {
        public var packages: [PackageEntry]?
        var package_update: LooseBool?
        var package_upgrade: LooseBool?
        var apt_update: LooseBool?
        var apt_upgrade: LooseBool?
    }

    /// `name`, or `[name]` / `[name, version]`.
    public struct PackageEntry: Decodable, Sendable {
        public var name: String
        public var version: String?

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let words = try? c.decode([String].self) {
                guard (1...2).contains(words.count) else {
                    throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a name or [name, version]")
                }
                name = words[0]
                version = words.count == 2 ? words[1] : nil
            } else {
                name = try c.decode(String.self)
            }
        }
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let packages = params.packages ?? []
        let upgrade = params.package_upgrade?.value == true || params.apt_upgrade?.value == true
        let update = params.package_update?.value == true || params.apt_update?.value == true
        let manager = PackageManager(context.run)
        var errors: [String] = []
        if update || upgrade || !packages.isEmpty, let error = await manager.refresh(context: context) { errors.append(error) }
        if upgrade, let error = await manager.upgrade(context: context) { errors.append(error) }
        for package in packages {
            if let error = await manager.ensure(package.name, version: package.version, context: context) { errors.append(error) }
        }
        // As cloud-init: every step is tried, and the action fails with what went wrong.
        guard errors.isEmpty else { return ActionResult(.failed, message: errors.joined(separator: "; ")) }
        return ActionResult(.ok, message: "\(packages.count) packages")
    }
}
