import Runtime

enum ExecCommand: Command {
    static let name = "exec"
    static let summary = "run a new process in a created or running container"
    static let usage = "[--process FILE | flags] ID [COMMAND [ARG...]]"
    static let flags = [
        FlagSpec(name: "process", short: "p", takesValue: true),
        FlagSpec(name: "tty", short: "t", takesValue: false),
        FlagSpec(name: "console-socket", short: nil, takesValue: true),
        FlagSpec(name: "detach", short: "d", takesValue: false),
        FlagSpec(name: "pid-file", short: nil, takesValue: true),
        FlagSpec(name: "cwd", short: nil, takesValue: true),
        FlagSpec(name: "env", short: "e", takesValue: true, repeatable: true),
        FlagSpec(name: "user", short: "u", takesValue: true),
        FlagSpec(name: "additional-gids", short: "g", takesValue: true, repeatable: true),
        FlagSpec(name: "cap", short: "c", takesValue: true, repeatable: true),
        FlagSpec(name: "no-new-privs", short: nil, takesValue: false),
        FlagSpec(name: "apparmor", short: nil, takesValue: true),
        FlagSpec(name: "process-label", short: nil, takesValue: true),
        FlagSpec(name: "preserve-fds", short: nil, takesValue: true),
        // Accepted as runc does; the process always joins the container's own cgroup.
        FlagSpec(name: "cgroup", short: nil, takesValue: true, repeatable: true),
        FlagSpec(name: "ignore-paused", short: nil, takesValue: false),
    ]

    /// Like runc, a failure to start the process exits 255, so callers can tell it from the process's own status.
    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        let id = try arguments.containerID(name)
        var options = ExecOptions()
        options.processPath = arguments.value("process")
        var command = Array(arguments.positional.dropFirst())
        if command.first == "--" { command.removeFirst() }
        options.args = command
        options.tty = arguments.bool("tty")
        options.consoleSocket = arguments.value("console-socket")
        options.detach = arguments.bool("detach")
        options.pidFile = arguments.value("pid-file")
        options.cwd = arguments.value("cwd")
        options.env = arguments.all("env")
        options.user = arguments.value("user")
        options.additionalGids = try arguments.all("additional-gids").map { text in
            guard let gid = UInt32(text) else { throw UsageError(description: "invalid value \"\(text)\" for --additional-gids") }
            return gid
        }
        options.addCapabilities = arguments.all("cap")
        options.noNewPrivileges = arguments.bool("no-new-privs")
        options.apparmorProfile = arguments.value("apparmor")
        options.processLabel = arguments.value("process-label")
        options.preserveFDs = try arguments.int32("preserve-fds", default: 0)
        do {
            return try runtime.exec(id, options)
        } catch {
            runtime.log.error("exec failed: \(error)")
            return 255
        }
    }
}
