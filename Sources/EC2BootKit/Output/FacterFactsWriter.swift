import Yams

/// The same facts as a Facter external facts file (`/etc/facter/facts.d/ec2_boot_init.yaml`).
/// Every value is a double-quoted YAML string, so `true`, `0755` or a multi-line value
/// reach Facter exactly as they are, and as strings.
public struct FacterFactsWriter: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func write(_ facts: Facts) throws {
        var seen = Set<String>()
        var pairs: [(Node, Node)] = []
        for fact in facts.entries where seen.insert(fact.name).inserted {
            pairs.append((Node(fact.name, Tag(.str), .doubleQuoted), Node(fact.value, Tag(.str), .doubleQuoted)))
        }
        let text = pairs.isEmpty ? "{}\n" : try Yams.serialize(node: .mapping(Node.Mapping(pairs)), width: -1)
        try AtomicFile.write("# Written by ec2-boot-init; changes are lost on its next run.\n" + text, to: path, mode: 0o644)
    }
}
