/// The facts a run publishes: user-data `facts` in their order, then (when asked for)
/// every metadata key as `ec2_<key>`, sorted, and `ec2_placement_region`.
public struct Facts: Sendable {
    public private(set) var user: [(name: String, value: String)] = []
    public private(set) var ec2: [(name: String, value: String)] = []
    /// Facts whose values had control characters, replaced (see `Printable`); the run warns.
    public private(set) var replaced: [String] = []

    public var entries: [(name: String, value: String)] { user + ec2 }

    public init() {}

    /// Facts as another process computed them (the broker helper's).
    public init(entries: [(name: String, value: String)]) { user = entries }

    public init(userData: UserData, metadata: MetadataTree, writeEC2Facts: Bool) {
        user = userData.facts.map { (Self.safeName($0.name), $0.value) }
        if writeEC2Facts {
            let flat = Self.publicMetadata(metadata)
            ec2 = flat.keys.sorted().map { ("ec2_" + $0, flat[$0]!) }
            if flat["placement_region"] == nil, let region = metadata.region { ec2.append(("ec2_placement_region", region)) }
        }
        user = clean(user)
        ec2 = clean(ec2)
    }

    private mutating func clean(_ facts: [(name: String, value: String)]) -> [(name: String, value: String)] {
        facts.map { fact in
            guard let cleaned = Printable.cleaned(fact.value) else { return fact }
            replaced.append(fact.name)
            return (fact.name, cleaned)
        }
    }

    /// Flattened metadata without credentials, which never go to a world-readable file.
    public static func publicMetadata(_ metadata: MetadataTree) -> [String: String] {
        MetadataTree(leaves: publicLeaves(metadata)).flattened()
    }

    public static func publicLeaves(_ metadata: MetadataTree) -> [String: String] {
        metadata.leaves.filter { !MetadataTree.isSecret($0.key) }
    }

    /// A name that cannot break a `name=value` line: anything but letters, digits and
    /// `_ : . -` (`=`, spaces, control characters) becomes `_`.
    public static func safeName(_ name: String) -> String {
        String(name.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", ":", ".", "-": return Character(scalar)
            default: return "_"
            }
        })
    }
}
