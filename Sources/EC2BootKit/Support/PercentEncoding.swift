/// RFC 3986 percent-encoding of UTF-8 bytes against ASCII tables. Foundation's
/// `CharacterSet.urlPathAllowed` builds an ICU set on first use, on the crawl's path.
public enum PercentEncoding {
    /// `A-Z a-z 0-9 - _ . ~`: what SigV4 leaves as it is.
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// A path segment's own characters: what `CharacterSet.urlPathAllowed` keeps, less `/`.
    static func isPathSegment(_ byte: UInt8) -> Bool {
        isUnreserved(byte) || "!$&'()*+,=:@".utf8.contains(byte)
    }

    public static func encode(_ text: some StringProtocol, keeping: (UInt8) -> Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            if keeping(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xf, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// `%XX` sequences back to their bytes; nil when one is malformed or the bytes are not UTF-8.
    public static func decode(_ text: some StringProtocol) -> String? {
        var bytes: [UInt8] = []
        var rest = Substring(text).utf8[...]
        while let byte = rest.popFirst() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard rest.count >= 2, let value = UInt8(String(decoding: rest.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
            rest = rest.dropFirst(2)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
