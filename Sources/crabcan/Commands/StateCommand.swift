import Runtime

enum StateCommand: Command {
    static let name = "state"
    static let summary = "print the state of a container as JSON"

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        Output.write(try runtime.state(try arguments.containerID(name)) + [0x0A])
        return 0
    }
}
