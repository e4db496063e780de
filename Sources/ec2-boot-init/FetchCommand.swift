import ArgumentParser
import EC2BootCLI
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download URL to DEST with retries, atomically (for action scripts).",
        discussion: """
        Retries connection errors, timeouts, 429 and 5xx with backoff until the deadline; 404 fails at once (exit 4). DEST is replaced only by a whole download whose sha256 matches --sha256 and no larger than --max-bytes; otherwise it keeps what it had. Follows up to actions.max_redirects redirects, each to a host on actions.allowed_hosts when that is set, never from https to http. The deadline bounds everything, a download in progress included. URLs: http, https, file, and s3://BUCKET/KEY (signed with the instance role's keys from instance metadata; the config's s3 section names another endpoint or region). A redirect is never followed for s3.
        """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "http, https, file or s3 URL; - reads it from standard input, so credentials or a presigned query never sit in argv.")
    var url: String

    @Argument(help: "Where to write it.")
    var dest: String

    @Option(help: ArgumentHelp("Expected sha256, as hex.", valueName: "HEX"))
    var sha256: String?

    @Option(help: ArgumentHelp("Mode of DEST, in octal.", valueName: "OCTAL"))
    var mode = "0644"

    @Option(help: ArgumentHelp("Seconds one attempt may take.", valueName: "SECONDS"))
    var timeout = 60.0

    @Option(help: ArgumentHelp("Seconds all attempts together may take.", valueName: "SECONDS"))
    var deadline = 300.0

    @Option(help: ArgumentHelp("Refuse a body larger than this (default: actions.max_file_bytes, 64 MiB).", valueName: "BYTES"))
    var maxBytes: Int?

    func validate() throws {
        if let sha256, sha256.count != 64 || !sha256.allSatisfy(\.isHexDigit) {
            throw ValidationError("--sha256 takes 64 hex digits")
        }
        guard let parsed = mode_t(mode, radix: 8), parsed <= 0o7777 else {
            throw ValidationError("--mode takes an octal mode such as 0644")
        }
        guard timeout > 0, deadline > 0, timeout <= Seconds.max, deadline <= Seconds.max else {
            throw ValidationError("--timeout and --deadline take seconds above 0 and at most \(Int(Seconds.max))")
        }
        if let maxBytes, maxBytes < 1 { throw ValidationError("--max-bytes must be at least 1") }
        if url != "-", Self.parse(url) == nil { throw ValidationError("URL must be http, https, file or s3") }
    }

    static func parse(_ text: String) -> URL? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), Download.schemes.contains(scheme) else {
            return nil
        }
        return url
    }

    func run() async throws {
        let config = try global.load()
        let text = url == "-" ? (readLine(strippingNewline: true) ?? "") : url
        guard let source = Self.parse(text) else {
            printError("ec2-boot-init: fetch: URL must be http, https, file or s3")
            throw ExitCode(.badInput)
        }
        let policy = RetryPolicy(requestTimeout: timeout, deadline: deadline,
                                 backoffBase: config.imds.backoffBase, backoffMax: config.imds.backoffMax)
        do {
            let download = Download(config: config, maxConnections: 1, logger: logger)
            let fetched = try await download.fetch(source, to: dest, sha256: sha256, mode: mode_t(mode, radix: 8)!,
                                                    policy: policy, deadline: Deadline(seconds: deadline),
                                                    cap: ByteCap(maxBytes ?? config.actions.maxFileBytes,
                                                                 setting: maxBytes == nil ? "actions.max_file_bytes" : "--max-bytes"),
                                                    redirects: config.actions.redirects, logger: logger)
            logger.info("fetched", metadata: ["url": "\(source.redacted)", "dest": "\(dest)", "sha256": "\(fetched.value ?? "")"])
        } catch {
            logger.error("fetch failed: \(error)")
            throw ExitCode(error.isNotFound ? .notFound : .failed)
        }
    }
}
