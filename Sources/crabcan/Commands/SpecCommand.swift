import Runtime

enum SpecCommand: Command {
    static let name = "spec"
    static let summary = "write a config.json (safe defaults, changed by the flags) into the bundle directory"
    static let usage = """
        [--bundle DIR] [--rootfs DIR] [--hostname NAME] [--user UID[:GID]] [--cwd DIR] [--env K=V]...
                    [--memory SIZE] [--pids N] [--cpu-shares N] [--cap-add CAP]... [--cap-drop CAP|ALL]...
                    [--bind SRC:DST[:ro]]... [--readonly[=false]] [--net host|none]
                    [--seccomp default|unconfined|FILE] [--rootless] [--terminal] [-- COMMAND [ARG...]]
        """
    static let flags = [
        FlagSpec(name: "bundle", short: "b", takesValue: true),
        FlagSpec(name: "rootless", short: nil, takesValue: false),
        FlagSpec(name: "rootfs", short: nil, takesValue: true),
        FlagSpec(name: "hostname", short: nil, takesValue: true),
        FlagSpec(name: "user", short: "u", takesValue: true),
        FlagSpec(name: "cwd", short: nil, takesValue: true),
        FlagSpec(name: "env", short: "e", takesValue: true, repeatable: true),
        FlagSpec(name: "memory", short: nil, takesValue: true),
        FlagSpec(name: "pids", short: nil, takesValue: true),
        FlagSpec(name: "cpu-shares", short: nil, takesValue: true),
        FlagSpec(name: "cap-add", short: nil, takesValue: true, repeatable: true),
        FlagSpec(name: "cap-drop", short: nil, takesValue: true, repeatable: true),
        FlagSpec(name: "bind", short: nil, takesValue: true, repeatable: true),
        FlagSpec(name: "readonly", short: nil, takesValue: false),
        FlagSpec(name: "net", short: nil, takesValue: true),
        FlagSpec(name: "seccomp", short: nil, takesValue: true),
        FlagSpec(name: "terminal", short: "t", takesValue: false),
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
        options.terminal = arguments.bool("terminal")
        try Runtime.writeSpec(bundle: arguments.value("bundle") ?? ".", options: options)
        return 0
    }
}
