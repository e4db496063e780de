/// A getactions list: one action file name a line with, optionally, its sha256 before or after
/// it (a 64-hex-digit token is unambiguous, so `sha256sum *` output works as it is);
/// `#` comments and blank lines ignored.
struct ActionList {
    struct Entry: Equatable {
        let name: String
        let sha256: String?
    }

    var entries: [Entry] = []
    /// Lines that cannot be installed: a name outside `[A-Za-z0-9._-]+`, `.`, `..`, a bad digest.
    var rejected: [String] = []

    init(_ text: String) {
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            // sha256sum prints the digest first (and `*` before a name read in binary mode).
            if fields.count == 2, Self.isDigest(fields[0]), !Self.isDigest(fields[1]) {
                fields = [String(fields[1].drop { $0 == "*" }), fields[0]]
            }
            guard let name = fields.first else { continue }
            guard Self.isSafeName(name) else {
                rejected.append("\(MetadataPath.printable(name)): not a plain file name")
                continue
            }
            if fields.count > 2 {
                rejected.append("\(name): more than a name and a sha256 on its line")
                continue
            }
            let digest = fields.count == 2 ? fields[1].lowercased() : nil
            if let digest, !Self.isDigest(digest) {
                rejected.append("\(name): \(MetadataPath.printable(digest)) is not a sha256")
                continue
            }
            entries.append(Entry(name: name, sha256: digest))
        }
    }

    static func isDigest(_ text: String) -> Bool {
        text.count == 64 && text.allSatisfy(\.isHexDigit)
    }

    static func isSafeName(_ name: String) -> Bool {
        name != "." && name != ".." && !name.isEmpty && name.utf8.count <= 255 && name.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": return true
            default: return false
            }
        }
    }
}
