import Runtime

enum PauseCommand: Command {
    static let name = "pause"
    static let summary = "freeze every process of a running container"

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        try runtime.pause(try arguments.containerID(name))
        return 0
    }
}

enum ResumeCommand: Command {
    static let name = "resume"
    static let summary = "thaw a paused container"

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        try runtime.resume(try arguments.containerID(name))
        return 0
    }
}
