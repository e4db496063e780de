/// `/etc/facts.txt`: `name=value` a line, values raw as the Ruby tool and Facter's `key=value`
/// format have them (that format has no escapes). A value cannot break its line: `Facts` has
/// replaced its control characters. A reader splits at the first `=` (names never hold one).
public struct FactsFileWriter: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func write(_ facts: Facts) throws {
        var text = ""
        for fact in facts.entries { text += "\(fact.name)=\(fact.value)\n" }
        try AtomicFile.write(text, to: path, mode: 0o644)
    }
}
