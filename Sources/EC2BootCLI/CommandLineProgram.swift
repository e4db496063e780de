import ArgumentParser
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

/// What `ec2-boot-init` and `ec2-boot-init-watch` do before and around ArgumentParser.
public enum CommandLineProgram {
    /// The argument vector the kernel passed (argv[0] first). Never a boot run by accident:
    /// an invocation whose arguments cannot be read is refused.
    public static func vector() -> [String] {
        guard let vector = ProcessArguments.all, !vector.isEmpty else {
            printError("ec2-boot-init: cannot read this process's arguments; nothing was run")
            Glibc.exit(ExitStatus.badInput.rawValue)
        }
        return vector
    }

    /// Without /proc (an image builder's chroot) libdispatch's worker-pool monitor traps
    /// (SIGILL, seen about 1 run in 40 under load): only what needs no threads runs there.
    public static func requireProc(_ arguments: [String]) {
        guard !FileManager.default.fileExists(atPath: "/proc/self"), arguments != ["--version"],
              !arguments.contains("--help"), !arguments.contains("-h"), arguments.first != "help" else { return }
        printError("ec2-boot-init: /proc is not mounted (a chroot?); only --version and --help run without it. "
                   + "Mount it (mount -t proc proc /proc) to run \(arguments.first ?? "run")")
        Glibc.exit(ExitStatus.badInput.rawValue)
    }

    /// ArgumentParser's own main, but a usage error exits 2 (its default is 64) as documented.
    public static func run<Root: ParsableCommand>(_ root: Root.Type, _ arguments: [String]) async -> Never {
        do {
            var command = try root.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            root.exit()
        } catch {
            if root.exitCode(for: error) == .validationFailure {
                printError(root.fullMessage(for: error))
                root.exit(withError: ExitCode(.badInput))
            }
            root.exit(withError: error)
        }
    }
}
