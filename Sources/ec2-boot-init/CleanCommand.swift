import ArgumentParser
import EC2BootCLI
import EC2BootKit

struct CleanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean",
        abstract: "Remove the cache and run state, so the next run is a first boot."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let config = try global.load()
        let paths = global.paths
        // A typo in --root must not make a folder (and a lock file in it) where none was.
        guard FileSystem.isDirectory(paths.root) else {
            printError("ec2-boot-init: --root \(paths.root): no such folder; nothing to clean")
            throw ExitCode(.badInput)
        }
        do {
            let lock = try FileLock(path: paths.lockFile, timeout: config.lockTimeout, logger: logger)
            defer { withExtendedLifetime(lock) {} }
            for path in [paths.cacheDir, paths.stateDir] where FileSystem.exists(path) {
                try FileSystem.remove(path)
                logger.info("removed", metadata: ["path": "\(path)"])
            }
        } catch {
            logger.error("clean failed: \(error)")
            throw ExitCode(.failed)
        }
    }
}
