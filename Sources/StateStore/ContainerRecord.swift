import JSON
import OCISpec

/// What crabcan keeps in <root>/<id>/state.json. The status is not among it: it is derived each time.
package struct ContainerRecord: Sendable, Equatable {
    package var ociVersion: String
    package var id: String
    package var pid: Int32
    /// Clock ticks since boot (/proc/<pid>/stat field 22): pid + start time name the init for good.
    package var startTime: UInt64
    package var bundle: String
    package var rootfs: String
    package var created: String
    package var owner: String
    package var annotations: [String: String]
    /// The container's cgroups: "v1" or "v2", and hierarchy → directory ("" for v2), to find them again.
    package var cgroupVersion: String = ""
    package var cgroupPaths: [String: String] = [:]
    /// The cgroup driver: the systemd unit holding the cgroups (--systemd-cgroup), "" when crabcan made them
    /// (cgroupfs). Later commands use the driver create used, whatever flags they are given.
    package var systemdUnit = ""
    /// The init made its own pid namespace (it is pid 1 there): SIGKILL to it takes every process of the container
    /// with it (pid_namespaces(7)), so `delete` needs no cgroup-wide kill. False in records written before it.
    package var ownsPidNamespace = false
    /// The seccomp profile is kept compiled in seccomp.bpf and left out of config.json: `exec` loads that program,
    /// and refuses to run without it (it never falls back to no filter).
    package var keptSeccompProgram = false
    /// poststart and poststop, run by `start` and `delete` from here: the bundle may be gone by then.
    package var hooks = Hooks()

    package init(ociVersion: String, id: String, pid: Int32, startTime: UInt64, bundle: String, rootfs: String,
                created: String, owner: String, annotations: [String: String]) {
        self.ociVersion = ociVersion
        self.id = id
        self.pid = pid
        self.startTime = startTime
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
        self.annotations = annotations
    }

    package func encoded() -> [UInt8] {
        let writer = JSONWriter(pretty: false)
        writer.beginObject()
        writer.field("ociVersion", ociVersion)
        writer.field("id", id)
        writer.field("pid", Int64(pid))
        writer.field("startTime", startTime)
        writer.field("bundle", bundle)
        writer.field("rootfs", rootfs)
        writer.field("created", created)
        writer.field("owner", owner)
        writer.field("annotations", nonEmpty: annotations)
        writer.field("cgroupVersion", cgroupVersion)
        writer.field("cgroupPaths", cgroupPaths)
        if !systemdUnit.isEmpty { writer.field("systemdUnit", systemdUnit) }
        writer.field("ownsPidNamespace", ifTrue: ownsPidNamespace)
        writer.field("keptSeccompProgram", ifTrue: keptSeccompProgram)
        if !hooks.poststart.isEmpty || !hooks.poststop.isEmpty {
            writer.key("hooks")
            writer.value(Hooks(poststart: hooks.poststart, poststop: hooks.poststop))
        }
        writer.endObject()
        return writer.bytes
    }

    /// Just the cgroup fields, for cgroups.json (ContainerDirectory.recordCgroups).
    func encodedCgroups() -> [UInt8] {
        let writer = JSONWriter(pretty: false)
        writer.beginObject()
        writer.field("cgroupVersion", cgroupVersion)
        writer.field("cgroupPaths", cgroupPaths)
        if !systemdUnit.isEmpty { writer.field("systemdUnit", systemdUnit) }
        writer.endObject()
        return writer.bytes
    }

    static func decodeSystemdUnit(_ bytes: [UInt8]) -> String? {
        guard let document = try? JSONDocument.parse(bytes) else { return nil }
        let context = JSONDecodingContext(document: document)
        guard let unit = context.root.object()?.optional("systemdUnit")?.string(), !unit.isEmpty else { return nil }
        return unit
    }

    static func decodeCgroups(_ bytes: [UInt8]) -> (version: String, paths: [String: String])? {
        guard let document = try? JSONDocument.parse(bytes) else { return nil }
        let context = JSONDecodingContext(document: document)
        guard let object = context.root.object(), let version = object.required("cgroupVersion")?.string(),
              let paths = object.required("cgroupPaths")?.stringMap(), context.problems.isEmpty else { return nil }
        return (version, paths)
    }

    package struct Corrupt: Error, CustomStringConvertible {
        package var detail: String
        package var description: String { "state.json is corrupt: \(detail)" }
    }

    package static func decode(_ bytes: [UInt8]) throws -> ContainerRecord {
        let document: JSONDocument
        do { document = try JSONDocument.parse(bytes) } catch { throw Corrupt(detail: error.description) }
        let context = JSONDecodingContext(document: document)
        guard let object = context.root.object(),
              let ociVersion = object.required("ociVersion")?.string(),
              let id = object.required("id")?.string(),
              let pid = object.required("pid")?.int32(),
              let startTime = object.required("startTime")?.uint64(),
              let bundle = object.required("bundle")?.string(),
              let rootfs = object.required("rootfs")?.string(),
              let created = object.required("created")?.string(),
              let owner = object.required("owner")?.string()
        else { throw Corrupt(detail: context.problems.first?.description ?? "unreadable") }
        let annotations = object.optional("annotations")?.stringMap() ?? [:]
        let cgroupVersion = object.optional("cgroupVersion")?.string() ?? ""
        let cgroupPaths = object.optional("cgroupPaths")?.stringMap() ?? [:]
        let systemdUnit = object.optional("systemdUnit")?.string() ?? ""
        let ownsPidNamespace = object.optional("ownsPidNamespace")?.bool() ?? false
        let keptSeccompProgram = object.optional("keptSeccompProgram")?.bool() ?? false
        let hooks = object.optional("hooks", Hooks.self) ?? Hooks()
        if let problem = context.problems.first { throw Corrupt(detail: problem.description) }
        var record = ContainerRecord(ociVersion: ociVersion, id: id, pid: pid, startTime: startTime, bundle: bundle,
                                     rootfs: rootfs, created: created, owner: owner, annotations: annotations)
        record.cgroupVersion = cgroupVersion
        record.cgroupPaths = cgroupPaths
        record.systemdUnit = systemdUnit
        record.ownsPidNamespace = ownsPidNamespace
        record.keptSeccompProgram = keptSeccompProgram
        record.hooks = hooks
        return record
    }
}
