import Glibc
import JSON
import Sys

/// Signal names as `kill` takes them: `TERM`, `SIGTERM`, `15`, `RTMIN+3` (runc's rules).
package enum SignalNames {
    static let table: [(String, Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("ILL", SIGILL), ("TRAP", SIGTRAP), ("ABRT", SIGABRT),
        ("IOT", SIGIOT), ("BUS", SIGBUS), ("FPE", SIGFPE), ("KILL", SIGKILL), ("USR1", SIGUSR1), ("SEGV", SIGSEGV),
        ("USR2", SIGUSR2), ("PIPE", SIGPIPE), ("ALRM", SIGALRM), ("TERM", SIGTERM), ("STKFLT", SIGSTKFLT),
        ("CHLD", SIGCHLD), ("CONT", SIGCONT), ("STOP", SIGSTOP), ("TSTP", SIGTSTP), ("TTIN", SIGTTIN),
        ("TTOU", SIGTTOU), ("URG", SIGURG), ("XCPU", SIGXCPU), ("XFSZ", SIGXFSZ), ("VTALRM", SIGVTALRM),
        ("PROF", SIGPROF), ("WINCH", SIGWINCH), ("IO", SIGIO), ("POLL", SIGPOLL), ("PWR", SIGPWR), ("SYS", SIGSYS),
    ]

    package static func parse(_ text: String) throws(RuntimeError) -> Int32 {
        if let number = Int32(text) {
            // 0 checks that the container is alive, as kill(1) does (runc takes it; containerd sends `kill --all ID 0`).
            guard number >= 0 && number <= 64 else { throw RuntimeError("invalid signal \(text)") }
            return number
        }
        var name = text.asciiUppercased()
        if name.hasBytePrefix("SIG") { name.removeFirst(3) }
        if let entry = table.first(where: { $0.0 == name }) { return entry.1 }
        let rtmin: Int32 = 34, rtmax: Int32 = 64
        if name == "RTMIN" { return rtmin }
        if name == "RTMAX" { return rtmax }
        if name.hasBytePrefix("RTMIN+"), let offset = Int32(name.dropFirst(6)), rtmin + offset <= rtmax { return rtmin + offset }
        if name.hasBytePrefix("RTMAX-"), let offset = Int32(name.dropFirst(6)), rtmax - offset >= rtmin { return rtmax - offset }
        throw RuntimeError("unknown signal \(jsonQuote(text))")
    }
}
