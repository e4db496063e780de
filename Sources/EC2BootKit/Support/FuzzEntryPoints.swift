#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Raw bytes into each parser that user-data or a server feeds, for the fuzz targets in
/// `fuzz/` (they build as a separate package, so these must be public).
public enum FuzzEntryPoints {
    /// User-data → parse (gzip, MIME, cloud-init's formats and merge, YAML, node bound) → facts →
    /// action plan (typed parameters, JSON); and the `#include` URLs the fetch stage would fetch;
    /// each line as a runcmd word (`YAML11.pythonString`), the whole as a boothook.
    public static func userData(_ data: Data) {
        _ = UserDataParts.pendingIncludes(data, maxBytes: 1 << 20, included: [:])
        var config = Config()
        config.writeEC2Facts = true
        let view = InstanceView(BootData(userData: data, metadata: MetadataTree(leaves: ["instance-id": "i-1"]), identityDocument: nil),
                                config: config)
        _ = view.plan.map(\.fingerprint)
        _ = view.userData.json
        // Text as a boothook's and as a runcmd word's: the header strip and PyYAML's scalar types.
        let text = String(decoding: data.prefix(4096), as: UTF8.self)
        _ = ScriptAction.runnable(text)
        for word in text.split(whereSeparator: \.isNewline).prefix(64) { _ = YAML11.pythonString(String(word)) }
    }

    /// An IMDS folder listing and a getactions list, from the same bytes.
    public static func listings(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        _ = IMDSListingEntry.parse(text)
        _ = ActionList(text)
    }
}
