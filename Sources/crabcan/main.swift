import Glibc
import Runtime
import Sys

/// crabcan [global flags] <command> [flags] [arguments]: parse, call one Runtime function, print, exit.
let globalFlags = [
    FlagSpec(name: "debug", short: nil, takesValue: false, help: "enable debug logging"),
    FlagSpec(name: "log", short: nil, takesValue: true,
             help: "set the log file to write crabcan logs to (default is '/dev/stderr')"),
    FlagSpec(name: "log-format", short: nil, takesValue: true,
             help: "set the log format ('text' (default), or 'json') (default: \"text\")"),
    FlagSpec(name: "root", short: nil, takesValue: true,
             help: "root directory for storage of container state (this should be located in tmpfs) (default: \"/run/crabcan\")"),
    // Accepted for compatibility with callers that always pass them (containerd, podman).
    FlagSpec(name: "criu", short: nil, takesValue: true, help: "path to the criu binary used for checkpoint and restore (default: criu in PATH)"),
    FlagSpec(name: "systemd-cgroup", short: nil, takesValue: false,
             help: "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\" for e.g. \"system.slice:runc:434234\""),
    FlagSpec(name: "rootless", short: nil, takesValue: true, help: "accepted as runc's ('true', 'false', or 'auto')"),
    FlagSpec(name: "help", short: "h", takesValue: false, help: "show help"),
    FlagSpec(name: "version", short: "v", takesValue: false, help: "print the version"),
]

/// The commands in runc's help order (alphabetical, `features` last; crabcan's own `check` where the alphabet puts
/// it), by position: a switch, where an array of `any Command.Type` was three types the runtime made at every start
/// (the existential, its metatype and the array's storage class).
func command(at position: Int) -> (any Command.Type)? {
    switch position {
    case 0: CheckCommand.self
    case 1: CheckpointCommand.self
    case 2: CreateCommand.self
    case 3: DeleteCommand.self
    case 4: EventsCommand.self
    case 5: ExecCommand.self
    case 6: KillCommand.self
    case 7: ListCommand.self
    case 8: PauseCommand.self
    case 9: PsCommand.self
    case 10: RestoreCommand.self
    case 11: ResumeCommand.self
    case 12: RunCommand.self
    case 13: SpecCommand.self
    case 14: StartCommand.self
    case 15: StateCommand.self
    case 16: UpdateCommand.self
    case 17: FeaturesCommand.self
    default: nil
    }
}

func command(named name: String) -> (any Command.Type)? {
    var position = 0
    while let command = command(at: position) {
        if command.name == name { return command }
        position += 1
    }
    return nil
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}

func main() -> Int32 {
    let arguments = Processes.arguments.dropFirst()
    var log = Log.stderrOnly
    do {
        let (global, rest) = try ParsedArguments.parse(arguments, flags: globalFlags, stopAtPositional: true)
        if global.bool("version") {
            Output.line("crabcan version \(Runtime.version)\nspec: \(Runtime.specVersion)")
            return 0
        }
        // The log opens before anything else can fail, so that every error (an unknown command or flag too)
        // reaches the --log file: containerd's shim reports the last error line of that file.
        let format = Log.Format(rawValue: global.value("log-format") ?? "text")
        log = try Log(path: global.value("log"), format: format ?? .text, debug: global.bool("debug"))
        guard format != nil else {
            throw UsageError(description: "invalid log-format: \(global.value("log-format")!)")
        }
        // runc (urfave/cli) prints its help and exits 0 without a command, for -h, and for `help [COMMAND]`.
        guard let name = rest.first, !global.bool("help") else {
            Output.write(Array(Help.main().utf8))
            return 0
        }
        if name == "help" || name == "h" {
            guard let topic = rest.dropFirst().first else {
                Output.write(Array(Help.main().utf8))
                return 0
            }
            guard let command = command(named: topic) else {
                throw UsageError(description: "No help topic for '\(topic)'")
            }
            Output.write(Array(Help.command(command).utf8))
            return 0
        }
        guard let command = command(named: name) else {
            throw UsageError(description: "unknown command \"\(name)\"")
        }
        let (parsed, _) = try ParsedArguments.parse(rest.dropFirst(), flags: command.flags + [Help.flag])
        if parsed.bool("help") {
            Output.write(Array(Help.command(command).utf8))
            return 0
        }
        let root = try global.value("root")
            ?? Runtime.stateRoot(uid: UInt32(Processes.effectiveUID)) { Processes.environmentValue("XDG_RUNTIME_DIR") }
        var runtime = Runtime(root: root, log: log)
        runtime.systemdCgroup = global.bool("systemd-cgroup")
        runtime.criu = global.value("criu") ?? "criu"
        return try command.run(parsed, runtime)
    } catch {
        log.error("\(error)")
        return 1
    }
}

exit(main())
