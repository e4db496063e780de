import Crypto
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `type: script`: a user-data script (`#!` user-data, a MIME part of type text/x-shellscript,
/// a `#cloud-boothook`), run as the file it is, so its `#!` line picks the interpreter.
/// cloud-init runs these from scripts_user (per instance), scripts_per_boot, scripts_per_once
/// and, for boothooks, on every boot with INSTANCE_ID set; the part's type gives the frequency.
public struct ScriptAction: Action {
    public static let type = "script"
    public static let frequency = ActionFrequency.perInstance

    public static let schema = ActionSchema("Runs a user-data script as the file it is (its #! line picks the interpreter).", example: """
        name: part-001
        content: |
          #!/bin/sh
          echo hello > /etc/hello.txt
        """, [
            .required("content", .string, "the script, starting with #! (a boothook may start with #cloud-boothook)"),
            .optional("name", .string, "the part's file name (for the log; a per-once script is known by it)"),
            .optional("once", .boolean, default: "false", "run once on this machine, whatever the instance, by name (by text without one): cloud-init's per-once"),
        ])

    public struct Params: Decodable, Sendable {
        public var content: String
        public var name: String?
        public var once: Bool?
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let marker = onceMarker(params, stateDir: context.run.paths.stateDir)
        return await onlyOnce(params.once == true, marker: marker, context: context) { await execute(params, context: context) }
    }

    /// `body` run, or skipped when `once` and a marker says it ran on this machine before; its
    /// success recorded in `marker.path` (cloud-init's per-once semaphore).
    static func onlyOnce(_ once: Bool, marker: (path: String, previous: [String]), context: ActionContext,
                         _ body: () async -> ActionResult) async -> ActionResult {
        if once, marker.previous.contains(where: FileSystem.exists) {
            context.logger.info("skipped: run once on this machine before")
            return ActionResult(.skipped, message: "ran once already")
        }
        let result = await body()
        if once, result.outcome == .ok {
            do { try AtomicFile.write(Data(), to: marker.path, mode: 0o600, directoryMode: 0o700) } catch {
                context.logger.warning("cannot record that it ran once: \(error)")
            }
        }
        return result
    }

    private static func execute(_ params: Params, context: ActionContext) async -> ActionResult {
        var environment = ActionEnvironment.base(context)
        environment["INSTANCE_ID"] = context.run.metadata.leaves["instance-id"]
        let label = params.name ?? "the script"
        guard let text = runnable(params.content) else {
            return ActionResult(.failed, message: "\(label) has nothing to run after its #cloud-boothook line")
        }
        guard text.hasPrefix("#!") else {
            return ActionResult(.failed, message: "\(label) does not start with #!")
        }
        return await ActionEnvironment.executeScript(text, interpreter: nil, environment: environment, directory: nil,
                                                     timeout: nil, context: context)
    }

    /// The file to run: the content, or a boothook's body, or nil when a boothook has none (a
    /// failure, never an "ok" that ran nothing). A body without `#!` runs with /bin/sh.
    static func runnable(_ content: String) -> String? {
        guard let body = boothookBody(content) else { return content }
        guard !body.isEmpty else { return nil }
        return body.hasPrefix("#!") ? body : "#!/bin/sh\n" + body
    }

    /// A boothook's body, as cloud-init's handler takes its header off: exactly `#cloud-boothook`
    /// (the case matters), then the whitespace after it, so a blank line before `#!/bin/bash`
    /// still runs bash. Nil when the content has no such header.
    static func boothookBody(_ content: String) -> String? {
        let header = "#cloud-boothook"
        guard content.hasPrefix(header) else { return nil }
        // Unicode scalars, not Characters: "\r\n" is one Character, and a CRLF must never hide a line's end.
        return String(String.UnicodeScalarView(content.unicodeScalars.dropFirst(header.unicodeScalars.count).drop(while: isPythonSpace)))
    }

    /// Python's `str.isspace()`, which `lstrip()` strips: Unicode's white space and the ASCII separators 0x1C-0x1F.
    static func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    /// Where a per-once script's run is recorded: by its name (cloud-init's per-once folder holds
    /// one file per name: two names with the same text both run), by its text when it has none;
    /// `previous` also has the text's marker, which 0.2.0 and earlier wrote for every per-once script.
    static func onceMarker(_ params: Params, stateDir: String) -> (path: String, previous: [String]) {
        let byText = stateDir + "/once/" + SHA256.hash(data: Data(params.content.utf8)).hex
        guard let name = params.name, !name.isEmpty else { return (byText, [byText]) }
        let byName = onceMarker(name: name, stateDir: stateDir)
        return (byName, [byName, byText])
    }

    /// The marker of a script known by `name` (a folder's file: `x.sh`; another folder's under a
    /// once list: `scripts_user/x.sh`, so the two never share one).
    static func onceMarker(name: String, stateDir: String) -> String {
        stateDir + "/once/name-" + SHA256.hash(data: Data(name.utf8)).hex
    }
}
