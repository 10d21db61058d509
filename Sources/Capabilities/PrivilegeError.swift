/// A privilege setting the runtime refuses, named by its JSON path:
/// `.process.capabilities.bounding[2]: unknown capability "CAP_FOO"` (lower-case, one line, DESIGN.md §4).
public struct PrivilegeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// `"text"` with JSON escapes for `"` and `\`, as config paths and values are quoted in messages.
func quoted(_ text: String) -> String {
    var out = "\""
    for ch in text {
        if ch == "\"" || ch == "\\" { out.append("\\") }
        out.append(ch)
    }
    return out + "\""
}
