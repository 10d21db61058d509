import JSON

/// `linux.resources`: cgroup settings (config-linux.md "Control groups").
package struct Resources: Sendable, Equatable {
    package var devices: [DeviceCgroupRule]
    package var memory: Memory?
    package var cpu: CPU?
    package var pids: Pids?
    package var blockIO: BlockIO?
    package var hugepageLimits: [HugepageLimit]
    package var network: Network?
    /// Keyed by RDMA device name.
    package var rdma: [String: Rdma]
    /// cgroup v2 files and their contents, written as is.
    package var unified: [String: String]

    package init(
        devices: [DeviceCgroupRule] = [], memory: Memory? = nil, cpu: CPU? = nil, pids: Pids? = nil,
        blockIO: BlockIO? = nil, hugepageLimits: [HugepageLimit] = [], network: Network? = nil,
        rdma: [String: Rdma] = [:], unified: [String: String] = [:]
    ) {
        self.devices = devices
        self.memory = memory
        self.cpu = cpu
        self.pids = pids
        self.blockIO = blockIO
        self.hugepageLimits = hugepageLimits
        self.network = network
        self.rdma = rdma
        self.unified = unified
    }

    package struct Memory: Sendable, Equatable {
        package var limit: Int64?
        package var reservation: Int64?
        package var swap: Int64?
        /// Deprecated by runtime-spec (ignored by cgroup v2 and kernels since 5.4).
        package var kernel: Int64?
        package var kernelTCP: Int64?
        package var swappiness: UInt64?
        package var disableOOMKiller: Bool?
        package var useHierarchy: Bool?
        package var checkBeforeUpdate: Bool?

        package init(
            limit: Int64? = nil, reservation: Int64? = nil, swap: Int64? = nil, kernel: Int64? = nil,
            kernelTCP: Int64? = nil, swappiness: UInt64? = nil, disableOOMKiller: Bool? = nil,
            useHierarchy: Bool? = nil, checkBeforeUpdate: Bool? = nil
        ) {
            self.limit = limit
            self.reservation = reservation
            self.swap = swap
            self.kernel = kernel
            self.kernelTCP = kernelTCP
            self.swappiness = swappiness
            self.disableOOMKiller = disableOOMKiller
            self.useHierarchy = useHierarchy
            self.checkBeforeUpdate = checkBeforeUpdate
        }
    }

    package struct CPU: Sendable, Equatable {
        package var shares: UInt64?
        package var quota: Int64?
        package var burst: UInt64?
        package var period: UInt64?
        package var realtimeRuntime: Int64?
        package var realtimePeriod: UInt64?
        package var cpus: String?
        package var mems: String?
        package var idle: Int64?

        package init(
            shares: UInt64? = nil, quota: Int64? = nil, burst: UInt64? = nil, period: UInt64? = nil,
            realtimeRuntime: Int64? = nil, realtimePeriod: UInt64? = nil, cpus: String? = nil,
            mems: String? = nil, idle: Int64? = nil
        ) {
            self.shares = shares
            self.quota = quota
            self.burst = burst
            self.period = period
            self.realtimeRuntime = realtimeRuntime
            self.realtimePeriod = realtimePeriod
            self.cpus = cpus
            self.mems = mems
            self.idle = idle
        }
    }

    package struct Pids: Sendable, Equatable {
        /// -1 or 0 mean no limit (runc's reading of the spec).
        package var limit: Int64

        package init(limit: Int64) {
            self.limit = limit
        }
    }

    package struct BlockIO: Sendable, Equatable {
        package var weight: UInt16?
        package var leafWeight: UInt16?
        package var weightDevice: [WeightDevice]
        package var throttleReadBpsDevice: [ThrottleDevice]
        package var throttleWriteBpsDevice: [ThrottleDevice]
        package var throttleReadIOPSDevice: [ThrottleDevice]
        package var throttleWriteIOPSDevice: [ThrottleDevice]

        package init(
            weight: UInt16? = nil, leafWeight: UInt16? = nil, weightDevice: [WeightDevice] = [],
            throttleReadBpsDevice: [ThrottleDevice] = [], throttleWriteBpsDevice: [ThrottleDevice] = [],
            throttleReadIOPSDevice: [ThrottleDevice] = [], throttleWriteIOPSDevice: [ThrottleDevice] = []
        ) {
            self.weight = weight
            self.leafWeight = leafWeight
            self.weightDevice = weightDevice
            self.throttleReadBpsDevice = throttleReadBpsDevice
            self.throttleWriteBpsDevice = throttleWriteBpsDevice
            self.throttleReadIOPSDevice = throttleReadIOPSDevice
            self.throttleWriteIOPSDevice = throttleWriteIOPSDevice
        }
    }

    package struct WeightDevice: Sendable, Equatable {
        package var major: Int64
        package var minor: Int64
        package var weight: UInt16?
        package var leafWeight: UInt16?

        package init(major: Int64, minor: Int64, weight: UInt16? = nil, leafWeight: UInt16? = nil) {
            self.major = major
            self.minor = minor
            self.weight = weight
            self.leafWeight = leafWeight
        }
    }

    package struct ThrottleDevice: Sendable, Equatable {
        package var major: Int64
        package var minor: Int64
        package var rate: UInt64

        package init(major: Int64, minor: Int64, rate: UInt64) {
            self.major = major
            self.minor = minor
            self.rate = rate
        }
    }

    package struct HugepageLimit: Sendable, Equatable {
        /// e.g. "64KB", "2MB", "1GB".
        package var pageSize: String

        static func isPageSize(_ text: String) -> Bool {
            let utf8 = Array(text.utf8)
            guard utf8.count >= 3, utf8.last == UInt8(ascii: "B"), "KMG".utf8.contains(utf8[utf8.count - 2]) else { return false }
            return utf8.dropLast(2).allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        }
        package var limit: UInt64

        package init(pageSize: String, limit: UInt64) {
            self.pageSize = pageSize
            self.limit = limit
        }
    }

    package struct Network: Sendable, Equatable {
        package var classID: UInt32?
        package var priorities: [InterfacePriority]

        package init(classID: UInt32? = nil, priorities: [InterfacePriority] = []) {
            self.classID = classID
            self.priorities = priorities
        }
    }

    package struct InterfacePriority: Sendable, Equatable {
        package var name: String
        package var priority: UInt32

        package init(name: String, priority: UInt32) {
            self.name = name
            self.priority = priority
        }
    }

    package struct Rdma: Sendable, Equatable {
        package var hcaHandles: UInt32?
        package var hcaObjects: UInt32?

        package init(hcaHandles: UInt32? = nil, hcaObjects: UInt32? = nil) {
            self.hcaHandles = hcaHandles
            self.hcaObjects = hcaObjects
        }
    }
}

/// One rule of the device cgroup allow/deny list (`linux.resources.devices`).
package struct DeviceCgroupRule: Sendable, Equatable {
    package var allow: Bool
    /// "a" (all), "c" or "b"; absent means all.
    package var type: String?
    package var major: Int64?
    package var minor: Int64?
    /// Any of "r", "w", "m"; other letters are ignored, as runc ignores them (`"rwa"` runs as `"rw"`).
    package var access: String?

    /// The access the kernel gets: r, w and m in that order, unknown letters left out; absent or empty means all.
    package var permissions: String {
        guard let access, !access.isEmpty else { return "rwm" }
        // On bytes: filter and contains on a String walk Characters (for every device rule of every create).
        let letters = access.utf8
        return String(decoding: "rwm".utf8.filter { letters.contains($0) }, as: UTF8.self)
    }

    package init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
        self.allow = allow
        self.type = type
        self.major = major
        self.minor = minor
        self.access = access
    }
}

// MARK: - Decoding

extension Resources: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        self.init(
            devices: o.array("devices", of: DeviceCgroupRule.self),
            memory: o.optional("memory", Memory.self),
            cpu: o.optional("cpu", CPU.self),
            pids: o.optional("pids", Pids.self),
            blockIO: o.optional("blockIO", BlockIO.self),
            hugepageLimits: o.array("hugepageLimits", of: HugepageLimit.self),
            network: o.optional("network", Network.self),
            rdma: o.map("rdma", of: Rdma.self),
            unified: o.map("unified", of: String.self))
    }
}

extension DeviceCgroupRule: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let allow = o.required("allow", Bool.self)
        let type = o.optional("type")?.checkedString(["a", "b", "c"].contains, { "unknown device cgroup type \($0)" })
        let major = o.optional("major", Int64.self)
        let minor = o.optional("minor", Int64.self)
        // Not checked beyond being a string: runc's device rules keep the r, w and m they find and ignore the rest.
        let access = o.optional("access", String.self)
        guard let allow else { return nil }
        if (o.contains("type") && type == nil) || (o.contains("access") && access == nil) { return nil }
        self.init(allow: allow, type: type, major: major, minor: minor, access: access)
    }
}

extension Resources.Memory: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        self.init(
            limit: o.optional("limit", Int64.self),
            reservation: o.optional("reservation", Int64.self),
            swap: o.optional("swap", Int64.self),
            kernel: o.optional("kernel", Int64.self),
            kernelTCP: o.optional("kernelTCP", Int64.self),
            swappiness: o.optional("swappiness", UInt64.self),
            disableOOMKiller: o.optional("disableOOMKiller", Bool.self),
            useHierarchy: o.optional("useHierarchy", Bool.self),
            checkBeforeUpdate: o.optional("checkBeforeUpdate", Bool.self))
    }
}

extension Resources.CPU: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        self.init(
            shares: o.optional("shares", UInt64.self),
            quota: o.optional("quota", Int64.self),
            burst: o.optional("burst", UInt64.self),
            period: o.optional("period", UInt64.self),
            realtimeRuntime: o.optional("realtimeRuntime", Int64.self),
            realtimePeriod: o.optional("realtimePeriod", UInt64.self),
            cpus: o.optional("cpus", String.self),
            mems: o.optional("mems", String.self),
            idle: o.optional("idle", Int64.self))
    }
}

extension Resources.Pids: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        guard let limit = o.required("limit", Int64.self) else { return nil }
        self.init(limit: limit)
    }
}

extension Resources.BlockIO: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        self.init(
            weight: o.optional("weight", UInt16.self),
            leafWeight: o.optional("leafWeight", UInt16.self),
            weightDevice: o.array("weightDevice", of: Resources.WeightDevice.self),
            throttleReadBpsDevice: o.array("throttleReadBpsDevice", of: Resources.ThrottleDevice.self),
            throttleWriteBpsDevice: o.array("throttleWriteBpsDevice", of: Resources.ThrottleDevice.self),
            throttleReadIOPSDevice: o.array("throttleReadIOPSDevice", of: Resources.ThrottleDevice.self),
            throttleWriteIOPSDevice: o.array("throttleWriteIOPSDevice", of: Resources.ThrottleDevice.self))
    }
}

extension Resources.WeightDevice: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let major = o.required("major", Int64.self)
        let minor = o.required("minor", Int64.self)
        let weight = o.optional("weight", UInt16.self)
        let leafWeight = o.optional("leafWeight", UInt16.self)
        guard let major, let minor else { return nil }
        self.init(major: major, minor: minor, weight: weight, leafWeight: leafWeight)
    }
}

extension Resources.ThrottleDevice: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let major = o.required("major", Int64.self)
        let minor = o.required("minor", Int64.self)
        let rate = o.required("rate", UInt64.self)
        guard let major, let minor, let rate else { return nil }
        self.init(major: major, minor: minor, rate: rate)
    }
}

extension Resources.HugepageLimit: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        // "<size><unit>B" as the hugetlb controller names its files (hugetlb.2MB.limit_in_bytes).
        let pageSize = o.required("pageSize")?.checkedString(Resources.HugepageLimit.isPageSize, { "expected a page size like \"2MB\", got \($0)" })
        let limit = o.required("limit", UInt64.self)
        guard let pageSize, let limit else { return nil }
        self.init(pageSize: pageSize, limit: limit)
    }
}

extension Resources.Network: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        self.init(
            classID: o.optional("classID", UInt32.self),
            priorities: o.array("priorities", of: Resources.InterfacePriority.self))
    }
}

extension Resources.InterfacePriority: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let name = o.required("name", String.self)
        let priority = o.required("priority", UInt32.self)
        guard let name, let priority else { return nil }
        self.init(name: name, priority: priority)
    }
}

extension Resources.Rdma: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        self.init(hcaHandles: o.optional("hcaHandles", UInt32.self), hcaObjects: o.optional("hcaObjects", UInt32.self))
    }
}

// MARK: - Encoding

extension Resources: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("devices", nonEmpty: devices)
        w.field("memory", memory)
        w.field("cpu", cpu)
        w.field("pids", pids)
        w.field("blockIO", blockIO)
        w.field("hugepageLimits", nonEmpty: hugepageLimits)
        w.field("network", network)
        w.field("rdma", nonEmpty: rdma)
        w.field("unified", nonEmpty: unified)
        w.endObject()
    }
}

extension DeviceCgroupRule: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("allow", allow)
        w.field("type", type)
        w.field("major", major)
        w.field("minor", minor)
        w.field("access", access)
        w.endObject()
    }
}

extension Resources.Memory: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("limit", limit)
        w.field("reservation", reservation)
        w.field("swap", swap)
        w.field("kernel", kernel)
        w.field("kernelTCP", kernelTCP)
        w.field("swappiness", swappiness)
        w.field("disableOOMKiller", disableOOMKiller)
        w.field("useHierarchy", useHierarchy)
        w.field("checkBeforeUpdate", checkBeforeUpdate)
        w.endObject()
    }
}

extension Resources.CPU: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("shares", shares)
        w.field("quota", quota)
        w.field("burst", burst)
        w.field("period", period)
        w.field("realtimeRuntime", realtimeRuntime)
        w.field("realtimePeriod", realtimePeriod)
        w.field("cpus", cpus)
        w.field("mems", mems)
        w.field("idle", idle)
        w.endObject()
    }
}

extension Resources.Pids: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("limit", limit)
        w.endObject()
    }
}

extension Resources.BlockIO: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("weight", weight)
        w.field("leafWeight", leafWeight)
        w.field("weightDevice", nonEmpty: weightDevice)
        w.field("throttleReadBpsDevice", nonEmpty: throttleReadBpsDevice)
        w.field("throttleWriteBpsDevice", nonEmpty: throttleWriteBpsDevice)
        w.field("throttleReadIOPSDevice", nonEmpty: throttleReadIOPSDevice)
        w.field("throttleWriteIOPSDevice", nonEmpty: throttleWriteIOPSDevice)
        w.endObject()
    }
}

extension Resources.WeightDevice: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("major", major)
        w.field("minor", minor)
        w.field("weight", weight)
        w.field("leafWeight", leafWeight)
        w.endObject()
    }
}

extension Resources.ThrottleDevice: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("major", major)
        w.field("minor", minor)
        w.field("rate", rate)
        w.endObject()
    }
}

extension Resources.HugepageLimit: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("pageSize", pageSize)
        w.field("limit", limit)
        w.endObject()
    }
}

extension Resources.Network: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("classID", classID)
        w.field("priorities", nonEmpty: priorities)
        w.endObject()
    }
}

extension Resources.InterfacePriority: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("name", name)
        w.field("priority", priority)
        w.endObject()
    }
}

extension Resources.Rdma: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("hcaHandles", hcaHandles)
        w.field("hcaObjects", hcaObjects)
        w.endObject()
    }
}
