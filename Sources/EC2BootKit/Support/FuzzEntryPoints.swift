import Foundation

/// Raw bytes into each parser that user-data or a server feeds, for the fuzz targets in
/// `fuzz/` (they build as a separate package, so these must be public).
public enum FuzzEntryPoints {
    /// User-data → parse (gzip, YAML, node bound) → facts → action plan (typed parameters, JSON).
    public static func userData(_ data: Data) {
        let userData = UserData.parse(data, limits: UserDataSettings())
        let plan = ActionPlan.make(userData)
        _ = Facts(userData: userData, metadata: MetadataTree(leaves: ["instance-id": "i-1"]), writeEC2Facts: true)
        _ = plan.actions.map(\.fingerprint)
        _ = userData.jsonObject
    }

    /// An IMDS folder listing and a getactions list, from the same bytes.
    public static func listings(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        _ = IMDSListingEntry.parse(text)
        _ = ActionList(text)
    }
}
