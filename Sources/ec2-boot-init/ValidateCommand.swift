import ArgumentParser
import EC2BootKit
import Foundation

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check user-data without running anything.",
        discussion: """
        Checks that FILE (- for standard input; default: the cached user-data) parses, and the shape of its facts and actions. Prints each problem as FILE:LINE:COLUMN: message and exits 2 when there is any.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("User-data file, or - for standard input.", valueName: "FILE"))
    var file: String?

    func run() throws {
        _ = try global.load()
        let source: String
        let raw: Data?
        switch file {
        case "-":
            source = "<stdin>"
            raw = FileHandle.standardInput.readDataToEndOfFile()
        case let path?:
            source = path
            raw = FileSystem.read(path)
            if raw == nil {
                printError("ec2-boot-init: cannot read \(path)")
                throw ExitCode(.badInput)
            }
        case nil:
            source = global.paths.cacheDir + "/user-data.raw"
            raw = FileSystem.read(source)
        }
        var userData = UserData.parse(raw, source: source)
        let plan = ActionPlan.make(userData, source: source)
        userData.problems += plan.problems
        for problem in userData.problems { printError(problem.description) }
        guard userData.problems.isEmpty else { throw ExitCode(.badInput) }
        switch userData.content {
        case .empty: print("\(source): no user-data")
        case .script: print("\(source): ok: a script (runs as one shell action)")
        case .document: print("\(source): ok: \(userData.facts.count) facts, \(userData.actions.count) actions")
        }
    }
}
