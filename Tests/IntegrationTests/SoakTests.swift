import Foundation
import Testing

/// Issue 8, leak soak: create/start/(exit)/delete cycles, each checked for what it could leave (its state dir,
/// its cgroup dirs in every hierarchy, zombies), and the host as a whole (mounts, files under --root, this
/// caller's fds, zombies) compared with where it started every `checkEvery` cycles and at the end.
/// `make test` runs a short soak; `make soak` runs SOAK_CYCLES (default 1000) and prints the figures.
extension CrabcanCLI {
    static let soakCycles = Int(ProcessInfo.processInfo.environment["SOAK_CYCLES"] ?? "") ?? 100

    @Test func soakCyclesLeaveNothingBehind() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let cycles = Self.soakCycles
        let checkEvery = 100
        // The container runs a command and exits, as a job would; pids limited so the cgroup is real work.
        let bundle = try box.bundle(["true"]) { Self.withResources(&$0, ["pids": ["limit": 20]]) }

        var leaks: [String] = []
        /// One cycle; nil when a command failed (the failure is recorded).
        func cycle(_ id: String) -> Double? {
            let started = Date()
            let create = box.crabcan(["create", "--bundle", bundle, id])
            let start = create.status == 0 ? box.crabcan(["start", id]) : create
            guard create.status == 0, start.status == 0 else {
                leaks.append("\(id): create/start failed: \(create.status == 0 ? start : create)")
                return nil
            }
            if !eventually(timeout: 10, { box.status(id) == "stopped" }) {
                leaks.append("\(id): never stopped: \(String(describing: box.state(id)))")
            }
            let delete = box.crabcan(["delete", id])
            let elapsed = Date().timeIntervalSince(started)
            if delete.status != 0 { leaks.append("\(id): delete failed: \(delete)") }
            // What this cycle alone could have left.
            if !box.rootEntries().isEmpty { leaks.append("\(id): --root holds \(box.rootEntries())") }
            let cgroups = HostSnapshot.cgroupDirs(id)
            if !cgroups.isEmpty { leaks.append("\(id): cgroups left: \(cgroups)") }
            return elapsed
        }

        // One cycle first, so that what the first run opens for good (in this test process) is in the baseline.
        _ = cycle(box.id("soak-warmup"))
        let before = HostSnapshot.take(root: box.root, ids: [])
        var times: [Double] = []
        let soakStarted = Date()
        for n in 1...cycles {
            if let time = cycle(box.id("soak")) { times.append(time) }
            if n % checkEvery == 0 || n == cycles {
                let found = HostSnapshot.take(root: box.root, ids: []).leaks(since: before)
                leaks += found.map { "after \(n) cycles: \($0)" }
            }
        }
        let total = Date().timeIntervalSince(soakStarted)

        let sorted = times.sorted()
        func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        let after = HostSnapshot.take(root: box.root, ids: [])
        print("""
            soak: \(cycles) create/start/delete cycles in \(String(format: "%.1f", total)) s: \
            \(ms(total / Double(cycles))) per cycle (median \(ms(percentile(0.5))), p95 \(ms(percentile(0.95))), \
            max \(ms(sorted.last ?? 0))); leaks found: \(leaks.count)
            soak: mounts \(before.mounts.count) -> \(after.mounts.count), files under --root \(before.rootFiles.count) \
            -> \(after.rootFiles.count), caller fds \(before.fds) -> \(after.fds), zombies \(before.zombies.count) \
            -> \(after.zombies.count)
            """)
        for leak in leaks.prefix(20) { print("soak leak: \(leak)") }
        #expect(times.count == cycles, "\(cycles - times.count) cycles failed")
        #expect(leaks.isEmpty, "\(leaks.count) leaks, first: \(leaks.prefix(5))")
    }
}
