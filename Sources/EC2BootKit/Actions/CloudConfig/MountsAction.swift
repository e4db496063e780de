
/// `mounts`, `mount_default_fields`, `swap`: cloud-init's mounts module. The work is the data
/// stage's, every boot before the facts (`Mounts`, one of the essentials, with the instance
/// store): these keys add this instance's entries and swap file, and this action's row in
/// `status` says what the data stage did (`Essentials.report`).
public struct MountsAction: CloudConfigModule {
    public static let type = "mounts"
    public static let frequency = ActionFrequency.perBoot
    static let cloudConfigKeys = ["mounts", "mount_default_fields", "swap"]

    public static let schema = ActionSchema("Writes fstab entries and a swap file, and mounts them, every boot in the data stage (cloud-init's mounts).",
                                            example: """
        mounts:
          - [ephemeral0, /data]
          - ["fileserver:/export", /srv/shared, nfs, "defaults,nofail", "0", "0"]
        swap:
          filename: /swap.img
          size: 512M
        """, [
            .optional("mounts", .lists, "fstab entries: [device, mount point, type, options, dump, pass], a null or missing field takes mount_default_fields'; "
                      + "device: a metadata name (ephemeral0, swap, ebsN; .N a partition), a kernel name (xvdf), host:/path, or as fstab takes it; "
                      + "a null mount point drops the device's entries"),
            .optional("mount_default_fields", .strings, default: "[null, null, auto, 'defaults,nofail,x-systemd.requires=ec2-boot-init.service,_netdev', '0', '2']",
                      "the six fields an entry's missing ones take"),
            .optional("swap", .mapping, "filename (default /swap.img), size (bytes, 512M, 2G or auto), maxsize: a swap file, made once"),
        ])

    public struct Params: Decodable, Sendable {
        var mounts: [[String?]]?
        var mount_default_fields: [String?]?
        var swap: SwapSettings?

        enum CodingKeys: String, CodingKey { case mounts, mount_default_fields, swap }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            mounts = try c.decodeIfPresent([[String?]].self, forKey: .mounts)
            for entry in mounts ?? [] where entry.isEmpty || entry.count > 6 || entry[0] == nil || !entry.allSatisfy({ $0.map(EssentialsSettings.isField) ?? true }) {
                throw DecodingError.dataCorruptedError(forKey: .mounts, in: c, debugDescription:
                    "\(entry.map { $0 ?? "null" }) is not an fstab entry: a device, then at most five fields, each a word without spaces or null")
            }
            mount_default_fields = try c.decodeIfPresent([String?].self, forKey: .mount_default_fields)
            if let fields = mount_default_fields, !EssentialsSettings.areDefaultFields(fields) {
                throw DecodingError.dataCorruptedError(forKey: .mount_default_fields, in: c, debugDescription: EssentialsSettings.defaultFieldsRule)
            }
            swap = try c.decodeIfPresent(SwapSettings.self, forKey: .swap)
        }
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        Essentials.report([.mounts], what: "the fstab entries, mounts and swap", context: context)
    }
}
