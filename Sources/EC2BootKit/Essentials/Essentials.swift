import Crypto
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// What cloud-init does on every new EC2 instance even with empty user-data, done by the data
/// stage on an image without it, so cloud-init can be removed and nothing lost. Every boot: the
/// root partition and filesystem grown to the disk (`GrowRoot`), the instance store and the
/// user-data's mounts and swap file in fstab and mounted (`Mounts`). Once per instance, on its first boot, before logins: the
/// instance's own SSH host keys (with their fingerprints on the console), the default user,
/// and the instance's key pair for it. In cloud-init's order: growpart, resizefs, mounts,
/// users-groups, ssh.
///
/// Never beside cloud-init (both would re-key and make users), and never on an instance that
/// first booted with a version without them (an upgrade in place must not re-key a running
/// server at its next reboot). `Essentials.decide` is the decision, a pure value tested as a table.
enum Essentials {
    /// Whether cloud-init would do these on this boot.
    enum CloudInit: Equatable {
        case absent
        case disabled(String)
        case enabled
    }

    /// What this instance's earlier boots did.
    enum History: Equatable {
        /// No run of ours has seen this instance.
        case firstBoot
        /// Its first boot had the essentials done (the record is there).
        case done
        /// A version without essentials booted it first: an upgrade in place.
        case bootedWithout
    }

    enum Decision: Equatable {
        /// An instance's first boot: all of them.
        case run
        /// A later boot: the every-boot ones (growing, mounts).
        case everyBoot
        /// Nothing to do, and the line that says why.
        case skip(String)
    }

    static func decide(enabled: Bool, cloudInit: CloudInit, history: History) -> Decision {
        switch (enabled, cloudInit, history) {
        case (false, _, _): return .skip("essentials.enabled is false: no disk grown, mount, host keys, default user or key pair made here")
        case (_, .enabled, _):
            return .skip("cloud-init is installed and enabled: it grows the disk, mounts the instance store, makes the host keys, the default user and its keys, not ec2-boot-init")
        case (_, _, .done): return .everyBoot
        case (_, _, .bootedWithout):
            return .skip("this instance first booted with a version without essentials: its disks, mounts, host keys and users are left as they are")
        case (_, _, .firstBoot): return .run
        }
    }

    /// cloud-init is enabled when installed (`/usr/bin/cloud-init`) and neither disabled by
    /// `/etc/cloud/cloud-init.disabled` or the kernel's `cloud-init=disabled`, nor its service left unenabled.
    static func cloudInit(paths: Paths, kernelCommandLine: [String]) -> CloudInit {
        guard FileSystem.exists(paths.host("/usr/bin/cloud-init")) else { return .absent }
        if FileSystem.exists(paths.host("/etc/cloud/cloud-init.disabled")) { return .disabled("/etc/cloud/cloud-init.disabled") }
        if kernelCommandLine.contains("cloud-init=disabled") { return .disabled("cloud-init=disabled") }
        let wants = ["/etc/systemd/system/cloud-init.target.wants/cloud-init.service",
                     "/etc/systemd/system/multi-user.target.wants/cloud-init.service"]
        return wants.contains { FileSystem.exists(paths.host($0)) } ? .enabled : .disabled("cloud-init.service is not enabled")
    }

    /// Where the first boot of an instance records that its essentials were done (by a hash of
    /// its id: an id from the network never makes a path).
    static func record(paths: Paths, instanceID: String) -> String {
        paths.stateDir + "/essentials/" + SHA256.hash(data: Data(instanceID.utf8)).hex
    }

    /// What the record says failed of this instance's essentials ([]: done), nil without a record or when skipped.
    static func recorded(paths: Paths, instanceID: String) -> [String]? {
        guard let data = FileSystem.read(record(paths: paths, instanceID: instanceID)), data.starts(with: Data("done".utf8)) else { return nil }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
    }

    /// What the machine knew before this boot's fetch: the instances a run of ours or the Ruby
    /// tool saw (the status's, the cache's `meta-data/instance-id`), and whether a version with
    /// essentials ran here (their folder). A machine that knows nothing is marked now, so a boot
    /// cut off between its fetch and its essentials does them on the next boot.
    struct Before: Sendable {
        let seen: [String]
        let machineKnown: Bool

        init(_ paths: Paths) {
            let cached = FileSystem.read(paths.cacheDir + "/meta-data/instance-id")
                .map { String(decoding: $0.prefix(256), as: UTF8.self).trimmingWhitespace(newlines: true) }
            seen = [RunStatus.load(paths)?.instanceID, cached].compactMap { $0 }.filter { !$0.isEmpty }
            let folder = paths.stateDir + "/essentials"
            var known = FileSystem.isDirectory(folder)
            if !known, seen.isEmpty {
                // Not marked (a read-only root): decided by what it saw, which is nothing: a first boot.
                do {
                    try FileSystem.ownedDirectory(paths.stateDir, mode: 0o700)
                    try FileSystem.makeDirectories(folder, mode: 0o700)
                    known = true
                } catch {}
            }
            machineKnown = known
        }
    }

    /// This instance's history: its record (done, or skipped), else a first boot on a machine a
    /// version with essentials knows; else an upgrade when the machine saw this same instance.
    static func history(paths: Paths, instanceID: String, before: Before) -> History {
        if FileSystem.exists(record(paths: paths, instanceID: instanceID)) { return .done }
        if before.machineKnown { return .firstBoot }
        return before.seen.contains(instanceID) ? .bootedWithout : .firstBoot
    }
}

extension Essentials {
    /// This boot's essentials, when `decide` says so: every boot the disk grown and the instance
    /// store mounted; on an instance's first boot also the host keys (on an image with an SSH
    /// server; their blocks on the console), the default user (when configured), and the key pair
    /// (unless a cloud-config's ssh module installs it in the actions stage). Then the record, so a
    /// reboot or a run by hand never does the once-per-instance ones again. What failed is logged
    /// as an error, kept in the record for `status`, and returned; the boot goes on.
    /// `settings`: config.yaml's, with what the user-data's cloud-config changes of them (`EssentialsSettings.applying`).
    static func perform(instanceID: String, before: Before, metadata: MetadataTree, sshPlanned: Bool, defaultUser: AccountTools.User?,
                        settings: EssentialsSettings, paths: Paths, config: Config, logger: Logger) async -> [String] {
        let history = history(paths: paths, instanceID: instanceID, before: before)
        let decision = decide(enabled: settings.enabled, cloudInit: cloudInit(paths: paths, kernelCommandLine: Platform.kernelCommandLine(paths)),
                              history: history)
        if case .skip(let why) = decision {
            logger.notice("\(why)")
            // An upgraded instance stays one: recorded, so a later boot (the machine now known) never re-keys it.
            if history == .bootedWithout { writeRecord("skipped: first booted by a version without essentials\n", paths: paths, instanceID: instanceID, logger: logger) }
            return []
        }
        var thisBoot = await timed(.growpart, logger) { await GrowRoot.run(settings, paths: paths, logger: logger) }
        thisBoot += await timed(.mounts, logger) { await Mounts.run(settings, metadata: metadata, paths: paths, logger: logger) }
        let firstBoot = decision == .run
            ? await once(metadata: metadata, sshPlanned: sshPlanned, defaultUser: defaultUser, settings: settings, paths: paths, config: config, logger: logger)
            : (recorded(paths: paths, instanceID: instanceID) ?? []).filter { !$0.hasPrefix(Self.thisBoot) }
        let problems = firstBoot + thisBoot.map { Self.thisBoot + $0 }
        for problem in problems { logger.error("essentials: \(problem)") }
        let summary = problems.isEmpty ? "done\n" : "done, with problems:\n" + problems.map { "- \($0)\n" }.joined()
        if decision == .run || FileSystem.read(record(paths: paths, instanceID: instanceID)) != Data(summary.utf8) {
            writeRecord(summary, paths: paths, instanceID: instanceID, logger: logger)
        }
        return problems
    }

    /// The essentials, by the names their problems carry in the record (what an action's row reads back).
    enum Step: String {
        case growpart, mounts, hostKeys = "host keys", defaultUser = "default user", keyPair = "key pair"
    }

    /// One essential's run, its time in the log (what BENCHMARKS.md compares with cloud-init's
    /// modules); its problems named by it.
    private static func timed(_ step: Step, _ logger: Logger, _ body: () async -> [String]) async -> [String] {
        let start = ContinuousClock.now
        let problems = await body()
        logger.info("essentials: \(step.rawValue) took \((ContinuousClock.now - start).milliseconds) ms")
        return problems.map { step.rawValue + ": " + $0 }
    }

    /// How a problem of the every-boot essentials starts in the record (the latest boot's replace the last's).
    static let thisBoot = "this boot: "

    /// The once-per-instance essentials: host keys, default user, key pair; the problems.
    private static func once(metadata: MetadataTree, sshPlanned: Bool, defaultUser: AccountTools.User?, settings: EssentialsSettings, paths: Paths,
                             config: Config, logger: Logger) async -> [String] {
        var problems: [String] = []
        if HostKeys.hasServer(paths) {
            problems += await timed(.hostKeys, logger) { await HostKeys.renew(settings, paths: paths, logger: logger) }
            let blocks = await HostKeys.consoleBlocks(paths: paths)
            for line in blocks { logger.notice("\(line)") }
            HostKeys.toConsole(blocks, paths: paths)
        }
        if let defaultUser {
            problems += await timed(.defaultUser, logger) { await DefaultUser.make(defaultUser, paths: paths, logger: logger) }
        } else if let name = config.defaultUser.name {
            logger.notice("the user-data's users leave out default: no default user \(name) made (as cloud-init)")
        }
        if !sshPlanned, let problem = installKeyPair(metadata, paths: paths, config: config, logger: logger) { problems.append(Step.keyPair.rawValue + ": " + problem) }
        return problems
    }

    private static func writeRecord(_ text: String, paths: Paths, instanceID: String, logger: Logger) {
        do { try AtomicFile.write(Data(text.utf8), to: record(paths: paths, instanceID: instanceID), mode: 0o600, directoryMode: 0o700) } catch {
            logger.error("cannot record this instance's essentials (a reboot would decide again): \(error)")
        }
    }

    /// The instance's key pair for the default user and root, as cloud-init's ssh module installs
    /// it on every instance (with empty user-data too); nil when done or nothing to do.
    private static func installKeyPair(_ metadata: MetadataTree, paths: Paths, config: Config, logger: Logger) -> String? {
        let keys = AuthorizedKeys.cleaned(SSHKeysAction.keyPair(metadata))
        guard !keys.isEmpty else { return nil }
        guard FileSystem.exists(paths.host("/etc/passwd")) else {
            logger.info("no \(paths.host("/etc/passwd")): no account to install the instance's key pair for")
            return nil
        }
        do {
            let done = try SSHKeysAction.install(keys, disableRoot: true, defaultUser: config.defaultUser.name, paths: paths, logger: logger)
            logger.info("the instance's key pair: \(done)")
            return nil
        } catch {
            return "\(error)"
        }
    }
}

extension Essentials {
    /// A cloud-config module's row (`growpart`, `ssh_host_keys`) for what the data stage did of
    /// `steps` on this instance, read back from its record.
    static func report(_ steps: [Step], what: String, context: ActionContext) -> ActionResult {
        guard let id = context.run.metadata.leaves["instance-id"], let problems = recorded(paths: context.run.paths, instanceID: id) else {
            return ActionResult(.skipped, message: "\(what): not done by ec2-boot-init here (cloud-init is enabled, essentials.enabled is false, "
                                + "or this instance first booted without them; the journal says which)")
        }
        let names = steps.flatMap { [$0.rawValue + ": ", thisBoot + $0.rawValue + ": "] }
        let mine = problems.filter { problem in names.contains { problem.hasPrefix($0) } }
        return mine.isEmpty ? ActionResult(.ok, message: "\(what): done in the data stage, before logins")
            : ActionResult(.failed, message: mine.joined(separator: "; "))
    }
}

extension RunStatus {
    /// `essentials` from this instance's record (root's), for `status`.
    public mutating func readEssentials(_ paths: Paths) {
        guard !instanceID.isEmpty else { return }
        essentials = Essentials.recorded(paths: paths, instanceID: instanceID)
    }
}
