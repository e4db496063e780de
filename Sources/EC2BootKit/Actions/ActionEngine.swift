#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
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

/// Runs the scheduled actions in order, recording each result as it happens: the scheduler
/// decides what runs, the recorder writes the status, this loop only runs and reports.
public struct ActionEngine: Sendable {
    public let selection: ActionSelection
    /// Where the run's status goes.
    public let record: RunStatus.Record

    public init(selection: ActionSelection = .firstBoot, record: RunStatus.Record = .boot) {
        self.selection = selection
        self.record = record
    }

    public func wouldRun(_ plan: [PlannedAction], instanceID: String, paths: Paths) -> Bool {
        ActionScheduler.wouldRun(plan, selection: selection, previous: previous(instanceID, paths))
    }

    public func run(_ plan: [PlannedAction], instanceID: String, context: RunContext, logger: Logger) async -> ActionsReport {
        switch ActionScheduler.schedule(plan, selection: selection, previous: previous(instanceID, context.paths)) {
        case .nothing(let failures):
            return ActionsReport(failures: failures)
        case .alreadyRan(let failures):
            logger.info("actions already ran for this instance; `run --force` runs them again", metadata: ["instance": "\(instanceID)"])
            return ActionsReport(failures: failures)
        case .steps(let steps, let carried, let resumed):
            if resumed > 0 { logger.info("resuming an interrupted run", metadata: ["done": "\(resumed)"]) }
            var recorder = StatusRecorder(instanceID: instanceID, carried: carried, steps: steps, record: record,
                                          paths: context.paths, logger: logger)
            return await execute(steps, recorder: &recorder, context: context, logger: logger)
        }
    }

    private func execute(_ steps: [ActionScheduler.Step], recorder: inout StatusRecorder, context: RunContext,
                         logger: Logger) async -> ActionsReport {
        var failures = recorder.carriedFailures
        var stopped = false
        for (position, step) in steps.enumerated() {
            let action = step.action
            let name = "action \(action.index) (\(action.type))"
            if let signo = Interruption.signal {
                recorder.save()
                return ActionsReport(failures: failures + ["interrupted by signal \(signo) before \(name)"])
            }
            guard step.verdict == .run, !stopped else {
                recorder.pass(position, step: step, stopped: stopped)
                if !stopped, let earlier = step.earlier, !earlier.succeeded { failures.append("\(name): \(earlier.result.rawValue) (earlier run)") }
                continue
            }
            recorder.start(position)
            let (result, elapsed) = await perform(action, context: context, logger: logger)
            if let signo = Interruption.signal, result.outcome != .ok {
                recorder.interrupted(position, signal: signo)
                logger.error("interrupted by signal \(signo); the next run resumes from action \(action.index)")
                return ActionsReport(failures: failures + ["\(name): interrupted"])
            }
            recorder.finish(position, result, elapsed: elapsed)
            logOutcome(result, action, logger)
            if result.outcome == .failed || result.outcome == .timedOut {
                failures.append("\(name): \(result.outcome.rawValue)")
                stopped = stopped || action.stopOnFailure || context.config.actions.stopOnFailure
            }
        }
        recorder.done()
        return ActionsReport(failures: failures)
    }

    /// The action's own body, or a hosted file of its type: looked up now, not when planned,
    /// since getactions earlier in this run may have installed it.
    private func perform(_ action: PlannedAction, context: RunContext, logger: Logger) async -> (ActionResult, Duration) {
        var actionLogger = logger
        actionLogger[metadataKey: "action"] = "\(action.index):\(action.type)"
        logger.info("running action", metadata: ["action": "\(action.index):\(action.type)"])
        let actionContext = ActionContext(run: context, index: action.index, type: action.type, logger: actionLogger, json: action.json)
        let stock = { (path: String) in
            logger.notice("the Ruby tool's own action file is installed; using the built-in instead",
                          metadata: ["type": "\(action.type)", "file": "\(path)"])
        }
        let start = ContinuousClock.now
        if action.hostable, let hosted = HostedAction.find(action.type, in: context.paths.actionsDir, stockRuby: stock) {
            if ActionRegistry.lookup(action.type) != nil {
                logger.notice("a hosted action overrides the built-in", metadata: ["type": "\(action.type)", "file": "\(hosted.path)"])
            }
            return (await hosted.run(actionContext), ContinuousClock.now - start)
        }
        return (await action.body(actionContext), ContinuousClock.now - start)
    }

    private func logOutcome(_ result: ActionResult, _ action: PlannedAction, _ logger: Logger) {
        switch result.outcome {
        case .ok, .skipped:
            logger.info("action done", metadata: ["action": "\(action.index):\(action.type)", "result": "\(result.outcome.rawValue)"])
        case .failed, .timedOut:
            logger.error("action \(result.outcome.rawValue): \(result.message ?? "")", metadata: [
                "action": "\(action.index):\(action.type)", "exit_code": "\(result.exitCode.map(String.init) ?? "-")",
            ])
        }
    }

    private func previous(_ instanceID: String, _ paths: Paths) -> RunStatus? {
        RunStatus.load(paths, record).flatMap { $0.instanceID == instanceID ? $0 : nil }
    }
}
