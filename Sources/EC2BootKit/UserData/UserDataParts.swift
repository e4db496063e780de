import Foundation

/// One part of user-data, as cloud-init's user-data processor splits it: a MIME multipart
/// message gives one part per leaf, anything else is one part; each part's type is read from
/// its first line when it has one of cloud-init's headers (`#cloud-config`, `#!`, …).
public struct UserDataPart: Sendable, Equatable {
    public var contentType: String
    /// The part's file name (its Content-Disposition's, else `part-001`, … as cloud-init names them).
    public var filename: String
    public var payload: Data

    public var text: String { String(decoding: payload, as: UTF8.self) }
}

public enum UserDataParts {
    /// Our own YAML (`facts:`, `actions:`): a user-data without any header, or a MIME part of this type.
    public static let ownType = "text/x-ec2-boot-init"
    /// What a part without a recognised header is, as cloud-init calls it.
    static let plain = "text/plain"

    /// cloud-init's headers, matched case-insensitively after leading whitespace, longest first.
    static let headers: [(prefix: String, type: String)] = [
        ("## template: jinja", "text/jinja2"),
        ("#cloud-config-archive", "text/cloud-config-archive"),
        ("#cloud-config-jsonp", "text/cloud-config-jsonp"),
        ("#cloud-boothook", "text/cloud-boothook"),
        ("#include-once", "text/x-include-once-url"),
        ("#part-handler", "text/part-handler"),
        ("#cloud-config", "text/cloud-config"),
        ("#include", "text/x-include-url"),
        ("#!", "text/x-shellscript"),
    ]

    /// Part types whose payload's header decides their type (a part sent as text/plain or as
    /// a script may start with `#cloud-config`), as cloud-init re-reads them.
    static let redetected: Set<String> = ["text/plain", "text/x-not-multipart", "text/x-shellscript"]

    /// Declared types that mean "gzip": the payload is inflated and its type read from its header.
    static let gzipTypes: Set<String> = [
        "application/gzip", "application/gzip-compressed", "application/gzipped", "application/x-compress",
        "application/x-compressed", "application/x-gunzip", "application/x-gzip", "application/x-gzip-compressed",
    ]

    /// The type a payload's first characters give it, or nil.
    static func detect(_ payload: Data) -> String? {
        let head = String(String(decoding: payload.prefix(4096), as: UTF8.self).lowercased().drop { $0.isWhitespace })
        return headers.first { head.hasPrefix($0.prefix) }?.type
    }

    /// Splits user-data (already inflated) into its parts. `maxBytes` bounds each part's
    /// inflated payload; a malformed MIME message is a problem, not a guess.
    public static func split(_ data: Data, maxBytes: Int, source: String) throws(YAMLProblem) -> [UserDataPart] {
        var leaves: [(type: String, filename: String?, payload: Data)] = []
        if MIMEMessage.isMIME(data) {
            let message = try MIMEMessage.parse(data, source: source)
            leaves = try message.leaves(source: source).map { ($0.type, $0.filename, $0.body) }
        } else {
            leaves = [(detect(data) ?? ownType, nil, data)]
        }
        var parts: [UserDataPart] = []
        for leaf in leaves {
            var type = leaf.type
            var payload = leaf.payload
            if gzipTypes.contains(type) {
                payload = try Gzip.inflate(payload, maxInflatedSize: maxBytes)
                type = plain
            }
            if redetected.contains(type), let found = detect(payload) { type = found }
            if type == "text/cloud-config-archive" {
                for entry in try CloudConfigArchive.entries(payload, source: source) {
                    parts.append(UserDataPart(contentType: entry.type, filename: entry.filename ?? name(parts.count), payload: entry.payload))
                }
                continue
            }
            parts.append(UserDataPart(contentType: type, filename: leaf.filename ?? name(parts.count), payload: payload))
        }
        return parts
    }

    /// cloud-init's name for the part at `index` that has none of its own.
    static func name(_ index: Int) -> String { String(format: "part-%03d", index + 1) }
}
