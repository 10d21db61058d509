import Runtime

enum KillCommand: Command {
    static let name = "kill"
    static let summary = "send a signal (default TERM) to the container's init, or with --all to all its processes"
    static let usage = "<container-id> [signal]"
    static let flags = [FlagSpec(name: "all", short: "a", takesValue: false,
                 help: "send the specified signal to all processes inside the container")]

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        let id = try arguments.containerID(name)
        let signal = try SignalNames.parse(arguments.positional.dropFirst().first ?? "TERM")
        try runtime.kill(id, signal: signal, all: arguments.bool("all"))
        return 0
    }
}
