import Foundation
import Testing
@testable import EC2BootKit

extension UnitTier {
    /// What a run starts, from the plan, the selection and the previous status alone.
    @Suite struct SchedulerTests {
        /// Two per-instance shell actions, then a per-boot one.
        static let plan = ActionPlan.make(UserData.parse(Data("""
            actions:
              - {type: shell, command: 'echo a'}
              - {type: shell, command: 'echo b'}
              - {type: shell, command: 'echo c', frequency: per-boot}
            """.utf8), limits: UserDataSettings())).actions

        static func previous(finished: Bool, results: [ActionState]) -> RunStatus {
            let rows = zip(plan, results).map { action, result in
                RunStatus.ActionStatus(index: action.index, type: action.type, frequency: action.frequency, result: result,
                                       fingerprint: action.fingerprint)
            }
            return RunStatus(instanceID: "i-1", started: "", finished: finished ? "" : nil, actions: rows)
        }

        static func verdicts(_ schedule: ActionScheduler.Schedule) -> [String] {
            guard case .steps(let steps, _, _) = schedule else { return ["\(schedule)"] }
            return steps.map { "\($0.action.index):\($0.verdict)" }
        }

        @Test func aFirstBootRunsEverythingPerInstanceFirst() {
            let schedule = ActionScheduler.schedule(Self.plan, selection: .firstBoot, previous: nil)
            #expect(Self.verdicts(schedule) == ["0:run", "1:run", "2:run"])
        }

        @Test func onlyMarksTheOthersNotSelected() {
            let schedule = ActionScheduler.schedule(Self.plan, selection: .only(["nothing"]), previous: nil)
            #expect(Self.verdicts(schedule) == ["0:notSelected", "1:notSelected", "2:notSelected"])
            #expect(!ActionScheduler.wouldRun(Self.plan, selection: .only(["nothing"]), previous: nil))
            #expect(ActionScheduler.wouldRun(Self.plan, selection: .only(["shell"]), previous: nil))
        }

        @Test func aLaterBootRunsThePerBootOnesAndCarriesTheRest() throws {
            let previous = Self.previous(finished: true, results: [.ok, .failed, .ok])
            let schedule = ActionScheduler.schedule(Self.plan, selection: .firstBoot, previous: previous)
            guard case .steps(let steps, let carried, let resumed) = schedule else { Issue.record("\(schedule)"); return }
            #expect(steps.map(\.action.index) == [2] && resumed == 0)
            #expect(carried.map(\.index) == [0, 1], "per-instance rows are kept, so the failure still counts")
            #expect(RunStatus.failures(carried) == ["action 1 (shell): failed"])
        }

        @Test func aLaterBootWithNothingPerBootRunsNothing() {
            let perInstance = Array(Self.plan.prefix(2))
            let schedule = ActionScheduler.schedule(perInstance, selection: .firstBoot, previous: Self.previous(finished: true, results: [.ok, .ok]))
            guard case .alreadyRan(let failures) = schedule else { Issue.record("\(schedule)"); return }
            #expect(failures.isEmpty)
            #expect(!ActionScheduler.wouldRun(perInstance, selection: .firstBoot, previous: Self.previous(finished: true, results: [.ok, .ok])))
        }

        @Test func anInterruptedFirstBootResumesWithoutRepeatingWhatSucceeded() {
            let previous = Self.previous(finished: false, results: [.ok, .interrupted, .ok])
            let schedule = ActionScheduler.schedule(Self.plan, selection: .firstBoot, previous: previous)
            #expect(Self.verdicts(schedule) == ["0:done", "1:run", "2:run"], "a per-boot action runs again on another boot")
        }

        @Test func forceRunsAllAndNoActionsNone() {
            let previous = Self.previous(finished: true, results: [.ok, .ok, .ok])
            #expect(Self.verdicts(ActionScheduler.schedule(Self.plan, selection: .all, previous: previous)) == ["0:run", "1:run", "2:run"])
            guard case .nothing(let failures) = ActionScheduler.schedule(Self.plan, selection: .none, previous: previous) else {
                Issue.record("--no-actions scheduled something"); return
            }
            #expect(failures.isEmpty)
        }

        /// A partial run never erases a failure: `--only` keeps the rows of what it leaves out,
        /// and `--no-actions` reports the earlier run's failures (for the MOTD).
        @Test func onlyAndNoActionsKeepAnEarlierFailure() {
            let previous = Self.previous(finished: true, results: [.ok, .failed, .ok])
            guard case .steps(let steps, _, _) = ActionScheduler.schedule(Self.plan, selection: .only(["nothing"]), previous: previous) else {
                Issue.record("no steps"); return
            }
            #expect(steps.map { $0.earlier?.result } == [.ok, .failed, .ok])
            guard case .nothing(let failures) = ActionScheduler.schedule(Self.plan, selection: .none, previous: previous) else {
                Issue.record("--no-actions scheduled something"); return
            }
            #expect(failures == ["action 1 (shell): failed"])
        }
    }
}
