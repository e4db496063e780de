#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
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

        if case .offline(let reason) = Platform.decide(paths: paths, config: config) {
            logger.info("not reading instance metadata: \(reason)")
            return await carryOut(.decide(stage, .offline(reason)), view: nil)
        }
        var missing = "nothing is cached"
        let before = stage == .actions ? nil : Essentials.Before(paths)   // read before this boot's fetch replaces the cache
        guard let data = stage == .actions ? readCache() : await fetchOrCache(why: &missing) else {
            guard let signal = Interruption.signal else { return await carryOut(.decide(stage, .noData(missing)), view: nil) }
            let reason = "stopped by signal \(signal) while waiting for instance data; nothing was changed"
            logger.error("\(reason)")
            return await carryOut(.decide(stage, .stopped(reason)), view: nil)
        }
        let view = InstanceView(data, config: config, actionsDir: paths.actionsDir)
        if let before { await essentials(view, before: before) }
        logFindings(view.userData)
        let invalid = !view.userData.problems.isEmpty
        let pending = stage == .data && !invalid && actions.wouldRun(view.plan, instanceID: view.instanceID, paths: paths)
        return await carryOut(.decide(stage, .data(invalid: invalid, selectionMatches: selectionMatches(view), actionsPending: pending)), view: view)
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

    private func logFindings(_ userData: UserData) {
        for problem in userData.problems { logger.error("invalid user-data: \(problem)") }
        if userData.isScript { logger.info("user-data is a script; it runs as one script action") }
        guard stage != .actions else { return }
        for problem in userData.unsupported { logger.warning("user-data: \(problem)") }
        for part in userData.passedOver { logger.info("user-data: \(part)") }
    }

    /// Whether `--only` names a type the plan has (said when not: nothing is run or recorded).
    private func selectionMatches(_ view: InstanceView) -> Bool {
        guard case .only(let types) = actions.selection, !view.plan.contains(where: { types.contains($0.type) }) else { return true }
        let known = Set(view.plan.map(\.type)).sorted().joined(separator: ", ")
        logger.error("--only \(types.sorted().joined(separator: ",")): no action of this user-data has that type (its types: \(known.isEmpty ? "none" : known)); nothing was run or recorded")
        return false
    }

    /// `end` carried out: the record, the facts, the marker, the actions, the MOTD, in that order.
    private func carryOut(_ end: StageEnd, view: InstanceView?) async -> ExitStatus {
        switch end.record {
        case .none: break
        case .disabled(let reason): recordEarlyEnd(nil, disabled: reason)
        case .error(let source, let message): recordEarlyEnd(nil, errors: [.init(source: source, message: message)])
        case .userDataProblems:
            recordEarlyEnd(view?.instanceID, errors: (view?.userData.problems ?? []).map {
                RunStatus.RunError(source: "user-data", message: $0.message, location: $0.place)
            })
        }
        if end.facts, let view, let failed = writeFacts(view.facts) { return failed }
        if let marker = end.marker { StageMarker.write(marker, paths: paths, logger: logger) }
        var failures: [String] = []
        if end.runActions, let view {
            failures = await actions.run(view.plan, instanceID: view.instanceID, context: view.context(paths: paths, config: config),
                                         logger: logger).failures
        }
        do {
            let motd = MOTDWriter(paths: paths, logger: logger)
            switch end.motd {
            case .unchanged: break
            case .unprovisioned(let reason): unprovisioned(reason)
            case .inProgress: if let view { try motd.writeInProgress(facts: view.facts, metadata: view.data.metadata) }
            case .final(let invalid):
                if let view { try motd.write(facts: view.facts, metadata: view.data.metadata, failures: invalid ? [Self.invalidUserData] : failures) }
            }
        } catch {
            logger.error("cannot write the MOTD: \(error)")
            return .failed
        }
        switch end.exit {
        case .fixed(let status): return status
        case .byActions: return failures.isEmpty ? .ok : .failed
        }
    }

    /// Every run that ends before its actions says why in `status` (the MOTD says it too).
    private func recordEarlyEnd(_ instanceID: String?, errors: [RunStatus.RunError] = [], disabled: String? = nil) {
        do { try RunStatus.recordEarlyEnd(paths, instanceID: instanceID, errors: errors, disabled: disabled) } catch {
            logger.error("cannot record the run's status: \(error)")
        }
    }

    /// The unprovisioned MOTD, with what went wrong, when there is no instance data to show
    /// (a MOTD that cannot be written is said; the run's exit is what it found).
    private func unprovisioned(_ reason: String) {
        do {
            try MOTDWriter(paths: paths, logger: logger).writeNoData(reason)
        } catch {
            logger.error("cannot write the MOTD: \(error)")
        }
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
                    let when = cache.modified.map(Timestamp.string) ?? "?"
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
