/// An error a subcommand reports: one line, saying what failed and why; the CLI prints it and exits 1.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
