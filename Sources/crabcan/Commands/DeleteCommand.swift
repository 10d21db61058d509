import Runtime

enum DeleteCommand: Command {
    static let name = "delete"
    static let summary = "delete a stopped container (--force: kill it first)"
    static let flags = [FlagSpec(name: "force", short: "f", takesValue: false,
                 help: "Forcibly deletes the container if it is still running (uses SIGKILL)")]

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        try runtime.delete(try arguments.containerID(name), force: arguments.bool("force"))
        return 0
    }
}
