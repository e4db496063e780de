import EC2BootKit
import EC2BootMessaging
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Logging

/// Runs one broker action (rabbitmq, activemq, mcollective_register) for `ec2-boot-init`'s
/// engine: a `BrokerHelper.Request` on stdin, the action's log on stderr in our own format,
/// the result as JSON on descriptor 3. SwiftNIO and TLS load here, never in a boot that has no
/// broker action.
@main
enum BrokerProgram {
    static func main() async {
        if ProcessArguments.all?.dropFirst().first == "--version" {
            print(EC2BootVersion.string)
            return
        }
        // The engine's channel is a pipe on descriptor 3 (by hand there is none, or something
        // else of this process's); ours alone: the commands this action starts never inherit it.
        var info = stat()
        let isPipe = fstat(BrokerHelper.resultFD, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO
        let answer = isPipe && fcntl(BrokerHelper.resultFD, F_SETFD, FD_CLOEXEC) == 0 ? BrokerHelper.resultFD : nil
        // SIGTERM (the engine stopping the run) stops the commands this action started, each in a
        // process group of its own, as the engine stops its own; the engine kills us 2 s later.
        Interruption.install()
        // Bounded: the engine sends the run's actions, metadata and facts, never near this.
        let input = FileSystem.read(fd: STDIN_FILENO, maxBytes: 64 << 20).data ?? Data()
        let request = Result { try JSONDecoder().decode(BrokerHelper.Request.self, from: input) }
        LogSetup.bootstrap(level: (try? request.get())?.level ?? .info, syslog: false)
        let result = await run(request)
        let json = (try? JSONEncoder().encode(result)) ?? Data(#"{"outcome":"failed"}"#.utf8)
        guard let answer else {
            // Run by hand, without the engine's descriptor: the result is shown, and read by nobody.
            try? FileSystem.writeAll(Data("result: ".utf8) + json + Data("\n".utf8), to: STDOUT_FILENO, path: "stdout")
            return
        }
        try? FileSystem.writeAll(json, to: answer, path: "the engine's channel")
        close(answer)
    }

    static func run(_ request: Result<BrokerHelper.Request, any Error>) async -> ActionResult {
        do {
            let (action, context) = try request.get().planned(logger: Logger(label: "ec2-boot-init"))
            return await BrokerActions.perform(action, context: context)
                ?? ActionResult(.failed, message: "\(action.type) is not a broker action")
        } catch {
            return ActionResult(.failed, message: "the broker helper's request: \(error)")
        }
    }
}
