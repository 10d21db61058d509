import Runtime

/// One subcommand: its flags, and one call into Runtime.
protocol Command {
    static var name: String { get }
    static var summary: String { get }
    static var usage: String { get }
    static var flags: [FlagSpec] { get }
    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32
}

extension ParsedArguments {
    /// The container id: the one positional argument the lifecycle commands take.
    func containerID(_ command: String) throws -> String {
        guard let id = positional.first else { throw UsageError(description: "\(command): container id is required") }
        return id
    }
}

/// The flags `create` and `run` share (runc's names).
let createFlags = [
    FlagSpec(name: "bundle", short: "b", takesValue: true),
    FlagSpec(name: "pid-file", short: nil, takesValue: true),
    FlagSpec(name: "console-socket", short: nil, takesValue: true),
    FlagSpec(name: "no-pivot", short: nil, takesValue: false),
    FlagSpec(name: "no-new-keyring", short: nil, takesValue: false),
    FlagSpec(name: "preserve-fds", short: nil, takesValue: true),
]

func createOptions(_ arguments: ParsedArguments) throws -> CreateOptions {
    var options = CreateOptions()
    options.bundle = arguments.value("bundle") ?? "."
    options.pidFile = arguments.value("pid-file")
    options.consoleSocket = arguments.value("console-socket")
    options.noPivot = arguments.bool("no-pivot")
    options.noNewKeyring = arguments.bool("no-new-keyring")
    options.preserveFDs = try arguments.int32("preserve-fds", default: 0)
    return options
}
