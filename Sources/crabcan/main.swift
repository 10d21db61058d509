import Glibc
import Runtime
import Sys

/// crabcan [global flags] <command> [flags] [arguments]: parse, call one Runtime function, print, exit.
let globalFlags = [
    FlagSpec(name: "root", short: nil, takesValue: true),
    FlagSpec(name: "log", short: nil, takesValue: true),
    FlagSpec(name: "log-format", short: nil, takesValue: true),
    FlagSpec(name: "debug", short: nil, takesValue: false),
    // Accepted for compatibility with callers that always pass them (containerd, podman); --systemd-cgroup
    // only outside create and run (see below).
    FlagSpec(name: "systemd-cgroup", short: nil, takesValue: false),
    FlagSpec(name: "rootless", short: nil, takesValue: true),
    FlagSpec(name: "criu", short: nil, takesValue: true),
    FlagSpec(name: "help", short: "h", takesValue: false),
    FlagSpec(name: "version", short: "v", takesValue: false),
]

let commands: [any Command.Type] = [
    CreateCommand.self, StartCommand.self, StateCommand.self, KillCommand.self, DeleteCommand.self,
    RunCommand.self, ListCommand.self, SpecCommand.self, PauseCommand.self, ResumeCommand.self, PsCommand.self,
    UpdateCommand.self, EventsCommand.self, ExecCommand.self, CheckCommand.self, FeaturesCommand.self,
]

@MainActor func usage() -> String {
    var text = "usage: crabcan [--root DIR] [--log FILE] [--log-format text|json] [--debug] COMMAND [ARGS]\n\ncommands:\n"
    for command in commands { text += "  \(command.name.padding(8))\(command.summary)\n" }
    return text
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}

@MainActor func main() -> Int32 {
    let arguments = CommandLine.arguments.dropFirst()
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
            throw UsageError(description: "invalid --log-format \"\(global.value("log-format")!)\": use text or json")
        }
        guard let name = rest.first, !global.bool("help") else {
            Output.write(Array(usage().utf8))
            return global.bool("help") ? 0 : 1
        }
        guard let command = commands.first(where: { $0.name == name }) else {
            throw UsageError(description: "unknown command \"\(name)\"")
        }
        // The systemd cgroup driver is not implemented (features says "systemd": false): a container the caller
        // wants placed by systemd is refused, not put in a cgroupfs path it did not ask for. Other commands take
        // the flag, so what exists can still be inspected and removed by a caller that always passes it.
        if global.bool("systemd-cgroup") && (command.name == "create" || command.name == "run") {
            throw UsageError(description: "--systemd-cgroup: the systemd cgroup driver is not implemented; use the cgroupfs driver (without the flag)")
        }
        let (parsed, _) = try ParsedArguments.parse(rest.dropFirst(), flags: command.flags + [FlagSpec(name: "help", short: "h", takesValue: false)])
        if parsed.bool("help") {
            Output.line("usage: crabcan \(command.name) \(command.usage)\n\n\(command.summary)")
            return 0
        }
        let root = try global.value("root")
            ?? Runtime.stateRoot(uid: UInt32(Processes.effectiveUID), environment: Processes.environment())
        let runtime = Runtime(root: root, log: log)
        return try command.run(parsed, runtime)
    } catch {
        log.error("\(error)")
        return 1
    }
}

exit(main())
