import Glibc
import Sys

/// A failed CRIU run: what criu said (its errno and message when it gave one), and where its log is.
package struct CriuFailure: Error, CustomStringConvertible {
    package var description: String
}

/// `criu swrk 3`: CRIU as a child serving one request over a SOCK_SEQPACKET socketpair (its fd 3), as runc
/// drives it. The images and work directories go by fd: criu opens them through /proc/<our pid>/fd.
package enum CriuSwrk {
    /// Where criu is looked for when PATH has none (it lives in sbin, which a user's PATH may lack).
    static let fallbackPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// `name` (runc's --criu, default "criu") as a path, looked up in PATH when it has no slash.
    package static func executable(_ name: String = "criu") throws -> String {
        let path = Processes.environment().first { $0.hasBytePrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? ""
        guard let found = Processes.findExecutable(name, searchPath: path.isEmpty ? fallbackPath : path + ":" + fallbackPath) else {
            throw CriuFailure(description: name == "criu" ? "criu is not installed (no criu in PATH; Debian package criu)"
                                                          : "\(name): no such executable (--criu)")
        }
        return found
    }

    /// How criu locks the container's network while it works (criu_network_lock_method; nil: criu's default,
    /// iptables). Sharing the host's network namespace without --tcp-established, the default locks nothing (criu
    /// 3.17 locks only a namespace of the container's, or its TCP connections), while nftables would leave a
    /// table named by the dumped pid that restore then fails to find. Otherwise iptables where iptables-restore
    /// exists, else nftables through libnftables (linked into criu).
    package static func networkLockMethod(ownNetworkNamespace: Bool, tcpEstablished: Bool) -> Int32? {
        if !ownNetworkNamespace && !tcpEstablished { return nil }
        let path = Processes.environment().first { $0.hasBytePrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? ""
        return Processes.findExecutable("iptables-restore", searchPath: path + ":" + fallbackPath) == nil ? 2 : nil
    }

    /// Runs `request`. criu's stdin, stdout and stderr are `stdio` (restore: ours, which the restored process
    /// inherits), else /dev/null as runc gives them (criu writes to its log; a pre-dump's end-of-requests
    /// complaint goes nowhere); `extraFDs` become its fds 4, 5, ...
    /// `prepare` runs once criu exists, before the request is sent (restore puts criu into the container's cgroup
    /// there and names that cgroup in the request). `notify` answers each notification (a `post-restore` with
    /// the restored pid, an `orphan-pts-master` with the terminal's master fd); throwing from it makes criu roll
    /// back. Returns criu's final answer.
    package static func run(_ request: CriuRequest, criu name: String = "criu", stdio: [Int32]? = nil, extraFDs: [Int32] = [],
                           prepare: (pid_t, inout CriuRequest) throws -> Void = { _, _ in },
                           notify: (CriuResponse, FileDescriptor?) throws -> Void = { _, _ in }) throws -> CriuResponse {
        let criu = try executable(name)
        let null = stdio == nil ? try Files.open("/dev/null", O_RDWR | O_CLOEXEC) : nil
        defer { null?.close() }
        let (client, server) = try Channels.seqpacketPair()
        let pid: pid_t
        do {
            pid = try Processes.spawn(path: criu, arguments: ["criu", "swrk", "3"], environment: Processes.environment(),
                                      descriptors: (stdio ?? [null!.raw, null!.raw, null!.raw]) + [server.raw] + extraFDs)
        } catch {
            client.close()
            server.close()
            throw error
        }
        server.close()
        var reaped = false
        defer {
            client.close()
            if !reaped { _ = try? Processes.wait(pid) }
        }
        var request = request
        try prepare(pid, &request)
        try Channels.send(client, request.encoded())
        var answer: CriuResponse
        while true {
            let (data, fd) = try Channels.receiveWithDescriptor(client, capacity: 10 * 4096)
            if data.isEmpty {
                let status = try Processes.wait(pid).status
                reaped = true
                throw CriuFailure(description: "criu exited before answering (\(describe(status)))")
            }
            answer = try CriuResponse(data)
            if !answer.success {
                fd?.close()
                var text = "criu failed: type \(answer.typeName) errno \(answer.errno ?? 0)"
                if let message = answer.errorMessage, !message.isEmpty { text += ": \(message)" }
                throw CriuFailure(description: text)
            }
            guard answer.type == CriuRequestType.notify.rawValue else { break }
            do {
                defer { fd?.close() }
                try notify(answer, fd)
            }
            try Channels.send(client, CriuRequest(type: .notify, notifySuccess: true).encoded())
        }
        // End of requests; what criu still sends is read, so its last read never sees a reset connection.
        try? Channels.shutdownWrite(client)
        while let more = try? Channels.receive(client, capacity: 10 * 4096), !more.isEmpty {}
        let status = try Processes.wait(pid).status
        reaped = true
        if status != .exited(0) && request.type != .preDump {
            throw CriuFailure(description: "criu failed: \(describe(status))")
        }
        return answer
    }

    static func describe(_ status: ExitStatus?) -> String {
        switch status {
        case .exited(let code)?: "exit status \(code)"
        case .signaled(let signal)?: "killed by signal \(signal)"
        case nil: "still running"
        }
    }

    /// The lines of criu's log around its errors (what runc quotes): the line with "Error" and up to 5 before.
    package static func errorLines(log path: String) -> [String] {
        guard let text = try? Files.readText(path) else { return [] }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var picked = Set<Int>()
        for (index, line) in lines.enumerated() where line.containsText("Error") {
            for i in max(0, index - 5)...index { picked.insert(i) }
        }
        return picked.sorted().suffix(20).map { lines[$0] }
    }
}
