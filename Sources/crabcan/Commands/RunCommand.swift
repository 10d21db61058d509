import Runtime

enum RunCommand: Command {
    static let name = "run"
    static let summary = "create and start a container, wait for it and exit with its status"
    static let flags = createFlags + [FlagSpec(name: "detach", short: "d", takesValue: false,
                 help: "detach from the container's process"),
                                      FlagSpec(name: "keep", short: nil, takesValue: false,
                 help: "do not delete the container after it exits")]

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        try runtime.run(try arguments.containerID(name), try createOptions(arguments), detach: arguments.bool("detach"),
                        keep: arguments.bool("keep"))
    }
}
