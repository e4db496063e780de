import Dispatch
import Foundation

/// Calls `stop` on SIGTERM or SIGINT, beside `Interruption`, which stops a running action.
final class StopSignals {
    private let sources: [any DispatchSourceSignal]

    init(_ stop: @escaping @Sendable () -> Void) {
        sources = [SIGTERM, SIGINT].map { signo in
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler(handler: stop)
            source.resume()
            return source
        }
    }
}
