@testable import EC2BootKit
import Testing

extension UnitTier {
    /// The end of each stage in every situation, as a table: what is recorded (every run that
    /// ends before its actions is), the facts, the data stage's marker, the engine, the MOTD and
    /// the exit code. Each row is a situation a user met; the process tests run a few of them.
    @Suite struct StageEndTests {
        typealias End = StageEnd
        static let ok = End.Found.data(invalid: false, selectionMatches: true, actionsPending: false)
        static let pending = End.Found.data(invalid: false, selectionMatches: true, actionsPending: true)
        static let invalid = End.Found.data(invalid: true, selectionMatches: true, actionsPending: true)
        static let typo = End.Found.data(invalid: false, selectionMatches: false, actionsPending: false)
        static let invalidTypo = End.Found.data(invalid: true, selectionMatches: false, actionsPending: false)

        @Test(arguments: [
            // Not EC2: disabled, said in the MOTD, exit 0; the actions stage leaves the record alone.
            (BootRun.Stage.all, End.Found.offline("not EC2"),
             End(record: .disabled("not EC2"), motd: .unprovisioned("not EC2"), exit: .fixed(.ok))),
            (.data, .offline("not EC2"), End(record: .disabled("not EC2"), marker: .done, motd: .unprovisioned("not EC2"), exit: .fixed(.ok))),
            (.actions, .offline("not EC2"), End(exit: .fixed(.ok))),
            // A stop while waiting: recorded, the MOTD left as it was, exit 1.
            (.all, .stopped("signal 15"), End(record: .error(source: "signal", message: "signal 15"), exit: .fixed(.failed))),
            (.data, .stopped("signal 15"), End(record: .error(source: "signal", message: "signal 15"), exit: .fixed(.failed))),
            (.actions, .stopped("signal 15"), End(exit: .fixed(.failed))),
            // No data and no cache: recorded, the MOTD says why, exit 3.
            (.all, .noData("timed out"), End(record: .error(source: "metadata", message: "no instance data: timed out"),
                                              motd: .unprovisioned("timed out"), exit: .fixed(.noDataSource))),
            (.data, .noData("timed out"), End(record: .error(source: "metadata", message: "no instance data: timed out"),
                                               motd: .unprovisioned("timed out"), exit: .fixed(.noDataSource))),
            (.actions, .noData("no cache"), End(exit: .fixed(.noDataSource))),
            // Good user-data: the actions run; the data stage leaves them to the actions stage, or
            // (nothing to run) has the engine record that, and says the final MOTD.
            (.all, ok, End(facts: true, runActions: true, motd: .final(invalid: false), exit: .byActions)),
            (.actions, ok, End(runActions: true, motd: .final(invalid: false), exit: .byActions)),
            (.data, pending, End(facts: true, marker: .actionsPending, motd: .inProgress, exit: .fixed(.ok))),
            (.data, ok, End(facts: true, marker: .done, runActions: true, motd: .final(invalid: false), exit: .fixed(.ok))),
            // Invalid user-data: recorded with its places, nothing runs, the MOTD says so, exit 2.
            (.all, invalid, End(record: .userDataProblems, facts: true, motd: .final(invalid: true), exit: .fixed(.badInput))),
            (.data, invalid, End(record: .userDataProblems, facts: true, marker: .done, motd: .final(invalid: true), exit: .fixed(.badInput))),
            (.actions, invalid, End(motd: .final(invalid: true), exit: .fixed(.badInput))),
            // `--only` matching no action: exit 2, nothing run, the record and MOTD as they were.
            (.all, typo, End(facts: true, exit: .fixed(.badInput))),
            (.actions, typo, End(exit: .fixed(.badInput))),
            (.all, invalidTypo, End(record: .userDataProblems, facts: true, exit: .fixed(.badInput))),
            // The data stage has no selection: a typo there changes nothing.
            (.data, typo, End(facts: true, marker: .done, runActions: true, motd: .final(invalid: false), exit: .fixed(.ok))),
        ])
        func eachSituationEndsAsTheTableSays(_ stage: BootRun.Stage, _ found: End.Found, _ expected: End) {
            #expect(End.decide(stage, found) == expected, "\(stage) \(found)")
        }

        /// The rule the table is for: every stage but the actions stage records a run that ends
        /// before its actions, whatever ended it.
        @Test func everyEarlyEndIsRecorded() {
            for stage in [BootRun.Stage.all, .data] {
                for found in [End.Found.offline("x"), .stopped("x"), .noData("x"), Self.invalid] {
                    #expect(End.decide(stage, found).record != .none, "\(stage) \(found)")
                }
            }
        }
    }
}
