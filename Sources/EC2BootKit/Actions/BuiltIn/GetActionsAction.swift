import Foundation
import Logging

/// `type: getactions`: fetches a list of action files from a web server the operator
/// controls and installs them in the actions folder, so later actions (in this run too)
/// can use them. Two forms: `url` (the folder) with `list` (the list's file name), or `url`
/// naming the list itself, the files then relative to its folder.
public struct GetActionsAction: Action {
    public static let type = "getactions"
    public static let frequency = ActionFrequency.perInstance

    public struct Params: Decodable, Sendable {
        public var url: String
        public var list: String?
        /// Seconds all downloads together may take (default 120).
        public var deadline: Double?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case url, list, deadline
        }

        public init(from decoder: Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.decode(String.self, forKey: .url)
            list = try c.decodeIfPresent(String.self, forKey: .list)
            deadline = try c.positive(.deadline)
            guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
                  ["http", "https", "file"].contains(scheme) else {
                throw DecodingError.dataCorruptedError(forKey: .url, in: c, debugDescription: "expected an http, https or file URL")
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
        if let refusal = RedirectPolicy.refusal(listURL, allowedHosts: settings.allowedHosts) {
            return ActionResult(.failed, message: "\(listURL.redacted): \(refusal)")
        }
        let policy = context.run.config.imds.downloadPolicy(deadline: params.deadline ?? 120)
        // One deadline for the list and every file: what the user-data's `deadline` says.
        let deadline = Deadline(seconds: policy.deadline)
        let download = Download(maxConnections: 8)
        let listText: String
        do {
            let body = try await download.client.get(listURL, policy: policy, deadline: deadline,
                                                     cap: ByteCap(settings.maxListBytes, setting: "actions.max_list_bytes"),
                                                     redirects: settings.redirects, logger: logger)
            if let refusal = await checkSignature(of: body, at: listURL, client: download.client, policy: policy,
                                                  deadline: deadline, settings: settings, logger: logger) {
                return ActionResult(.failed, message: refusal)
            }
            listText = String(decoding: body, as: UTF8.self)
        } catch {
            return ActionResult(.failed, message: "cannot fetch the action list: \(error)")
        }
        let list = ActionList(listText)
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
        let actionsDir = context.run.paths.actionsDir
        do { try FileSystem.ownedDirectory(actionsDir, mode: 0o755) } catch {
            return ActionResult(.failed, message: "\(error)")
        }
        let failures = await withTaskGroup(of: String?.self) { group in
            for entry in wanted {
                group.addTask {
                    let url = folder.appendingPathComponent(entry.name)
                    do {
                        try await download.fetch(url, to: actionsDir + "/" + entry.name, sha256: entry.sha256, mode: 0o755,
                                                 policy: policy, deadline: deadline,
                                                 cap: ByteCap(settings.maxFileBytes, setting: "actions.max_file_bytes"),
                                                 redirects: settings.redirects, logger: logger)
                        logger.info("installed action file", metadata: ["file": "\(entry.name)",
                                                                         "pinned": "\(entry.sha256 != nil)"])
                        return nil
                    } catch {
                        return "\(entry.name): \(error)"
                    }
                }
            }
            var failed: [String] = []
            for await failure in group { if let failure { failed.append(failure) } }
            return failed.sorted()
        }
        problems += failures
        guard problems.isEmpty else {
            for problem in problems { logger.error("not installed: \(problem)") }
            return ActionResult(.failed, message: "not installed: " + problems.joined(separator: "; "))
        }
        return ActionResult(.ok, message: "\(wanted.count) files installed")
    }

    /// With `actions.public_keys`, `<list>.sig` must be a good signify signature of the list
    /// by one of them, checked before any file is fetched (the list's sha256 pins are then
    /// worth something over plain http). Without a `.sig`, the list is refused when
    /// `actions.require_signature` is set, else used with a warning. Returns why it is refused.
    static func checkSignature(of list: Data, at listURL: URL, client: HTTPClient, policy: RetryPolicy, deadline: Deadline,
                               settings: ActionsSettings, logger: Logger) async -> String? {
        guard !settings.publicKeys.isEmpty else { return nil }
        let sigURL = URL(string: listURL.absoluteString + ".sig")!
        let signature: Data
        do {
            signature = try await client.get(sigURL, policy: policy, deadline: deadline, cap: ByteCap(4096, setting: "the signature bound"),
                                             redirects: settings.redirects, logger: logger)
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
