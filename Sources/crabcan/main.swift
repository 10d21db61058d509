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

/// In runc's help order (alphabetical, `features` last); crabcan's own `check` where the alphabet puts it.
let commands: [any Command.Type] = [
    CheckCommand.self, CheckpointCommand.self, CreateCommand.self, DeleteCommand.self, EventsCommand.self,
    ExecCommand.self, KillCommand.self, ListCommand.self, PauseCommand.self, PsCommand.self, RestoreCommand.self,
    ResumeCommand.self, RunCommand.self, SpecCommand.self, StartCommand.self, StateCommand.self, UpdateCommand.self,
    FeaturesCommand.self,
]

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
            guard let command = commands.first(where: { $0.name == topic }) else {
                throw UsageError(description: "No help topic for '\(topic)'")
            }
            Output.write(Array(Help.command(command).utf8))
            return 0
        }
        guard let command = commands.first(where: { $0.name == name }) else {
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
