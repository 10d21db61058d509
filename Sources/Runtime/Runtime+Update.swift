import Cgroups
import Glibc
import JSON
import OCISpec
import StateStore
import Sys

/// What `update` changes: runc's flags, already parsed to numbers by the CLI, over an optional
/// `linux.resources` JSON document (`-r FILE`). Only fields that are set are written.
package struct ResourceUpdate: Sendable {
    package var memory: Int64?
    package var memoryReservation: Int64?
    package var memorySwap: Int64?
    package var kernelMemory: Int64?
    package var kernelMemoryTCP: Int64?
    package var cpuShares: UInt64?
    package var cpuQuota: Int64?
    package var cpuPeriod: UInt64?
    package var cpuRealtimeRuntime: Int64?
    package var cpuRealtimePeriod: UInt64?
    package var cpusetCpus: String?
    package var cpusetMems: String?
    package var pidsLimit: Int64?
    package var blkioWeight: UInt16?
    /// A `linux.resources` object, and where it came from (a path, or "stdin") for errors.
    package var resourcesJSON: [UInt8]?
    package var resourcesSource = ""

    package init() {}
}

extension Runtime {
    /// `update`: writes new cgroup limits for a created, running or paused container (runc update).
    package func update(_ id: String, _ request: ResourceUpdate) throws {
        let resources = try Runtime.resources(for: request)
        let directory = try self.directory(id)
        let lock = try directory.lock()
        defer { lock.close() }
        let snap = try snapshot(directory, locked: true)
        guard let record = snap.record else { throw RuntimeError("container \(id): its create did not complete (delete it)") }
        guard snap.status != .stopped else { throw RuntimeError("cannot update container \(id): container not running") }
        guard let cgroups = Runtime.cgroups(record) else { throw RuntimeError("container \(id) has no cgroup to update") }
        do {
            try Runtime.driver(record, cgroups).update(resources)
        } catch let failure as SystemdFailure {
            throw RuntimeError("update \(id): \(failure)")
        }
    }

    /// The Resources `request` describes: the JSON document when there is one (runc then ignores the flags, and
    /// so do we), else the flags.
    static func resources(for request: ResourceUpdate) throws -> Resources {
        if let bytes = request.resourcesJSON { return try decodeResources(bytes, source: request.resourcesSource) }
        var r = Resources()
        func memory(_ edit: (inout Resources.Memory) -> Void) {
            var m = r.memory ?? Resources.Memory()
            edit(&m)
            r.memory = m
        }
        func cpu(_ edit: (inout Resources.CPU) -> Void) {
            var c = r.cpu ?? Resources.CPU()
            edit(&c)
            r.cpu = c
        }
        if let v = request.memory { memory { $0.limit = v } }
        if let v = request.memoryReservation { memory { $0.reservation = v } }
        if let v = request.memorySwap { memory { $0.swap = v } }
        if let v = request.kernelMemory { memory { $0.kernel = v } }
        if let v = request.kernelMemoryTCP { memory { $0.kernelTCP = v } }
        if let v = request.cpuShares { cpu { $0.shares = v } }
        if let v = request.cpuQuota { cpu { $0.quota = v } }
        if let v = request.cpuPeriod { cpu { $0.period = v } }
        if let v = request.cpuRealtimeRuntime { cpu { $0.realtimeRuntime = v } }
        if let v = request.cpuRealtimePeriod { cpu { $0.realtimePeriod = v } }
        if let v = request.cpusetCpus { cpu { $0.cpus = v } }
        if let v = request.cpusetMems { cpu { $0.mems = v } }
        if let v = request.pidsLimit { r.pids = Resources.Pids(limit: v) }
        if let v = request.blkioWeight {
            var b = r.blockIO ?? Resources.BlockIO()
            b.weight = v
            r.blockIO = b
        }
        return r
    }

    /// A `linux.resources` object; errors name the source and the JSON path (`resources.json: .memory.limit: ...`).
    static func decodeResources(_ bytes: [UInt8], source: String) throws -> Resources {
        let document: JSONDocument
        do { document = try JSONDocument.parse(bytes) } catch {
            throw RuntimeError("\(source): \(error.descriptionWithPosition)")
        }
        let context = JSONDecodingContext(document: document)
        let resources = Resources(json: context.root)
        if let problem = context.problems.first { throw RuntimeError("\(source): \(problem.description)") }
        guard let resources else { throw RuntimeError("\(source): expected a linux.resources object") }
        return resources
    }
}
