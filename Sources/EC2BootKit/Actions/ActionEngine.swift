import Foundation
import Logging

/// Which actions a run runs.
public enum ActionSelection: Sendable {
    /// On the first boot of an instance (and to finish an interrupted run): all; later: none.
    case firstBoot
    /// All, again (`run --force`).
    case all
    /// Only these types (`run --only`).
    case only(Set<String>)
    /// None (`run --no-actions`).
    case none
}

/// Runs the planned actions in order, recording each result as it happens.
public struct ActionEngine: Sendable {
    public let selection: ActionSelection
    /// Where the run's status goes.
    public let record: RunStatus.Record

    public init(selection: ActionSelection = .firstBoot, record: RunStatus.Record = .boot) {
        self.selection = selection
        self.record = record
    }

    /// Whether `run` would start any action: what the data stage tells the MOTD and `status --wait`.
    public func wouldRun(_ plan: [PlannedAction], instanceID: String, paths: Paths) -> Bool {
        switch selection {
        case .none: return false
        case .all: return !plan.isEmpty
        case .only(let types): return plan.contains { types.contains($0.type) }
        case .firstBoot:
            guard let previous = RunStatus.load(paths), previous.instanceID == instanceID,
                  previous.finished != nil || previous.perInstanceDone == true else { return !plan.isEmpty }
            return plan.contains { $0.frequency == .perBoot || $0.everyBootPart != nil }
        }
    }

    public func run(_ plan: [PlannedAction], instanceID: String, context: RunContext, logger: Logger) async -> ActionsReport {
        let previous = RunStatus.load(context.paths, record).flatMap { $0.instanceID == instanceID ? $0 : nil }
        var done: Set<String> = []
        var plan = plan
        // Per-instance results of an earlier boot, kept in this run's status so that a later
        // boot stopped midway still knows the instance's actions are done.
        var carried: [RunStatus.ActionStatus] = []
        var failures: [String] = []
        switch selection {
        case .none:
            return ActionsReport()
        case .firstBoot:
            if let previous, previous.finished != nil || previous.perInstanceDone == true {
                carried = previous.actions.filter { $0.frequency != .perBoot }
                failures = RunStatus.failures(carried)
                // Per-boot actions, and what per-instance ones repeat on every boot, in plan order.
                plan = plan.compactMap { $0.frequency == .perBoot ? $0 : $0.everyBootPart }
                guard !plan.isEmpty else {
                    logger.info("actions already ran for this instance; `run --force` runs them again",
                                metadata: ["instance": "\(instanceID)"])
                    return ActionsReport(failures: failures)
                }
            } else if let previous {
                // An interrupted first boot: the per-instance actions it finished are not
                // repeated. Per-boot ones run again: this is another boot.
                let perInstance = Set(plan.filter { $0.frequency == .perInstance }.map(\.fingerprint))
                done = Set(previous.actions.filter(\.succeeded).map(\.fingerprint)).intersection(perInstance)
            }
            if !done.isEmpty { logger.info("resuming an interrupted run", metadata: ["done": "\(done.count)"]) }
        case .all, .only:
            break
        }
        var status = RunStatus(instanceID: instanceID, started: Timestamp.now(), finished: nil, actions: carried + plan.map {
            RunStatus.ActionStatus(index: $0.index, type: $0.type, frequency: $0.frequency, result: "pending", fingerprint: $0.fingerprint)
        })
        status.perInstanceDone = carried.isEmpty ? nil : true
        var stopped = false
        for (position, action) in plan.enumerated() {
            let slot = carried.count + position
            if let signo = Interruption.signal {
                failures.append("interrupted by signal \(signo) before action \(action.index) (\(action.type))")
                save(status, context, logger)
                return ActionsReport(failures: failures)
            }
            let selected: Bool
            if case .only(let types) = selection { selected = types.contains(action.type) } else { selected = true }
            if stopped || !selected || done.contains(action.fingerprint) {
                status.actions[slot].result = done.contains(action.fingerprint) ? "ok" : "skipped"
                status.actions[slot].message = stopped ? "not run: an earlier action failed with on_failure: stop"
                    : (selected ? "done before the interruption" : "not selected")
                continue
            }
            status.actions[slot].result = "running"
            save(status, context, logger)
            var actionLogger = logger
            actionLogger[metadataKey: "action"] = "\(action.index):\(action.type)"
            logger.info("running action", metadata: ["action": "\(action.index):\(action.type)"])
            let start = ContinuousClock.now
            let actionContext = ActionContext(run: context, index: action.index, type: action.type,
                                              logger: actionLogger, json: action.json)
            let result: ActionResult
            // Looked up now, not when planned: getactions earlier in this run may have installed it.
            let stock = { (path: String) in
                logger.notice("the Ruby tool's own action file is installed; using the built-in instead",
                              metadata: ["type": "\(action.type)", "file": "\(path)"])
            }
            if action.hostable, let hosted = HostedAction.find(action.type, in: context.paths.actionsDir, stockRuby: stock) {
                if ActionRegistry.lookup(action.type) != nil {
                    logger.notice("a hosted action overrides the built-in", metadata: ["type": "\(action.type)", "file": "\(hosted.path)"])
                }
                result = await hosted.run(actionContext)
            } else {
                result = await action.body(actionContext)
            }
            let elapsed = ContinuousClock.now - start
            status.actions[slot].result = result.outcome.rawValue
            status.actions[slot].exitCode = result.exitCode
            let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
            status.actions[slot].durationMS = Double(micros / 100) / 10
            status.actions[slot].message = result.message.map(Redaction.redact)
            if let signo = Interruption.signal, result.outcome != .ok {
                // Left unfinished, so the next run resumes here; never left saying "running".
                status.actions[slot].result = "interrupted"
                status.actions[slot].message = "the agent got signal \(signo); the action's process group was stopped"
                save(status, context, logger)
                logger.error("interrupted by signal \(signo); the next run resumes from action \(action.index)")
                failures.append("action \(action.index) (\(action.type)): interrupted")
                return ActionsReport(failures: failures)
            }
            save(status, context, logger)
            switch result.outcome {
            case .ok, .skipped:
                logger.info("action done", metadata: ["action": "\(action.index):\(action.type)", "result": "\(result.outcome.rawValue)"])
            case .failed, .timedOut:
                logger.error("action \(result.outcome.rawValue): \(result.message ?? "")", metadata: [
                    "action": "\(action.index):\(action.type)", "exit_code": "\(result.exitCode.map(String.init) ?? "-")",
                ])
                failures.append("action \(action.index) (\(action.type)): \(result.outcome.rawValue)")
                if action.stopOnFailure || context.config.actions.stopOnFailure { stopped = true }
            }
        }
        status.finished = Timestamp.now()
        save(status, context, logger)
        return ActionsReport(failures: failures)
    }

    private func save(_ status: RunStatus, _ context: RunContext, _ logger: Logger) {
        do { try status.save(context.paths, record) } catch {
            logger.error("cannot record the run's status: \(error)")
        }
    }
}
