/// CRIU's RPC messages (criu/images/rpc.proto: criu_req, criu_opts, criu_resp), with the field numbers there.
package enum CriuRequestType: Int32, Sendable {
    case empty = 0, dump = 1, restore = 2, check = 3, preDump = 4, pageServer = 5, notify = 6
    case featureCheck = 9, version = 10

    var name: String {
        switch self {
        case .empty: "EMPTY"
        case .dump: "DUMP"
        case .restore: "RESTORE"
        case .check: "CHECK"
        case .preDump: "PRE_DUMP"
        case .pageServer: "PAGE_SERVER"
        case .notify: "NOTIFY"
        case .featureCheck: "FEATURE_CHECK"
        case .version: "VERSION"
        }
    }
}

/// criu_cg_mode, as runc's --manage-cgroups-mode names them.
package enum CriuCgroupMode: Int32, Sendable {
    case ignore = 0, none = 1, props = 2, soft = 3, full = 4, strict = 5, `default` = 6

    /// runc's words: "" (criu's default), soft, full, strict, ignore.
    package init?(flag: String) {
        switch flag {
        case "": self = .default
        case "soft": self = .soft
        case "full": self = .full
        case "strict": self = .strict
        case "ignore": self = .ignore
        default: return nil
        }
    }
}

/// criu_opts: what crabcan sets (the rest keep criu's defaults).
package struct CriuOptions: Sendable {
    package var imagesDirFD: Int32 = -1
    package var pid: Int32?
    package var leaveRunning: Bool?
    package var extUnixSk: Bool?
    package var tcpEstablished: Bool?
    package var evasiveDevices: Bool?
    package var shellJob: Bool?
    package var fileLocks: Bool?
    package var logLevel: Int32?
    package var logFile: String?
    package var notifyScripts: Bool?
    package var root: String?
    package var parentImage: String?
    package var trackMemory: Bool?
    package var autoDedup: Bool?
    package var workDirFD: Int32?
    /// ext_mount_map: mount point in the container → key in the image (dump) or source on the host (restore).
    package var externalMounts: [(key: String, value: String)] = []
    package var manageCgroups: Bool?
    /// cgroup_root: nil controller = every controller.
    package var cgroupRoots: [(controller: String?, path: String)] = []
    package var restoreSibling: Bool?
    package var inheritFDs: [(key: String, fd: Int32)] = []
    package var manageCgroupsMode: CriuCgroupMode?
    package var external: [String] = []
    package var emptyNamespaces: UInt32?
    /// join_namespace: the kind ("net", "ipc", ...) and the namespace file to join.
    package var joinNamespaces: [(kind: String, file: String)] = []
    package var freezeCgroup: String?
    package var lazyPages: Bool?
    package var orphanPtsMaster: Bool?
    package var configFile: String?
    package var lsmProfile: String?
    package var lsmMountContext: String?
    /// criu_network_lock_method: 1 iptables (criu's default), 2 nftables, 3 skip.
    package var networkLock: Int32?

    package init() {}

    func encode(_ w: inout ProtoWriter) {
        w.int32(1, imagesDirFD)
        w.int32(2, pid)
        w.bool(3, leaveRunning)
        w.bool(4, extUnixSk)
        w.bool(5, tcpEstablished)
        w.bool(6, evasiveDevices)
        w.bool(7, shellJob)
        w.bool(8, fileLocks)
        w.int32(9, logLevel)
        w.string(10, logFile)
        w.bool(12, notifyScripts)
        w.string(13, root)
        w.string(14, parentImage)
        w.bool(15, trackMemory)
        w.bool(16, autoDedup)
        w.int32(17, workDirFD)
        for mount in externalMounts {
            w.message(23) { $0.string(1, mount.key); $0.string(2, mount.value) }
        }
        w.bool(24, manageCgroups)
        for root in cgroupRoots {
            w.message(25) { $0.string(1, root.controller); $0.string(2, root.path) }
        }
        w.bool(26, restoreSibling)
        for inherit in inheritFDs {
            w.message(27) { $0.string(1, inherit.key); $0.int32(2, inherit.fd) }
        }
        w.int32(34, manageCgroupsMode?.rawValue)
        for entry in external { w.string(37, entry) }
        w.uint32(38, emptyNamespaces)
        for join in joinNamespaces {
            w.message(39) { $0.string(1, join.kind); $0.string(2, join.file) }
        }
        w.string(44, freezeCgroup)
        w.bool(48, lazyPages)
        w.bool(50, orphanPtsMaster)
        w.string(51, configFile)
        w.string(53, lsmProfile)
        w.string(63, lsmMountContext)
        w.int32(64, networkLock)
    }
}

/// criu_req.
package struct CriuRequest: Sendable {
    package var type: CriuRequestType
    package var options: CriuOptions?
    package var notifySuccess: Bool?
    /// criu_features.mem_track / lazy_pages, for FEATURE_CHECK.
    package var features: (memTrack: Bool?, lazyPages: Bool?)?

    package init(type: CriuRequestType, options: CriuOptions? = nil, notifySuccess: Bool? = nil) {
        self.type = type
        self.options = options
        self.notifySuccess = notifySuccess
    }

    package func encoded() -> [UInt8] {
        var w = ProtoWriter()
        w.int32(1, type.rawValue)
        if let options { w.message(2) { options.encode(&$0) } }
        w.bool(3, notifySuccess)
        if let features {
            w.message(5) { $0.bool(1, features.memTrack); $0.bool(2, features.lazyPages) }
        }
        return w.bytes
    }
}

/// criu_resp: what crabcan reads of it.
package struct CriuResponse: Sendable {
    package var type: Int32
    package var success: Bool
    package var restoredPid: Int32?
    /// criu_notify: the script name ("post-dump", "setup-namespaces", "post-restore", ...) and its pid.
    package var notifyScript: String?
    package var notifyPid: Int32?
    package var errno: Int32?
    package var errorMessage: String?
    package var features: (memTrack: Bool?, lazyPages: Bool?)?
    package var version: (major: Int32, minor: Int32, sublevel: Int32?)?

    package init(_ bytes: [UInt8]) throws {
        let m = try ProtoMessage(bytes)
        guard let type = m.int32(1), let success = m.bool(2) else {
            throw ProtoError(description: "criu_resp without type or success")
        }
        self.type = type
        self.success = success
        restoredPid = try m.message(4)?.int32(1)
        if let notify = try m.message(5) {
            notifyScript = notify.string(1)
            notifyPid = notify.int32(2)
        }
        errno = m.int32(7)
        errorMessage = m.string(9)
        if let f = try m.message(8) { features = (f.bool(1), f.bool(2)) }
        if let v = try m.message(10), let major = v.int32(1), let minor = v.int32(2) { version = (major, minor, v.int32(4)) }
    }

    package var typeName: String { CriuRequestType(rawValue: type)?.name ?? "type \(type)" }
}
