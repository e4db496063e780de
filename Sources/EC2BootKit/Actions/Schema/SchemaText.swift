/// The declared schemas as a person reads them: a terminal's table (`schema TYPE`) and the
/// Markdown of docs/actions.md's parameter reference (`schema --markdown`).
public enum SchemaText {
    public static func plain(_ type: any Action.Type) -> String {
        let schema = type.schema
        var lines = ["\(type.type) (\(type.frequency.rawValue)): \(schema.summary)", ""]
        let width = schema.parameters.map(\.name.count).max() ?? 0
        for p in schema.parameters {
            let name = p.name.padded(to: width)
            lines.append("  \(name)  \(p.kind.name)\(p.secret ? ", secret" : "")")
            lines.append("  \(String(repeating: " ", count: width))  \(p.description); \(requirement(p))")
        }
        lines += aliasLines(schema).map { "  " + $0 }
        lines += ["", "example:", "  - type: \(type.type)"]
        lines += type.schema.example.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One section per type, in the registry's order.
    public static func markdown(_ types: [any Action.Type]) -> String {
        var out = ""
        for type in types {
            let schema = type.schema
            out += "\n### `\(type.type)`\n\n\(schema.summary) Runs \(type.frequency.rawValue) by default.\n\n"
            out += "| parameter | type | default | description |\n| --- | --- | --- | --- |\n"
            for p in schema.parameters {
                let kind = p.kind.name + (p.secret ? ", secret" : "")
                out += "| `\(p.name)` | \(cell(kind)) | \(cell(requirement(p))) | \(cell(p.description)) |\n"
            }
            if !schema.aliases.isEmpty { out += "\n" + aliasLines(schema).joined(separator: "\n") + "\n" }
        }
        return out + "\n"
    }

    /// "`master` is accepted for `server` (the Ruby tool's name)."
    private static func aliasLines(_ schema: ActionSchema) -> [String] {
        schema.aliases.sorted { $0.key < $1.key }.map { "`\($0.key)` is accepted for `\($0.value)` (the Ruby tool's name for it)." }
    }

    private static func requirement(_ p: ActionSchema.Parameter) -> String {
        p.required ? "required" : p.defaultValue.map { "default \($0)" } ?? "optional"
    }

    private static func cell(_ text: String) -> String {
        text.replacing("|", with: "\\|")
    }
}
