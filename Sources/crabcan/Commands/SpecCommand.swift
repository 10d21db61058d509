import Runtime

enum SpecCommand: Command {
    static let name = "spec"
    static let summary = "write a default config.json (safe defaults) into the bundle directory"
    static let usage = "[--bundle DIR] [--rootless]"
    static let flags = [FlagSpec(name: "bundle", short: "b", takesValue: true),
                        FlagSpec(name: "rootless", short: nil, takesValue: false)]

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        try Runtime.writeDefaultSpec(bundle: arguments.value("bundle") ?? ".", rootless: arguments.bool("rootless"))
        return 0
    }
}
