/// "Did you mean": the nearest of some names to a word someone typed, by edit distance.
public enum Suggestion {
    /// The nearest of `names` within `maxDistance` edits (ties: the first), or nil. Only names
    /// whose length is within `maxDistance` of the word's are compared (the distance is at least
    /// the difference), so a hostile 64 KiB key costs one length check per name, not a table.
    public static func nearest(_ word: String, among names: [String], maxDistance: Int = 2) -> String? {
        let length = word.count
        let scored = names.filter { abs($0.count - length) <= maxDistance }.map { ($0, distance($0, word)) }.filter { $0.1 <= maxDistance }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// " (did you mean NAME?)", or "" when no name is near.
    public static func hint(_ word: String, among names: [String]) -> String {
        nearest(word, among: names).map { " (did you mean \($0)?)" } ?? ""
    }

    /// Levenshtein distance.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }
}
