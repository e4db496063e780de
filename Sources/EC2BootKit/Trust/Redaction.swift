import Foundation

/// Keeps secrets out of log lines, syslog, `status.json` and failure reports. Each rule keeps
/// the name and replaces the value with `<redacted>`:
/// - `name=value`, `name: value`, `"name" : "value"` (not a URL's path ending in such a name,
///   `…/api/token: Failed to connect`) where the name holds password, passwd,
///   pass, psk, secret, token, api key, private key, credential or access key, whatever else it
///   holds (`AWS_SECRET_ACCESS_KEY=…`, `aws_secret_access_key = …`, `"SecretAccessKey": "…"`);
/// - command-line flags of those names: `--password VALUE`, `--token=VALUE`;
/// - `Authorization:` headers (scheme and credentials);
/// - the password in `scheme://user:password@host`;
/// - presigned URL parts: `X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`;
/// - PEM blocks (private keys, certificates), whole: an action's output lines go through
///   `PEMFilter` too, which sees a block across lines.
public enum Redaction {
    // Bounded name parts and anchored starts: a 64 KiB line of dots or dashes costs linear time.
    private static let secretName = #"[\w.-]{0,64}(?:pass(?:word|wd)?|psk|secret|token|api[_-]?key|private[_-]?key|credentials?|access[_-]?key)[\w.-]{0,64}"#

    private static let rules: [(NSRegularExpression, String)] = [
        (#"-----BEGIN [A-Z0-9 ]{1,64}-----[\s\S]*?(?:-----END [A-Z0-9 ]{1,64}-----|$)"#, "-----BEGIN … <redacted PEM block>"),
        (#"(?i)(authorization["']?\s*[:=]\s*)[^\r\n]*"#, "$1<redacted>"),
        (#"(?i)(://[^/\s:@]+:)[^/\s@]+(@)"#, "$1<redacted>$2"),
        (#"(?i)(x-amz-(?:signature|credential|security-token)=)[^&\s"']+"#, "$1<redacted>"),
        (#"(?i)((?<![\w.-])--?"# + secretName + #"(?:=|\s+))("[^"]*"|'[^']*'|[^\s-]\S*)"#, "$1<redacted>"),
        // Not after a `/`: `…/latest/api/token: Failed to connect` names a URL path, not a secret.
        (#"(?i)((?<![\w./-])"# + secretName + #"["']?\s*[:=]\s*)("[^"]*"|'[^']*'|\S+)"#, "$1<redacted>"),
    ].map { (try! NSRegularExpression(pattern: $0.0), $0.1) }

    public static func redact(_ line: String) -> String {
        mayHoldSecret(line) ? applyRules(line) : line
    }

    static func applyRules(_ line: String) -> String {
        var text = line
        for (pattern, template) in rules {
            text = pattern.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
        }
        return text
    }

    /// Where every rule's match starts from, in ASCII lower case: "-----begin", "authorization",
    /// "://", "x-amz-", and each secret name's core word.
    private static let triggers = ["-----begin", "authorization", "://", "x-amz-", "pass", "psk", "secret", "token", "api",
                                   "private", "credential", "access"].map { Array($0.utf8) }

    /// False only when no rule can match: an ASCII line holding none of the `triggers`. Most log
    /// lines skip the expressions, and a run without such a line never compiles them (ICU).
    /// A line with any non-ASCII byte goes to the rules: `(?i)` folds more than A-Z there.
    static func mayHoldSecret(_ line: String) -> Bool {
        var lower = Array(line.utf8)
        return lower.withUnsafeMutableBufferPointer { text in
            for i in text.indices {
                guard text[i] < 0x80 else { return true }
                if text[i] >= UInt8(ascii: "A") && text[i] <= UInt8(ascii: "Z") { text[i] += 32 }
            }
            for start in text.indices where startsTrigger[Int(text[start])] {
                for word in triggers where word.count <= text.count - start {
                    var k = 0
                    while k < word.count && text[start + k] == word[k] { k += 1 }
                    if k == word.count { return true }
                }
            }
            return false
        }
    }

    private static let startsTrigger: [Bool] = (0..<256).map { byte in triggers.contains { Int($0[0]) == byte } }
}
