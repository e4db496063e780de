import Crypto
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// What getactions installed, and each answer's validators, so a re-run asks the server
/// "changed since?" (If-None-Match / If-Modified-Since) and a 304 costs no body.
/// `<state>/installed-actions.json`, 0600 (URLs may carry presigned queries); each list's last
/// body sits beside it (`installed-action-list-<hash of its URL>`), for a list that answers 304.
struct InstalledFiles: Codable, Sendable {
    struct Record: Codable, Sendable, Equatable {
        var url: String
        var sha256: String
        var validators: Validators
    }

    var files: [String: Record] = [:]
    /// By the list's URL: a user-data may have several getactions.
    var lists: [String: Record] = [:]

    static func path(_ paths: Paths) -> String { paths.stateDir + "/installed-actions.json" }
    static func listCopy(_ paths: Paths, url: URL) -> String {
        paths.stateDir + "/installed-action-list-" + SHA256.hash(data: Data(url.absoluteString.utf8)).hex.prefix(16)
    }

    static func load(_ paths: Paths) -> InstalledFiles { StateFile(path(paths)).load() ?? InstalledFiles() }

    func save(_ paths: Paths) throws { try StateFile(Self.path(paths)).save(self) }

    /// Validators worth sending for `name` from `url`: only when what is installed is still what
    /// the record says (nobody changed it since) and the list's pin, if any, still names it.
    func validators(for name: String, url: URL, installedAt path: String, pin: String?) -> Validators? {
        guard let record = files[name], record.url == url.absoluteString, !record.validators.isEmpty,
              pin.map({ $0.lowercased() == record.sha256 }) ?? true,
              Self.sha256(of: path) == record.sha256 else { return nil }
        return record.validators
    }

    /// The list's last body, when its record still matches it.
    func cachedList(url: URL, paths: Paths, maxBytes: Int) -> (Validators, Data)? {
        guard let record = lists[url.absoluteString], !record.validators.isEmpty,
              case .data(let data) = FileSystem.read(Self.listCopy(paths, url: url), maxBytes: maxBytes),
              SHA256.hash(data: data).hex == record.sha256 else { return nil }
        return (record.validators, data)
    }

    static func sha256(of path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var sha = SHA256()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            buffer.withUnsafeBytes { sha.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<n])) }
        }
        return sha.finalize().hex
    }
}
