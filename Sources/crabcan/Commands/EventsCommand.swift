import Runtime
import Sys

enum EventsCommand: Command {
    static let name = "events"
    static let summary = "print a container's resource usage: once with --stats, else every --interval until it stops"
    static let flags = [
        FlagSpec(name: "stats", short: nil, takesValue: false,
                 help: "display the container's stats then exit"),
        FlagSpec(name: "interval", short: nil, takesValue: true,
                 help: "set the stats collection interval (default: 5s)"),
    ]

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        let id = try arguments.containerID(name)
        let text = arguments.value("interval") ?? "5s"
        guard let interval = parseInterval(text), interval > 0 else {
            throw UsageError(description: "invalid value \"\(text)\" for --interval: expected a duration like 5s, 500ms or 1m")
        }
        if arguments.bool("stats") {
            Output.write(try runtime.statsEvent(id) + [0x0A])
            return 0
        }
        try runtime.streamEvents(id, intervalMilliseconds: interval) { Output.write($0 + [0x0A]) }
        return 0
    }

    /// A Go-style duration in milliseconds: "500ms", "5s", "1.5s", "1m", "1h", "1m30s"; a plain number is seconds.
    static func parseInterval(_ text: String) -> Int? {
        if text.allSatisfy({ $0.isASCIIDigit || $0 == "." }), let seconds = Double(text) {
            return seconds < 1e9 ? Int(seconds * 1000) : nil
        }
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix(while: { $0.isASCIIDigit || $0 == "." })
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix(while: { !$0.isASCIIDigit && $0 != "." })
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1e-6
            case "us", "µs": scale = 1e-3
            case "ms": scale = 1
            case "s": scale = 1000
            case "m": scale = 60_000
            case "h": scale = 3_600_000
            default: return nil
            }
            total += value * scale
        }
        return total < 1e12 ? Int(total) : nil
    }
}
