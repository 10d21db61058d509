import Runtime

enum PsCommand: Command {
    static let name = "ps"
    static let summary = "ps displays the processes running inside a container"
    static let usage = "<container-id> [ps options]"
    static let flags = [FlagSpec(name: "format", short: "f", takesValue: true,
                 help: "select one of: table or json (default: \"table\")")]

    /// runc's: without --format json, the host `ps` with the arguments after the id (default -ef), filtered to
    /// the container's processes.
    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        let id = try arguments.containerID(name)
        switch arguments.value("format") ?? "table" {
        case "json":
            Output.write(Runtime.pidsJSON(try runtime.processes(id)) + [0x0A])
        case "table":
            Output.write(Array(try runtime.processTable(id, psArguments: Array(arguments.positional.dropFirst())).utf8))
        case let other:
            throw UsageError(description: "invalid --format \"\(other)\": use table or json")
        }
        return 0
    }
}
