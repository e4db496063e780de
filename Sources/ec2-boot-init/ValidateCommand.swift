import ArgumentParser
import EC2BootCLI
import EC2BootKit
import Foundation

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check user-data without running anything.",
        discussion: """
        Checks that FILE (- for standard input; default: the cached user-data) parses, and the shape of its facts and actions (cloud-config modules included). Prints each problem as FILE:LINE:COLUMN: message and exits 2 when there is any. A cloud-config key ec2-boot-init does not implement is a warning (an error with --strict); a MIME part of a type nothing handles is a note.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("User-data file, or - for standard input.", valueName: "FILE"))
    var file: String?

    @Flag(help: "Exit 2 when the cloud-config has keys ec2-boot-init does not implement.")
    var strict = false

    func run() throws {
        let config = try global.load()
        let source: String
        let read: FileSystem.BoundedRead
        switch file {
        case "-":
            source = "<stdin>"
            read = FileSystem.read(fd: 0, maxBytes: config.userData.maxBytes)
        case let path?:
            source = path
            read = FileSystem.read(path, maxBytes: config.userData.maxBytes)
        case nil:
            source = global.paths.cacheDir + "/user-data.raw"
            read = FileSystem.read(source, maxBytes: config.userData.maxBytes)
        }
        let raw: Data?
        switch read {
        case .data(let data): raw = data
        case .tooLarge:
            printError("\(source): \(config.userData.tooLarge)")
            throw ExitCode(.badInput)
        case .unreadable(let code):
            guard file != nil else { raw = nil; break }  // no cached user-data: nothing to check
            printError("ec2-boot-init: cannot read \(source): \(String(cString: strerror(code)))")
            throw ExitCode(.badInput)
        }
        let view = InstanceView(BootData(userData: raw, metadata: MetadataTree(), identityDocument: nil), config: config, source: source,
                                actionsDir: global.paths.actionsDir)
        let userData = view.userData
        for problem in userData.problems { printError(problem.description) }
        guard userData.problems.isEmpty else { throw ExitCode(.badInput) }
        for problem in userData.unsupported {
            printError(YAMLProblem(source: problem.source, line: problem.line, column: problem.column,
                                   message: (strict ? "error: " : "warning: ") + problem.message).description)
        }
        for part in userData.passedOver { printError("\(source): note: \(part)") }
        for action in view.plan {
            guard let problem = action.unlessHosted else { continue }
            printError(YAMLProblem(source: problem.source, line: problem.line, column: problem.column, message:
                "warning: \(problem.message): the built-in \(action.type) refuses this; a hosted \(action.type) (getactions, or the actions folder) must take it").description)
        }
        for action in ActionPlan.unprovided(view.plan, actionsDir: global.paths.actionsDir) {
            printError("\(source): warning: actions[\(action.index)]: type \(action.type) is not built in and not in "
                       + "\(global.paths.actionsDir): getactions or the image must provide it")
        }
        if strict && !userData.unsupported.isEmpty { throw ExitCode(.badInput) }
        switch userData.content {
        case .empty: print("\(source): no user-data")
        case .script: print("\(source): ok: a script (runs as one script action)")
        case .document where userData.parts.count == 1:
            print("\(source): ok: \(userData.facts.count) facts, \(userData.actions.count) actions")
        case .document, .cloudInit:
            let types = userData.parts.map(\.contentType).joined(separator: ", ")
            print("\(source): ok: \(userData.parts.count) part\(userData.parts.count == 1 ? "" : "s") (\(types)), "
                  + "\(userData.facts.count) facts, \(view.plan.count) actions")
        }
    }
}
