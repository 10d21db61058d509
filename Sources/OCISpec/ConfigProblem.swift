/// A config.json setting crabcan refuses, named by its JSON path:
/// `.process.capabilities.bounding[2]: unknown capability "CAP_FOO"` (one line, lower-case, docs/design.md §4).
/// One type for every module that checks a part of the config (launch plan, privileges, seccomp), so errors
/// pass up without conversion.
public struct ConfigProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String
    /// A note for `check` only: what it says changes nothing at run time (an ambient capability the kernel's
    /// rule makes a no-op, which every `runc spec` config has), so create and exec say nothing, as runc.
    public var checkOnly = false

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public init(_ path: String, _ message: String) { self.init(path: path, message: message) }

    public var description: String { "\(path): \(message)" }
}
