#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// Actions written for the Ruby ec2-boot-init run unchanged through a small Ruby shim:
/// `newaction("name") do |cmd, ud, md, config| … end`, with `EC2Boot::Util.get_url`
/// and `EC2Boot::Util.log` handed to `ec2-boot-init fetch` and the tool's log.
enum LegacyRuby {
    /// Whether the file defines `newaction("type")` (any type when nil).
    static func defines(_ type: String?, in path: String) -> Bool {
        guard let data = FileSystem.read(path), data.count < 1 << 20 else { return false }
        let text = String(decoding: data, as: UTF8.self)
        var from = text.startIndex
        while let found = text[from...].firstRange(of: "newaction") {
            from = found.upperBound
            if let before = text[..<found.lowerBound].last, !before.isWhitespace { continue }
            if let name = quotedName(after: text[found.upperBound...]),
               type.map({ name.hasPrefix($0) }) ?? !name.isEmpty { return true }
        }
        return false
    }

    /// What follows `newaction` when it opens a name: `("x`, `('x`, `(:x`, ` "x` (whitespace and
    /// the parenthesis optional); the name runs to its closing quote or parenthesis.
    private static func quotedName(after text: Substring) -> Substring? {
        var rest = text.drop(while: \.isWhitespace)
        if rest.first == "(" { rest = rest.dropFirst().drop(while: \.isWhitespace) }
        guard let open = rest.first, "\"':".contains(open) else { return nil }
        return rest.dropFirst().prefix { !"\"')".contains($0) }
    }

    /// Whether `path` is the Ruby package's own action file for a built-in (`getactions.rb`,
    /// `getcommands.rb`, `shell.rb` as the Ruby tool shipped them): a small file whose body is the
    /// stock one, recognised by its statements with whitespace dropped, so every released version
    /// and a re-indented copy match, and a file that does anything more does not.
    static func isStock(_ type: String, _ path: String) -> Bool {
        guard let data = FileSystem.read(path), data.count < 4096 else { return false }
        let code = String(decoding: data, as: UTF8.self).split(separator: "\n")
            .filter { !$0.trimmingWhitespace().hasPrefix("#") }
            .joined().filter { !$0.isWhitespace }
        switch ActionRegistry.aliases[type] ?? type {
        case GetActionsAction.type:
            return code.contains("config.actions.load_actions") && code.contains("EC2Boot::Util.get_url(")
                && code.contains("File.open(config.actions_dir+") && !code.contains("system(")
        case ShellAction.type:
            return code == "newaction(\"shell\")do|cmd,ud,md,config|ifcmd.include?(:command)system(cmd[:command])endend"
        default:
            return false
        }
    }

    /// Writes the shim under the state folder and returns its path.
    static func installShim(_ paths: Paths) throws -> String {
        let path = paths.stateDir + "/ruby/ec2boot_shim.rb"
        if FileSystem.read(path) != Data(shim.utf8) {
            try AtomicFile.write(shim, to: path, mode: 0o644, directoryMode: 0o755)
        }
        return path
    }

    /// The shim itself: Sources/EC2BootKit/Resources/ec2boot_shim.rb, compiled in (a Ruby file that
    /// `ruby -c` checks in the tests, embedded so the binary needs no resource bundle).
    static let shim = String(decoding: PackageResources.ec2boot_shim_rb, as: UTF8.self)
}
