import Glibc
import Sys

/// <root>/<id>/ and the files in it. Every command that changes a container holds `lock()` (docs/design.md §3).
package struct ContainerDirectory: Sendable {
    package let root: String
    package let id: String

    /// The names of the files a state dir holds.
    enum FileName {
        static let state = "state.json", execFifo = "exec.fifo", cgroups = "cgroups.json", config = "config.json"
        static let seccompProgram = "seccomp.bpf"
        static let all = [state, execFifo, cgroups, config, seccompProgram]
        /// What every create writes and nothing but `delete` removes.
        static let alwaysWritten = [state, cgroups, config]
    }

    package var path: String { root + "/" + id }
    package var statePath: String { path + "/" + FileName.state }
    package var execFifoPath: String { path + "/" + FileName.execFifo }
    /// Where create is about to make the container's cgroups, written before it makes them: state.json records
    /// them too, but a create that dies before state.json must not leave `delete` without a way to find them.
    package var cgroupsPath: String { path + "/" + FileName.cgroups }
    /// The validated config create used (as runc and crun keep one): exec reads it, not the bundle, so a bundle
    /// changed or removed after create cannot change the namespaces or seccomp profile an exec gets.
    package var configPath: String { path + "/" + FileName.config }
    /// The seccomp program the init loaded, kept for exec when the profile is left out of config.json
    /// (ContainerRecord.keptSeccompProgram).
    package var seccompProgramPath: String { path + "/" + FileName.seccompProgram }

    package struct InvalidID: Error, CustomStringConvertible {
        package var id: String
        package var reason: String
        package var description: String { "invalid container id \"\(id)\": \(reason)" }
    }

    package struct Exists: Error, CustomStringConvertible {
        package var id: String
        package var description: String { "container with id \"\(id)\" already exists" }
    }

    package struct NotFound: Error, CustomStringConvertible {
        package var id: String
        package var description: String { "container \"\(id)\" does not exist" }
    }

    package init(root: String, id: String) throws(InvalidID) {
        try ContainerDirectory.validate(id)
        self.root = root
        self.id = id
    }

    /// runc's rule: letters, digits and `_ + - .`, not `.` or `..`; never a `/`, so an id can't leave <root>.
    package static func validate(_ id: String) throws(InvalidID) {
        if id.isEmpty { throw InvalidID(id: id, reason: "must not be empty") }
        if id == "." || id == ".." { throw InvalidID(id: id, reason: "must not be . or ..") }
        if id.utf8.count > 1024 { throw InvalidID(id: String(id.prefix(40)) + "...", reason: "longer than 1024 bytes") }
        for byte in id.utf8 {
            let allowed = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2B || byte == 0x2D || byte == 0x2E
            if !allowed { throw InvalidID(id: id, reason: "only letters, digits and _+-. are allowed") }
        }
    }

    package var exists: Bool { Files.isDirectory(path) }

    /// Makes <root>/<id>/ exclusively: mkdir is atomic, so of two racing creates of one id exactly one wins.
    package func create() throws -> FileDescriptor {
        // The root is there but the first time: its mkdir (EEXIST) and stat come only when this one finds no parent.
        do {
            try Files.mkdir(path, mode: 0o711)
        } catch where error.errno == ENOENT {
            try Files.makeDirectories(root, mode: 0o700)
            do {
                try Files.mkdir(path, mode: 0o711)
            } catch where error.errno == EEXIST {
                throw Exists(id: id)
            }
        } catch where error.errno == EEXIST {
            throw Exists(id: id)
        }
        return try lock()
    }

    /// An exclusive flock on the directory, held until the returned fd goes.
    package func lock() throws -> FileDescriptor {
        let fd: FileDescriptor
        do {
            fd = try Files.open(path, O_RDONLY | O_DIRECTORY)
        } catch where error.errno == ENOENT {
            throw NotFound(id: id)
        }
        try Files.lock(fd)
        // While we waited, a delete may have removed the directory we locked (and a create made a new one under
        // the same name, whose lock we do not hold): only a lock on what is at `path` now counts.
        guard Files.isSameFile(fd, path) else { throw NotFound(id: id) }
        return fd
    }

    /// True while some process holds the lock: a create that has not written state.json yet is alive.
    /// (flock conflicts between open files, so a caller holding its own lock sees true too.)
    package var isLocked: Bool {
        guard let fd = try? Files.open(path, O_RDONLY | O_DIRECTORY) else { return false }
        return !Files.tryLock(fd)
    }

    package func write(_ record: ContainerRecord) throws {
        try Files.writeFileAtomically(statePath, record.encoded(), mode: 0o600)
    }

    /// nil while state.json is not written yet (the container is `creating`).
    package func read() throws -> ContainerRecord? {
        let bytes: [UInt8]
        do {
            bytes = try Files.readFile(statePath)
        } catch where error.errno == ENOENT {
            // Only now is it worth a stat: no state.json in a directory that exists is a create under way.
            guard exists else { throw NotFound(id: id) }
            return nil
        }
        return try ContainerRecord.decode(bytes)
    }

    /// The config snapshot as create and restore first write it: before state.json and under the lock, so no
    /// reader looks at it before it is whole (they wait for state.json), and a create that dies takes the
    /// whole directory with it. A plain write, then: no temporary file and rename.
    package func writeConfig(_ bytes: [UInt8]) throws {
        try Files.writeFile(configPath, bytes, mode: 0o600)
    }

    /// A later rewrite (restore's time namespace), when readers may look: replaced whole, by rename.
    package func replaceConfig(_ bytes: [UInt8]) throws {
        try Files.writeFileAtomically(configPath, bytes, mode: 0o600)
    }

    /// Written with the config snapshot, before state.json, like it (`writeConfig`).
    package func writeSeccompProgram(_ bytes: [UInt8]) throws {
        try Files.writeFile(seccompProgramPath, bytes, mode: 0o600)
    }

    package func readSeccompProgram() -> [UInt8]? { try? Files.readFile(seccompProgramPath) }

    package var execFifoExists: Bool { Files.lstatMode(execFifoPath) != nil }

    /// Records the cgroups create is about to make (`cgroupsPath`). A plain write: one that dies half-way
    /// leaves an empty or short file, which reads as nothing, and no cgroup was made yet then.
    /// `systemdUnit`: the unit the systemd driver is about to start ("" for cgroupfs).
    package func recordCgroups(version: String, paths: [String: String], systemdUnit: String = "") throws {
        var record = ContainerRecord(ociVersion: "", id: id, pid: 0, startTime: 0, bundle: "", rootfs: "", created: "",
                                     owner: "", annotations: [:])
        record.cgroupVersion = version
        record.cgroupPaths = paths
        record.systemdUnit = systemdUnit
        try Files.writeFile(cgroupsPath, record.encodedCgroups(), mode: 0o600)
    }

    /// The cgroups `recordCgroups` wrote, nil when none (or a torn write).
    package func recordedCgroups() -> (version: String, paths: [String: String])? {
        guard let bytes = try? Files.readFile(cgroupsPath) else { return nil }
        return ContainerRecord.decodeCgroups(bytes)
    }

    /// The systemd unit `recordCgroups` wrote; nil for the cgroupfs driver or no record.
    package func recordedSystemdUnit() -> String? {
        guard let bytes = try? Files.readFile(cgroupsPath) else { return nil }
        return ContainerRecord.decodeSystemdUnit(bytes)
    }

    /// The files a state dir holds go by name; anything else (a torn write's temporary) is found by a listing.
    package func remove() throws {
        try Files.removeFlatDirectory(path, expected: FileName.all)
    }

    /// `remove` for the process whose create made the directory and whose start has run (`run`): no unlink of what
    /// it never left there. exec.fifo is gone (its start removed it, or none was made) and seccomp.bpf was written
    /// only for a kept program; anything else (another process's torn write) is still found by the listing.
    package func removeAfterRun(keptSeccompProgram: Bool) throws {
        try Files.removeFlatDirectory(path, expected: keptSeccompProgram ? FileName.alwaysWritten + [FileName.seccompProgram]
                                                                          : FileName.alwaysWritten)
    }

    /// Ids of every container directory under `root`, sorted; names no id can have (the seccomp cache's
    /// `@seccomp`) are not containers.
    package static func list(root: String) throws -> [String] {
        guard Files.isDirectory(root) else { return [] }
        return try Files.listSubdirectories(root).filter { (try? validate($0)) != nil }.sorted()
    }
}
