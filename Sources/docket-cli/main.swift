import DocketKit
import Foundation

// docket-cli: parse, run one command, report errors in one line.
// Exit codes: 0 ok, 1 failure, 64 usage error, 130 interrupted.

let invocation: Invocation
do {
    invocation = try Invocation(arguments: Array(CommandLine.arguments.dropFirst()),
                                environment: ProcessInfo.processInfo.environment)
} catch CommandLineError.help(let text) {
    Console.out(text)
    exit(0)
} catch {
    Console.error("error: \(Console.describe(error))")
    exit(64)
}

let work = Task {
    switch invocation {
    case .serve(let command): try await command.run()
    case .push(let command): try await command.run()
    case .images(let command): try await command.run()
    case .pull(let command): try await command.run()
    case .gc(let command): try await command.run()
    }
}
let interrupts = SignalWatcher(signals: [SIGINT, SIGTERM]) { work.cancel() }
let outcome = await work.result
interrupts.stop()
switch outcome {
case .success:
    // Commands that finish after a signal stopped cleanly (serve; pull while seeding).
    exit(0)
case .failure(let error):
    if error is CancellationError || interrupts.fired {
        if case .pull = invocation {
            Console.error("interrupted; the same pull again carries on from what this one downloaded")
        } else {
            Console.error("interrupted")
        }
        exit(130)
    }
    Console.error("error: \(Console.describe(error))")
    exit(1)
}
