/// A config.json setting crabcan refuses, named by its JSON path:
/// `.process.capabilities.bounding[2]: unknown capability "CAP_FOO"` (one line, lower-case, docs/design.md §4).
/// One type for every module that checks a part of the config (launch plan, privileges, seccomp), so errors
/// pass up without conversion.
package struct ConfigProblem: Error, Sendable, Equatable, CustomStringConvertible {
    package var path: String
    package var message: String
    /// A note for `check` only: what it says changes nothing at run time (an ambient capability the kernel's
    /// rule makes a no-op, which every `runc spec` config has), so create and exec say nothing, as runc.
    package var checkOnly = false

    package init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    package init(_ path: String, _ message: String) { self.init(path: path, message: message) }

    package var description: String { "\(path): \(message)" }
}
