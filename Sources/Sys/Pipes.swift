import CShim
import Glibc

extension Channels {
    /// A close-on-exec pipe: (read end, write end).
    package static func pipe() throws(SysError) -> (FileDescriptor, FileDescriptor) {
        try descriptorPair("pipe2") { cshim_pipe_cloexec($0) }
    }
}

extension Files {
    /// An anonymous in-memory file holding `bytes`, positioned at its start: a stdin that never blocks the writer.
    package static func memoryFile(_ name: String, _ bytes: [UInt8]) throws(SysError) -> FileDescriptor {
        let fd = FileDescriptor(try check("memfd_create", name) { cshim_memfd_create(name) })
        try fd.write(bytes)
        try check("lseek", name) { lseek(fd.raw, 0, SEEK_SET) }
        return fd
    }
}
