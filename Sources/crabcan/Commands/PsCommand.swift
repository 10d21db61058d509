import Glibc
import Runtime
import Sys

enum PsCommand: Command {
    static let name = "ps"
    static let summary = "list the processes of a container (host pids)"
    static let usage = "[--format table|json] ID"
    static let flags = [FlagSpec(name: "format", short: "f", takesValue: true)]

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        let pids = try runtime.processes(try arguments.containerID(name))
        switch arguments.value("format") ?? "table" {
        case "json":
            Output.write(Runtime.pidsJSON(pids) + [0x0A])
        case "table":
            Output.line("PID".padding(10) + "CMD")
            for pid in pids {
                let raw = (try? Files.readFile("/proc/\(pid)/cmdline")) ?? []
                let command = String(decoding: raw.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
                Output.line(String(pid).padding(10) + command)
            }
        case let other:
            throw UsageError(description: "invalid --format \"\(other)\": use table or json")
        }
        return 0
    }
}
