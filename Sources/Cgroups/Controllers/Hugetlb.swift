import JSON
import OCISpec
import Sys

/// hugetlb: one limit file per page size, `hugetlb.<size>.limit_in_bytes` in v1 and `hugetlb.<size>.max` in v2,
/// each with a reservations twin (kernel 5.7+).
enum Hugetlb {
    static func problems(_ limits: [Resources.HugepageLimit]) -> [ConfigProblem] {
        limits.enumerated().filter { !isSafeName($0.element.pageSize) }.map { i, h in
            ConfigProblem(".linux.resources.hugepageLimits[\(i)].pageSize", "invalid page size \(jsonQuote(h.pageSize))")
        }
    }

    static func applyV1(_ limits: [Resources.HugepageLimit], _ d: String) throws {
        try apply(limits, d, limit: ".limit_in_bytes", reserved: ".rsvd.limit_in_bytes")
    }

    static func applyV2(_ limits: [Resources.HugepageLimit], _ d: String) throws {
        try apply(limits, d, limit: ".max", reserved: ".rsvd.max")
    }

    /// Reservations are limited too, as runc does, so a mapping cannot reserve past the limit.
    static func apply(_ limits: [Resources.HugepageLimit], _ d: String, limit: String, reserved: String) throws {
        for h in limits {
            try CgroupFiles.write(d, "hugetlb.\(h.pageSize)" + limit, String(h.limit))
            let rsvd = "hugetlb.\(h.pageSize)" + reserved
            if Files.exists(d + "/" + rsvd) { try CgroupFiles.write(d, rsvd, String(h.limit)) }
        }
    }

    /// The page sizes that have a limit file in `d`.
    static func pageSizes(_ d: String, limitSuffix: String) throws -> [String] {
        try Files.listDirectory(d).filter { $0.hasBytePrefix("hugetlb.") && $0.hasByteSuffix(limitSuffix) && !$0.containsText(".rsvd.") }
            .map { String($0.dropFirst("hugetlb.".count).dropLast(limitSuffix.count)) }
    }

    static func statsV1(_ d: String) throws -> [String: CgroupStats.Hugetlb] {
        var result: [String: CgroupStats.Hugetlb] = [:]
        for size in try pageSizes(d, limitSuffix: ".limit_in_bytes") {
            result[size] = CgroupStats.Hugetlb(
                usage: optionalNumber(d, "hugetlb.\(size).usage_in_bytes"),
                maxUsage: optionalNumber(d, "hugetlb.\(size).max_usage_in_bytes"),
                failcnt: optionalNumber(d, "hugetlb.\(size).failcnt"))
        }
        return result
    }

    static func statsV2(_ d: String) throws -> [String: CgroupStats.Hugetlb] {
        var result: [String: CgroupStats.Hugetlb] = [:]
        for size in try pageSizes(d, limitSuffix: ".max") {
            let events = (try? keyValues(d, "hugetlb.\(size).events")) ?? [:]
            result[size] = CgroupStats.Hugetlb(
                usage: optionalNumber(d, "hugetlb.\(size).current"), maxUsage: 0, failcnt: events["max"] ?? 0)
        }
        return result
    }
}
