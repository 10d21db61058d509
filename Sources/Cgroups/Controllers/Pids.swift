import OCISpec
import Sys

/// pids: the same files in v1 and v2.
enum Pids {
    /// 0 leaves the limit as it is, -1 means none (runc).
    static func apply(_ p: Resources.Pids, _ d: String) throws {
        if p.limit != 0 { try CgroupFiles.write(d, "pids.max", p.limit > 0 ? String(p.limit) : "max") }
    }

    static func stats(_ d: String) -> CgroupStats.Pids {
        CgroupStats.Pids(current: optionalNumber(d, "pids.current"), limit: optionalNumber(d, "pids.max"))
    }
}
