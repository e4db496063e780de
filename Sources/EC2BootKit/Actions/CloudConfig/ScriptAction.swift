import Crypto
import Foundation

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
            .optional("name", .string, "the part's file name, for the log"),
            .optional("once", .boolean, default: "false", "run once on this machine, whatever the instance (cloud-init's per-once)"),
        ])

    public struct Params: Decodable, Sendable {
        public var content: String
        public var name: String?
        public var once: Bool?
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let marker = context.run.paths.stateDir + "/once/" + SHA256.hash(data: Data(params.content.utf8)).hex
        if params.once == true, FileSystem.exists(marker) {
            context.logger.info("skipped: a per-once script that ran on this machine before")
            return ActionResult(.skipped, message: "ran once already")
        }
        var environment = ActionEnvironment.base(context)
        environment["INSTANCE_ID"] = context.run.metadata.leaves["instance-id"]
        var text = params.content
        // A boothook's header line is cloud-init's, not the script's: what follows it runs as the
        // file it is (its own #! picks the interpreter), or with /bin/sh when it has none.
        if text.lowercased().hasPrefix("#cloud-boothook") {
            let body = String(text.drop { $0 != "\n" }.dropFirst())
            text = body.hasPrefix("#!") ? body : "#!/bin/sh\n" + body
        }
        guard text.hasPrefix("#!") else {
            return ActionResult(.failed, message: "\(params.name ?? "the script") does not start with #!")
        }
        let result = await ActionEnvironment.executeScript(text, interpreter: nil, environment: environment, directory: nil,
                                                           timeout: nil, context: context)
        if params.once == true, result.outcome == .ok {
            do { try AtomicFile.write(Data(), to: marker, mode: 0o600, directoryMode: 0o700) } catch {
                context.logger.warning("cannot record that the per-once script ran: \(error)")
            }
        }
        return result
    }
}
