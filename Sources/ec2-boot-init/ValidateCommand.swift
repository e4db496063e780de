import ArgumentParser
import EC2BootCLI
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check user-data without running anything.",
        discussion: """
        Checks that FILE (- for standard input; default: the cached user-data) parses, and the shape of its facts and actions (cloud-config modules included). Prints each problem as FILE:LINE:COLUMN: message, in the order of the text, and exits 2 when there is any; for the cached user-data, also what the last run found in it (an #include it could not fetch). A cloud-config key ec2-boot-init does not implement, a top-level key of the Ruby tool's YAML it does not know, and an action type neither built in nor in the actions folder are warnings with the nearest name (errors with --strict, but for a type a getactions before it may bring); a MIME part of a type nothing handles is a note.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("User-data file, or - for standard input.", valueName: "FILE"))
    var file: String?

    @Flag(help: "Exit 2 on a key ec2-boot-init does not implement or know, and on an action type nothing provides.")
    var strict = false

    func run() throws {
        let config = try global.load()
        let (raw, source) = try read(config)
        let view = InstanceView(BootData(userData: raw, metadata: MetadataTree(), identityDocument: nil), config: config, source: source,
                                actionsDir: global.paths.actionsDir)
        let userData = view.userData
        // Every problem and warning at once, in the order of the text: an error never hides the rest.
        let found = userData.problems.map { (problem: $0, fails: true) } + WatchSettings.problems(in: userData, source: source).map { ($0, true) }
            + userData.unsupported.map { (labelled($0, strict ? "error" : "warning"), strict) }
            + hostedWarnings(view).map { ($0, false) } + unknownTypes(view, source: source)
        for entry in found.sorted(by: { Self.byPlace($0.problem, $1.problem) }) { printError(entry.problem.description) }
        for part in userData.passedOver { printError("\(source): note: \(part)") }
        var failed = found.contains { $0.fails }
        // The cached user-data as the boot saw it: what only the boot could find (an #include it
        // could not fetch) is in its record, so validate, status and the MOTD agree.
        if file == nil, let recorded = RunStatus.load(global.paths)?.errors?.filter({ $0.source == "user-data" }), !recorded.isEmpty {
            for error in recorded { printError("\(error) (found by the last run; see ec2-boot-init status)") }
            failed = true
        }
        if failed { throw ExitCode(.badInput) }
        summarize(view, source: source)
    }

    private func labelled(_ problem: YAMLProblem, _ label: String) -> YAMLProblem {
        YAMLProblem(source: problem.source, line: problem.line, column: problem.column, message: label + ": " + problem.message)
    }

    /// Actions whose keys the built-in refuses, planned for a hosted file of the same type.
    private func hostedWarnings(_ view: InstanceView) -> [YAMLProblem] {
        view.plan.compactMap { action in
            action.unlessHosted.map { problem in
                YAMLProblem(source: problem.source, line: problem.line, column: problem.column, message: "warning: \(problem.message): the built-in "
                            + "\(action.type) refuses this; a hosted \(action.type) (getactions, or the actions folder) must take it")
            }
        }
    }

    /// The user-data's bytes (nil: no cached user-data) and the name its problems are given.
    private func read(_ config: Config) throws -> (Data?, String) {
        let source: String, read: FileSystem.BoundedRead
        switch file {
        case "-": (source, read) = ("<stdin>", FileSystem.read(fd: 0, maxBytes: config.userData.maxBytes))
        case let path?: (source, read) = (path, FileSystem.read(path, maxBytes: config.userData.maxBytes))
        case nil:
            source = global.paths.cacheDir + "/user-data.raw"
            read = FileSystem.read(source, maxBytes: config.userData.maxBytes)
        }
        switch read {
        case .data(let data): return (data, source)
        case .tooLarge:
            printError("\(source): \(config.userData.tooLarge)")
            throw ExitCode(.badInput)
        case .unreadable(let code):
            // The cache is root's: a user who is not root is told so, never "no user-data".
            if file == nil && code == EACCES { throw QueryCommand.denied("the cached user-data \(source) is root's") }
            guard file != nil else { return (nil, source) }  // no cached user-data: nothing to check
            printError("ec2-boot-init: cannot read \(source): \(String(cString: strerror(code)))")
            throw ExitCode(.badInput)
        }
    }

    /// Action types neither built in nor in the actions folder, each with its line and the
    /// nearest built-in; refused by `--strict` when a near miss of a built-in (a typo), or any
    /// when no getactions comes before it to bring the hosted file.
    private func unknownTypes(_ view: InstanceView, source: String) -> [(problem: YAMLProblem, fails: Bool)] {
        let builtIns = ActionRegistry.types.map { $0.type }
        return ActionPlan.unprovided(view.plan, actionsDir: global.paths.actionsDir).map { action in
            let hint = Suggestion.hint(action.type, among: builtIns)
            let fetched = view.plan.contains { $0.index < action.index && ActionRegistry.canonicalName($0.type) == GetActionsAction.type }
            let refused = strict && (!hint.isEmpty || !fetched)
            let node = view.userData.actions.first { $0.mapping?["type"].flatMap(YAMLDocument.scalarText) == action.type }
            return (YAMLProblem(source: source, mark: node?.mark, message: (refused ? "error: " : "warning: ")
                + "actions[\(action.index)]: type \(action.type) is not built in and not in \(global.paths.actionsDir): "
                + "getactions or the image must provide it\(hint)"), refused)
        }
    }

    private func summarize(_ view: InstanceView, source: String) {
        let userData = view.userData
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

    /// The user-data's `:watch:` section, as `watch` will read it: a misspelt key or a key that is
    /// no signify key fails here, not later in `watch --check`.
    /// Problems in the order of the text they point at.
    static func byPlace(_ a: YAMLProblem, _ b: YAMLProblem) -> Bool {
        (a.source, a.line ?? 0, a.column ?? 0) < (b.source, b.line ?? 0, b.column ?? 0)
    }
}
