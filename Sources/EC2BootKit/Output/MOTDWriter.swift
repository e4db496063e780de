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

    /// Between the data stage and the end of the actions: what the machine is, and that it is
    /// not ready yet, with how to follow it.
    public func writeInProgress(facts: Facts, metadata: MetadataTree) throws {
        try write(facts: facts, metadata: metadata, failures: [], note: """
                 provisioning in progress: follow it with `journalctl -f -u ec2-boot-init-actions`,
                 or wait for it with `ec2-boot-init status --wait`

            """)
    }

    /// No instance data at all (not EC2, or no metadata service and no cache): a template's
    /// keys would have nothing to show, so the MOTD says only that, and why.
    public func writeNoData(_ reason: String) throws {
        let text = "\n     ec2-boot-init: UNPROVISIONED instance: no instance data\n\n     \(Printable.cleaned(reason) ?? reason)\n\n"
            + "     See `ec2-boot-init status` and the system log.\n\n"
        try AtomicFile.write(text, to: paths.motdFile, mode: 0o644)
    }

    public func write(facts: Facts, metadata: MetadataTree, failures: [String]) throws {
        try write(facts: facts, metadata: metadata, failures: failures, note: nil)
    }

    private func write(facts: Facts, metadata: MetadataTree, failures: [String], note: String?) throws {
        let provisioned = failures.isEmpty && note == nil
        let templatePath = provisioned ? paths.motdProvisionedTemplate : paths.motdUnprovisionedTemplate
        let installed = FileSystem.read(templatePath).map { String(decoding: $0, as: UTF8.self) }
        let template = installed ?? (provisioned ? MOTD.defaultProvisioned(factsFile: paths.factsFile)
                                                 : MOTD.defaultUnprovisioned(factsFile: paths.factsFile))
        let lookup = KeyLookup(facts: facts, metadata: metadata)
        var (text, unknown) = MOTD.render(template, lookup: lookup.value(for:))
        for name in lookup.replaced.sorted() where template.contains("@@\(name)@@") || template.contains("@@ec2_\(name)@@") {
            logger.warning("control characters in a value replaced in the MOTD", metadata: ["key": "\(name)"])
        }
        // The built-in template names keys a seed may lack; only a template someone wrote is worth a warning.
        for name in unknown where installed != nil {
            logger.warning("MOTD template names an unknown key; left as is", metadata: ["key": "@@\(name)@@"])
        }
        if let note { text += note }
        if !provisioned {
            text += failures.map { "     failed: \(Printable.cleaned($0) ?? $0)\n" }.joined()
        }
        try AtomicFile.write(text, to: paths.motdFile, mode: 0o644)
    }
}
