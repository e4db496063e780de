#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// What write_files and write_files_deferred share: cloud-init's `cc_write_files.write_files`,
/// each file written atomically with its mode and owner.
enum FileWriting {
    /// Writes `entries` (with their index in write_files, for messages) in order; stops at the
    /// first that cannot be written, as cloud-init's module does.
    static func write(_ entries: [(offset: Int, element: WriteFilesAction.FileEntry)], context: ActionContext) async -> ActionResult {
        let logger = context.logger
        var written = 0
        for (index, entry) in entries {
            let label = "write_files[\(index)]"
            guard let given = entry.path, !given.isEmpty else {
                logger.warning("\(label): no path; skipped")
                continue
            }
            let path = absolute(given)
            let bytes: Data
            switch await contents(of: entry, label: label, context: context) {
            case .skip: continue
            case .failed(let reason): return ActionResult(.failed, message: "\(label): \(reason); the files after it were not written")
            case .data(let data): bytes = data
            }
            let mode = permissions(entry.permissions, label: label, logger: logger)
            let target = context.run.paths.host(path)
            do {
                let owner = try Owner.resolve(entry.owner ?? "root:root", existing: target)
                var data = bytes
                if entry.append?.value == true, let old = try FileSystem.readRegular(target, maxBytes: context.run.config.actions.maxFileBytes) {
                    data = old.data + bytes
                }
                try AtomicFile.write(data, to: target, mode: mode, owner: owner)
            } catch {
                return ActionResult(.failed, message: "\(label): cannot write \(path): \(error)")
            }
            logger.info("wrote \(path)", metadata: ["mode": "\(String(mode, radix: 8))", "bytes": "\(bytes.count)"])
            written += 1
        }
        return ActionResult(.ok, message: "\(written) files")
    }

    /// Python's `os.path.abspath` from `/`: `.` and `..` folded, never above the root.
    static func absolute(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }

    enum Contents {
        case data(Data)
        /// Nothing to write (a source that failed, without content): skipped, as cloud-init does.
        case skip
        /// Content that does not decode: cloud-init's module stops there, and so does the action.
        case failed(String)
    }

    /// The entry's bytes: fetched from `source.uri` when it has one (falling back to `content`
    /// when that fails, as cloud-init does), else `content` decoded by `encoding`.
    static func contents(of entry: WriteFilesAction.FileEntry, label: String, context: ActionContext) async -> Contents {
        if let uri = entry.source?.uri, !uri.isEmpty {
            do {
                return .data(try await fetch(uri, headers: entry.source?.headers ?? [:], context: context))
            } catch {
                context.logger.warning("\(label): cannot fetch its source: \(error)\(entry.content == nil ? "; skipped" : "; using content")")
                if entry.content == nil { return .skip }
            }
        }
        do {
            return .data(try decode(entry.content ?? "", encoding: entry.encoding, logger: context.logger))
        } catch {
            return .failed("\(error)")
        }
    }

    struct Undecodable: Error, CustomStringConvertible { let description: String }

    /// The names cloud-init's schema allows for `encoding`.
    static let encodings = ["b64", "base64", "gz", "gz+b64", "gz+base64", "gzip", "gzip+b64", "gzip+base64", "text/plain"]

    /// What cloud-init's schema refuses in a write_files list and its module would write anyway
    /// (an unknown encoding as text, undecodable permissions as 0644): said at `validate` with
    /// the place, so `--strict` fails before an image is baked, not at run time.
    static func schemaWarnings(_ list: Node, key: String, source: String) -> [YAMLProblem] {
        guard case .sequence(let entries) = list else { return [] }
        var warnings: [YAMLProblem] = []
        for (index, entry) in entries.enumerated() {
            guard case .mapping(let fields) = entry else { continue }
            warnings += entryWarnings(fields, label: "\(key)[\(index)]", mark: entry.mark, source: source)
            if let value = fields["encoding"], let name = YAMLDocument.scalarText(value), !encodings.contains(name.lowercased()) {
                warnings.append(YAMLProblem(source: source, mark: value.mark, message: "\(key)[\(index)].encoding: \(name) is not one of "
                    + "\(encodings.joined(separator: ", ")); it would be written as text" + Suggestion.hint(name.lowercased(), among: encodings)))
            }
            if let value = fields["permissions"], case .scalar(let scalar) = value, scalar.style != .plain || YAML11.integer(scalar.string) == nil,
               !(pythonOctal(scalar.string).map { (0...0o7777).contains($0) } ?? false) {
                warnings.append(YAMLProblem(source: source, mark: value.mark, message: "\(key)[\(index)].permissions: \(Printable.escape(scalar.string)) "
                    + "is not an octal mode such as '0644'; it would be written 0644"))
            }
        }
        return warnings
    }

    /// An entry's keys as cloud-init's schema has them: a path, no key it does not know, and
    /// `append`/`defer` booleans (its module reads any other value as false).
    static func entryWarnings(_ fields: Node.Mapping, label: String, mark: Mark?, source: String) -> [YAMLProblem] {
        var warnings: [YAMLProblem] = []
        if fields["path"] == nil {
            warnings.append(YAMLProblem(source: source, mark: mark, message: "\(label): no path (cloud-init's schema requires one); the entry would be passed over"))
        }
        for (name, value) in fields {
            let text = name.string ?? "?"
            if !entryKeys.contains(text) {
                warnings.append(YAMLProblem(source: source, mark: name.mark, message: "\(label): unknown key \(text)" + Suggestion.hint(text, among: entryKeys)))
            } else if ["append", "defer"].contains(text), let problem = LooseBool.warning(value, label: label + "." + text, source: source) {
                warnings.append(problem)
            }
        }
        return warnings
    }

    static let entryKeys = ["append", "content", "defer", "encoding", "owner", "path", "permissions", "source"]

    /// `encoding`, as cloud-init's `canonicalize_extraction` names them; unknown ones are text, with a warning.
    static func decode(_ content: String, encoding: String?, logger: Logger) throws -> Data {
        let name = (encoding ?? "").trimmingWhitespace().lowercased()
        var steps: [String]
        switch name {
        case "gz", "gzip": steps = ["gzip"]
        case "gz+base64", "gzip+base64", "gz+b64", "gzip+b64": steps = ["base64", "gzip"]
        case "b64", "base64": steps = ["base64"]
        case "", "text/plain": steps = []
        default:
            logger.warning("unknown encoding \(name); writing the content as text/plain")
            steps = []
        }
        var data = Data(content.utf8)
        for step in steps {
            if step == "base64" {
                guard let decoded = Base64.lenient(data) else { throw Undecodable(description: "content is not base64 (incorrect padding)") }
                data = decoded
            } else {
                do { data = try Gzip.inflate(data, maxInflatedSize: 64 << 20) } catch { throw Undecodable(description: error.message) }
            }
        }
        return data
    }

    /// cloud-init's `decode_perms`: a number as it is, text as octal (`'0644'`, `'0o644'`);
    /// anything else is 0644 with a warning.
    static func permissions(_ text: String?, label: String, logger: Logger) -> mode_t {
        guard let text else { return 0o644 }
        if let mode = pythonOctal(text), (0...0o7777).contains(mode) { return mode_t(mode) }
        logger.warning("\(label): undecodable permissions \(Printable.escape(text)); using 644")
        return 0o644
    }

    /// Python's `int(text, 8)`: blanks around, a sign, an optional `0o`, `_` between digits.
    static func pythonOctal(_ text: String) -> Int? {
        var digits = Substring(text.trimmingWhitespace(newlines: true))
        if digits.hasPrefix("+") { digits = digits.dropFirst() }
        if digits.lowercased().hasPrefix("0o") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, !digits.hasPrefix("_"), !digits.hasSuffix("_"), !digits.contains("__") else { return nil }
        return Int(digits.replacing("_", with: ""), radix: 8)
    }

    /// Each entry as Python reads it: a plain YAML 1.1 number in `permissions` (`644`, `0644`)
    /// becomes its value in octal text (`0o1204`, `0o644`), so the action reads all of them as
    /// octal; `!!binary` content (bytes to PyYAML) is kept as its base64 text with the encoding
    /// saying so (`gz` becomes `gz+b64`).
    static func adaptEntries(_ keys: Node.Mapping) -> Node.Mapping {
        guard case .sequence(let list)? = keys["write_files"] else { return keys }
        let entries = list.map { entry -> Node in
            guard case .mapping(var mapping) = entry else { return entry }
            if case .scalar(let scalar)? = mapping["permissions"], scalar.style == .plain, let value = YAML11.integer(scalar.string) {
                mapping["permissions"] = .scalar(Node.Scalar("0o" + String(value, radix: 8), Tag(.str), .singleQuoted, scalar.mark))
            }
            if case .scalar(let content)? = mapping["content"], content.tag.rawValue == "tag:yaml.org,2002:binary" {
                let encoding = (mapping["encoding"]?.string ?? "").trimmingWhitespace().lowercased()
                mapping["encoding"] = .scalar(.init(["gz", "gzip"].contains(encoding) ? "gz+b64" : "b64"))
                mapping["content"] = .scalar(Node.Scalar(content.string, Tag(.str), .plain, content.mark))
            }
            return .mapping(mapping)
        }
        var adapted = keys
        adapted["write_files"] = .sequence(Node.Sequence(entries, list.tag, list.style, list.mark))
        return adapted
    }

    static func fetch(_ uri: String, headers: [String: String], context: ActionContext) async throws -> Data {
        guard let url = URL(string: uri) else { throw Undecodable(description: "\(uri) is not a URL") }
        let settings = context.run.config.actions
        let policy = context.run.config.imds.downloadPolicy(deadline: 120)
        let download = Download(config: context.run.config, maxConnections: 1, metadataRegion: context.run.metadata.region,
                                logger: context.logger)
        let answer = try await download.get(url, extraHeaders: headers, policy: policy, deadline: Deadline(seconds: policy.deadline),
                                            cap: ByteCap(settings.maxFileBytes, setting: "actions.max_file_bytes"),
                                            redirects: settings.redirects, logger: context.logger)
        return answer.value ?? Data()
    }
}
