import Glibc
import OCISpec
import Sys

/// The six hook points of config.md, named as in config.json.
package enum HookKind: String, Sendable {
    case prestart, createRuntime, createContainer, startContainer, poststart, poststop
}

/// A hook that did not succeed: its kind, path and why (exit status, signal, timeout, exec failure) with the
/// last line it wrote, so the command's one error line says which hook and what it said.
package struct HookFailure: Error, Sendable, CustomStringConvertible {
    package var kind: HookKind
    package var path: String
    package var reason: String
    package var description: String { "\(kind.rawValue) hook \(path): \(reason)" }
}

package enum HookRunner {
    /// Runs `hooks` in order with the container's state JSON on stdin; stops at the first that fails.
    /// `directory` is the hook's working directory (the rootfs for createContainer).
    package static func run(_ hooks: [Hook], kind: HookKind, state: [UInt8], directory: String? = nil) throws(HookFailure) {
        for hook in hooks { try runOne(hook, kind: kind, state: state, directory: directory) }
    }

    static func runOne(_ hook: Hook, kind: HookKind, state: [UInt8], directory: String?) throws(HookFailure) {
        func failure(_ reason: String) -> HookFailure { HookFailure(kind: kind, path: hook.path, reason: reason) }
        let stdin: FileDescriptor, output: (FileDescriptor, FileDescriptor), pid: pid_t
        do {
            stdin = try Files.memoryFile("state.json", state)
            output = try Channels.pipe()
            pid = try Processes.fork()
        } catch {
            throw failure("\(error)")
        }
        if pid == 0 { execHook(hook, stdin: stdin, output: output.1, directory: directory) }
        output.1.close()
        stdin.close()
        return try superviseHook(hook, pid: pid, output: output.0, failure: failure)
    }

    /// In the forked child: the state on stdin, stdout and stderr to the parent's pipe, nothing else open,
    /// default signals (a `run` parent blocks them all), exactly the hook's env (config.md: like execve's).
    private static func execHook(_ hook: Hook, stdin: FileDescriptor, output: FileDescriptor, directory: String?) -> Never {
        do {
            try Processes.dup2(stdin.raw, 0)
            try Processes.dup2(output.raw, 1)
            try Processes.dup2(output.raw, 2)
            try Processes.closeDescriptors(from: 3, except: [])
            if let directory { try Files.chdir(directory) }
        } catch {
            StandardStreams.writeError("\(error)\n")
            Processes.exit(127)
        }
        Channels.resetSignals()
        let error = Processes.exec(path: hook.path, arguments: hook.args.isEmpty ? [hook.path] : hook.args,
                                   environment: hook.env)
        StandardStreams.writeError("\(error)\n")
        Processes.exit(127)
    }

    /// Collects what the hook writes until it exits or its timeout passes (then it is killed).
    private static func superviseHook(_ hook: Hook, pid: pid_t, output: FileDescriptor,
                                      failure: (String) -> HookFailure) throws(HookFailure) {
        var written: [UInt8] = []
        var status: ExitStatus?
        do {
            let process = try Processes.pidfd(pid)
            try output.setNonBlocking()
            let deadline = hook.timeout.map { Clock.monotonicMilliseconds() + Int64($0) * 1000 }
            var outputOpen = true
            while status == nil {
                let wait = deadline.map { Int32(clamping: max(0, $0 - Clock.monotonicMilliseconds())) } ?? -1
                let ready = try Channels.poll(outputOpen ? [Int(process.raw), Int(output.raw)] : [Int(process.raw)], timeoutMilliseconds: wait)
                if ready.isEmpty {
                    _ = try? Processes.signal(pidfd: process, SIGKILL)
                    _ = try? Processes.wait(pid)
                    throw failure("timed out after \(hook.timeout ?? 0) s")
                }
                if ready.contains(1) { outputOpen = keepTail(output, &written) }
                if ready.contains(0) { status = try Processes.wait(pid).status }
            }
            _ = keepTail(output, &written)  // what it wrote just before exiting (a grandchild may hold the pipe)
        } catch let error as HookFailure {
            throw error
        } catch {
            throw failure("\(error)")
        }
        let said = lastLine(written)
        switch status {
        case .exited(0): return
        case .exited(let code): throw failure("exited with status \(code)" + (said.isEmpty ? "" : ": \(said)"))
        case .signaled(let signal): throw failure("killed by signal \(signal)" + (said.isEmpty ? "" : ": \(said)"))
        case nil: return
        }
    }

    /// Reads what is there, keeping the last 4 KiB; false at end of file.
    private static func keepTail(_ output: FileDescriptor, _ written: inout [UInt8]) -> Bool {
        while true {
            guard let chunk = try? output.read(count: 4096) else { return true }  // EAGAIN: nothing more now
            if chunk.isEmpty { return false }
            written += chunk
            if written.count > 4096 { written.removeFirst(written.count - 4096) }
        }
    }

    static func lastLine(_ bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.split(separator: "\n").last.map { String($0.prefix(300)) } ?? ""
    }
}
