import Cgroups
import Glibc
import Launcher
import StateStore
import Sys

extension Runtime {
    /// `delete`: refuses a running container unless `force`; a created one is killed first, as runc does.
    /// Leaves nothing: the init is dead and reaped by its parent, the state dir is gone. `reaped` is for the caller
    /// that started the container and has reaped its init (`run`): the record it wrote says all there is, so
    /// state.json is not read back (state.json is written once, by create), and what its create made says which
    /// files to remove.
    package func delete(_ id: String, force: Bool, reaped: Created? = nil) throws {
        var trace = phaseTrace()
        let directory = try self.directory(id)
        let lock: FileDescriptor
        do {
            lock = try directory.lock()
        } catch is ContainerDirectory.NotFound {
            if force { return }
            throw RuntimeError("container \(id) does not exist")
        }
        defer { lock.close() }
        let snap: Snapshot
        do {
            snap = try reaped.map { Snapshot(record: $0.record, status: .stopped, id: id) } ?? snapshot(directory, locked: true)
        } catch let corrupt as ContainerRecord.Corrupt {
            // No init to name: with --force the container's cgroup (cgroups.json) says which processes are its.
            guard force else { throw RuntimeError("container \(id): \(corrupt) (delete --force removes it)") }
            try removeDebris(directory, killing: true)
            return
        }
        switch snap.status {
        case .stopped, .creating:
            // No state.json while we hold the lock: the create that owned it died, and only debris is left.
            if snap.record == nil {
                try removeDebris(directory, killing: false)
                return
            }
        case .created:
            try killAndWait(snap.record!, paused: false)
        case .running, .paused:
            guard force else {
                throw RuntimeError("cannot delete container \(id) that is not stopped: \(snap.status.rawValue)")
            }
            try killAndWait(snap.record!, paused: snap.status == .paused)
        }
        trace.mark("kill")
        Fault.point(.midDelete)
        // Processes the init left behind in the cgroup (possible without a pid namespace) go too, then the cgroup.
        // An init that was pid 1 of its own namespace took every process with it: its cgroup is empty unless a
        // process was put there from outside, which the rmdir finds (EBUSY) before anything is read.
        if let record = snap.record, let cgroups = Runtime.cgroups(record) {
            let emptied = record.ownsPidNamespace && record.systemdUnit.isEmpty && cgroups.removeIfEmpty()
            if emptied {
                try cgroups.destroyAfterRemovingPidsRoot()  // cgroupfs only: no systemd unit to stop
            } else {
                try? cgroups.signalAll(SIGKILL)
                try destroyCgroups(record, cgroups)
            }
        }
        trace.mark("cgroups")
        if let reaped {
            // <state dir>/rootfs is there only where this run's create bound the rootfs on it: no access(2) to ask.
            if reaped.madeHostRoot { try HostRoot.remove(stateDirectory: directory.path) }
            try directory.removeAfterRun(keptSeccompProgram: reaped.record.keptSeccompProgram)
        } else {
            try HostRoot.remove(stateDirectory: directory.path)
            try directory.remove()
        }
        trace.mark("state dir")
        runPoststopHooks(snap.record)
        trace.mark("poststop")
        if trace.enabled { log.debug("delete \(id) took \(trace.summary)") }
    }

    /// config.md: after the container is deleted, before `delete` returns; a failure is only a warning.
    private func runPoststopHooks(_ record: ContainerRecord?) {
        guard let record, !record.hooks.poststop.isEmpty else { return }
        do {
            try HookRunner.run(record.hooks.poststop, kind: .poststop, state: stateDocument(record, .stopped).encode(pretty: true))
        } catch {
            log.warning("\(error)")
        }
    }

    /// What a create that died (or a state.json that cannot be read) leaves: the cgroups it recorded before
    /// making them, and the state dir. Its init died with it (PR_SET_PDEATHSIG), so the cgroups are empty unless
    /// they were someone else's to begin with; those are left as found, and only with `killing` (delete --force
    /// of an unreadable state) are their processes killed.
    func removeDebris(_ directory: ContainerDirectory, killing: Bool) throws {
        if let (version, paths) = directory.recordedCgroups(), let version = CgroupVersion(rawValue: version) {
            let cgroups = CgroupManager(CgroupSet(version: version, paths: paths))
            if killing, let unit = directory.recordedSystemdUnit() { Runtime.stopRecordedUnit(unit) }
            if killing {
                try? cgroups.signalAll(SIGKILL)
                try cgroups.destroy()
            } else {
                try? cgroups.destroy()
            }
        }
        try HostRoot.remove(stateDirectory: directory.path)
        try directory.remove()
    }

    /// Through the driver create used: the systemd unit is stopped, then what is left of the cgroups removed.
    /// A manager that cannot be reached leaves the unit to systemd (it ends an empty scope itself) with a warning.
    func destroyCgroups(_ record: ContainerRecord, _ cgroups: CgroupManager) throws {
        let driver: any CgroupDriver
        do {
            driver = try Runtime.driver(record, cgroups)
        } catch {
            log.warning("delete \(record.id): systemd unit \(record.systemdUnit) left to systemd: \(error)")
            driver = CgroupfsDriver(cgroups)
        }
        try driver.destroy()
    }

    /// SIGKILL, then wait until the process has exited (a zombie counts: its parent reaps it).
    func killAndWait(_ record: ContainerRecord, paused: Bool) throws {
        guard let initFD = try? Processes.pidfd(record.pid),
              Processes.startTime(of: record.pid) == record.startTime else { return }
        let cgroups = Runtime.cgroups(record)
        // As runc: an init that is pid 1 of its own namespace takes the rest with it; only a shared pid namespace
        // needs every process of the cgroup killed (v1: frozen first, so none forks away meanwhile).
        if !record.ownsPidNamespace { try? cgroups?.signalAll(SIGKILL) }
        let signalled = Result { () throws(SysError) in try Processes.signal(pidfd: initFD, SIGKILL) }
        // A paused container: kill, then thaw (runc), or its frozen init never dies.
        if paused { try cgroups?.thawAfterKill() }
        if case .failure(let error) = signalled {
            if error.errno == ESRCH { return }  // cgroup.kill took it, and its parent has reaped it already: done
            throw error
        }
        // Any other init dies within a few milliseconds. One that does not was frozen behind crabcan's back (a
        // freezer it did not set): only then is the freezer read, and thawed.
        if !paused {
            if try !Channels.poll([Int(initFD.raw)], timeoutMilliseconds: 100).isEmpty { return }
            try cgroups?.thawAfterKill()
        }
        if try Channels.poll([Int(initFD.raw)], timeoutMilliseconds: 10_000).isEmpty {
            throw RuntimeError("container init \(record.pid) did not die after SIGKILL")
        }
    }
}
