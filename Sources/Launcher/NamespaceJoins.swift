import Glibc
import OCISpec
import Plan
import Sys

/// Namespaces given by path are entered before the init is cloned, by a short-lived helper: setns(user) first,
/// so the others are joined with that user namespace's privileges, and the namespaces clone then makes belong to
/// it (runc's nsexec joins, then creates). A new mount namespace made in the host's user namespace could not be
/// mounted in by the joined one's root. The helper clones the init with CLONE_PARENT, so the init is still
/// `create`'s child (waited for, PR_SET_PDEATHSIG on `create`), and reports its pid (protocol step −1).
/// setns into a pid namespace moves only later children, which is what the helper's clone needs; setns into a
/// time namespace moves the helper itself, and the init inherits it.
enum NamespaceJoins {
    /// runc's order: user first (it owns the rest); mount last (crabcan always makes a new one instead).
    static let order: [NamespaceType] = [.user, .ipc, .uts, .network, .pid, .cgroup, .time, .mount]

    static func ordered(_ joins: [ContainerPlan.NamespaceJoin]) -> [ContainerPlan.NamespaceJoin] {
        joins.sorted { (order.firstIndex(of: $0.type) ?? order.count) < (order.firstIndex(of: $1.type) ?? order.count) }
    }

    /// Returns the init's pid once the helper has cloned it; the init runs `initBody`.
    static func spawnInit(_ plan: ContainerPlan, cloneFlags: UInt, channel: ParentChannel, childEnd: FileDescriptor,
                          initBody: () -> Never) throws -> pid_t {
        // The init inherits the helper's dumpable setting (mm flags are copied by clone), so it is never dumpable in
        // the joined namespaces (CVE-2019-5736), unless an unprivileged parent still has to write its id maps.
        try spawnThroughHelper(channel: channel, childEnd: childEnd,
                               nonDumpable: !(plan.userNamespace?.childStaysDumpableUntilMapped ?? false),
                               cloneFlags: cloneFlags, join: {
            for join in ordered(plan.joinedNamespaces) {
                let fd = try Files.open(join.path, O_RDONLY)
                try Namespaces.join(fd, type: ContainerPlan.cloneFlag(join.type), path: join.path)
            }
        }, body: initBody)
    }

    /// A helper that runs `join`, then clones a child with `cloneFlags | CLONE_PARENT` that runs `body`, reports
    /// the child's pid (protocol step −1) and exits. Returns that pid, the caller's own child.
    static func spawnThroughHelper(channel: ParentChannel, childEnd: FileDescriptor, nonDumpable: Bool,
                                   cloneFlags: UInt, join: () throws -> Void, body: () -> Never) throws -> pid_t {
        let helper = try Processes.clone(flags: 0)
        if helper == 0 {
            channel.socket.close()
            let reporter = ChildChannel(socket: childEnd, stage: .joining)
            do {
                try Processes.dieWithParent()
                if nonDumpable { try Processes.setDumpable(false) }
                try join()
                let pid = try Processes.clone(flags: cloneFlags | Namespaces.cloneParent)
                if pid == 0 { body() }
                try reporter.reportSpawned(pid)
            } catch {
                reporter.fail(error)
            }
            Processes.exit(0)
        }
        // Only the helper and its child hold the child's end now: a helper that dies silently reads as end of file.
        childEnd.close()
        _ = try? Processes.wait(helper)
        // (A child that failed before the helper reported stays a zombie until we exit: it is already dead.)
        return try channel.receiveSpawned()
    }
}
