import JSON
import Sys

// Cheap semantic checks done while decoding; messages match spec-schema/config.schema.json's x-message texts.

extension JSONReader {
    /// A string that passes `valid`; otherwise `message(quoted value)` is reported and nil returned.
    func checkedString(_ valid: (String) -> Bool, _ message: (String) -> String) -> String? {
        guard let text = string() else { return nil }
        guard valid(text) else {
            report(message(jsonQuote(text)))
            return nil
        }
        return text
    }

    /// An array of strings each passing `valid`; the ones that fail are reported and dropped.
    func checkedStrings(_ valid: (String) -> Bool, _ message: (String) -> String) -> [String]? {
        guard isArray else {
            report("expected array of strings")
            return nil
        }
        var strings: [String] = []
        forEachElement(acceptingStrings: { text in
            guard valid(text) else { return false }
            strings.append(text)
            return true
        }, otherwise: { if let text = $0.checkedString(valid, message) { strings.append(text) } })
        return strings
    }

    /// runtime-spec requires absolute paths for cwd, hooks, devices, namespaces and masked/readonly paths.
    func absolutePath() -> String? {
        checkedString(PathText.isAbsolute, { "expected an absolute path, got \($0)" })
    }

    /// A string from a closed set, with jsonschema's wording for an enum mismatch.
    func oneOf(_ allowed: [String]) -> String? {
        checkedString(allowed.contains, { "unknown value \($0) (expected one of \(allowed.map(jsonQuote).joined(separator: ", ")))" })
    }
}

extension JSONObjectReader {
    /// The string array at `key` with each element checked; empty when absent or null.
    func checkedStrings(_ key: String, _ valid: (String) -> Bool, _ message: (String) -> String) -> [String] {
        optional(key)?.checkedStrings(valid, message) ?? []
    }

    func oneOfStrings(_ key: String, _ allowed: [String]) -> [String] {
        optional(key)?.checkedStrings(allowed.contains, { "unknown value \($0) (expected one of \(allowed.map(jsonQuote).joined(separator: ", ")))" }) ?? []
    }
}

/// `prefix` followed by one or more characters from `rest` (e.g. "RLIMIT_" + A-Z).
func matches(_ text: String, prefix: String, rest: (UInt8) -> Bool) -> Bool {
    guard text.hasBytePrefix(prefix) else { return false }
    let tail = text.utf8.dropFirst(prefix.utf8.count)
    return !tail.isEmpty && tail.allSatisfy(rest)
}

func isUpper(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5A }
func isUpperDigitOrUnderscore(_ c: UInt8) -> Bool { isUpper(c) || (c >= 0x30 && c <= 0x39) || c == 0x5F }

enum Vocabulary {
    static let ioPriorityClasses = ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"]
    static let schedulerPolicies = ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"]
    static let schedulerFlags = [
        "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY",
        "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX",
    ]
    /// The spec lists the first four; runc also accepts the recursive forms.
    static let rootfsPropagations = ["private", "shared", "slave", "unbindable", "rprivate", "rshared", "rslave", "runbindable"]
    static let personalityDomains = ["LINUX", "LINUX32"]
    static let memoryPolicyModes = [
        "MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED",
        "MPOL_PREFERRED_MANY", "MPOL_LOCAL",
    ]
    static let memoryPolicyFlags = ["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"]
    static let seccompFlags = [
        "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    ]
}
