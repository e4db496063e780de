import Foundation
import Logging

/// One boot: fetch → cache → parse user-data → facts → actions → MOTD.
public struct BootRun: Sendable {
    /// What part of a boot this run does. systemd runs the data stage before logins and the
    /// actions stage after it, so logins never wait on long actions; `run` alone does both.
    public enum Stage: String, Sendable, CaseIterable {
        /// Fetch, cache, facts, Facter facts, and a MOTD saying whether actions are to come.
        case data
        /// From the cache the data stage wrote: the actions, then the final MOTD.
        case actions
        case all
    }

    public let paths: Paths
    public let config: Config
    public let source: any MetadataSource
    public let actions: ActionEngine
    public let stage: Stage
    public let logger: Logger

    public init(paths: Paths, config: Config, source: any MetadataSource,
                actions: ActionEngine = ActionEngine(), stage: Stage = .all, logger: Logger) {
        self.paths = paths
        self.config = config
        self.source = source
        self.actions = actions
        self.stage = stage
        self.logger = logger
    }

    public func run() async -> ExitStatus {
        // However this stage ends (even without the lock), it is over: `status --wait` must not
        // wait for it any more.
        defer { if stage != .data { StageMarker.write(.done, paths: paths, logger: logger) } }
        let lock: FileLock
        do { lock = try FileLock(path: paths.lockFile, timeout: config.lockTimeout, logger: logger) } catch {
            logger.error("\(error)")
            return .failed
        }
        defer { withExtendedLifetime(lock) {} }

        if case .offline(let reason) = Platform.decide(paths: paths, config: config) { return offline(reason) }
        var missing = "nothing is cached"
        let before = stage == .actions ? nil : Essentials.Before(paths)   // read before this boot's fetch replaces the cache
        guard let data = stage == .actions ? readCache() : await fetchOrCache(why: &missing) else {
            return noData(missing)
        }
        let view = InstanceView(data, config: config, actionsDir: paths.actionsDir)
        let (userData, facts) = (view.userData, view.facts)
        if let before { await essentials(view, before: before) }
        for problem in userData.problems { logger.error("invalid user-data: \(problem)") }
        if !userData.problems.isEmpty, stage != .actions {
            recordEarlyEnd(view.instanceID, errors: userData.problems.map {
                RunStatus.RunError(source: "user-data", message: $0.message, location: $0.place)
            })
        }
        if userData.isScript { logger.info("user-data is a script; it runs as one script action") }
        if stage != .actions {
            for problem in userData.unsupported { logger.warning("user-data: \(problem)") }
            for part in userData.passedOver { logger.info("user-data: \(part)") }
        }

        if stage != .actions {
            if let failed = writeFacts(facts) { return failed }
        }
        if stage == .data { return await endDataStage(view) }

        if case .only(let types) = actions.selection, !view.plan.contains(where: { types.contains($0.type) }) {
            let known = Set(view.plan.map(\.type)).sorted().joined(separator: ", ")
            logger.error("--only \(types.sorted().joined(separator: ",")): no action of this user-data has that type (its types: \(known.isEmpty ? "none" : known)); nothing was run or recorded")
            return .badInput
        }
        var failures: [String] = []
        if userData.problems.isEmpty {
            failures = await actions.run(view.plan, instanceID: view.instanceID, context: view.context(paths: paths, config: config),
                                         logger: logger).failures
        } else {
            failures = [Self.invalidUserData]
        }
        do {
            try MOTDWriter(paths: paths, logger: logger).write(facts: facts, metadata: data.metadata, failures: failures)
        } catch {
            logger.error("cannot write the MOTD: \(error)")
            return .failed
        }
        if !userData.problems.isEmpty { return .badInput }
        return failures.isEmpty ? .ok : .failed
    }

    static let invalidUserData = "user-data is invalid (see: ec2-boot-init status)"

    /// What a new instance gets without cloud-init (host keys, default user, key pair), before logins; see `Essentials`.
    private func essentials(_ view: InstanceView, before: Essentials.Before) async {
        guard let instanceID = view.data.instanceID else { return }
        _ = await Essentials.perform(instanceID: instanceID, before: before, metadata: view.data.metadata,
                                     sshPlanned: view.plan.contains { $0.type == SSHKeysAction.type },
                                     defaultUser: UsersGroupsAction.defaultUser(view.plan, settings: config.defaultUser), settings: config.essentials.applying(view.plan),
                                     paths: paths, config: config, logger: logger)
    }

    /// Not EC2 and no seed: nothing to read, nothing waited for; the MOTD and `status` say why.
    private func offline(_ reason: String) -> ExitStatus {
        logger.info("not reading instance metadata: \(reason)")
        if stage == .data { StageMarker.write(.done, paths: paths, logger: logger) }
        if stage != .actions {
            unprovisioned(reason)
            recordEarlyEnd(nil, disabled: reason)
        }
        return .ok
    }

    /// No instance data: none fetched (or a stop came while it was waited for) and none cached.
    private func noData(_ why: String) -> ExitStatus {
        if let signal = Interruption.signal {
            let reason = "stopped by signal \(signal) while waiting for instance data; nothing was changed"
            logger.error("\(reason)")
            if stage != .actions { recordEarlyEnd(nil, errors: [.init(source: "signal", message: reason)]) }
            return .failed
        }
        if stage != .actions {
            unprovisioned(why)
            recordEarlyEnd(nil, errors: [.init(source: "metadata", message: "no instance data: \(why)")])
        }
        return .noDataSource
    }

    /// Every run that ends before its actions says why in `status` (the MOTD says it too).
    private func recordEarlyEnd(_ instanceID: String?, errors: [RunStatus.RunError] = [], disabled: String? = nil) {
        do { try RunStatus.recordEarlyEnd(paths, instanceID: instanceID, errors: errors, disabled: disabled) } catch {
            logger.error("cannot record the run's status: \(error)")
        }
    }

    /// The unprovisioned MOTD, with what went wrong, when there is no instance data to show.
    private func unprovisioned(_ reason: String) {
        do {
            try MOTDWriter(paths: paths, logger: logger).writeNoData(reason)
        } catch {
            logger.error("cannot write the MOTD: \(error)")
        }
    }

    /// The data stage's end: whether actions are to come (for `status --wait` and the actions
    /// unit's condition), and a MOTD that says so, or the final one when none are.
    private func endDataStage(_ view: InstanceView) async -> ExitStatus {
        let (userData, facts, metadata) = (view.userData, view.facts, view.data.metadata)
        let pending = userData.problems.isEmpty && actions.wouldRun(view.plan, instanceID: view.instanceID, paths: paths)
        StageMarker.write(pending ? .actionsPending : .done, paths: paths, logger: logger)
        do {
            let motd = MOTDWriter(paths: paths, logger: logger)
            if pending {
                try motd.writeInProgress(facts: facts, metadata: metadata)
            } else if !userData.problems.isEmpty {
                try motd.write(facts: facts, metadata: metadata, failures: [Self.invalidUserData])
            } else {
                // Nothing to run, so the actions unit is not started: the engine records that here
                // (a first boot's "no actions", or the earlier run's failures), as that stage did.
                let report = await actions.run(view.plan, instanceID: view.instanceID, context: view.context(paths: paths, config: config),
                                               logger: logger)
                try motd.write(facts: facts, metadata: metadata, failures: report.failures)
            }
        } catch {
            logger.error("cannot write the MOTD: \(error)")
            return .failed
        }
        return userData.problems.isEmpty ? .ok : .badInput
    }

    /// Facts and Facter facts; nil when written, else the exit status.
    private func writeFacts(_ facts: Facts) -> ExitStatus? {
        do {
            try FactsFileWriter(path: paths.factsFile).write(facts)
            try FacterFactsWriter(path: paths.facterFactsFile).write(facts)
        } catch {
            logger.error("cannot write facts: \(error)")
            return .failed
        }
        if !facts.replaced.isEmpty {
            logger.warning("control characters in fact values replaced by spaces", metadata: ["facts": "\(facts.replaced.joined(separator: ","))"])
        }
        logger.info("wrote facts", metadata: ["count": "\(facts.entries.count)", "file": "\(paths.factsFile)"])
        return nil
    }

    /// The actions stage works from what the data stage cached, without asking IMDS again.
    private func readCache() -> BootData? {
        do {
            if let cached = try CacheStore(directory: paths.cacheDir).read() { return cached }
            logger.error("no cached instance data in \(paths.cacheDir): the data stage (run --stage data) has not run")
        } catch {
            logger.error("the cache in \(paths.cacheDir) is unreadable: \(error)")
        }
        return nil
    }

    /// Fresh data from the source, written to the cache; or the cache when the source is
    /// out of reach; or nil when there is neither (`why` says what happened), or when a stop
    /// came while the source was waited for (nothing is written then).
    private func fetchOrCache(why: inout String) async -> BootData? {
        let cache = CacheStore(directory: paths.cacheDir)
        let start = ContinuousClock.now
        do {
            let mirror = cache.startMirror()
            var data = try await source.load(logger: logger, mirror: mirror)
            await IncludeFetcher.fetch(&data, previous: { (try? cache.read())?.included ?? [:] }, config: config, logger: logger)
            if Interruption.signal != nil { return nil }
            let fetched = ContinuousClock.now
            try cache.write(data, mirror: mirror)
            logger.info("fetched instance data", metadata: [
                "source": "\(source.name)", "keys": "\(data.metadata.leaves.count)",
                "user_data": "\(data.userData.map { "\($0.count) bytes" } ?? "none")",
                "ms": "\((fetched - start).milliseconds)", "cache_ms": "\((ContinuousClock.now - fetched).milliseconds)",
            ])
            return data
        } catch let error as SourceUnavailable {
            if Interruption.signal != nil { return nil }
            why = "\(error); nothing is cached"
            do {
                if let cached = try cache.read() {
                    let when = cache.modified.map { ISO8601DateFormatter().string(from: $0) } ?? "?"
                    logger.warning("\(error); going on from the cache written \(when)")
                    return cached
                }
            } catch {
                logger.error("the cache in \(paths.cacheDir) is unreadable: \(error)")
            }
            logger.error("no instance data: \(error), and no cache in \(paths.cacheDir)")
            return nil
        } catch {
            why = "cannot cache instance data in \(paths.cacheDir): \(error)"
            logger.error("\(why)")
            return nil
        }
    }
}
