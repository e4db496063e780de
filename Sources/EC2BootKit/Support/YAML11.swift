/// YAML 1.1's reading of plain scalars as Python's YAML (PyYAML, which cloud-init uses) does
/// it, where Yams and Python differ in what matters to a module's meaning.
enum YAML11 {
    /// PyYAML's int: `0b1010`, `0644` (octal), `0x1F`, `1_000`, `1:30` (base 60), with a sign.
    static func integer(_ text: String) -> Int? {
        var body = Substring(text)
        var sign = 1
        if let first = body.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            body = body.dropFirst()
        }
        guard let first = body.first, first.isASCII, first.isNumber else { return nil }
        let digits = body.replacingOccurrences(of: "_", with: "")
        let value: Int?
        if body.hasPrefix("0b") {
            value = Int(digits.dropFirst(2), radix: 2)
        } else if body.hasPrefix("0x") {
            value = Int(digits.dropFirst(2), radix: 16)
        } else if body.contains(":") {
            value = first == "0" ? nil : sexagesimal(digits)
        } else if body.count > 1, first == "0" {
            value = Int(digits.dropFirst(), radix: 8)
        } else {
            value = digits.allSatisfy { $0.isASCII && $0.isNumber } ? Int(digits) : nil
        }
        return value.map { $0 * sign }
    }

    private static func sexagesimal(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard let head = Int(parts[0]) else { return nil }
        var value = head
        for part in parts.dropFirst() {
            guard (1...2).contains(part.count), let digit = Int(part), digit < 60 else { return nil }
            let (times, overflow) = value.multipliedReportingOverflow(by: 60)
            guard !overflow else { return nil }
            value = times + digit
        }
        return value
    }
}
