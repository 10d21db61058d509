import Runtime
import Sys

enum UpdateCommand: Command {
    static let name = "update"
    static let summary = "change the cgroup limits of a running container"
    static let usage = "[--memory SIZE] [--cpu-shares N] [--pids-limit N] [...] [-r FILE|-] ID"
    static let flags: [FlagSpec] = [
        "memory", "memory-reservation", "memory-swap", "kernel-memory", "kernel-memory-tcp", "cpu-shares",
        "cpu-quota", "cpu-period", "cpu-rt-runtime", "cpu-rt-period", "cpuset-cpus", "cpuset-mems",
        "pids-limit", "blkio-weight",
    ].map { FlagSpec(name: $0, short: nil, takesValue: true) } + [FlagSpec(name: "resources", short: "r", takesValue: true)]

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
        u.cpuShares = try number(arguments, "cpu-shares", UInt64.self)
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
        var chars = Array(text.lowercased())
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

extension Character {
    var isASCIIDigit: Bool { self >= "0" && self <= "9" }
}
