/// The same facts as a Facter external facts file (`/etc/facter/facts.d/ec2_boot_init.yaml`).
/// Every value is a double-quoted YAML string, so `true`, `0755` or a multi-line value
/// reach Facter exactly as they are, and as strings.
///
/// Written line by line rather than through a serializer's node tree (1.5 GB for half a
/// million facts with Yams'), checked by reading the file back with our reader and the real Facter.
public struct FacterFactsWriter: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func write(_ facts: Facts) throws {
        var seen = Set<String>()
        var text = "# Written by ec2-boot-init; changes are lost on its next run.\n"
        for fact in facts.entries where seen.insert(fact.name).inserted {
            text += YAMLWriting.quoted(fact.name) + ": " + YAMLWriting.quoted(fact.value) + "\n"
        }
        if seen.isEmpty { text += "{}\n" }
        try AtomicFile.write(text, to: path, mode: 0o644)
    }
}
