#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// S3 explains a refusal in a small XML body: `<Error><Code>NoSuchKey</Code><Message>…</Message>`.
/// Only those two elements are read, from a body already cut to a few KiB; nothing is parsed
/// as XML, so a hostile body can cost no more than a scan of those bytes.
enum S3ErrorBody {
    /// `Code: Message`, printable and short, or nil when the body says neither.
    static func summary(_ body: Data) -> String? {
        guard !body.isEmpty else { return nil }
        let text = String(decoding: body, as: UTF8.self)
        guard let code = element("Code", in: text) else { return nil }
        let message = element("Message", in: text)
        return message.map { "\(code): \($0)" } ?? code
    }

    static func element(_ name: String, in text: String) -> String? {
        guard let open = text.firstRange(of: "<\(name)>"),
              let close = text[open.upperBound...].firstRange(of: "</\(name)>") else { return nil }
        let value = MetadataPath.printable(String(text[open.upperBound..<close.lowerBound]))  // cut at 80 characters
        return value.isEmpty ? nil : value
    }
}
