import EC2BootKit
import FoundationEssentials

/// `status` as a person reads it.
enum StatusTable {
    static func render(_ status: RunStatus, running: Bool) -> String {
        var lines = [
            "status:   \(status.summary(running: running))",
            "instance: \(status.instanceID.isEmpty ? "(no instance data)" : status.instanceID)",
            "started:  \(status.started)",
            "finished: \(status.finished ?? (running ? "(running)" : status.errors == nil ? "(interrupted; the next run resumes it)" : "(ended early)"))",
        ]
        if let disabled = status.disabled { lines.append("disabled: \(disabled)") }
        for error in status.errors ?? [] { lines += wrapped("error:    ", error.description) }
        if let essentials = status.essentials {
            lines += essentials.isEmpty ? ["essentials: done (disk, instance store, host keys, default user, key pair)"]
                : essentials.flatMap { wrapped("essentials: failed: ", $0) }
        }
        guard !status.actions.isEmpty else { return (lines + ["no actions"]).joined(separator: "\n") }
        let rows = [["#", "TYPE", "RESULT", "EXIT", "TIME", "FREQUENCY", "DETAIL"]] + status.actions.map { action in
            [String(action.index), action.type, action.result.rawValue, action.exitCode.map(String.init) ?? "-",
             action.durationMS.map { NumberText.fixed($0 / 1000, places: 1) + "s" } ?? "-", action.frequency?.rawValue ?? "-",
             action.message.map { $0.count > detailWidth ? String($0.prefix(detailWidth)) + "…" : $0 } ?? ""]
        }
        let widths = (0..<6).map { column in rows.map { $0[column].count }.max() ?? 0 }
        lines.append("")
        for row in rows {
            let padded = (0..<6).map { row[$0].padded(to: widths[$0]) }
            lines.append((padded + [row[6]]).joined(separator: "  ").trimmingWhitespace())
        }
        let long = status.actions.filter { ($0.message?.count ?? 0) > detailWidth }
        if !long.isEmpty { lines.append("") }
        for action in long { lines += wrapped("action \(action.index): ", action.message ?? "") }
        return lines.joined(separator: "\n")
    }

    /// A detail longer than this is cut in the table and shown whole below it, wrapped.
    static let detailWidth = 60, lineWidth = 100

    /// `text` after `label`, wrapped at spaces to `lineWidth`, continued lines indented.
    static func wrapped(_ label: String, _ text: String) -> [String] {
        var lines: [String] = [], line = label
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if line.count + word.count + 1 > lineWidth && line.count > label.count {
                lines.append(line)
                line = String(repeating: " ", count: label.count)
            }
            line += (line.count == label.count ? "" : " ") + word
        }
        return lines + [line]
    }
}
