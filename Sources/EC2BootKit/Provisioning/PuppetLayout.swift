#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Where Puppet keeps its files: the puppetlabs layout when `/etc/puppetlabs/puppet` exists,
/// else Debian's. Under a `--root` other than `/`, every folder is inside the root and the
/// agent is told so; on the host itself, `puppet config print` says where the confdir is.
public struct PuppetLayout: Sendable {
    public var confdir: String
    public var vardir: String
    public var ssldir: String
    var rundir: String
    var logdir: String
    var publicdir: String
    /// On `/`, the agent uses its own settings; elsewhere, these folders.
    var explicit: Bool

    /// What must exist before the agent runs: the confdir, and the parents of the folders the
    /// agent makes itself (with modes of its own).
    var folders: [String] {
        explicit ? [confdir] + [vardir, ssldir, rundir, logdir, publicdir].map { $0.parentFolder } : [confdir]
    }

    var agentFlags: [String] {
        guard explicit else { return [] }
        return ["--confdir", confdir, "--vardir", vardir, "--ssldir", ssldir, "--rundir", rundir, "--logdir", logdir,
                "--publicdir", publicdir]
    }

    public static func find(_ context: ActionContext) async -> PuppetLayout {
        let paths = context.run.paths
        let labs = FileSystem.exists(paths.host("/etc/puppetlabs/puppet"))
        var layout = labs
            ? PuppetLayout(confdir: "/etc/puppetlabs/puppet", vardir: "/opt/puppetlabs/puppet/cache", ssldir: "/etc/puppetlabs/puppet/ssl",
                           rundir: "/var/run/puppetlabs", logdir: "/var/log/puppetlabs/puppet",
                           publicdir: "/opt/puppetlabs/puppet/public", explicit: paths.root != "/")
            : PuppetLayout(confdir: "/etc/puppet", vardir: "/var/cache/puppet", ssldir: "/var/lib/puppet/ssl", rundir: "/run/puppet",
                           logdir: "/var/log/puppet", publicdir: "/var/cache/puppet/public", explicit: paths.root != "/")
        if paths.root == "/" {
            // The installed agent knows best (a package may move them).
            if let (status, output) = await SystemCommand.capture(["puppet", "config", "print", "confdir", "publicdir", "ssldir", "--section", "agent"],
                                                                  context: context), status == 0 {
                for line in output.split(separator: "\n") {
                    let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
                    guard parts.count == 2, parts[1].hasPrefix("/") else { continue }
                    if parts[0] == "confdir" { layout.confdir = parts[1] }
                    if parts[0] == "publicdir" { layout.publicdir = parts[1] }
                    if parts[0] == "ssldir" { layout.ssldir = parts[1] }
                }
            }
            return layout
        }
        for path in [\PuppetLayout.confdir, \.vardir, \.ssldir, \.rundir, \.logdir, \.publicdir] {
            layout[keyPath: path] = paths.host(layout[keyPath: path])
        }
        return layout
    }

    /// The certname in puppet.conf (`[agent]`, then `[main]`), as the puppet action wrote it.
    public func certname() -> String? {
        guard let data = FileSystem.read(confdir + "/puppet.conf") else { return nil }
        var section = "main"
        var found: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init) {
            if let name = ConfigMerge.sectionName(line) { section = name; continue }
            if ConfigMerge.settingKey(line) == "certname" { found[section] = ConfigMerge.value(of: line) }
        }
        return found["agent"] ?? found["main"]
    }

    /// This node's certificate, key and the CA's, in the ssldir.
    public func certificates(certname: String) -> (ca: String, cert: String, key: String) {
        (ssldir + "/certs/ca.pem", ssldir + "/certs/\(certname).pem", ssldir + "/private_keys/\(certname).pem")
    }

    /// An agent run with `--detailed-exitcodes`: nil for 0 (nothing changed) and 2 (changes
    /// applied); 4 and 6 mean resources failed; anything else a failed run.
    func outcome(of result: ActionResult, program: String) -> ActionResult? {
        switch result.exitCode {
        case 0, 2:
            return nil
        case 4, 6:
            let failed = failedResources().map { "resources failed: \($0)" } ?? "resources failed"
            return ActionResult(.failed, exitCode: result.exitCode, message: "\(program): \(failed) (exit \(result.exitCode!))")
        default:
            return ActionResult(result.outcome == .ok ? .failed : result.outcome, exitCode: result.exitCode,
                                message: "\(program) failed: \(result.message ?? "")")
        }
    }

    /// `resources: failed:` from the agent's last run summary, when it wrote one.
    func failedResources() -> Int? {
        guard let data = FileSystem.read(publicdir + "/last_run_summary.yaml"),
              let summary = try? YAMLDocument.parse(String(decoding: data, as: UTF8.self), source: "last_run_summary.yaml", maxNodes: 100_000)
        else { return nil }
        return summary["resources"]?["failed"]?.int
    }
}
