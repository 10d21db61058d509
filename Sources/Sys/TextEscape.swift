/// Text from outside (a config value, a peer's message, a path) made safe for a one-line message: control
/// characters as JSON writes them (\n, \r, \t, \u00HH); with `quoting`, `"` and `\` too, which makes it a JSON
/// string's body. The one escaper of JSON output, cgroup write errors and D-Bus errors.
package func jsonEscape(_ text: String, quoting: Bool) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"" where quoting: out += "\\\""
        case "\\" where quoting: out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}

/// `"text"`, escaped as a JSON string: how values are quoted in messages.
package func jsonQuote(_ text: String) -> String { "\"" + jsonEscape(text, quoting: true) + "\"" }
