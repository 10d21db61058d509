import OCISpec

/// Privilege settings are refused like any config problem, by JSON path.
public typealias PrivilegeError = ConfigProblem

/// `"text"` with JSON escapes for `"` and `\`, as config paths and values are quoted in messages.
func quoted(_ text: String) -> String {
    var out = "\""
    for ch in text {
        if ch == "\"" || ch == "\\" { out.append("\\") }
        out.append(ch)
    }
    return out + "\""
}
