import Glibc
import OCISpec
import Sys

/// The container's cgroup directories as one cgroup version lays them out and names their files: CgroupV1 (a
/// directory per hierarchy) or CgroupV2 (one directory). CgroupManager holds one and adds what both share.
protocol CgroupTree: Sendable {
    /// Every directory, sorted by hierarchy name.
    var directories: [String] { get }
    /// The directory holding `controller`'s files (v1 names: "blkio", "cpuacct"); nil when there is none.
    func directory(for controller: String) -> String?
    /// Makes the directories and readies them for limits. True when it made every one of them just now: each then
    /// holds only what its parent gave it.
    func create() throws -> Bool
    /// The controllers `r` uses as this version names them, with the field that uses each.
    func controllers(usedBy r: Resources) -> [(name: String, path: String)]
    /// What this version cannot do of `r` (checked before anything is written).
    func problems(_ r: Resources, used: [(name: String, path: String)]) -> [ConfigProblem]
    /// The memory fields this version cannot convert.
    func memoryProblems(_ m: Resources.Memory) -> [ConfigProblem]
    /// Writes every field of an already validated `r`; `madeNow`: into directories `create` has just made.
    func apply(_ r: Resources, madeNow: Bool) throws
    /// Whether the parent writes the init's pid, or the init moves itself (see Placement.swift).
    func parentPlaces(initPlacesItself: Bool) -> Bool
    /// Where the init moves itself (v1: every directory, in a stable order; v2: none).
    var selfPlacedDirectories: [String] { get }
    /// The one directory a child can be cloned straight into (v2: clone3 CLONE_INTO_CGROUP; v1: none).
    var cloneTarget: String? { get }
    /// The directory whose cgroup.procs, with its descendants', hold every task of the container.
    var pidsRoot: String? { get }
    var canFreeze: Bool { get }
    /// Freezes every task and waits until the kernel reports it done.
    func freeze() throws
    func thaw() throws
    func isFrozen() -> Bool
    /// A freeze is asked for (Freezer.isAsked), done or not.
    func isFreezeAsked() -> Bool
    /// Kills every task at once when the kernel can (v2 cgroup.kill); false when it cannot.
    func killAtOnce() throws -> Bool
    func stats() throws -> CgroupStats
    /// How many tasks the OOM killer killed; nil without a memory cgroup.
    func oomKillCount() -> UInt64?
}

func trimmed(_ text: String) -> String {
    // Bytes: stepping back over Characters runs the grapheme-break code for what is ASCII.
    let isBlank = { (byte: UInt8) in byte == UInt8(ascii: "\n") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    let bytes = text.utf8
    guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) }) else {
        return ""
    }
    return String(decoding: bytes[first...last], as: UTF8.self)
}

/// The words of a space- or line-separated file (cgroup.controllers, cgroup.subtree_control, usage_percpu).
func words(_ text: String) -> [Substring] { text.split(whereSeparator: { $0 == " " || $0 == "\n" }) }

func parentDir(_ path: String) -> String? {
    guard let parent = PathText.beforeLastSlash(path), !parent.isEmpty else { return nil }
    return parent
}

extension Optional where Wrapped == Int64 {
    /// nil for 0: a resource value of 0 leaves the cgroup file as it is (runc).
    var unlessZero: Int64? { self == 0 ? nil : self }
}

/// Runs `body`; a SysError with one of `errnos` is swallowed. Returns true when it was.
@discardableResult
func ignoring(_ errnos: [Int32], _ body: () throws(SysError) -> Void) throws(SysError) -> Bool {
    do {
        try body()
        return false
    } catch {
        if errnos.contains(error.errno) { return true }
        throw error
    }
}
