#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// The part of RFC 2045/2046 that user-data uses: headers (folded lines joined), a
/// Content-Type with its parameters, multipart bodies split on their boundary (nested too),
/// and base64 or quoted-printable bodies decoded. Bounded: at most `maxDepth` levels and
/// `maxParts` leaves; a multipart without its boundary is a problem.
struct MIMEMessage {
    var headers: [(name: String, value: String)]
    var body: Data

    static let maxDepth = 8
    static let maxParts = 1000

    /// cloud-init's test: `mime-version:` in the first 4096 bytes, any case.
    static func isMIME(_ data: Data) -> Bool {
        String(decoding: data.prefix(4096), as: UTF8.self).lowercased().contains("mime-version:")
    }

    static func parse(_ data: Data, source: String) throws(YAMLProblem) -> MIMEMessage {
        let bytes = [UInt8](data)
        var headers: [(String, String)] = []
        var position = 0
        while position < bytes.count {
            let start = position
            let (line, next) = Self.line(bytes, from: position)
            position = next
            if line.isEmpty { break }
            let text = String(decoding: line, as: UTF8.self)
            if let first = text.first, first == " " || first == "\t", !headers.isEmpty {
                headers[headers.count - 1].1 += " " + text.trimmingWhitespace()
                continue
            }
            // A header is a name of printable characters (no space, no colon) and a colon; any
            // other line starts the body, as Python's email parser reads it (cloud-init's reader).
            guard let colon = text.firstIndex(of: ":"),
                  text[..<colon].unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
                position = start
                break
            }
            headers.append((String(text[..<colon]).trimmingWhitespace().lowercased(),
                            String(text[text.index(after: colon)...]).trimmingWhitespace()))
        }
        return MIMEMessage(headers: headers, body: Data(bytes[min(max(position, 0), bytes.count)...]))
    }

    /// One line without its end (LF or CRLF), and where the next starts.
    private static func line(_ bytes: [UInt8], from start: Int) -> ([UInt8], Int) {
        var end = start
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        let next = min(end + 1, bytes.count + 1)
        var stop = end
        if stop > start, bytes[stop - 1] == 0x0D { stop -= 1 }
        return (Array(bytes[start..<stop]), next)
    }

    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// The Content-Type's `type/subtype`, lower-cased; text/plain when absent, as RFC 2045 says.
    var contentType: String {
        let value = header("content-type").map { String($0.split(separator: ";", maxSplits: 1).first ?? "") } ?? ""
        let type = value.trimmingWhitespace().lowercased()
        return type.contains("/") ? type : "text/plain"
    }

    /// A parameter of a header (`boundary`, `filename`), quotes removed.
    func parameter(_ name: String, of header: String) -> String? {
        guard let value = self.header(header) else { return nil }
        for piece in value.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace() }
            guard pair.count == 2, pair[0].lowercased() == name else { continue }
            var text = pair[1]
            if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
            return text
        }
        return nil
    }

    struct Leaf {
        let type: String
        let filename: String?
        let body: Data
        /// Its `Merge-Type` (or `X-Merge-Type`) header: how a cloud-config part merges.
        var mergeType: String?
        /// Its `Launch-Index` header: the instance of a launch it is for (see `UserDataParts.forLaunch`).
        var launchIndex: String?
    }

    /// The message's leaves in order, bodies decoded.
    func leaves(source: String, depth: Int = 0) throws(YAMLProblem) -> [Leaf] {
        guard contentType.hasPrefix("multipart/") else {
            let filename = parameter("filename", of: "content-disposition") ?? parameter("name", of: "content-type")
            return [Leaf(type: contentType, filename: filename, body: decodedBody, mergeType: header("merge-type") ?? header("x-merge-type"),
                         launchIndex: header("launch-index"))]
        }
        guard depth < Self.maxDepth else {
            throw YAMLProblem(source: source, mark: nil, message: "MIME user-data nests deeper than \(Self.maxDepth) levels")
        }
        guard let boundary = parameter("boundary", of: "content-type"), !boundary.isEmpty else {
            throw YAMLProblem(source: source, mark: nil, message: "MIME user-data: \(contentType) without a boundary")
        }
        let parts = Self.split(body, boundary: boundary)
        // Python's email parser marks such a message defective (no start boundary): nothing of it
        // would run, and a boot must not then say it provisioned the instance.
        guard !parts.isEmpty else {
            throw YAMLProblem(source: source, mark: nil, message: "MIME user-data: no line starts with its boundary --\(Printable.escape(boundary, limit: 80)), so it has no parts")
        }
        var leaves: [Leaf] = []
        for part in parts {
            leaves += try Self.parse(part, source: source).leaves(source: source, depth: depth + 1)
            if leaves.count > Self.maxParts {
                throw YAMLProblem(source: source, mark: nil, message: "MIME user-data has more than \(Self.maxParts) parts")
            }
        }
        return leaves
    }

    /// The bodies between `--boundary` lines, up to `--boundary--` (or the end).
    static func split(_ body: Data, boundary: String) -> [Data] {
        let bytes = [UInt8](body)
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [Data] = []
        var current: Int?
        var position = 0
        while position < bytes.count {
            let (line, next) = line(bytes, from: position)
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let closing = rest.starts(with: [0x2D, 0x2D])
                if closing || rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    if let start = current { parts.append(Data(bytes[start..<trimmedEnd(bytes, before: position, after: start)])) }
                    current = closing ? nil : next
                    if closing { break }
                }
            }
            position = next
        }
        if let start = current, start < bytes.count { parts.append(Data(bytes[start...])) }
        return parts
    }

    /// The line end before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
    private static func trimmedEnd(_ bytes: [UInt8], before position: Int, after start: Int) -> Int {
        var end = min(position, bytes.count)
        if end > start, bytes[end - 1] == 0x0A { end -= 1 }
        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
        return end
    }

    /// The body with its Content-Transfer-Encoding undone.
    var decodedBody: Data {
        switch header("content-transfer-encoding")?.lowercased() {
        case "base64"?:
            return Base64.lenient(body, padded: true) ?? Data()
        case "quoted-printable"?:
            return Self.quotedPrintable(body)
        default:
            return body
        }
    }

    static func quotedPrintable(_ data: Data) -> Data {
        var out: [UInt8] = []
        let bytes = [UInt8](data)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x3D else { out.append(byte); index += 1; continue }
            if index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 2; continue }
            if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A { index += 3; continue }
            if index + 2 < bytes.count, bytes[(index + 1)...(index + 2)].allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
               let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                out.append(value)
                index += 3
                continue
            }
            out.append(byte)
            index += 1
        }
        return Data(out)
    }
}
