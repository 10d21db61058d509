import Foundation
import OCISpec
@testable import Seccomp
import Sys
import Testing

/// The binary-tree layout crabcan asks libseccomp for (SeccompProgram.Layout) decides every syscall exactly as the
/// linear one does: both programs of real profiles are run here, in a small classic-BPF interpreter, for every
/// syscall number of every architecture with argument values that reach the argument checks.
@Suite struct SeccompLayoutTests {
    static let x86_64: UInt32 = 0xC000_003E, i386: UInt32 = 0x4000_0003, aarch64: UInt32 = 0xC000_00B7
    static let x32Bit: Int32 = 0x4000_0000

    /// A seccomp_data: nr, arch, instruction pointer, six arguments.
    struct Call {
        var nr: Int32
        var arch: UInt32
        var args: [UInt64]

        func word(at offset: UInt32) -> UInt32? {
            switch offset {
            case 0: return UInt32(bitPattern: nr)
            case 4: return arch
            case 8, 12: return 0
            case 16..<64 where offset % 4 == 0:
                let arg = args[Int(offset - 16) / 8]
                return offset % 8 == 0 ? UInt32(truncatingIfNeeded: arg) : UInt32(truncatingIfNeeded: arg >> 32)
            default: return nil
            }
        }
    }

    /// The return value, or nil for an instruction this interpreter (and a program libseccomp writes) does not have.
    static func run(_ program: [BPFInstruction], _ call: Call) -> UInt32? {
        var a: UInt32 = 0, x: UInt32 = 0, pc = 0
        var scratch = [UInt32](repeating: 0, count: 16)
        while pc < program.count {
            let insn = program[pc]
            pc += 1
            switch insn.code {
            case 0x20: guard let word = call.word(at: insn.k) else { return nil }; a = word  // LD W ABS
            case 0x00: a = insn.k  // LD IMM
            case 0x01: x = insn.k  // LDX IMM
            case 0x60: a = scratch[Int(insn.k & 15)]  // LD MEM
            case 0x61: x = scratch[Int(insn.k & 15)]  // LDX MEM
            case 0x02: scratch[Int(insn.k & 15)] = a  // ST
            case 0x03: scratch[Int(insn.k & 15)] = x  // STX
            case 0x07: x = a  // TAX
            case 0x87: a = x  // TXA
            case 0x54: a &= insn.k  // ALU AND K
            case 0x44: a |= insn.k  // ALU OR K
            case 0x05: pc += Int(insn.k)  // JA
            case 0x15: pc += a == insn.k ? Int(insn.jt) : Int(insn.jf)  // JEQ K
            case 0x25: pc += a > insn.k ? Int(insn.jt) : Int(insn.jf)  // JGT K
            case 0x35: pc += a >= insn.k ? Int(insn.jt) : Int(insn.jf)  // JGE K
            case 0x45: pc += a & insn.k != 0 ? Int(insn.jt) : Int(insn.jf)  // JSET K
            case 0x1d: pc += a == x ? Int(insn.jt) : Int(insn.jf)  // JEQ X
            case 0x2d: pc += a > x ? Int(insn.jt) : Int(insn.jf)  // JGT X
            case 0x3d: pc += a >= x ? Int(insn.jt) : Int(insn.jf)  // JGE X
            case 0x06: return insn.k  // RET K
            case 0x16: return a  // RET A
            default: return nil
            }
        }
        return nil
    }

    /// Every syscall number (native, x32 and i386, and one architecture the profile does not list) with
    /// arguments that are zero, all ones, and the flag values Docker's profile checks (clone's namespace flags,
    /// personality's values, socket's AF_VSOCK).
    static var calls: [Call] {
        let argumentSets: [[UInt64]] = [
            [0, 0, 0, 0, 0, 0], [UInt64.max, UInt64.max, UInt64.max, UInt64.max, UInt64.max, UInt64.max],
            [0x7E02_0000, 0, 0, 0, 0, 0], [0x10000000, 0, 0, 0, 0, 0], [0x0008, 0, 0, 0, 0, 0], [0xffff_ffff, 0, 0, 0, 0, 0],
            [40, 0, 0, 0, 0, 0], [0x20008, 0, 0, 0, 0, 0], [0x0002_0000, 0x7E02_0000, 0, 0, 0, 0],
        ]
        var calls: [Call] = []
        for nr in Int32(0)..<600 {
            for args in argumentSets {
                calls.append(Call(nr: nr, arch: x86_64, args: args))
                calls.append(Call(nr: nr | x32Bit, arch: x86_64, args: args))
                calls.append(Call(nr: nr, arch: i386, args: args))
            }
            calls.append(Call(nr: nr, arch: aarch64, args: [0, 0, 0, 0, 0, 0]))
        }
        return calls
    }

    func expectSameDecisions(_ profile: OCISpec.Seccomp, _ name: String) throws {
        var problems: [SeccompError] = []
        let linear = try #require(SeccompProgram(profile, problems: &problems, layout: .linear), "\(name): \(problems)")
        let tree = try #require(SeccompProgram(profile, problems: &problems, layout: .binaryTree), "\(name): \(problems)")
        #expect(linear.instructions != tree.instructions, "\(name): the layout changed nothing")
        var differing = 0
        for call in Self.calls {
            let expected = Self.run(linear.instructions, call)
            #expect(expected != nil, "\(name): the interpreter cannot run the linear program")
            if Self.run(tree.instructions, call) != expected {
                differing += 1
                if differing <= 5 { Issue.record("\(name): nr \(call.nr) arch \(call.arch) args \(call.args): tree \(String(describing: Self.run(tree.instructions, call))), linear \(String(describing: expected))") }
            }
        }
        #expect(differing == 0, "\(name): \(differing) of \(Self.calls.count) calls decided differently")
    }

    static let foreign = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Golden/foreign").path

    @Test(arguments: ["docker-run.json", "podman-run.json"]) func foreignProfilesDecideTheSameInBothLayouts(_ file: String) throws {
        let path = Self.foreign + "/" + file
        try #require(FileManager.default.fileExists(atPath: path), "\(path)")
        let spec = try Spec.decode(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        try expectSameDecisions(try #require(spec.linux?.seccomp, "\(file) has no profile"), file)
    }

    @Test func theDefaultProfileDecidesTheSameInBothLayouts() throws {
        try expectSameDecisions(.defaultProfile, "crabcan spec")
    }
}
