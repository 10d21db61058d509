import Runtime

/// One subcommand: its flags, and one call into Runtime.
protocol Command: Sendable {
    static var name: String { get }
    static var summary: String { get }
    static var usage: String { get }
    static var flags: [FlagSpec] { get }
    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32
}

/// Most commands act on one container and take no flags.
extension Command {
    static var usage: String { "<container-id>" }
    static var flags: [FlagSpec] { [] }
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
    FlagSpec(name: "bundle", short: "b", takesValue: true,
             help: "path to the root of the bundle directory, defaults to the current directory"),
    FlagSpec(name: "console-socket", short: nil, takesValue: true,
             help: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"),
    FlagSpec(name: "pidfd-socket", short: nil, takesValue: true,
             help: "path to an AF_UNIX socket which will receive a file descriptor referencing the init process"),
    FlagSpec(name: "pid-file", short: nil, takesValue: true, help: "specify the file to write the process id to"),
    FlagSpec(name: "no-pivot", short: nil, takesValue: false,
             help: "do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk"),
    FlagSpec(name: "no-new-keyring", short: nil, takesValue: false,
             help: "do not create a new session keyring for the container.  This will cause the container to inherit the calling processes session key"),
    FlagSpec(name: "preserve-fds", short: nil, takesValue: true,
             help: "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)"),
]

func createOptions(_ arguments: ParsedArguments) throws -> CreateOptions {
    var options = CreateOptions()
    options.bundle = arguments.value("bundle") ?? "."
    options.pidFile = arguments.value("pid-file")
    options.consoleSocket = arguments.value("console-socket")
    options.pidfdSocket = arguments.value("pidfd-socket")
    options.noPivot = arguments.bool("no-pivot")
    options.noNewKeyring = arguments.bool("no-new-keyring")
    options.preserveFDs = try arguments.int32("preserve-fds", default: 0)
    return options
}
