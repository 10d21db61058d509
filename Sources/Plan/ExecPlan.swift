import Capabilities
import Glibc
import OCISpec
import Seccomp
import Sys

/// A new process in a running container (`crabcan exec`): the namespaces of its init, opened now so they
/// are the ones of the process we checked, and the process's own privileges, checked before clone.
package struct ExecPlan: ProcessSettings {
    package struct Namespace {
        package var type: NamespaceType
        package var fd: FileDescriptor
    }

    package var process: OCISpec.Process
    package var privileges: ProcessPrivileges
    package var labels: SecurityLabels
    package var seccomp: SeccompProgram?
    package var preserveFDs: Int32
    /// In setns order: the user namespace first (it owns the others), the pid namespace apart (joined by the parent).
    package var namespaces: [Namespace] = []
    package var warnings: [ConfigProblem] = []
    /// The init's root, when the container has no mount namespace of its own (HostRoot).
    package var root: FileDescriptor?
    /// process.json's scheduler, I/O priority, CPU affinity (initial, final) and the container's memory policy.
    package var scheduling: ProcessScheduling

    /// `spec` is the container's config (its namespaces and seccomp profile); `process` the one to start;
    /// `keptSeccomp` the program the init loaded, when create kept it in place of the profile.
    /// Planned as `create` plans the init: every check records its problems (the same collecting checks), and
    /// the first in the order they ran is thrown, with its path inside process.json.
    package init(spec: Spec, process: OCISpec.Process, initPid: pid_t, preserveFDs: Int32 = 0,
                 keptSeccomp: SeccompProgram? = nil, seccompCache: SeccompCache? = nil) throws {
        var problems: [ConfigProblem] = []
        if process.args.isEmpty { problems.append(PlanError(".args", "at least one argument is required")) }
        if !process.cwd.hasBytePrefix("/") { problems.append(PlanError(".cwd", "must be an absolute path")) }
        self.process = process
        self.preserveFDs = preserveFDs
        privileges = ProcessPrivileges(process: process, problems: &problems)
        labels = SecurityLabels(process: process, linux: spec.linux, problems: &problems)
        warnings += privileges.warnings + labels.warnings
        scheduling = ProcessScheduling(process: process, linux: spec.linux, prefix: "", isInit: false,
                                       problems: &problems, warnings: &warnings)
        if let keptSeccomp {
            seccomp = keptSeccomp
        } else if let profile = spec.linux?.seccomp {
            seccomp = seccompCache.map { $0.program(profile, problems: &problems) } ?? SeccompProgram(profile, problems: &problems)
        }
        warnings += seccomp?.warnings ?? []
        if let first = problems.first { throw first }
        // An array: at most eight types, and a Set's storage would be more code for each exec to map.
        let types = (spec.linux?.namespaces ?? []).map(\.type)
        // No mount namespace to join (inherited: HostRoot): the init's root is entered by chroot instead.
        if !types.contains(.mount) { root = try Files.open(Processes.procPath(initPid, "root"), O_PATH | O_DIRECTORY | O_CLOEXEC) }
        // setns into a time namespace moves the caller itself (unlike pid), so the child joins it like the others.
        let order: [NamespaceType] = [.user, .ipc, .uts, .network, .pid, .cgroup, .time, .mount]
        for type in order where types.contains(type) {
            let path = Processes.procPath(initPid, "ns/" + ExecPlan.procName(type))
            namespaces.append(Namespace(type: type, fd: try Files.open(path, O_RDONLY | O_CLOEXEC)))
        }
    }

    static func procName(_ type: NamespaceType) -> String {
        switch type {
        case .network: return "net"
        case .mount: return "mnt"
        default: return type.rawValue
        }
    }

    /// With a user namespace, a helper joins it and the pid namespace before cloning the exec'd process.
    package var joinsUserNamespaceInHelper: Bool { namespaces.contains { $0.type == .user } && namespaces.contains { $0.type == .pid } }

    package var searchPath: String { ProgramSearch.path(process.env) }

    /// Whether `exec` may pin itself and its child to one CPU until the child's execve (Launcher's SetUpCPU): not
    /// with an execCPUAffinity of the user's (the child's affinity is theirs then), SCHED_DEADLINE, a notify
    /// filter (loaded before the child gives itself every CPU back, so the call would meet it), or the helper that
    /// joins a user namespace first.
    package var mayPinSetUpCPU: Bool {
        !scheduling.setsAffinity && !scheduling.setsDeadline && !(seccomp?.usesNotify ?? false) && !joinsUserNamespaceInHelper
    }
}
