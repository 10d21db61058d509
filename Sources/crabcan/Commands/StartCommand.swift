import Runtime

enum StartCommand: Command {
    static let name = "start"
    static let summary = "run the user process of a created container"

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        try runtime.start(try arguments.containerID(name))
        return 0
    }
}
