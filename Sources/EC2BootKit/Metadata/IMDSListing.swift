/// One line of an IMDS folder listing, parsed.
enum IMDSListingEntry: Equatable {
    case folder(String)
    case leaf(String)
    case rejected(String)

    /// Parses a listing body. `name/` is a folder; `0=key-name` (public-keys) is the
    /// folder `0`, whose content is under `public-keys/0/`; anything else is a leaf.
    /// Names that cannot be a path part (`..`, `a/b`, control characters) are rejected.
    static func parse(_ body: String) -> [IMDSListingEntry] {
        var entries: [IMDSListingEntry] = []
        for raw in body.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingWhitespace()
            guard !line.isEmpty else { continue }
            let entry: IMDSListingEntry
            if line.hasSuffix("/") {
                let name = String(line.dropLast())
                entry = MetadataPath.isSafeName(name) ? .folder(name) : .rejected(line)
            } else if let equals = line.firstIndex(of: "="), line[..<equals].allSatisfy(\.isNumber), equals != line.startIndex {
                entry = .folder(String(line[..<equals]))
            } else {
                entry = MetadataPath.isSafeName(line) ? .leaf(line) : .rejected(line)
            }
            entries.append(entry)
        }
        return entries
    }
}

#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
