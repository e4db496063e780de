#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Base64 as Python reads it, where cloud-init's formats are Python's: characters outside the
/// alphabet are dropped (line breaks, the `...` of a shortened example).
enum Base64 {
    /// `base64.b64decode` (write_files' content): a last partial group needs its `=`, else nil.
    /// With `padded` (the email package's `decode_b`, for MIME parts): missing `=` are added,
    /// and a lone last character is dropped.
    static func lenient(_ data: Data, padded: Bool = false) -> Data? {
        var text = ""
        var padding = 0
        for byte in data {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "+"), UInt8(ascii: "/"):
                text.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "="): padding += 1
            default: continue
            }
        }
        switch text.count % 4 {
        case 0: break
        case 1 where padded: text.removeLast()
        case 2 where padded || padding >= 2: text += "=="
        case 3 where padded || padding >= 1: text += "="
        default: return nil
        }
        return Data(base64Encoded: text)
    }
}
