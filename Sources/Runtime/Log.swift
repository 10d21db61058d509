import Glibc
import JSON
import Sys

/// Where errors, warnings and debug lines go, as runc sends them: without `--log`, to stderr; with it, to that
/// file, as text or as one JSON object a line (`{"level":"error","msg":"...","time":"..."}`, which containerd's
/// shim decodes line by line for the error it reports), and errors also to stderr. Warnings reach stderr only
/// under `--debug`: callers parse the combined output of commands such as `state` and `ps` (go-runc).
public final class Log: @unchecked Sendable {  // immutable after init
    public enum Format: String, Sendable { case text, json }
    public enum Level: String, Sendable { case debug, info, warning, error }

    let file: FileDescriptor?
    let format: Format
    let debugEnabled: Bool

    public init(path: String?, format: Format, debug: Bool) throws {
        file = try path.map { try Files.open($0, O_WRONLY | O_CREAT | O_APPEND, mode: 0o644) }
        self.format = format
        debugEnabled = debug
    }

    public static let stderrOnly = try! Log(path: nil, format: .text, debug: false)

    public func error(_ message: String) {
        // Under --debug stderr is a text log, as runc's (logrus) is: one format for every line there.
        writeStderr(file == nil && debugEnabled ? Log.textLine(.error, message) : "crabcan: \(Log.oneLine(message))\n")
        toFile(.error, message)
    }

    /// Never on stderr by default: conmon and the shims hand the runtime the container's own stderr, and
    /// callers parse the output of create/run/exec/state (docs/design.md §4.9). `--log` and `--debug` show it.
    public func warning(_ message: String) {
        if file == nil && debugEnabled { writeStderr(Log.textLine(.warning, message)) }
        toFile(.warning, message)
    }

    /// An error is one line whatever it quotes (a path or value from config.json, a child's failure text):
    /// control characters are escaped as JSON escapes them.
    static func oneLine(_ message: String) -> String {
        guard message.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return message }
        return jsonEscape(message, quoting: false)
    }

    public func debug(_ message: @autoclosure () -> String) {
        guard debugEnabled else { return }
        let text = message()
        if file == nil { writeStderr(Log.textLine(.debug, text)) }
        toFile(.debug, text)
    }

    private func toFile(_ level: Level, _ message: String) {
        guard let file else { return }
        switch format {
        case .json:
            try? file.write("{\"level\":\"\(level.rawValue)\",\"msg\":\(jsonQuote(message)),\"time\":\"\(Clock.rfc3339Now())\"}\n")
        case .text:
            try? file.write(Log.textLine(level, message))
        }
    }

    /// runc's text log line (logrus TextFormatter): `time="2006-01-02T15:04:05Z" level=debug msg="..."`, the time
    /// in whole seconds, the message quoted unless it is one bare word, as logrus does; tools grep for these.
    static func textLine(_ level: Level, _ message: String) -> String {
        var time = Clock.rfc3339Now()
        if let dot = time.firstIndex(of: ".") { time = String(time[..<dot]) + "Z" }
        return "time=\"\(time)\" level=\(level.rawValue) msg=\(logfmtValue(message))\n"
    }

    static func logfmtValue(_ text: String) -> String {
        let bare = !text.isEmpty && text.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "-._/@^+".unicodeScalars.contains(c)
        }
        return bare ? text : jsonQuote(text)
    }

    private func writeStderr(_ text: String) { StandardStreams.writeError(text) }
}
