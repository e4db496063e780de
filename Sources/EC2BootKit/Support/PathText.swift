extension StringProtocol {
    /// The folder part of a path, as NSString's `deletingLastPathComponent` gave it (`/a/b` →
    /// `/a`, `/a` → `/`, `a` → ``, trailing slashes ignored), without Foundation's NSString.
    public var parentFolder: String {
        let trimmed = Self.trimmingTrailingSlashes(self)
        guard let slash = trimmed.lastIndex(of: "/") else { return "" }
        let folder = Self.trimmingTrailingSlashes(trimmed[..<slash])
        return folder.isEmpty && trimmed.first == "/" ? "/" : String(folder)
    }

    /// The last part of a path, as NSString's `lastPathComponent` gave it (`/a/b/` → `b`, `/` → `/`).
    public var baseName: String {
        let trimmed = Self.trimmingTrailingSlashes(self)
        if trimmed.isEmpty { return first == "/" ? "/" : "" }
        return String(trimmed[(trimmed.lastIndex(of: "/").map(trimmed.index(after:)) ?? trimmed.startIndex)...])
    }

    private static func trimmingTrailingSlashes(_ text: some StringProtocol) -> Substring {
        var text = Substring(text)
        while text.last == "/" { text = text.dropLast() }
        return text
    }
}

extension String {
    /// The text without `suffix` at its end, however many times it is there (`http://x//` → `http://x`).
    public func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
