import ArgumentParser
import EC2BootCLI
import EC2BootCoordination
import EC2BootKit
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

struct WatchCommand: AsyncParsableCommand {
    static let configuration = HelperCommands.watch

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("ZooKeeper servers, host:port[,host:port][/chroot] (default: watch.zookeeper).", valueName: "HOSTS"))
    var zookeeper: String?

    @Flag(help: "Only check the settings (systemd's ExecCondition): exit 0 when watch is set up, 1 when nothing asks for it (no watch.zookeeper, or no instance data and none in config.yaml), 255 when its settings or the cache are not usable.")
    var check = false

    func run() async throws {
        var config: Config
        do { config = try global.load() } catch {
            // An unusable config.yaml (its message printed): the unit fails where it is seen, never skipped.
            throw check ? ExitCode(255) : error
        }
        if let zookeeper { config.watch.zookeeper = zookeeper }
        let paths = global.paths
        guard let instance = try? InstanceView.cached(paths: paths, config: config) else {
            printError("ec2-boot-init: no cached instance data in \(paths.cacheDir): run the boot first (ec2-boot-init run)")
            // No data (off EC2, say) and no watch settings in the image: nothing asks for watch.
            throw check ? ExitCode(config.watch.zookeeper == nil ? 1 : 255) : ExitCode(.noDataSource)
        }
        let target: WatchTarget
        do {
            target = try WatchTarget.resolve(config: config.watch, userData: instance.userData, instanceID: instance.data.instanceID ?? "",
                                             paths: paths)
        } catch {
            printError("ec2-boot-init: \(error)")
            throw check ? ExitCode(error.unconfigured ? 1 : 255) : ExitCode(.badInput)
        }
        if check {
            print("watch: \(target.hosts) node \(target.node)\(target.groups.isEmpty ? "" : " groups " + target.groups.joined(separator: ","))")
            return
        }
        let single: FileLock
        do { single = try FileLock(path: paths.watchLockFile, timeout: 0) } catch let error as LockTimeout {
            printError("ec2-boot-init: another watch runs on this root (pid \(error.holder.map(String.init) ?? "unknown") holds \(paths.watchLockFile))")
            throw ExitCode(.busy)
        }
        defer { withExtendedLifetime(single) {} }
        Interruption.install()
        let watcher = Watcher(target: target, paths: paths, config: config, instance: instance,
                              version: EC2BootVersion.string, logger: logger)
        watcher.onReady = { SystemdNotify.send("READY=1") }
        Interruption.onStop { watcher.stop() }
        do {
            try await watcher.run()
        } catch {
            logger.error("\(error)")
            throw ExitCode(error.badSettings ? .badInput : .failed)
        }
        logger.info("watch stopped")
    }
}
