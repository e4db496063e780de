/// The message of the day: a template whose `@@key@@` are replaced by facts and
/// flattened metadata keys (`@@ami_id@@`, `@@role@@`).
public struct MOTD: Sendable {
    /// The built-in templates; `factsFile` is where this run wrote the facts (under `--root`).
    public static func defaultProvisioned(factsFile: String) -> String {
        """

             ec2-boot-init: provisioned instance

        \(identity)
                  System facts are in \(factsFile)


        """
    }

    /// Names the instance too: whoever logs in to a failed one needs to know which it is.
    public static func defaultUnprovisioned(factsFile: String) -> String {
        """

             ec2-boot-init: UNPROVISIONED instance

        \(identity)
             The ec2-boot-init system failed to run or has not yet been run.
             See `ec2-boot-init status` and the system log; facts are in \(factsFile).


        """
    }

    static let identity = """
                         ami: @@ami_id@@
                    instance: @@instance_id@@
                        type: @@instance_type@@
                        zone: @@placement_availability_zone@@
                    hostname: @@hostname@@
             public hostname: @@public_hostname@@

        """

    /// Replaces every `@@name@@` whose name is known; returns the unknown names too.
    public static func render(_ template: String, lookup: (String) -> String?) -> (text: String, unknown: [String]) {
        var out = ""
        var unknown: [String] = []
        var rest = template[...]
        while let open = rest.firstRange(of: "@@") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.firstRange(of: "@@"), Self.isName(after[..<close.lowerBound]) else {
                out += "@@"
                rest = after
                continue
            }
            let name = String(after[..<close.lowerBound])
            if let value = lookup(name) {
                out += value
            } else {
                out += "@@\(name)@@"
                if !unknown.contains(name) { unknown.append(name) }
            }
            rest = after[close.upperBound...]
        }
        out += rest
        return (out, unknown)
    }

    private static func isName(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ":" || $0 == "." }
    }
}
