import Capabilities
import Cgroups
import Glibc
import OCISpec
import Plan
import Sys

/// What an exec'd process does between clone and execve, in the child: like the init, without the rootfs
/// (joining the mount namespace puts it in the container's root) and without waiting for `start`.
enum ExecInit {
    /// `pinnedToSetUpCPU`: born pinned to the runtime's CPU (SetUpCPU), given every CPU back before execve.
    static func run(_ plan: ExecPlan, channel: ChildChannel, placement: SelfPlacement, pinnedToSetUpCPU: Bool = false) -> Never {
        let executable: String
        let finalCapabilities: PreparedCapabilities?
        var channel = channel
        channel.startClock()
        do {
            try Processes.dieWithParent()
            // The parent made itself non-dumpable before clone, so from its first instant in the container's pid
            // namespace no container process can open our /proc/<pid>/exe, the host binary (CVE-2019-5736).
            try Processes.setDumpable(false)
            try Processes.closeDescriptors(from: 3 + plan.preserveFDs,
                                           except: [Int(channel.socket.raw)] + plan.namespaces.map { Int($0.fd.raw) }
                                               + (plan.root.map { [Int($0.raw)] } ?? []))
            channel.stage = .placement
            try channel.awaitPlaced()
            try plan.scheduling.applyInitialAffinity()
            // Into the cgroups while the host's cgroup file systems are still in our mount namespace.
            try placement.perform()
            try Processes.setSID()
            channel.stage = .rootfs
            for namespace in plan.namespaces where namespace.type != .pid {
                // (Joined already, with the pid namespace, by the helper that cloned us.)
                if namespace.type == .user && plan.joinsUserNamespaceInHelper { continue }
                try Namespaces.join(namespace.fd, type: ContainerPlan.cloneFlag(namespace.type),
                                    path: "\(namespace.type.rawValue) namespace")
                namespace.fd.close()
            }
            // As the init: root of the container's user namespace (our host ids are unmapped there) until switchUser.
            if plan.namespaces.contains(where: { $0.type == .user }) { try UserNamespaceEntry.becomeRoot() }
            if let root = plan.root {
                try root.enterAsWorkingDirectory()
                try Files.chroot(".")
                root.close()
            }
            // setns(mnt) or chroot put us at the container's root; cwd resolves there and cannot leave it (CVE-2024-21626).
            try Files.chdir(plan.process.cwd)
            if plan.process.terminal {
                let terminal = try ProcessStart.openTerminal(plan)
                try channel.sendConsole(terminal.master)
                try Terminals.attach(terminal.slave)
                terminal.slave.close()
            }
            channel.stage = .executable
            executable = try Executables.resolve(plan.process.args[0], searchPath: plan.searchPath, cwd: plan.process.cwd)
            try plan.scheduling.apply()
            finalCapabilities = try ProcessStart.switchUserAndCommit(plan, &channel)
        } catch {
            channel.fail(error)
        }
        ProcessStart.exec(plan, executable, finalCapabilities, givesEveryCPUBack: pinnedToSetUpCPU)
    }
}
