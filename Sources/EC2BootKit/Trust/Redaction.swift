#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

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
    public static func redact(_ line: String) -> String {
        mayHoldSecret(line) ? applyRules(line) : line
    }

    /// The rules in order, each over the last one's output. Each is a scan with bounded look-ahead,
    /// written out rather than as regular expressions (ICU's, or the standard library's, which
    /// backtracks: a 64 KiB line of dots or dashes must cost linear time).
    static func applyRules(_ line: String) -> String {
        var text = Array(line.utf8)
        for rule in [RedactionRules.pemBlock, RedactionRules.authorization, RedactionRules.urlPassword,
                     RedactionRules.presignedPart, RedactionRules.flag, RedactionRules.assignment] {
            text = RedactionRules.replacing(text, rule)
        }
        return String(decoding: text, as: UTF8.self)
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
