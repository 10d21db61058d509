import Glibc
import JSON
import Sys

/// Where errors, warnings and debug lines go, as runc sends them: without `--log`, to stderr; with it, to that
/// file, as text or as one JSON object a line (`{"level":"error","msg":"...","time":"..."}`, which containerd's
/// shim decodes line by line for the error it reports), and errors also to stderr. Warnings stay off stderr
/// then because callers parse the combined output of commands such as `state` and `ps` (go-runc).
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
        writeStderr("crabcan: \(Log.oneLine(message))\n")
        toFile(.error, message)
    }

    public func warning(_ message: String) {
        if file == nil { writeStderr("crabcan: warning: \(Log.oneLine(message))\n") }
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
        if file == nil { writeStderr("crabcan: debug: \(text)\n") }
        toFile(.debug, text)
    }

    private func toFile(_ level: Level, _ message: String) {
        guard let file else { return }
        let line: String
        switch format {
        case .json:
            line = "{\"level\":\"\(level.rawValue)\",\"msg\":\(jsonQuote(message)),\"time\":\"\(Clock.rfc3339Now())\"}\n"
        case .text:
            line = "time=\"\(Clock.rfc3339Now())\" level=\(level.rawValue) msg=\(jsonQuote(message))\n"
        }
        try? file.write(line)
    }

    private func writeStderr(_ text: String) { StandardStreams.writeError(text) }
}
