import CShim
import Glibc

/// The two bpf(2) calls cgroup v2 device control needs.
package enum BPF {
    /// Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (8-byte instructions); a refusal carries the verifier's message.
    /// The load asks for no log: with one the kernel fails the load (ENOSPC) when the verifier's trace outgrows the
    /// buffer, which a few dozen rules do at 4 KiB. Only a refused program is loaded again, with a log, to say why.
    package static func loadDeviceProgram(_ instructions: [UInt64]) throws(SysError) -> FileDescriptor {
        let fd = instructions.withUnsafeBytes { code in
            cshim_bpf_load_device_program(code.baseAddress, UInt32(instructions.count), nil, 0)
        }
        if fd >= 0 { return FileDescriptor(fd) }
        let saved = errno
        // 1 MiB holds the whole trace of any program a rule list makes; kernels since 6.4 keep its tail (the error) anyway.
        var log = [CChar](repeating: 0, count: 1 << 20)
        let retry = instructions.withUnsafeBytes { code in
            cshim_bpf_load_device_program(code.baseAddress, UInt32(instructions.count), &log, UInt32(log.count))
        }
        if retry >= 0 { return FileDescriptor(retry) }
        let verifier = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let message = verifier.split(separator: "\n").last(where: { !$0.hasBytePrefix("processed ") && !$0.isEmpty })
            ?? verifier.split(separator: "\n").last
        throw SysError("bpf load device program" + (message.map { " (\($0))" } ?? ""), errno: saved)
    }

    package static func attachDeviceProgram(_ program: FileDescriptor, toCgroup directory: String) throws(SysError) {
        let cgroup = try Files.open(directory, O_RDONLY | O_DIRECTORY)
        try check("bpf attach device program", directory) { cshim_bpf_attach_device_program(cgroup.raw, program.raw) }
    }
}
