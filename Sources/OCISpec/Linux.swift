import JSON
import Sys

/// `linux` of config-linux.md.
package struct Linux: Sendable, Equatable {
    package var namespaces: [Namespace]
    package var uidMappings: [IDMapping]
    package var gidMappings: [IDMapping]
    /// Keys are clock names: "monotonic" or "boottime".
    package var timeOffsets: [String: TimeOffset]
    package var devices: [Device]
    package var netDevices: [String: NetDevice]
    package var cgroupsPath: String?
    package var resources: Resources?
    package var rootfsPropagation: String?
    package var seccomp: Seccomp?
    package var sysctl: [String: String]
    package var maskedPaths: [String]
    package var readonlyPaths: [String]
    package var mountLabel: String?
    package var personality: Personality?
    package var intelRdt: IntelRdt?
    package var memoryPolicy: MemoryPolicy?

    package init(
        namespaces: [Namespace] = [], uidMappings: [IDMapping] = [], gidMappings: [IDMapping] = [],
        timeOffsets: [String: TimeOffset] = [:], devices: [Device] = [], netDevices: [String: NetDevice] = [:],
        cgroupsPath: String? = nil, resources: Resources? = nil, rootfsPropagation: String? = nil,
        seccomp: Seccomp? = nil, sysctl: [String: String] = [:], maskedPaths: [String] = [],
        readonlyPaths: [String] = [], mountLabel: String? = nil, personality: Personality? = nil,
        intelRdt: IntelRdt? = nil, memoryPolicy: MemoryPolicy? = nil
    ) {
        self.namespaces = namespaces
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
        self.timeOffsets = timeOffsets
        self.devices = devices
        self.netDevices = netDevices
        self.cgroupsPath = cgroupsPath
        self.resources = resources
        self.rootfsPropagation = rootfsPropagation
        self.seccomp = seccomp
        self.sysctl = sysctl
        self.maskedPaths = maskedPaths
        self.readonlyPaths = readonlyPaths
        self.mountLabel = mountLabel
        self.personality = personality
        self.intelRdt = intelRdt
        self.memoryPolicy = memoryPolicy
    }

    package struct Personality: Sendable, Equatable {
        /// "LINUX" or "LINUX32".
        package var domain: String
        package var flags: [String]

        package init(domain: String, flags: [String] = []) {
            self.domain = domain
            self.flags = flags
        }
    }

    /// Intel RDT (resctrl); decoded loosely, as few hosts have it.
    package struct IntelRdt: Sendable, Equatable {
        package var closID: String?
        package var l3CacheSchema: String?
        package var memBwSchema: String?
        package var schemata: [String]
        package var enableMonitoring: Bool?
        package var enableCMT: Bool?
        package var enableMBM: Bool?

        package init(
            closID: String? = nil, l3CacheSchema: String? = nil, memBwSchema: String? = nil, schemata: [String] = [],
            enableMonitoring: Bool? = nil, enableCMT: Bool? = nil, enableMBM: Bool? = nil
        ) {
            self.closID = closID
            self.l3CacheSchema = l3CacheSchema
            self.memBwSchema = memBwSchema
            self.schemata = schemata
            self.enableMonitoring = enableMonitoring
            self.enableCMT = enableCMT
            self.enableMBM = enableMBM
        }
    }

    /// A host network device to move into the container's network namespace, optionally renamed.
    package struct NetDevice: Sendable, Equatable {
        package var name: String?

        package init(name: String? = nil) {
            self.name = name
        }
    }

    /// set_mempolicy(2) for the container process (runtime-spec 1.3).
    package struct MemoryPolicy: Sendable, Equatable {
        package var mode: String
        package var nodes: String?
        package var flags: [String]

        package init(mode: String, nodes: String? = nil, flags: [String] = []) {
            self.mode = mode
            self.nodes = nodes
            self.flags = flags
        }
    }
}

package enum NamespaceType: String, Sendable, Equatable, Hashable, CaseIterable {
    case pid, network, mount, ipc, uts, user, cgroup, time
}

/// Namespace types as bits: what a config creates, what a check has seen. (A Set of them made its generic storage
/// class and hashed in every process that plans a container.)
package struct NamespaceSet: Sendable, Equatable, Sequence, ExpressibleByArrayLiteral {
    private var bits: UInt8 = 0

    package init() {}
    package init(arrayLiteral types: NamespaceType...) { self.init(types) }
    package init(_ types: some Sequence<NamespaceType>) { for type in types { insert(type) } }

    package var isEmpty: Bool { bits == 0 }
    package var count: Int { bits.nonzeroBitCount }
    package func contains(_ type: NamespaceType) -> Bool { bits & Self.bit(type) != 0 }

    /// Set's answer: whether `type` was not there before.
    @discardableResult
    package mutating func insert(_ type: NamespaceType) -> (inserted: Bool, memberAfterInsert: NamespaceType) {
        let inserted = !contains(type)
        bits |= Self.bit(type)
        return (inserted, type)
    }

    /// In declaration order.
    package func makeIterator() -> Iterator { Iterator(bits: bits) }

    package struct Iterator: IteratorProtocol {
        var bits: UInt8
        package mutating func next() -> NamespaceType? {
            guard bits != 0 else { return nil }
            let index = bits.trailingZeroBitCount
            bits &= bits - 1
            return NamespaceSet.type(at: index)
        }
    }

    private static func bit(_ type: NamespaceType) -> UInt8 {
        switch type {
        case .pid: 1 << 0
        case .network: 1 << 1
        case .mount: 1 << 2
        case .ipc: 1 << 3
        case .uts: 1 << 4
        case .user: 1 << 5
        case .cgroup: 1 << 6
        case .time: 1 << 7
        }
    }

    private static func type(at index: Int) -> NamespaceType {
        switch index {
        case 0: .pid
        case 1: .network
        case 2: .mount
        case 3: .ipc
        case 4: .uts
        case 5: .user
        case 6: .cgroup
        default: .time
        }
    }
}

package struct Namespace: Sendable, Equatable {
    package var type: NamespaceType
    /// Join this namespace instead of creating one.
    package var path: String?

    package init(type: NamespaceType, path: String? = nil) {
        self.type = type
        self.path = path
    }
}

package struct TimeOffset: Sendable, Equatable {
    package var secs: Int64
    package var nanosecs: UInt32

    package init(secs: Int64 = 0, nanosecs: UInt32 = 0) {
        self.secs = secs
        self.nanosecs = nanosecs
    }

    /// The clocks a time namespace can offset (time_namespaces(7)).
    package static let clocks: Set<String> = ["monotonic", "boottime"]
}

/// A device node to create in the container (`linux.devices`).
package struct Device: Sendable, Equatable {
    package static let types: Set<String> = ["c", "b", "u", "p"]

    /// "c", "b", "u" (unbuffered character) or "p" (fifo).
    package var type: String
    package var path: String
    package var major: Int64?
    package var minor: Int64?
    package var fileMode: UInt32?
    package var uid: UInt32?
    package var gid: UInt32?

    package init(
        type: String, path: String, major: Int64? = nil, minor: Int64? = nil, fileMode: UInt32? = nil,
        uid: UInt32? = nil, gid: UInt32? = nil
    ) {
        self.type = type
        self.path = path
        self.major = major
        self.minor = minor
        self.fileMode = fileMode
        self.uid = uid
        self.gid = gid
    }
}

// MARK: - Decoding

extension Linux: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        var namespaces: [Namespace] = []
        if let items = o.optional("namespaces") {
            var seen: NamespaceSet = []
            items.forEachElement { item in
                guard let namespace = Namespace(json: item) else { return }
                if seen.insert(namespace.type).inserted {
                    namespaces.append(namespace)
                } else {
                    // Two entries for one type cannot both be honoured; runc refuses this too.
                    let typeReader = item.object()?.optional("type") ?? item
                    typeReader.report("duplicate namespace type \(jsonQuote(namespace.type.rawValue))")
                }
            }
        }
        let uidMappings = o.array("uidMappings", of: IDMapping.self)
        let gidMappings = o.array("gidMappings", of: IDMapping.self)
        var timeOffsets: [String: TimeOffset] = [:]
        if let offsets = o.optional("timeOffsets")?.object() {
            for entry in offsets.entries {
                guard TimeOffset.clocks.contains(entry.key) else {
                    entry.reader.report("unknown clock \(jsonQuote(entry.key))")
                    continue
                }
                if let offset = TimeOffset(json: entry.reader) { timeOffsets[entry.key] = offset }
            }
        }
        let devices = o.array("devices", of: Device.self)
        let netDevices = o.map("netDevices", of: NetDevice.self)
        let cgroupsPath = o.optional("cgroupsPath", String.self)
        let resources = o.optional("resources", Resources.self)
        let rootfsPropagation = o.optional("rootfsPropagation")?.oneOf(Vocabulary.rootfsPropagations)
        let seccomp = o.optional("seccomp", Seccomp.self)
        let sysctl = o.map("sysctl", of: String.self)
        // config-linux.md: masked and readonly paths MUST be absolute.
        let maskedPaths = o.optional("maskedPaths")?.checkedStrings(PathText.isAbsolute, { "expected an absolute path, got \($0)" }) ?? []
        let readonlyPaths = o.optional("readonlyPaths")?.checkedStrings(PathText.isAbsolute, { "expected an absolute path, got \($0)" }) ?? []
        let mountLabel = o.optional("mountLabel", String.self)
        let personality = o.optional("personality", Personality.self)
        let intelRdt = o.optional("intelRdt", IntelRdt.self)
        let memoryPolicy = o.optional("memoryPolicy", MemoryPolicy.self)
        self.init(
            namespaces: namespaces, uidMappings: uidMappings, gidMappings: gidMappings, timeOffsets: timeOffsets,
            devices: devices, netDevices: netDevices, cgroupsPath: cgroupsPath, resources: resources,
            rootfsPropagation: rootfsPropagation, seccomp: seccomp, sysctl: sysctl, maskedPaths: maskedPaths,
            readonlyPaths: readonlyPaths, mountLabel: mountLabel, personality: personality, intelRdt: intelRdt,
            memoryPolicy: memoryPolicy)
    }
}

extension NamespaceType: JSONDecodable {
    package init?(json: JSONReader) {
        guard let text = json.string() else { return nil }
        guard let type = NamespaceType(rawValue: text) else {
            json.report("unknown namespace type \(jsonQuote(text))")
            return nil
        }
        self = type
    }
}

extension Namespace: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let type = o.required("type", NamespaceType.self)
        let path = o.optional("path")?.absolutePath()
        if o.contains("path") && path == nil { return nil }
        guard let type else { return nil }
        self.init(type: type, path: path)
    }
}

extension TimeOffset: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let secs = o.optional("secs", Int64.self)
        let nanosecs = o.optional("nanosecs", UInt32.self)
        if (o.contains("secs") && secs == nil) || (o.contains("nanosecs") && nanosecs == nil) { return nil }
        self.init(secs: secs ?? 0, nanosecs: nanosecs ?? 0)
    }
}

extension Device: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let type = o.required("type")?.checkedString(Device.types.contains, { "unknown device type \($0)" })
        let path = o.required("path")?.absolutePath()
        // config-linux.md: major and minor are required unless the device is a fifo.
        let needsNumbers = type != nil && type != "p"
        let major = needsNumbers ? o.required("major", Int64.self) : o.optional("major", Int64.self)
        let minor = needsNumbers ? o.required("minor", Int64.self) : o.optional("minor", Int64.self)
        let fileMode = o.optional("fileMode", UInt32.self)
        let uid = o.optional("uid", UInt32.self)
        let gid = o.optional("gid", UInt32.self)
        guard let type, let path else { return nil }
        if needsNumbers && (major == nil || minor == nil) { return nil }
        self.init(type: type, path: path, major: major, minor: minor, fileMode: fileMode, uid: uid, gid: gid)
    }
}

extension Linux.Personality: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let domain = o.required("domain")?.oneOf(Vocabulary.personalityDomains)
        let flags = o.array("flags", of: String.self)
        guard let domain else { return nil }
        self.init(domain: domain, flags: flags)
    }
}

extension Linux.IntelRdt: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        self.init(
            closID: o.optional("closID", String.self),
            l3CacheSchema: o.optional("l3CacheSchema", String.self),
            memBwSchema: o.optional("memBwSchema", String.self),
            schemata: o.array("schemata", of: String.self),
            enableMonitoring: o.optional("enableMonitoring", Bool.self),
            enableCMT: o.optional("enableCMT", Bool.self),
            enableMBM: o.optional("enableMBM", Bool.self))
    }
}

extension Linux.NetDevice: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        self.init(name: o.optional("name", String.self))
    }
}

extension Linux.MemoryPolicy: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let mode = o.required("mode")?.oneOf(Vocabulary.memoryPolicyModes)
        let nodes = o.optional("nodes", String.self)
        let flags = o.oneOfStrings("flags", Vocabulary.memoryPolicyFlags)
        guard let mode else { return nil }
        self.init(mode: mode, nodes: nodes, flags: flags)
    }
}

// MARK: - Encoding (order of runtime-spec's Go type)

extension Linux: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("uidMappings", nonEmpty: uidMappings)
        w.field("gidMappings", nonEmpty: gidMappings)
        w.field("sysctl", nonEmpty: sysctl)
        w.field("resources", resources)
        w.field("cgroupsPath", cgroupsPath)
        w.field("namespaces", nonEmpty: namespaces)
        w.field("devices", nonEmpty: devices)
        w.field("netDevices", nonEmpty: netDevices)
        w.field("seccomp", seccomp)
        w.field("rootfsPropagation", rootfsPropagation)
        w.field("maskedPaths", nonEmpty: maskedPaths)
        w.field("readonlyPaths", nonEmpty: readonlyPaths)
        w.field("mountLabel", mountLabel)
        w.field("intelRdt", intelRdt)
        w.field("memoryPolicy", memoryPolicy)
        w.field("personality", personality)
        w.field("timeOffsets", nonEmpty: timeOffsets)
        w.endObject()
    }
}

extension Namespace: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("type", type.rawValue)
        w.field("path", path)
        w.endObject()
    }
}

extension TimeOffset: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("secs", secs)
        w.field("nanosecs", nanosecs)
        w.endObject()
    }
}

extension Device: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("path", path)
        w.field("type", type)
        w.field("major", major)
        w.field("minor", minor)
        w.field("fileMode", fileMode)
        w.field("uid", uid)
        w.field("gid", gid)
        w.endObject()
    }
}

extension Linux.Personality: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("domain", domain)
        w.field("flags", nonEmpty: flags)
        w.endObject()
    }
}

extension Linux.IntelRdt: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("closID", closID)
        w.field("l3CacheSchema", l3CacheSchema)
        w.field("memBwSchema", memBwSchema)
        w.field("schemata", nonEmpty: schemata)
        w.field("enableMonitoring", enableMonitoring)
        w.field("enableCMT", enableCMT)
        w.field("enableMBM", enableMBM)
        w.endObject()
    }
}

extension Linux.NetDevice: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("name", name)
        w.endObject()
    }
}

extension Linux.MemoryPolicy: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("mode", mode)
        w.field("nodes", nodes)
        w.field("flags", nonEmpty: flags)
        w.endObject()
    }
}
