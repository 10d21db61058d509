import Runtime
import Sys

enum ListCommand: Command {
    static let name = "list"
    static let summary = "list the containers under --root"
    static let usage = ""
    static let flags = [FlagSpec(name: "format", short: "f", takesValue: true,
                 help: "select one of: table or json (default: \"table\")"),
                        FlagSpec(name: "quiet", short: "q", takesValue: false,
                 help: "display only container IDs")]

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        let containers = try runtime.list()
        // One write for the whole listing: a write per line was a fifth of the syscalls of a list of 200.
        if arguments.bool("quiet") {
            Output.write(Array(containers.map { $0.id + "\n" }.joinedText().utf8))
            return 0
        }
        switch arguments.value("format") ?? "table" {
        case "json":
            Output.write(Runtime.listJSON(containers) + [0x0A])
        case "table":
            let rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
                + containers.map { [$0.id, String($0.pid), $0.status, $0.bundle, $0.created, $0.owner.isEmpty ? "root" : $0.owner] }
            let widths = (0..<6).map { column in rows.map { $0[column].count }.max() ?? 0 }
            var table: [UInt8] = []
            for row in rows {
                let cells = row.enumerated().map { $0.offset == 5 ? $0.element : $0.element.padding(widths[$0.offset] + 3) }
                table += cells.joinedText().utf8
                table.append(0x0A)
            }
            Output.write(table)
        case let other:
            throw UsageError(description: "invalid --format \"\(other)\": use table or json")
        }
        return 0
    }
}
