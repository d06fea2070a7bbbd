import Dispatch
import DocketCore
import Foundation

/// Turns SIGINT/SIGTERM into a callback on a dispatch queue (never the cooperative pool).
final class SignalWatcher {
    private let sources: [any DispatchSourceSignal]
    private let firedBox = LockedBox(false)

    init(signals: [Int32], handler: @escaping @Sendable () -> Void) {
        let queue = DispatchQueue(label: "docket.signals")
        let fired = firedBox
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                let first = fired.withLockedValue { value in
                    defer { value = true }
                    return !value
                }
                if first {
                    handler()
                } else {
                    // A second Ctrl-C means "now".
                    exit(130)
                }
            }
            source.resume()
            return source
        }
    }

    /// Whether a signal arrived.
    var fired: Bool { firedBox.withLockedValue { $0 } }

    func stop() {
        sources.forEach { $0.cancel() }
    }
}
