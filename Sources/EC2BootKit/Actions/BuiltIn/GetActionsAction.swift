import Crypto
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// `type: getactions`: fetches a list of action files from a web server the operator
/// controls and installs them in the actions folder, so later actions (in this run too)
/// can use them. Two forms: `url` (the folder) with `list` (the list's file name), or `url`
/// naming the list itself, the files then relative to its folder.
public struct GetActionsAction: Action {
    public static let type = "getactions"
    public static let frequency = ActionFrequency.perInstance

    public static let schema = ActionSchema("Installs action files from a web server, a file: folder or a private S3 bucket.", example: """
        url: https://boot.example.com/actions/
        list: list.txt
        """, [
            .required("url", .url, "the action list (http, https, file or s3://), its files relative to its folder; with list, the folder"),
            .optional("list", .string, "the list's file name in the folder url names (a file name a line, each with an optional sha256)"),
            .optional("deadline", .seconds, default: "120", "for all downloads together, retries included"),
        ])

    public struct Params: Decodable, Sendable {
        public var url: String
        public var list: String?
        /// Seconds all downloads together may take (default 120).
        public var deadline: Double?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case url, list, deadline
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.decode(String.self, forKey: .url)
            list = try c.decodeIfPresent(String.self, forKey: .list)
            deadline = try c.positive(.deadline)
            guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
                  Download.schemes.contains(scheme) else {
                throw DecodingError.dataCorruptedError(forKey: .url, in: c, debugDescription: "expected an http, https, file or s3 URL")
            }
        }
    }

    public static func run(_ params: Params, context: ActionContext) async -> ActionResult {
        let logger = context.logger
        let settings = context.run.config.actions
        if context.type != type {
            logger.notice("\(context.type) is the Ruby tool's old name for getactions; running getactions")
        }
        guard let (folder, listURL) = locations(params) else {
            return ActionResult(.failed, message: "cannot make a URL of \(params.url) and \(params.list ?? "")")
        }
        let policy = context.run.config.imds.downloadPolicy(deadline: params.deadline ?? 120)
        // One deadline for the list and every file: what the user-data's `deadline` says.
        let deadline = Deadline(seconds: policy.deadline)
        let download = Download(config: context.run.config, maxConnections: settings.fetchConcurrency,
                                metadataRegion: context.run.metadata.region, logger: logger)
        let paths = context.run.paths
        var installed = InstalledFiles.load(paths)
        let listBody: Data
        switch await fetchList(listURL, download: download, policy: policy, deadline: deadline, settings: settings,
                               installed: &installed, paths: paths, logger: logger) {
        case .success(let body): listBody = body
        case .failure(let refusal): return ActionResult(.failed, message: refusal.message)
        }
        let list = ActionList(String(decoding: listBody, as: UTF8.self))
        guard list.entries.count + list.rejected.count <= settings.maxListEntries else {
            return ActionResult(.failed, message: "the action list has \(list.entries.count + list.rejected.count) entries, "
                                + "more than actions.max_list_entries (\(settings.maxListEntries)); nothing installed")
        }
        var problems = list.rejected
        logger.info("fetching actions", metadata: ["list": "\(listURL.redacted)", "files": "\(list.entries.count)"])
        let wanted = list.entries.filter { entry in
            if settings.requireSHA256 && entry.sha256 == nil {
                problems.append("\(entry.name): no sha256 in the list, and actions.require_sha256 is set")
                return false
            }
            return true
        }
        let actionsDir = paths.actionsDir
        do { try FileSystem.ownedDirectory(actionsDir, mode: 0o755) } catch {
            return ActionResult(.failed, message: "\(error)")
        }
        let outcomes = await fetchFiles(wanted, from: folder, into: actionsDir, known: installed, download: download,
                                        policy: policy, deadline: deadline, settings: settings, logger: logger)
        let unchanged = record(outcomes, list: list, into: &installed, problems: &problems, logger: logger)
        do { try installed.save(paths) } catch {
            logger.warning("cannot record what was installed (the next run fetches every file again): \(error)")
        }
        guard problems.isEmpty else {
            for problem in problems { logger.error("not installed: \(problem)") }
            return ActionResult(.failed, message: "not installed: " + problems.joined(separator: "; "))
        }
        let note = unchanged > 0 ? " (\(unchanged) unchanged on the server)" : ""
        return ActionResult(.ok, message: "\(wanted.count) files installed\(note)")
    }

    struct Refusal: Error {
        let message: String
    }

    /// The list, fetched (conditionally, when a copy is kept) and its signature checked; a
    /// changed list's copy and validators kept in `installed`.
    private static func fetchList(_ listURL: URL, download: Download, policy: RetryPolicy, deadline: Deadline, settings: ActionsSettings,
                                  installed: inout InstalledFiles, paths: Paths, logger: Logger) async -> Result<Data, Refusal> {
        do {
            let cached = installed.cachedList(url: listURL, paths: paths, maxBytes: settings.maxListBytes)
            let answer = try await download.get(listURL, validators: cached?.0, policy: policy, deadline: deadline,
                                                cap: ByteCap(settings.maxListBytes, setting: "actions.max_list_bytes"),
                                                redirects: settings.redirects, logger: logger)
            let listBody = answer.value ?? cached!.1
            if answer.notModified { logger.info("the action list has not changed", metadata: ["list": "\(listURL.redacted)"]) }
            if let refusal = await checkSignature(of: listBody, at: listURL, download: download, policy: policy,
                                                  deadline: deadline, settings: settings, logger: logger) {
                return .failure(Refusal(message: refusal))
            }
            if !answer.notModified {
                try? AtomicFile.write(listBody, to: InstalledFiles.listCopy(paths, url: listURL), mode: 0o600)
                installed.lists[listURL.absoluteString] = .init(url: listURL.absoluteString, sha256: SHA256.hash(data: listBody).hex,
                                                                validators: answer.validators)
            }
            return .success(listBody)
        } catch {
            return .failure(Refusal(message: "cannot fetch the action list: \(error)"))
        }
    }

    /// Each file's outcome into `installed` (or `problems`), logged; how many the server said were unchanged.
    private static func record(_ outcomes: [FileOutcome], list: ActionList, into installed: inout InstalledFiles, problems: inout [String],
                               logger: Logger) -> Int {
        var unchanged = 0
        for (name, result, notModified) in outcomes {
            switch result {
            case .success(let record):
                installed.files[name] = record
                if notModified { unchanged += 1 }
                logger.info(notModified ? "action file unchanged" : "installed action file",
                            metadata: ["file": "\(name)", "pinned": "\(list.entries.first { $0.name == name }?.sha256 != nil)"])
            case .failure(let error):
                problems.append("\(name): \(error)")
            }
        }
        return unchanged
    }

    /// One file's outcome: its new install record, or why not; and whether the server said it
    /// had not changed (304).
    typealias FileOutcome = (name: String, result: Result<InstalledFiles.Record, FetchError>, notModified: Bool)

    /// Downloads the list's files, at most `actions.fetch_concurrency` at once (the server sees a
    /// bounded burst per node), each conditional when `known` has validators for it. Sorted by name.
    static func fetchFiles(_ wanted: [ActionList.Entry], from folder: URL, into actionsDir: String, known: InstalledFiles,
                           download: Download, policy: RetryPolicy, deadline: Deadline, settings: ActionsSettings,
                           logger: Logger) async -> [FileOutcome] {
        await withTaskGroup(of: FileOutcome.self) { group in
            var queue = wanted[...]
            func startNext() {
                guard let entry = queue.popFirst() else { return }
                group.addTask {
                    let url = folder.appendingPathComponent(entry.name)
                    let path = actionsDir + "/" + entry.name
                    let validators = known.validators(for: entry.name, url: url, installedAt: path, pin: entry.sha256)
                    do throws(FetchError) {
                        let fetched = try await download.fetch(url, to: path, sha256: entry.sha256, mode: 0o755, validators: validators,
                                                               policy: policy, deadline: deadline,
                                                               cap: ByteCap(settings.maxFileBytes, setting: "actions.max_file_bytes"),
                                                               redirects: settings.redirects, logger: logger)
                        // A 304 comes only for a file whose record gave the validators.
                        let sha = fetched.value ?? known.files[entry.name]!.sha256
                        return (entry.name, .success(.init(url: url.absoluteString, sha256: sha, validators: fetched.validators)),
                                fetched.notModified)
                    } catch {
                        return (entry.name, .failure(error), false)
                    }
                }
            }
            for _ in 0..<settings.fetchConcurrency { startNext() }
            var outcomes: [FileOutcome] = []
            for await outcome in group {
                outcomes.append(outcome)
                startNext()
            }
            return outcomes.sorted { $0.name < $1.name }
        }
    }

    /// With `actions.public_keys`, `<list>.sig` must be a good signify signature of the list
    /// by one of them, checked before any file is fetched (the list's sha256 pins are then
    /// worth something over plain http). Without a `.sig`, the list is refused when
    /// `actions.require_signature` is set, else used with a warning. Returns why it is refused.
    static func checkSignature(of list: Data, at listURL: URL, download: Download, policy: RetryPolicy, deadline: Deadline,
                               settings: ActionsSettings, logger: Logger) async -> String? {
        guard !settings.publicKeys.isEmpty else { return nil }
        let sigURL = URL(string: listURL.absoluteString + ".sig")!
        let signature: Data
        do {
            signature = try await download.get(sigURL, policy: policy, deadline: deadline, cap: ByteCap(4096, setting: "the signature bound"),
                                               redirects: settings.redirects, logger: logger).value ?? Data()
        } catch where error.isNotFound && !settings.requireSignature {
            logger.warning("the action list is not signed; using it (set actions.require_signature to refuse that)",
                           metadata: ["list": "\(listURL.redacted)"])
            return nil
        } catch {
            return "cannot fetch the list's signature (actions.require_signature is \(settings.requireSignature)): \(error)"
        }
        do { try Signify.verify(list, signature: signature, keys: settings.publicKeys) } catch {
            return "\(sigURL.redacted): \(error); nothing installed"
        }
        logger.info("the action list's signature is good", metadata: ["list": "\(listURL.redacted)"])
        return nil
    }

    /// The folder the files are in, and the list's URL.
    static func locations(_ params: Params) -> (URL, URL)? {
        guard var url = URL(string: params.url) else { return nil }
        if let list = params.list {
            guard ActionList.isSafeName(list) else { return nil }
            if !url.absoluteString.hasSuffix("/") { url = URL(string: url.absoluteString + "/")! }
            return (url, url.appendingPathComponent(list))
        }
        return (url.deletingLastPathComponent(), url)
    }
}
