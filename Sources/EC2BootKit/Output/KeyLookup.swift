/// The names a MOTD template or `query` may use: flattened metadata keys (credentials left
/// out), `placement_region`, and the user-data facts, which win over a metadata key of the
/// same name. `ec2_<key>` finds `<key>` too, as in facts.txt.
public struct KeyLookup: Sendable {
    /// Every name once, without the `ec2_` aliases.
    public private(set) var values: [String: String]
    /// Names whose values had control characters, replaced (see `Printable`).
    public private(set) var replaced: Set<String> = []

    public init(facts: Facts, metadata: MetadataTree) {
        var values = Facts.publicMetadata(metadata)
        if let region = metadata.region { values["placement_region"] = region }
        for (name, value) in values {
            guard let cleaned = Printable.cleaned(value) else { continue }
            values[name] = cleaned
            replaced.insert(name)
        }
        for fact in facts.user { values[fact.name] = fact.value }
        self.values = values
    }

    public func value(for name: String) -> String? {
        if let value = values[name] { return value }
        guard name.hasPrefix("ec2_") else { return nil }
        return values[String(name.dropFirst(4))]
    }
}
