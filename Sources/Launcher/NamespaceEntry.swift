import Glibc
import OCISpec
import Plan
import Sys

/// The child's first steps inside its namespaces after protocol step 0: the time namespace, then the user
/// namespace's root (the ids the parent mapped).
enum UserNamespaceEntry {
    /// First thing after protocol step 0 in a new or joined user namespace. Our ids are still the host's and
    /// unmapped there; we become the namespace's root, keeping the full capabilities it gave us (runc's init does
    /// setresuid(0) too). The credential change cleared PR_SET_PDEATHSIG, so it is set again, and an unprivileged
    /// parent's child turns non-dumpable only now that its maps are written (CVE-2019-5736 from here on).
    static func enter(_ plan: ContainerPlan) throws(SysError) {
        guard plan.inUserNamespace else { return }
        try becomeRoot()
        try Processes.dieWithParent()
        try Processes.setDumpable(false)
    }

    /// The process's additional groups. In a user namespace whose setgroups is denied (an unprivileged caller's
    /// single gid mapping) there is nothing to drop and nothing can be added, as runc has it.
    /// The call is tried first: /proc/self/setgroups is read only to explain an EPERM.
    static func setGroups(_ gids: [UInt32]) throws {
        do {
            try Processes.setGroups(gids.map { gid_t($0) })
        } catch {
            guard error.errno == EPERM, !IDMaps.setgroupsAllowed else { throw error }
            if gids.isEmpty { return }
            throw ChildFailure(message: ".process.user.additionalGids: setgroups is denied in this user namespace "
                               + "(an unprivileged single gid mapping)", errno: EPERM)
        }
    }

    /// setgroups is skipped where the namespace denies it (an unprivileged single gid mapping).
    static func becomeRoot() throws(SysError) {
        try Processes.setGID(0)
        if IDMaps.setgroupsAllowed { try Processes.setGroups([]) }
        try Processes.setUID(0)
    }
}

enum TimeNamespaceEntry {
    /// Inside the user namespace, so the time namespace belongs to it, but before we become its root: our
    /// /proc/self files belong to the host id we still have (non-dumpable: the host's root), and writing
    /// timens_offsets needs CAP_SYS_TIME in the user namespace, which we hold either way.
    static func enter(_ plan: ContainerPlan) throws {
        guard plan.createdNamespaces.contains(.time) else { return }
        do {
            try Namespaces.enterNewTimeNamespace(offsets: plan.timeOffsets)
        } catch {
            throw ChildFailure(message: "time namespace (.linux.timeOffsets): \(error)", errno: error.errno)
        }
    }
}
