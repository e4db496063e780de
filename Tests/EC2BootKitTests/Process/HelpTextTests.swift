import Foundation
import Testing
@testable import EC2BootKit

extension ProcessTier {
    /// Each command's --help, whole, against docs/help (written by scripts/help-texts.sh), as
    /// swift-argument-parser's own examples test theirs: an option added, renamed or reworded
    /// shows as a change to those files (process tier).
    @Suite struct HelpTextTests {
        @Test(arguments: ["", "run", "status", "query", "validate", "fetch", "clean", "schema", "watch", "push", "nodes"])
        func helpIsTheDocumentedText(_ command: String) throws {
            let file = TestEnv.repoRoot.appendingPathComponent("docs/help/\(command.isEmpty ? "ec2-boot-init" : command).txt").path
            let expected = try #require(TestEnv.read(file), "docs/help has no \(command) (bash scripts/help-texts.sh)")
            var environment = ProcessInfo.processInfo.environment
            environment["COLUMNS"] = "80"
            let shown = try runProcess(TestEnv.binary, (command.isEmpty ? [] : [command]) + ["--help"], environment: environment)
            #expect(shown.status == 0)
            #expect(shown.stdout == expected, "\(command) --help differs from \(file): run bash scripts/help-texts.sh and read the diff")
        }
    }
}
