import Foundation

/// `status` as a person reads it.
public enum StatusTable {
    public static func render(_ status: RunStatus, running: Bool) -> String {
        var lines = [
            "instance: \(status.instanceID)",
            "started:  \(status.started)",
            "finished: \(status.finished ?? (running ? "(running)" : "(interrupted; the next run resumes it)"))",
        ]
        guard !status.actions.isEmpty else { return (lines + ["no actions"]).joined(separator: "\n") }
        let rows = [["#", "TYPE", "RESULT", "EXIT", "TIME", "FREQUENCY", "DETAIL"]] + status.actions.map { action in
            [String(action.index), action.type, action.result.rawValue, action.exitCode.map(String.init) ?? "-",
             action.durationMS.map { String(format: "%.1fs", $0 / 1000) } ?? "-", action.frequency?.rawValue ?? "-",
             action.message ?? ""]
        }
        let widths = (0..<6).map { column in rows.map { $0[column].count }.max() ?? 0 }
        lines.append("")
        for row in rows {
            let padded = (0..<6).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
            lines.append((padded + [row[6]]).joined(separator: "  ").trimmingWhitespace())
        }
        return lines.joined(separator: "\n")
    }
}
