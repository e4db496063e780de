import EC2BootKit
import EC2BootMessaging
import Foundation
import Logging

/// Runs one broker action (rabbitmq, activemq, mcollective_register) for `ec2-boot-init`'s
/// engine: a `BrokerHelper.Request` on stdin, the action's log on stderr in our own format,
/// then one result line. SwiftNIO and TLS load here, never in a boot that has no broker action.
@main
enum BrokerProgram {
    static func main() async {
        if ProcessArguments.all?.dropFirst().first == "--version" {
            print(EC2BootVersion.string)
            return
        }
        // SIGTERM (the engine stopping the run) stops the commands this action started, each in a
        // process group of its own, as the engine stops its own; the engine kills us 2 s later.
        Interruption.install()
        // Bounded: the engine sends the run's actions, metadata and facts, never near this.
        let input = (try? FileHandle.standardInput.read(upToCount: 64 << 20)) ?? Data()
        let request = Result { try JSONDecoder().decode(BrokerHelper.Request.self, from: input) }
        LogSetup.bootstrap(level: (try? request.get())?.level ?? .info, syslog: false)
        let result = await run(request)
        let line = (try? JSONEncoder().encode(result)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"outcome":"failed"}"#
        FileHandle.standardOutput.write(Data((BrokerHelper.resultMark + line + "\n").utf8))
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
