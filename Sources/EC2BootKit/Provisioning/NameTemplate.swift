#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// `%i` instance-id, `%f` fqdn, `%h` short host name, `%r` region, `%%` a percent sign:
/// what `identity`, `certname` and `node_name` may contain, so one user-data names each
/// instance of a fleet differently.
public struct NameTemplate: Sendable {
    public let instanceID: String
    public let fqdn: String
    public let region: String

    public var shortName: String { String(fqdn.split(separator: ".").first ?? Substring(fqdn)) }

    /// The names of this instance: fqdn from `hostname -f`, else the metadata's `local-hostname`.
    public static func current(_ context: ActionContext) async -> NameTemplate {
        let metadata = context.run.metadata
        var fqdn = ""
        if let (status, output) = await SystemCommand.capture(["hostname", "-f"], timeout: 5), status == 0 {
            fqdn = output.trimmingWhitespace(newlines: true)
        }
        if fqdn.isEmpty || fqdn.contains(" ") { fqdn = metadata.leaves["local-hostname"] ?? "" }
        return NameTemplate(instanceID: metadata.leaves["instance-id"] ?? "", fqdn: fqdn, region: metadata.region ?? "")
    }

    public init(instanceID: String, fqdn: String, region: String) {
        self.instanceID = instanceID
        self.fqdn = fqdn
        self.region = region
    }

    public func expand(_ template: String) -> String {
        var out = ""
        var percent = false
        for character in template {
            if percent {
                switch character {
                case "i": out += instanceID
                case "f": out += fqdn
                case "h": out += shortName
                case "r": out += region
                default: out.append(character)  // `%%` and any other: the character itself
                }
                percent = false
            } else if character == "%" {
                percent = true
            } else {
                out.append(character)
            }
        }
        return percent ? out + "%" : out
    }

    /// Only these letters may follow `%`: a typo is reported before anything runs.
    public static func check(_ template: String) -> String? {
        var percent = false
        for character in template {
            if percent {
                guard "ifhr%".contains(character) else { return "unknown %\(character) (known: %i %f %h %r %%)" }
                percent = false
            } else if character == "%" {
                percent = true
            }
        }
        return percent ? "a lone % at the end" : nil
    }
}
