import Foundation
import Testing

/// The static binary starts through CShim's start-up (Sources/CShim/static_startup.c): glibc's own, called part by
/// part, without the cpuid probes of its CPU-feature and cache-size set-up. What a missed step would weaken without
/// any visible failure is checked on running crabcan processes: the stack protector's canary and the pointer
/// guard (setjmp, atexit handlers) must be what glibc makes from the kernel's AT_RANDOM bytes, and differ per process.
extension CrabcanCLI {
    #if arch(x86_64)
    static let onX86_64 = true
    #else
    static let onX86_64 = false
    #endif

    /// (canary, pointer guard, AT_RANDOM's two words) of the running process `pid` (Tests/Programs/start-guards.c).
    static func startGuards(of pid: pid_t, probe: String) throws -> [UInt64] {
        let result = Command.run(probe, [String(pid)])
        let words = result.stdout.split(separator: " ").compactMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16) }
        guard result.status == 0, words.count == 4 else { throw SetupError("start-guards \(pid): \(result)") }
        return words
    }

    @Test(.enabled(if: onX86_64, "the guards' places in the thread control block are x86-64's"))
    func theRuntimesCanaryAndPointerGuardAreMadeFromATRandom() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let probe = box.dir + "/start-guards"
        try SeccompFixtures.compile("start-guards", to: probe, isStatic: false)
        let bundle = try box.bundle(["sleep", "30"])
        var canaries: [UInt64] = []
        for name in ["first", "second"] {
            let id = box.id(name)
            // A foreground `run`: the runtime waits for its container, past its start-up and every constructor.
            let run = try box.start(["run", "--bundle", bundle, id])
            #expect(box.waitForStatus(id, "running"))
            let guards = try Self.startGuards(of: run.pid, probe: probe)
            box.crabcan(["kill", id, "KILL"])
            _ = run.wait()
            let (canary, pointerGuard, random0, random1) = (guards[0], guards[1], guards[2], guards[3])
            // glibc's _dl_setup_stack_chk_guard: AT_RANDOM's first word, its low byte zeroed.
            #expect(canary == random0 & ~0xff, "canary \(String(canary, radix: 16)), AT_RANDOM \(String(random0, radix: 16))")
            #expect(canary != 0)
            // _dl_setup_pointer_guard: the second word.
            #expect(pointerGuard == random1 && pointerGuard != 0, "pointer guard \(String(pointerGuard, radix: 16))")
            canaries.append(canary)
        }
        #expect(canaries.count == 2 && canaries[0] != canaries[1])
    }
}
