#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// The executables that carry what the boot path never loads: `ec2-boot-init-watch` (ZooKeeper:
/// `watch`, `push`, `nodes`) and `ec2-boot-init-broker` (SwiftNIO and TLS: the broker actions).
/// `ec2-boot-init` runs them; they live beside it in a build folder, and in
/// `/usr/libexec/ec2-boot-init/` when installed.
public enum HelperProgram: String, CaseIterable, Sendable {
    case watch = "ec2-boot-init-watch"
    case broker = "ec2-boot-init-broker"

    /// The subcommands `ec2-boot-init` hands to the watch helper.
    public static let watchCommands = ["watch", "push", "nodes"]

    /// Where it is, or nil (with the places looked in) when it is not installed.
    public func locate() -> Result<String, HelperMissing> {
        let folder = Self.currentExecutable.parentFolder
        let places = [folder + "/" + rawValue, folder + "/../libexec/ec2-boot-init/" + rawValue]
        if let found = places.first(where: { access($0, X_OK) == 0 }) { return .success(found) }
        return .failure(HelperMissing(program: rawValue, places: places))
    }

    /// This process's own executable.
    public static let currentExecutable: String = {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ProcessArguments.all?.first ?? "ec2-boot-init"
    }()

    /// `ec2-boot-init` itself, which actions call (`EC2BOOT_BIN`): this executable, or in a helper
    /// the one that started it (it says so in `EC2BOOT_BIN`).
    public static let mainExecutable: String = {
        let inHelper = allCases.contains { currentExecutable.hasSuffix("/" + $0.rawValue) }
        return inHelper ? ProcessInfo.processInfo.environment["EC2BOOT_BIN"] ?? "ec2-boot-init" : currentExecutable
    }()

    /// Replaces this process with the helper (`arguments` after its name); returns only on failure.
    public func exec(_ arguments: [String]) -> String {
        let path: String
        switch locate() {
        case .success(let found): path = found
        case .failure(let missing): return "\(missing)"
        }
        setenv("EC2BOOT_BIN", Self.currentExecutable, 1)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        execv(path, argv)
        return "cannot run \(path): \(String(cString: strerror(errno)))"
    }
}

public struct HelperMissing: Error, CustomStringConvertible {
    public let program: String
    public let places: [String]
    public var description: String {
        "\(program) is not installed (looked for \(places.joined(separator: " and "))); it comes in the same package as ec2-boot-init"
    }
}
