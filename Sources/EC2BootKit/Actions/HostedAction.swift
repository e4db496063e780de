#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// An action served from the actions folder (installed by getactions or baked in the
/// image): an executable named `<type>` or `<type>.<ext>`, or a Ruby tool action file
/// (`newaction("<type>") do … end`, run through the Ruby shim). It wins over a built-in
/// of the same type, so a broken built-in can be fixed without a new image.
enum HostedAction {
    case executable(String)
    case legacyRuby(String)

    /// What the engine reads of a hosted action's parameters; the rest are the script's own.
    struct Params: Decodable {
        var timeout: Double?

        init(from decoder: Decoder) throws {
            timeout = try decoder.container(keyedBy: AnyCodingKey.self).positive(AnyCodingKey(stringValue: "timeout"))
        }
    }

    /// The hosted action for `type`, if the folder has one. The Ruby package's own action files
    /// for a built-in (left behind by an in-place upgrade) never take over: `stockRuby` says
    /// which one was passed over.
    static func find(_ type: String, in folder: String, stockRuby: ((String) -> Void)? = nil) -> HostedAction? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return nil }
        var rubyFiles: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = folder + "/" + name
            if name.hasSuffix(".rb") { rubyFiles.append(path) }
            let matches = name == type || (name.hasPrefix(type + ".") && !name.dropFirst(type.count + 1).contains("."))
            guard matches, access(path, X_OK) == 0, !FileSystem.isDirectory(path) else { continue }
            if name.hasSuffix(".rb"), LegacyRuby.defines(nil, in: path) { continue }
            return .executable(path)
        }
        for path in rubyFiles where LegacyRuby.defines(type, in: path) {
            if ActionRegistry.lookup(type) != nil, LegacyRuby.isStock(type, path) {
                stockRuby?(path)
                continue
            }
            return .legacyRuby(path)
        }
        return nil
    }

    var path: String {
        switch self {
        case .executable(let path), .legacyRuby(let path): return path
        }
    }

    /// Runs it by the hosted action contract (actions/README.md): parameters as JSON on stdin
    /// and in EC2BOOT_PARAMS, each scalar one as EC2BOOT_PARAM_<NAME>, the actions folder as
    /// working directory.
    func run(_ context: ActionContext) async -> ActionResult {
        var environment = ActionEnvironment.base(context)
        let json = context.json.encoded()
        environment["EC2BOOT_PARAMS"] = String(decoding: json, as: UTF8.self)
        for (name, value) in context.json.object ?? [:] {
            if let text = value.scalarText { environment["EC2BOOT_PARAM_" + Self.envName(name)] = text }
        }
        let timeout = context.json["timeout"]?.number?.clamped(to: 0.001...Seconds.max)
        let argv: [String]
        switch self {
        case .executable(let path):
            argv = [path]
        case .legacyRuby:
            do {
                try ActionEnvironment.preparePrivateDir(context.run.paths)
                argv = ["ruby", try LegacyRuby.installShim(context.run.paths), context.type, context.run.paths.actionsDir]
            } catch {
                return ActionResult(.failed, message: "cannot install the Ruby shim: \(error)")
            }
            environment["EC2BOOT_RUBY_ACTION"] = path
        }
        return await ActionEnvironment.execute(argv, environment: environment, directory: context.run.paths.actionsDir,
                                               stdin: json, timeout: timeout, context: context)
    }

    /// `greeting` → `GREETING`, `max-size` → `MAX_SIZE`.
    static func envName(_ name: String) -> String {
        String(name.uppercased().unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "A"..."Z", "0"..."9": return Character(scalar)
            default: return "_"
            }
        })
    }
}
