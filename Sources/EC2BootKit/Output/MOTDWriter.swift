import Logging

/// Writes `/etc/motd` from `motd.provisioned` when the run succeeded, else from
/// `motd.unprovisioned` with a line naming what failed; built-in templates when
/// none is installed.
public struct MOTDWriter: Sendable {
    public let paths: Paths
    public let logger: Logger

    public init(paths: Paths, logger: Logger) {
        self.paths = paths
        self.logger = logger
    }

    public func write(facts: Facts, metadata: MetadataTree, failures: [String]) throws {
        let provisioned = failures.isEmpty
        let templatePath = provisioned ? paths.motdProvisionedTemplate : paths.motdUnprovisionedTemplate
        let installed = FileSystem.read(templatePath).map { String(decoding: $0, as: UTF8.self) }
        let template = installed ?? (provisioned ? MOTD.defaultProvisioned : MOTD.defaultUnprovisioned)
        var (text, unknown) = MOTD.render(template, lookup: KeyLookup(facts: facts, metadata: metadata).value(for:))
        // The built-in template names keys a seed may lack; only a template someone wrote is worth a warning.
        for name in unknown where installed != nil {
            logger.warning("MOTD template names an unknown key; left as is", metadata: ["key": "@@\(name)@@"])
        }
        if !provisioned {
            text += failures.map { "     failed: \($0)\n" }.joined()
        }
        try AtomicFile.write(text, to: paths.motdFile, mode: 0o644)
    }
}
