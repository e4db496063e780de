/// `/etc/facts.txt`: `name=value` a line, as the Ruby tool wrote it. A value's `\`, newline
/// and carriage return are written `\\`, `\n`, `\r`, so every fact stays on its line;
/// a reader splits at the first `=` (names never hold one).
public struct FactsFileWriter: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func write(_ facts: Facts) throws {
        var text = ""
        for fact in facts.entries { text += "\(fact.name)=\(Self.escape(fact.value))\n" }
        try AtomicFile.write(text, to: path, mode: 0o644)
    }

    public static func escape(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return value }
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
