
/// An action type that is one of cloud-init's config modules: it takes the top-level
/// `#cloud-config` keys it names, under the same names, so `schema`, `validate` and the
/// typed decoder speak cloud-init's terms. Listed in `CloudConfig.modules`, in cloud-init's order.
protocol CloudConfigModule: Action {
    /// The cloud-config keys this module reads; it is planned when any of them is given.
    static var cloudConfigKeys: [String] { get }
    /// The cloud-init modules this one carries out (their names in the stages' lists); it runs
    /// where the first of them stands, when any is listed.
    static var cloudInitModules: [String] { get }
    /// Whether these keys (the ones given of `cloudConfigKeys`, maybe none) leave this module
    /// anything to do: any given, by default; ssh runs for every cloud-config, as cloud-init's.
    static func applies(to keys: Node.Mapping) -> Bool
    /// Values as cloud-init's Python reads them, in our schema's terms: YAML's plain `644` is
    /// the number 644 to Python, a quoted `'644'` an octal string; both reach us as text.
    static func adapt(_ keys: Node.Mapping) -> Node.Mapping
    /// What cloud-init would do but we would not, in one of this module's keys (`key`): said at
    /// `validate` with its place, so `--strict` fails before an image is baked, not at run time.
    static func warnings(_ value: Node, key: String, source: String) -> [YAMLProblem]
}

extension CloudConfigModule {
    static var cloudInitModules: [String] { [type] }
    static func applies(to keys: Node.Mapping) -> Bool { !keys.isEmpty }
    static func adapt(_ keys: Node.Mapping) -> Node.Mapping { keys }
    static func warnings(_ value: Node, key: String, source: String) -> [YAMLProblem] { [] }
}

/// cloud-init's reading of a flag (`util.translate_bool`): true, "true", "1", "on", "yes"; anything else is false.
struct LooseBool: Decodable, Sendable {
    let value: Bool

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let flag = try? c.decode(Bool.self) { value = flag; return }
        let text = try c.decode(String.self)
        value = Self.isTrue(text)
    }

    /// The words `translate_bool` takes for true.
    static func isTrue(_ text: String) -> Bool {
        ["true", "1", "on", "yes"].contains(text.trimmingWhitespace().lowercased())
    }

    /// A flag cloud-init's schema refuses (not a YAML boolean, `maybe`, `"yes"`), said with its
    /// place and what its module would make of it.
    static func warning(_ value: Node, label: String, source: String) -> YAMLProblem? {
        guard !YAML11.isBoolean(value) else { return nil }
        let text = value.string ?? "?"
        return YAMLProblem(source: source, mark: value.mark, message: "\(label): \(Printable.escape(text)) is not a boolean (true or false); "
                           + "it would be read as \(isTrue(text))")
    }
}
