import Glibc
import Sys

/// freezer: v1's freezer.state (FROZEN/THAWED), v2's cgroup.freeze (1/0) with "frozen 1" in cgroup.events.
struct Freezer: Sendable {
    let file: String
    let frozen: String
    let thawed: String
    /// v1 asks again while polling (runc): a task forking during the freeze can leave the cgroup FREEZING until then.
    let askEvery: Int
    /// Whether the kernel reports every task frozen.
    let done: @Sendable (String) throws -> Bool
    /// Whether a freeze is asked for, done or not.
    let asked: @Sendable (String) throws -> Bool
    let timeout: String

    static let v1 = Freezer(
        file: "freezer.state", frozen: "FROZEN", thawed: "THAWED", askEvery: 50,
        done: { trimmed(try CgroupFiles.read($0, "freezer.state")) == "FROZEN" },
        asked: { trimmed(try CgroupFiles.read($0, "freezer.state")) != "THAWED" },
        timeout: "freeze: still FREEZING after 2s in")

    static let v2 = Freezer(
        file: "cgroup.freeze", frozen: "1", thawed: "0", askEvery: Int.max,
        done: { ((try? CgroupFiles.read($0, "cgroup.events")) ?? "").split(separator: "\n").contains("frozen 1") },
        asked: { trimmed(try CgroupFiles.read($0, "cgroup.freeze")) == "1" },
        timeout: "freeze: cgroup.events not frozen after 2s in")

    /// Freezing is asynchronous: polls for up to 2 s (busy at first, then every millisecond), thawing again on timeout.
    func freeze(_ d: String) throws {
        for attempt in 0..<2000 {
            if attempt % askEvery == 0 { try CgroupFiles.write(d, file, frozen) }
            if try done(d) { return }
            CgroupFiles.sleep(milliseconds: attempt < 10 ? 0 : 1)
        }
        try? CgroupFiles.write(d, file, thawed)
        throw SysError(timeout, path: d, errno: EBUSY)
    }

    func thaw(_ d: String) throws { try CgroupFiles.write(d, file, thawed) }

    func isFrozen(_ d: String) -> Bool { (try? done(d)) ?? false }

    /// A freeze asked for and not undone, whatever the kernel reports of it: on v2 a frozen task woken by SIGKILL
    /// makes cgroup.events say "frozen 0" until it has gone, then the empty cgroup reads frozen again.
    func isAsked(_ d: String) -> Bool { (try? asked(d)) ?? false }
}
