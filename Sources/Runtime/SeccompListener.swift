import Glibc
import JSON
import OCISpec
import StateStore
import Sys

extension Runtime {
    /// Hands the seccomp notify fd to the supervisor at `listenerPath`, as runc does: one message holding the
    /// container process state (`{"ociVersion","fds":["seccompFd"],"pid","metadata","state"}`) with the fd
    /// attached (SCM_RIGHTS). Runs during create as soon as the init has loaded the filter, while it waits
    /// (protocol step 1a): before this the init must make no notified call.
    /// For an `exec`, `pid` is the new process and the container is `running`.
    func sendSeccompListener(_ listener: FileDescriptor, profile: OCISpec.Seccomp, record: ContainerRecord,
                             pid: pid_t? = nil, status: ContainerStatus = .creating) throws {
        guard let path = profile.listenerPath else { return }
        let writer = JSONWriter(pretty: false)
        writer.beginObject()
        writer.field("ociVersion", record.ociVersion)
        writer.field("fds", ["seccompFd"])
        writer.field("pid", Int64(pid ?? record.pid))
        writer.field("metadata", profile.listenerMetadata ?? "")
        writer.key("state")
        writer.value(stateDocument(record, status))
        writer.endObject()
        do {
            let socket = try Channels.connectUnix(path)
            try Channels.sendDescriptor(socket, listener.raw, payload: writer.bytes)
        } catch {
            throw RuntimeError("seccomp listener \(path): \(error)", cause: error)
        }
    }
}
