import Runtime

/// `crabcan -h` and `crabcan COMMAND -h` in runc's layout (urfave/cli's templates: NAME, USAGE, VERSION,
/// COMMANDS, GLOBAL OPTIONS / OPTIONS, three-space indents, one aligned column), which people and scripts know.
enum Help {
    static let flag = FlagSpec(name: "help", short: "h", takesValue: false, help: "show help")

    static func main() -> String {
        var text = """
            NAME:
               crabcan - an OCI container runtime

            crabcan runs applications packaged in Open Container Initiative (OCI) bundles: a directory
            with a specification file named "config.json" and a root filesystem. It takes runc's
            commands and flags, so the tools that drive runc (podman, containerd, Docker) drive it too.

            To start a new instance of a container:

                # crabcan run [ -b bundle ] <container-id>

            USAGE:
               crabcan [global options] command [command options] [arguments...]

            VERSION:
               \(Runtime.version)
            spec: \(Runtime.specVersion)

            COMMANDS:

            """
        var rows: [(String, String)] = []
        var position = 0
        while let command = crabcan.command(at: position) {
            rows.append((command.name, command.summary))
            position += 1
        }
        rows.append(("help, h", "Shows a list of commands or help for one command"))
        text += table(rows)
        text += "\nGLOBAL OPTIONS:\n" + table(globalFlags.map { (column($0), $0.help) })
        return text
    }

    static func command(_ command: any Command.Type) -> String {
        let options = command.flags.isEmpty ? "" : " [command options]"
        var text = "NAME:\n   crabcan \(command.name) - \(command.summary)\n\nUSAGE:\n"
        text += "   crabcan \(command.name)\(options)\(command.usage.isEmpty ? "" : " " + command.usage)\n"
        if !command.flags.isEmpty {
            text += "\nOPTIONS:\n" + table(command.flags.map { (column($0), $0.help) })
        }
        return text
    }

    /// `--name value, -n value` or `--name, -n`, as urfave/cli shows a flag.
    static func column(_ flag: FlagSpec) -> String {
        let value = flag.takesValue ? " value" : ""
        return "--\(flag.name)\(value)" + (flag.short.map { ", -\($0)\(value)" } ?? "")
    }

    /// Rows indented by three spaces, the second column two spaces after the widest first one.
    static func table(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { row in
            let line = "   " + row.0 + String(repeating: " ", count: width - row.0.count + 2) + row.1
            return String(line.reversed().drop(while: { $0 == " " }).reversed()) + "\n"
        }.joined()
    }
}
