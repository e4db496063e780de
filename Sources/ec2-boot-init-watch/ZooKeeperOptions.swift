import ArgumentParser
import EC2BootCLI
import EC2BootCoordination
import EC2BootKit
import FoundationEssentials

/// Connecting from the operator's side, declared once for `push` and `nodes` (`@OptionGroup`):
/// `--zookeeper` and `--auth-file`.
struct ZooKeeperOptions: ParsableArguments {
    @Option(help: ArgumentHelp("ZooKeeper servers, host:port[,host:port][/chroot].", valueName: "HOSTS"))
    var zookeeper: String

    @Option(help: ArgumentHelp("A file holding the digest identity, user:password (never on the command line).", valueName: "FILE"))
    var authFile: String?

    /// A session, connected within `timeout` seconds (exit 1 when not; exit 2 for an unreadable identity).
    func connect(timeout: Double = 15) async throws -> ZKSession {
        var digest: ZKDigest?
        if let authFile {
            guard let data = FileSystem.read(authFile),
                  let parsed = ZKDigest(String(decoding: data, as: UTF8.self).trimmingWhitespace(newlines: true)) else {
                printError("ec2-boot-init: \(authFile): expected user:password")
                throw ExitCode(.badInput)
            }
            digest = parsed
        }
        let session = ZKSession(hosts: zookeeper, sessionTimeout: 10, digest: digest)
        try session.renew()
        guard await session.waitUntilConnected(timeout: timeout) else {
            printError("ec2-boot-init: ZooKeeper at \(zookeeper) did not answer within \(Int(timeout)) s")
            throw ExitCode(.failed)
        }
        return session
    }
}
