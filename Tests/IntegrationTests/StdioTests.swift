import Foundation
import Testing

/// Issue 6: stdio passes through as the caller gives it; socket-activation fds (LISTEN_FDS) and
/// --preserve-fds reach the container, in runc's order, and nothing else does.
extension CrabcanCLI {
    @Test func stdioPipesAndFifosPassThrough() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["sh", "-c", "read line; echo got:$line; echo err >&2; ls -l /proc/self/fd/0 /proc/self/fd/1"])
        let fifo = box.dir + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let script = "(echo through-fifo > \"$4\" &) ; echo unused | \"$0\" --root \"$1\" run --bundle \"$2\" \"$3\" < \"$4\" 2>&1 | cat"
        let result = Command.run("/bin/sh", ["-c", script, Paths.binary, box.root, bundle, box.id("stdio"), fifo])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("got:through-fifo"), "\(result)")
        #expect(result.stdout.contains("err"), "stderr reached the caller's pipe: \(result)")
        #expect(result.stdout.contains("pipe:["), "stdout is the caller's pipe: \(result)")
        let devnull = Command.run("/bin/sh", ["-c", "\"$0\" --root \"$1\" run --bundle \"$2\" \"$3\" < /dev/null",
                                              Paths.binary, box.root, bundle, box.id("devnull")])
        #expect(devnull.status == 0 && devnull.stdout.contains("got:") && devnull.stdout.contains("/dev/null"), "\(devnull)")
    }

    @Test func socketActivationFdsComeBeforePreservedOnes() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try "activated\n".write(toFile: box.dir + "/listen", atomically: true, encoding: .utf8)
        try "preserved\n".write(toFile: box.dir + "/extra", atomically: true, encoding: .utf8)
        let bundle = try box.bundle(["sh", "-c", "cat <&3; cat <&4; echo $LISTEN_FDS $LISTEN_PID; ls /proc/$$/fd | tr '\\n' ' '"])
        // exec keeps the shell's pid, so LISTEN_PID names crabcan; fd 5 is neither activated nor preserved.
        let script = "exec 3<\"$4/listen\" 4<\"$4/extra\" 5</etc/hostname; LISTEN_FDS=1 LISTEN_PID=$$ exec \"$0\" --root \"$1\" run --preserve-fds 1 --bundle \"$2\" \"$3\""
        let result = Command.run("/bin/sh", ["-c", script, Paths.binary, box.root, bundle, box.id("listen"), box.dir])
        #expect(result.status == 0, "\(result)")
        let lines = result.stdoutLines
        #expect(lines.prefix(3) == ["activated", "preserved", "1 1"], "\(result)")
        let fds = (lines.last ?? "").split(separator: " ").compactMap { Int($0) }
        #expect(!fds.contains(5), "an fd that was neither activated nor preserved leaked: \(result)")
        // LISTEN_FDS meant for another process is not ours to pass on.
        let other = "exec 3<\"$4/listen\"; LISTEN_FDS=1 LISTEN_PID=1 exec \"$0\" --root \"$1\" run --bundle \"$2\" \"$3\""
        let notOurs = Command.run("/bin/sh", ["-c", other, Paths.binary, box.root, bundle, box.id("notours"), box.dir])
        #expect(!notOurs.stdout.contains("activated"), "\(notOurs)")
    }
}
