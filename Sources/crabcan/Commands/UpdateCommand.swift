import Runtime
import Sys

enum UpdateCommand: Command {
    static let name = "update"
    static let summary = "change the cgroup limits of a running container"
    static let flags: [FlagSpec] = [
        FlagSpec(name: "resources", short: "r", takesValue: true,
                 help: "path to the file containing the resources to update or '-' to read from the standard input"),
    ] + [
        ("blkio-weight", "Specifies per cgroup weight, range is from 10 to 1000 (default: 0)"),
        ("cpu-period", "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default"),
        ("cpu-quota", "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period"),
        ("cpu-share", "CPU shares (relative weight vs. other containers)"),
        ("cpu-shares", "the same as --cpu-share"),
        ("cpu-rt-period", "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default"),
        ("cpu-rt-runtime", "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period"),
        ("cpuset-cpus", "CPU(s) to use"),
        ("cpuset-mems", "Memory node(s) to use"),
        ("memory", "Memory limit (in bytes)"),
        ("memory-reservation", "Memory reservation or soft_limit (in bytes)"),
        ("memory-swap", "Total memory usage (memory + swap); set '-1' to enable unlimited swap"),
        ("pids-limit", "Maximum number of pids allowed in the container (default: 0)"),
        ("kernel-memory", "Kernel memory limit (in bytes)"),
        ("kernel-memory-tcp", "Kernel memory limit for tcp buffer (in bytes)"),
    ].map { FlagSpec(name: $0.0, short: nil, takesValue: true, help: $0.1) }

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        let id = try arguments.containerID(name)
        var u = ResourceUpdate()
        if let file = arguments.value("resources") {
            do {
                u.resourcesJSON = try Files.readFile(file == "-" ? "/dev/stdin" : file)
            } catch {
                throw UsageError(description: "--resources: \(error)")
            }
            u.resourcesSource = file == "-" ? "stdin" : file
        }
        u.memory = try size(arguments, "memory")
        u.memoryReservation = try size(arguments, "memory-reservation")
        u.memorySwap = try size(arguments, "memory-swap")
        u.kernelMemory = try size(arguments, "kernel-memory")
        u.kernelMemoryTCP = try size(arguments, "kernel-memory-tcp")
        // runc's flag is --cpu-share; --cpu-shares (crabcan's first spelling) stays accepted.
        u.cpuShares = try number(arguments, "cpu-share", UInt64.self) ?? number(arguments, "cpu-shares", UInt64.self)
        u.cpuQuota = try number(arguments, "cpu-quota", Int64.self)
        u.cpuPeriod = try number(arguments, "cpu-period", UInt64.self)
        u.cpuRealtimeRuntime = try number(arguments, "cpu-rt-runtime", Int64.self)
        u.cpuRealtimePeriod = try number(arguments, "cpu-rt-period", UInt64.self)
        u.cpusetCpus = arguments.value("cpuset-cpus")
        u.cpusetMems = arguments.value("cpuset-mems")
        u.pidsLimit = try number(arguments, "pids-limit", Int64.self)
        u.blkioWeight = try number(arguments, "blkio-weight", UInt16.self)
        try runtime.update(id, u)
        return 0
    }

    static func number<T: FixedWidthInteger>(_ arguments: ParsedArguments, _ flag: String, _ type: T.Type) throws -> T? {
        guard let text = arguments.value(flag) else { return nil }
        guard let n = T(text) else { throw UsageError(description: "invalid value \"\(text)\" for --\(flag): expected an integer") }
        return n
    }

    static func size(_ arguments: ParsedArguments, _ flag: String) throws -> Int64? {
        guard let text = arguments.value(flag) else { return nil }
        guard let n = parseSize(text) else {
            throw UsageError(description: "invalid value \"\(text)\" for --\(flag): expected bytes, optionally with a k, m, g, t or p suffix, or -1")
        }
        return n
    }

    /// docker/go-units RAMInBytes: `<number>[.<fraction>][ ]<k|m|g|t|p>[i][b]`, binary multiples, case-insensitive;
    /// "-1" (runc's special case) means unlimited.
    static func parseSize(_ text: String) -> Int64? {
        if text == "-1" { return -1 }
        var chars = Array(text.asciiLowercased())
        var multiplier: Double = 1
        if chars.last == "b" { chars.removeLast() }
        if chars.last == "i" { chars.removeLast() }
        if let last = chars.last, let power = "kmgtp".firstIndex(of: last) {
            multiplier = Double(1 << (10 * ("kmgtp".distance(from: "kmgtp".startIndex, to: power) + 1)))
            chars.removeLast()
        }
        if chars.last == " " { chars.removeLast() }
        let digits = String(chars)
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard !digits.isEmpty, parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }),
              let value = Double(digits) else { return nil }
        let bytes = value * multiplier
        guard bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }
}
