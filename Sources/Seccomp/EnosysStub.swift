import Sys

/// The program runc (since 1.0.2) puts before every filter whose default is not to allow: a syscall numbered
/// above the highest one the profile names, for its architecture, fails with ENOSYS instead of the default
/// action. A profile written before clone3, close_range or openat2 existed then makes glibc fall back to
/// clone, close and openat (it does so on ENOSYS only; on EPERM thread creation and spawn just fail).
/// Calls the profile names, and those of other architectures, go on to the profile's own program.
enum EnosysStub {
    /// seccomp_data: the syscall number at offset 0, the AUDIT_ARCH_ value at offset 4.
    static let numberOffset: UInt32 = 0
    static let architectureOffset: UInt32 = 4
    /// x32 calls come with the x86_64 AUDIT_ARCH and this bit in their number (__X32_SYSCALL_BIT).
    static let x32Bit: UInt32 = 0x4000_0000
    static let auditX86_64: UInt32 = 0xC000_003E
    static let tokenX32: UInt32 = 0x4000_003E
    /// s390 and s390x multiplex calls the kernel does not know through number 0 (runc answers ENOSYS there too).
    static let tokensS390: Set<UInt32> = [0x0000_0016, 0x8000_0016]
    static let enosys: UInt32 = 0x0005_0000 | 38  // SECCOMP_RET_ERRNO | ENOSYS

    // Classic BPF opcodes (linux/bpf_common.h).
    static let loadWord: UInt16 = 0x20   // BPF_LD | BPF_W | BPF_ABS
    static let jumpAlways: UInt16 = 0x05 // BPF_JMP | BPF_JA
    static let jumpEqual: UInt16 = 0x15  // BPF_JMP | BPF_JEQ | BPF_K
    static let jumpAbove: UInt16 = 0x25  // BPF_JMP | BPF_JGT | BPF_K
    static let jumpBits: UInt16 = 0x45   // BPF_JMP | BPF_JSET | BPF_K
    static let returnConstant: UInt16 = 0x06  // BPF_RET | BPF_K

    /// The stub for `highest` (libseccomp architecture token → highest syscall number the profile names on it;
    /// the tokens are AUDIT_ARCH_ values, except x32's). Empty when no architecture has a named syscall.
    static func program(highest: [UInt32: UInt32]) -> [BPFInstruction] {
        // One section per AUDIT_ARCH; x86_64 and x32 share one, told apart by the x32 bit.
        var sections: [UInt32: [UInt32: UInt32]] = [:]
        for (token, number) in highest {
            sections[token == tokenX32 ? auditX86_64 : token, default: [:]][token] = number
        }
        guard !sections.isEmpty else { return [] }
        var asm = Assembler()
        let filter = asm.newLabel(), fail = asm.newLabel()
        let order = sections.keys.sorted()
        let entries = order.map { _ in asm.newLabel() }
        asm.emit(loadWord, k: architectureOffset)
        for (arch, entry) in zip(order, entries) { asm.jump(jumpEqual, k: arch, ifTrue: entry) }
        asm.always(filter)
        for (arch, entry) in zip(order, entries) {
            asm.place(entry)
            asm.emit(loadWord, k: numberOffset)
            let tokens = sections[arch]!
            if arch == auditX86_64 {
                let x32 = asm.newLabel()
                asm.jump(jumpBits, k: x32Bit, ifTrue: x32)
                if let top = tokens[auditX86_64] { asm.jump(jumpAbove, k: top, ifTrue: fail) }
                asm.always(filter)
                asm.place(x32)
                if let top = tokens[tokenX32] { asm.jump(jumpAbove, k: top, ifTrue: fail) }
                asm.always(filter)
            } else {
                let (token, top) = tokens.first!
                if tokensS390.contains(token) { asm.jump(jumpEqual, k: 0, ifTrue: fail) }
                asm.jump(jumpAbove, k: top, ifTrue: fail)
                asm.always(filter)
            }
        }
        asm.place(fail)
        asm.emit(returnConstant, k: enosys)
        asm.place(filter)
        return asm.assemble()
    }

    /// Labels for forward jumps; conditional jumps fall through when false. Short (8-bit) offsets suffice:
    /// the stub is a few instructions per architecture, a few dozen at most.
    struct Assembler {
        private enum Item {
            case plain(BPFInstruction)
            case conditional(UInt16, k: UInt32, target: Int)
            case always(target: Int)
        }
        private var items: [Item] = []
        private var positions: [Int: Int] = [:]
        private var labels = 0

        mutating func newLabel() -> Int { labels += 1; return labels }
        mutating func place(_ label: Int) { positions[label] = items.count }
        mutating func emit(_ code: UInt16, k: UInt32) { items.append(.plain(BPFInstruction(code: code, k: k))) }
        mutating func jump(_ code: UInt16, k: UInt32, ifTrue target: Int) { items.append(.conditional(code, k: k, target: target)) }
        mutating func always(_ target: Int) { items.append(.always(target: target)) }

        func assemble() -> [BPFInstruction] {
            items.enumerated().map { index, item in
                switch item {
                case .plain(let insn): return insn
                case .conditional(let code, let k, let target):
                    return BPFInstruction(code: code, jt: UInt8(positions[target]! - index - 1), jf: 0, k: k)
                case .always(let target):
                    return BPFInstruction(code: EnosysStub.jumpAlways, k: UInt32(positions[target]! - index - 1))
                }
            }
        }
    }
}
