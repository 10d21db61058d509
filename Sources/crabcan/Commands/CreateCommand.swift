import Runtime

enum CreateCommand: Command {
    static let name = "create"
    static let summary = "create a container; its process waits for start"
    static let flags = createFlags

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        try runtime.create(try arguments.containerID(name), try createOptions(arguments))
        return 0
    }
}
