import OCISpec
import Sys

/// cgroup v2 has no devices.allow/deny: device access is decided by a BPF_PROG_TYPE_CGROUP_DEVICE program
/// attached to the cgroup. This one gives the answer the same rules would give written to v1's files:
/// the last "all devices, rwm" rule sets the default (allow when there is none, as a v1 child inherits),
/// and of the rules after it the last that matches decides.
package struct DeviceProgram: Sendable, Equatable {
    package let instructions: [UInt64]

    // The kernel's bpf_cgroup_dev_ctx: access_type (access << 16 | type), major, minor; all u32.
    static let blockDevice: Int32 = 1, charDevice: Int32 = 2  // BPF_DEVCG_DEV_*
    static let mknod: Int32 = 1, read: Int32 = 2, write: Int32 = 4  // BPF_DEVCG_ACC_*

    package init(rules: [DeviceCgroupRule]) {
        var defaultAllow = true
        var effective = rules
        if let reset = rules.lastIndex(where: { DeviceProgram.isAllDevices($0) }) {
            defaultAllow = rules[reset].allow
            effective = Array(rules[(reset + 1)...])
        }
        var code: [Instruction] = [
            .loadWord(.r2, from: .r1, offset: 0),
            .move(.r3, .r2), .and(.r3, 0xFFFF),          // type
            .move(.r4, .r2), .shiftRight(.r4, 16),       // requested access
            .loadWord(.r5, from: .r1, offset: 4),        // major
            .loadWord(.r6, from: .r1, offset: 8),        // minor
        ]
        for rule in effective.reversed() { code += DeviceProgram.block(rule) }
        code += [.moveImmediate(.r0, defaultAllow ? 1 : 0), .exit]
        instructions = code.map(\.encoded)
    }

    /// Loads the program and attaches it to the cgroup directory (alongside any others: BPF_F_ALLOW_MULTI).
    package func attach(to directory: String) throws {
        let program = try BPF.loadDeviceProgram(instructions)
        try BPF.attachDeviceProgram(program, toCgroup: directory)
    }

    static func isAllDevices(_ rule: DeviceCgroupRule) -> Bool {
        typeCode(rule) == nil && wildcard(rule.major) && wildcard(rule.minor) && accessBits(rule) == mknod | read | write
    }

    static func typeCode(_ rule: DeviceCgroupRule) -> Int32? {
        switch rule.type {
        case "c": return charDevice
        case "b": return blockDevice
        default: return nil  // "a" or absent: every type
        }
    }

    static func wildcard(_ number: Int64?) -> Bool { number == nil || number == -1 }

    static func accessBits(_ rule: DeviceCgroupRule) -> Int32 {
        let access = rule.permissions
        return (access.contains("m") ? mknod : 0) | (access.contains("r") ? read : 0) | (access.contains("w") ? write : 0)
    }

    /// "If the request matches this rule, answer its verdict", each mismatch jumping past the block.
    static func block(_ rule: DeviceCgroupRule) -> [Instruction] {
        var tests: [[Instruction]] = []
        if let type = typeCode(rule) { tests.append([.jumpIfNotEqual(.r3, type, skip: 0)]) }
        let access = accessBits(rule)
        if access != mknod | read | write {
            // allow: every requested bit must be granted; deny: any requested bit denied is enough.
            tests.append(rule.allow
                ? [.move(.r7, .r4), .and(.r7, ~access & 7), .jumpIfNotEqual(.r7, 0, skip: 0)]
                : [.move(.r7, .r4), .and(.r7, access), .jumpIfEqual(.r7, 0, skip: 0)])
        }
        if !wildcard(rule.major) { tests.append([.jumpIfNotEqual(.r5, Int32(truncatingIfNeeded: rule.major!), skip: 0)]) }
        if !wildcard(rule.minor) { tests.append([.jumpIfNotEqual(.r6, Int32(truncatingIfNeeded: rule.minor!), skip: 0)]) }
        var block = tests.flatMap { $0 } + [.moveImmediate(.r0, rule.allow ? 1 : 0), .exit]
        for index in block.indices { block[index] = block[index].jumping(to: block.count, from: index) }
        return block
    }
}

/// The few eBPF instructions the device program uses (linux/bpf.h: struct bpf_insn, 8 bytes, little-endian).
enum Instruction: Equatable {
    enum Register: UInt8 { case r0 = 0, r1, r2, r3, r4, r5, r6, r7 }
    case loadWord(Register, from: Register, offset: Int16)
    case move(Register, Register)
    case moveImmediate(Register, Int32)
    case and(Register, Int32)
    case shiftRight(Register, Int32)
    case jumpIfNotEqual(Register, Int32, skip: Int16)
    case jumpIfEqual(Register, Int32, skip: Int16)
    case exit

    /// A jump in a block of `count` instructions at `index` goes to the end of the block.
    func jumping(to count: Int, from index: Int) -> Instruction {
        switch self {
        case .jumpIfNotEqual(let r, let v, _): return .jumpIfNotEqual(r, v, skip: Int16(count - index - 1))
        case .jumpIfEqual(let r, let v, _): return .jumpIfEqual(r, v, skip: Int16(count - index - 1))
        default: return self
        }
    }

    var encoded: UInt64 {
        func pack(_ code: UInt8, _ dst: Register, _ src: Register = .r0, _ offset: Int16 = 0, _ immediate: Int32 = 0) -> UInt64 {
            UInt64(code) | UInt64(dst.rawValue | src.rawValue << 4) << 8 | UInt64(UInt16(bitPattern: offset)) << 16
                | UInt64(UInt32(bitPattern: immediate)) << 32
        }
        switch self {
        case .loadWord(let dst, let src, let offset): return pack(0x61, dst, src, offset)      // BPF_LDX|BPF_MEM|BPF_W
        case .move(let dst, let src): return pack(0xBF, dst, src)                             // BPF_ALU64|BPF_MOV|BPF_X
        case .moveImmediate(let dst, let value): return pack(0xB7, dst, .r0, 0, value)        // BPF_ALU64|BPF_MOV|BPF_K
        case .and(let dst, let value): return pack(0x57, dst, .r0, 0, value)                  // BPF_ALU64|BPF_AND|BPF_K
        case .shiftRight(let dst, let value): return pack(0x77, dst, .r0, 0, value)           // BPF_ALU64|BPF_RSH|BPF_K
        case .jumpIfNotEqual(let dst, let value, let skip): return pack(0x55, dst, .r0, skip, value)  // BPF_JMP|BPF_JNE|BPF_K
        case .jumpIfEqual(let dst, let value, let skip): return pack(0x15, dst, .r0, skip, value)     // BPF_JMP|BPF_JEQ|BPF_K
        case .exit: return pack(0x95, .r0)                                                    // BPF_JMP|BPF_EXIT
        }
    }
}
