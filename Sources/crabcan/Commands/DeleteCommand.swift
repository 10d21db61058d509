import Runtime

enum DeleteCommand: Command {
    static let name = "delete"
    static let summary = "delete a stopped container (--force: kill it first)"
    static let usage = "[--force] ID"
    static let flags = [FlagSpec(name: "force", short: "f", takesValue: false)]

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        try runtime.delete(try arguments.containerID(name), force: arguments.bool("force"))
        return 0
    }
}
