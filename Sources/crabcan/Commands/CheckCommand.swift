import Runtime

enum CheckCommand: Command {
    static let name = "check"
    static let summary = "validate a bundle without running it: every problem, with its JSON path and line:column"
    static let usage = ""
    static let flags = [FlagSpec(name: "bundle", short: "b", takesValue: true,
                 help: "path to the root of the bundle directory, defaults to the current directory"),
                        FlagSpec(name: "pidfd-socket", short: nil, takesValue: true,
                 help: "the socket create or run would get: checked to be one, on a kernel with pidfds"),
                        FlagSpec(name: "format", short: "f", takesValue: true,
                 help: "select one of: text or json (default: \"text\")")]

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        let formatName = arguments.value("format") ?? "text"
        guard let format = CheckFormat(rawValue: formatName) else {
            throw UsageError(description: "invalid --format \"\(formatName)\": use text or json")
        }
        let report = Runtime.check(bundle: arguments.value("bundle") ?? ".", systemd: runtime.systemdCgroup,
                                   pidfdSocket: arguments.value("pidfd-socket"))
        switch format {
        case .text: Output.write(Array(report.text().utf8))
        case .json: Output.write(report.json())
        }
        return report.errors.isEmpty ? 0 : 1
    }
}
