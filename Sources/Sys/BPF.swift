import CShim
import Glibc

/// The two bpf(2) calls cgroup v2 device control needs.
public enum BPF {
    /// Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (8-byte instructions); a refusal carries the verifier's log.
    public static func loadDeviceProgram(_ instructions: [UInt64]) throws(SysError) -> FileDescriptor {
        var log = [CChar](repeating: 0, count: 4096)
        let fd = instructions.withUnsafeBytes { code in
            cshim_bpf_load_device_program(code.baseAddress, UInt32(instructions.count), &log, UInt32(log.count))
        }
        if fd < 0 {
            let saved = errno
            let verifier = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw SysError("bpf load device program" + (verifier.isEmpty ? "" : " (\(verifier.split(separator: "\n").last ?? ""))"),
                           errno: saved)
        }
        return FileDescriptor(fd)
    }

    public static func attachDeviceProgram(_ program: FileDescriptor, toCgroup directory: String) throws(SysError) {
        let cgroup = try Files.open(directory, O_RDONLY | O_DIRECTORY)
        try check("bpf attach device program", directory) { cshim_bpf_attach_device_program(cgroup.raw, program.raw) }
    }
}
