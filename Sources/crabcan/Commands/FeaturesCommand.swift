import Runtime

enum FeaturesCommand: Command {
    static let name = "features"
    static let summary = "print the runtime-spec features document of this build (JSON)"
    static let usage = ""

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        Output.write(runtime.features() + [0x0A])
        return 0
    }
}
