import Glibc
import JSON
import Sys

/// Where errors, warnings and debug lines go, as runc sends them: without `--log`, to stderr; with it, to that
/// file, as text or as one JSON object a line (`{"level":"error","msg":"...","time":"..."}`, which containerd's
/// shim decodes line by line for the error it reports), and errors also to stderr. Warnings reach stderr only
/// under `--debug`: callers parse the combined output of commands such as `state` and `ps` (go-runc). The lines
/// are runc 1.1.5's byte for byte in layout (docs/runc-compat.md); without `--debug` and `--log` an error on
/// stderr is `crabcan: MESSAGE`, one plain line.
package final class Log: @unchecked Sendable {  // immutable after init
    package enum Format: String, Sendable { case text, json }
    package enum Level: String, Sendable { case debug, info, warning, error }

    /// Where a line was logged from: runc's `--debug` turns on logrus's ReportCaller, which adds `func` and
    /// `file` to every line; crabcan names its own Swift function and file there.
    package struct Caller: Sendable {
        let function: String, file: String, line: Int
        package init(function: String, file: String, line: Int) { (self.function, self.file, self.line) = (function, file, line) }
        /// `Runtime.create` from #fileID `Runtime/Runtime+Create.swift` and #function `create(_:options:)`.
        var qualifiedFunction: String {
            let module = file.split(separator: "/", maxSplits: 1).first.map(String.init) ?? file
            return module + "." + String(function.prefix { $0 != "(" })
        }
    }

    let file: FileDescriptor?
    let format: Format
    let debugEnabled: Bool

    package init(path: String?, format: Format, debug: Bool) throws {
        file = try path.map { try Files.open($0, O_WRONLY | O_CREAT | O_APPEND, mode: 0o644) }
        self.format = format
        debugEnabled = debug
    }

    package static let stderrOnly = try! Log(path: nil, format: .text, debug: false)

    package func error(_ message: String, function: String = #function, file: String = #fileID, line: Int = #line) {
        let caller = Caller(function: function, file: file, line: line)
        // Under --debug stderr is runc's log stream (logrus), in --log-format: one format for every line there.
        if self.file == nil && debugEnabled { writeStderr(render(.error, message, caller)) }
        else { writeStderr("crabcan: \(Log.oneLine(message))\n") }
        toFile(.error, message, caller)
    }

    /// Never on stderr by default: conmon and the shims hand the runtime the container's own stderr, and
    /// callers parse the output of create/run/exec/state (docs/design.md §4.9). `--log` and `--debug` show it.
    package func warning(_ message: String, function: String = #function, file: String = #fileID, line: Int = #line) {
        let caller = Caller(function: function, file: file, line: line)
        if self.file == nil && debugEnabled { writeStderr(render(.warning, message, caller)) }
        toFile(.warning, message, caller)
    }

    /// An error is one line whatever it quotes (a path or value from config.json, a child's failure text):
    /// control characters are escaped as JSON escapes them.
    static func oneLine(_ message: String) -> String {
        guard message.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return message }
        return jsonEscape(message, quoting: false)
    }

    package func debug(_ message: @autoclosure () -> String, function: String = #function, file: String = #fileID,
                      line: Int = #line) {
        guard debugEnabled else { return }
        let text = message(), caller = Caller(function: function, file: file, line: line)
        if self.file == nil { writeStderr(render(.debug, text, caller)) }
        toFile(.debug, text, caller)
    }

    private func toFile(_ level: Level, _ message: String, _ caller: Caller) {
        guard let file else { return }
        try? file.write(render(level, message, caller))
    }

    /// One line as runc 1.1.5 writes it: logrus's TextFormatter or JSONFormatter, with the caller under --debug.
    func render(_ level: Level, _ message: String, _ caller: Caller) -> String {
        let time = Log.rfc3339Seconds()
        let shown = debugEnabled ? caller : nil
        switch format {
        case .text: return Log.textLine(level, message, time: time, caller: shown)
        case .json: return Log.jsonLine(level, message, time: time, caller: shown)
        }
    }

    /// logrus's time format (time.RFC3339: whole seconds); crabcan writes UTC.
    static func rfc3339Seconds() -> String {
        let time = Clock.rfc3339Now()
        guard let dot = time.firstIndex(of: ".") else { return time }
        return String(time[..<dot]) + "Z"
    }

    /// runc's text log line (logrus TextFormatter, not a terminal): `time="2006-01-02T15:04:05Z" level=debug
    /// msg="..."`, then under --debug `func="Module.name()" file="Module/File.swift:LINE"`, as runc's
    /// CallerPrettyfier writes them. An empty message has no msg field, as logrus; tools grep for these.
    static func textLine(_ level: Level, _ message: String, time: String, caller: Caller? = nil) -> String {
        var line = "time=\(logfmtValue(time)) level=\(level.rawValue)"
        if !message.isEmpty { line += " msg=\(logfmtValue(message))" }
        if let caller {
            line += " func=\(logfmtValue(caller.qualifiedFunction + "()")) file=\(logfmtValue("\(caller.file):\(caller.line)"))"
        }
        return line + "\n"
    }

    /// runc's JSON log line (logrus JSONFormatter through Go's encoding/json): keys sorted, so `file` and `func`
    /// (under --debug, without runc's text-only prettifying) come first: `{"level":"error","msg":"...","time":"..."}`.
    static func jsonLine(_ level: Level, _ message: String, time: String, caller: Caller? = nil) -> String {
        var fields: [(String, String)] = []
        if let caller { fields += [("file", "Sources/\(caller.file):\(caller.line)"), ("func", caller.qualifiedFunction)] }
        fields += [("level", level.rawValue), ("msg", message), ("time", time)]
        return "{" + fields.map { "\"\($0.0)\":\(goJSONQuote($0.1))" }.joined(separator: ",") + "}\n"
    }

    /// logrus's needsQuoting: a value made only of letters, digits and `-._/@^+` stays bare (the empty one too:
    /// logrus writes `key=`); any other is Go's %q.
    static func logfmtValue(_ text: String) -> String {
        let bare = text.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "-._/@^+".unicodeScalars.contains(c)
        }
        return bare ? text : goQuote(text)
    }

    /// Go's strconv.Quote (fmt's %q): `"` and `\\` escaped, \a\b\f\n\r\t\v by name, other ASCII controls as
    /// \xHH, printable Unicode (letters, marks, numbers, punctuation, symbols) as is, the rest as \uHHHH/\UHHHHHHHH.
    static func goQuote(_ text: String) -> String {
        quote(text) { scalar in
            switch scalar {
            case "\u{07}": return "\\a"
            case "\u{08}": return "\\b"
            case "\u{0C}": return "\\f"
            case "\u{0B}": return "\\v"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { return "\\x" + hex(scalar.value, 2) }
                if scalar == " " || isGoPrintable(scalar) { return nil }
                return scalar.value < 0x10000 ? "\\u" + hex(scalar.value, 4) : "\\U" + hex(scalar.value, 8)
            }
        }
    }

    /// Go's encoding/json string (logrus leaves HTML escaping on): `<`, `>`, `&`, U+2028 and U+2029 as \u
    /// escapes, \n \r \t by name, other controls as \u00HH.
    static func goJSONQuote(_ text: String) -> String {
        quote(text) { scalar in
            switch scalar {
            case "<", ">", "&", "\u{2028}", "\u{2029}": return "\\u" + hex(scalar.value, 4)
            default: return scalar.value < 0x20 ? "\\u" + hex(scalar.value, 4) : nil
            }
        }
    }

    /// `"text"` with `"`, `\\`, \n, \r and \t escaped as both of Go's quotings do, and every other scalar as
    /// `escape` says (nil: as is).
    private static func quote(_ text: String, _ escape: (Unicode.Scalar) -> String?) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if let escaped = escape(scalar) { out += escaped } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// unicode.IsPrint without ASCII space: categories L, M, N, P and S.
    private static func isGoPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber,
             .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    private static func hex(_ value: UInt32, _ width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private func writeStderr(_ text: String) { StandardStreams.writeError(text) }
}
