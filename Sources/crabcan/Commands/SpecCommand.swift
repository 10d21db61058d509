import Runtime

enum SpecCommand: Command {
    static let name = "spec"
    static let summary = "write a config.json (safe defaults, changed by the flags) into the bundle directory"
    static let usage = "[command options] [-- COMMAND [ARG...]]"
    static let flags = [
        FlagSpec(name: "bundle", short: "b", takesValue: true,
                 help: "path to the root of the bundle directory"),
        FlagSpec(name: "rootless", short: nil, takesValue: false,
                 help: "generate a configuration for a rootless container"),
        FlagSpec(name: "rootfs", short: nil, takesValue: true,
                 help: "root.path (relative to the current directory)"),
        FlagSpec(name: "hostname", short: nil, takesValue: true,
                 help: "hostname (default: a random readable name)"),
        FlagSpec(name: "user", short: "u", takesValue: true,
                 help: "process.user, numeric (format: <uid>[:<gid>])"),
        FlagSpec(name: "cwd", short: nil, takesValue: true,
                 help: "process.cwd"),
        FlagSpec(name: "env", short: "e", takesValue: true, repeatable: true,
                 help: "add or replace a process.env variable (K=V)"),
        FlagSpec(name: "memory", short: nil, takesValue: true,
                 help: "memory limit (64m, 1g, -1)"),
        FlagSpec(name: "pids", short: nil, takesValue: true,
                 help: "pids limit"),
        FlagSpec(name: "cpu-shares", short: nil, takesValue: true,
                 help: "CPU shares"),
        FlagSpec(name: "cap-add", short: nil, takesValue: true, repeatable: true,
                 help: "add a capability (or ALL)"),
        FlagSpec(name: "cap-drop", short: nil, takesValue: true, repeatable: true,
                 help: "drop a capability (or ALL)"),
        FlagSpec(name: "bind", short: nil, takesValue: true, repeatable: true,
                 help: "bind mount SRC:DST[:ro]"),
        FlagSpec(name: "readonly", short: nil, takesValue: false,
                 help: "root.readonly (--readonly=false for a writable root)"),
        FlagSpec(name: "net", short: nil, takesValue: true,
                 help: "host (no network namespace) or none (a new one, the default)"),
        FlagSpec(name: "seccomp", short: nil, takesValue: true,
                 help: "default, unconfined, or a file holding a linux.seccomp object"),
        FlagSpec(name: "terminal", short: "t", takesValue: false,
                 help: "process.terminal (default: true for the default sh, as runc spec; false with a command after --)"),
    ]

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        var options = SpecOptions()
        options.rootless = arguments.bool("rootless")
        options.rootfs = arguments.value("rootfs")
        options.args = arguments.positional
        options.hostname = arguments.value("hostname")
        options.user = arguments.value("user")
        options.cwd = arguments.value("cwd")
        options.env = arguments.all("env")
        options.memory = try UpdateCommand.size(arguments, "memory")
        options.pids = try UpdateCommand.number(arguments, "pids", Int64.self)
        options.cpuShares = try UpdateCommand.number(arguments, "cpu-shares", UInt64.self)
        options.capAdd = arguments.all("cap-add")
        options.capDrop = arguments.all("cap-drop")
        options.binds = arguments.all("bind")
        options.readonly = arguments.has("readonly") ? arguments.bool("readonly") : nil
        options.net = arguments.value("net")
        options.seccomp = arguments.value("seccomp")
        options.terminal = arguments.has("terminal") ? arguments.bool("terminal") : nil
        try Runtime.writeSpec(bundle: arguments.value("bundle") ?? ".", options: options)
        return 0
    }
}
