import CShim
import Glibc

/// One classic-BPF instruction (struct sock_filter), as seccomp(2) runs them.
package struct BPFInstruction: Equatable, Sendable, CustomStringConvertible {
    package var code: UInt16
    package var jt: UInt8
    package var jf: UInt8
    package var k: UInt32

    package init(code: UInt16, jt: UInt8 = 0, jf: UInt8 = 0, k: UInt32 = 0) {
        self.code = code
        self.jt = jt
        self.jf = jf
        self.k = k
    }

    package var description: String { "{code: 0x\(String(code, radix: 16)), jt: \(jt), jf: \(jf), k: 0x\(String(k, radix: 16))}" }
}

/// Installing a seccomp filter program, and the flags seccomp(2) takes with it (linux/seccomp.h).
package enum SeccompFilter {
    package static let flagTSync: UInt32 = 1 << 0
    package static let flagLog: UInt32 = 1 << 1
    package static let flagSpecAllow: UInt32 = 1 << 2
    package static let flagNewListener: UInt32 = 1 << 3
    package static let flagTSyncESRCH: UInt32 = 1 << 4
    package static let flagWaitKillableRecv: UInt32 = 1 << 5

    /// struct sock_filter is 8 bytes in native byte order: u16 code, u8 jt, u8 jf, u32 k.
    static let instructionSize = 8

    /// The program as a sock_filter array (what libseccomp's seccomp_export_bpf writes); nil when the size is off.
    package static func decode(_ bytes: [UInt8]) -> [BPFInstruction]? {
        guard bytes.count % instructionSize == 0 else { return nil }
        return stride(from: 0, to: bytes.count, by: instructionSize).map { at in
            let code = UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
            var k = UInt32(bytes[at + 4]) | UInt32(bytes[at + 5]) << 8
            k |= UInt32(bytes[at + 6]) << 16 | UInt32(bytes[at + 7]) << 24
            return BPFInstruction(code: UInt16(littleEndian: code), jt: bytes[at + 2], jf: bytes[at + 3], k: UInt32(littleEndian: k))
        }
    }

    package static func encode(_ program: [BPFInstruction]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(program.count * instructionSize)
        for insn in program {
            let code = insn.code.littleEndian, k = insn.k.littleEndian
            bytes += [UInt8(truncatingIfNeeded: code), UInt8(truncatingIfNeeded: code >> 8), insn.jt, insn.jf,
                      UInt8(truncatingIfNeeded: k), UInt8(truncatingIfNeeded: k >> 8),
                      UInt8(truncatingIfNeeded: k >> 16), UInt8(truncatingIfNeeded: k >> 24)]
        }
        return bytes
    }

    /// seccomp(SECCOMP_SET_MODE_FILTER): the program applies from the next syscall on. `encoded` comes from
    /// `encode`, made beforehand, so this allocates nothing. Returns the listener fd with flagNewListener.
    package static func install(encoded: [UInt8], flags: UInt32) throws(SysError) -> Int32? {
        let count = UInt16(encoded.count / instructionSize)
        let rc = encoded.withUnsafeBytes { cshim_seccomp_set_filter($0.baseAddress, count, flags) }
        if rc == -1 { throw SysError("seccomp set filter") }
        return flags & flagNewListener != 0 ? rc : nil
    }
}

extension Processes {
    /// A copy of fd `fd` of process `pid` (pidfd_getfd, Linux 5.6): needs ptrace access to it.
    package static func takeDescriptor(_ fd: Int32, from pid: pid_t) throws(SysError) -> FileDescriptor {
        FileDescriptor(try check("pidfd_getfd \(pid) fd \(fd)") { cshim_pidfd_getfd(pid, fd) })
    }
}

/// execve's arguments as C strings, made in advance: once a seccomp filter is in place, nothing but execve
/// may run, not even the allocations converting them would make.
package final class PreparedExec {
    private let path: UnsafeMutablePointer<CChar>
    private let arguments: CStringVector
    private let environment: CStringVector
    package let pathName: String

    package init(path: String, arguments: [String], environment: [String]) {
        pathName = path
        self.path = strdup(path)!
        self.arguments = CStringVector(arguments)
        self.environment = CStringVector(environment)
    }

    deinit {
        free(path)
        arguments.free()
        environment.free()
    }

    /// The C strings execve takes, for an end that calls it from C (SharedAddressSpace.finish).
    func withCArguments(_ body: (UnsafePointer<CChar>, UnsafePointer<UnsafeMutablePointer<CChar>?>,
                                         UnsafePointer<UnsafeMutablePointer<CChar>?>) -> Never) -> Never {
        body(path, arguments.pointers, environment.pointers)
    }

    /// Never returns on success.
    package func exec() -> SysError {
        execve(path, arguments.pointers, environment.pointers)
        return SysError("exec", path: pathName)
    }
}

/// argv or envp as execve takes them, in one allocation: the NULL-terminated pointers, then the strings they point
/// to. (An array of optional pointers and a strdup per string cost a generic class instantiation and a malloc each.)
struct CStringVector {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

    init(_ strings: [String]) {
        let vectorBytes = (strings.count + 1) * MemoryLayout<UnsafeMutablePointer<CChar>?>.stride
        var total = vectorBytes
        for string in strings { total += string.utf8.count + 1 }
        let block = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: MemoryLayout<UnsafeMutablePointer<CChar>?>.alignment)
        pointers = block.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: strings.count + 1)
        var offset = vectorBytes
        for (index, string) in strings.enumerated() {
            let count = string.utf8.count
            let text = (block + offset).bindMemory(to: CChar.self, capacity: count + 1)
            string.withCString { text.update(from: $0, count: count + 1) }
            pointers[index] = text
            offset += count + 1
        }
        pointers[strings.count] = nil
    }

    func free() { UnsafeMutableRawPointer(pointers).deallocate() }
}
