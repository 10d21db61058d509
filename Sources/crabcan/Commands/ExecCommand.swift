import Runtime

enum ExecCommand: Command {
    static let name = "exec"
    static let summary = "run a new process in a created or running container"
    static let usage = "<container-id> <command> [command options]  || -p process.json <container-id>"
    static let flags = [
        FlagSpec(name: "process", short: "p", takesValue: true,
                 help: "path to the process.json"),
        FlagSpec(name: "tty", short: "t", takesValue: false,
                 help: "allocate a pseudo-TTY"),
        FlagSpec(name: "console-socket", short: nil, takesValue: true,
                 help: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"),
        FlagSpec(name: "pidfd-socket", short: nil, takesValue: true,
                 help: "path to an AF_UNIX socket which will receive a file descriptor referencing the exec process"),
        FlagSpec(name: "detach", short: "d", takesValue: false,
                 help: "detach from the container's process"),
        FlagSpec(name: "pid-file", short: nil, takesValue: true,
                 help: "specify the file to write the process id to"),
        FlagSpec(name: "cwd", short: nil, takesValue: true,
                 help: "current working directory in the container"),
        FlagSpec(name: "env", short: "e", takesValue: true, repeatable: true,
                 help: "set environment variables"),
        FlagSpec(name: "user", short: "u", takesValue: true,
                 help: "UID (format: <uid>[:<gid>])"),
        FlagSpec(name: "additional-gids", short: "g", takesValue: true, repeatable: true,
                 help: "additional gids"),
        FlagSpec(name: "cap", short: "c", takesValue: true, repeatable: true,
                 help: "add a capability to the bounding set for the process"),
        FlagSpec(name: "no-new-privs", short: nil, takesValue: false,
                 help: "set the no new privileges value for the process"),
        FlagSpec(name: "apparmor", short: nil, takesValue: true,
                 help: "set the apparmor profile for the process"),
        FlagSpec(name: "process-label", short: nil, takesValue: true,
                 help: "set the asm process label for the process commonly used with selinux"),
        FlagSpec(name: "preserve-fds", short: nil, takesValue: true,
                 help: "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)"),
        // Accepted as runc does; the process always joins the container's own cgroup.
        FlagSpec(name: "cgroup", short: nil, takesValue: true, repeatable: true,
                 help: "accepted as runc's; the process joins the container's own cgroup"),
        FlagSpec(name: "ignore-paused", short: nil, takesValue: false,
                 help: "allow exec in a paused container"),
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
        options.pidfdSocket = arguments.value("pidfd-socket")
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
