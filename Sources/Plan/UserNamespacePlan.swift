import Glibc
import OCISpec
import Sys

/// A new user namespace as planned before clone: its mappings, checked (config-linux.md "User namespace
/// mappings"), and how the parent writes them between clone and protocol step 0.
package struct UserNamespacePlan: Sendable, Equatable {
    /// How one map gets written; decided by who the caller is.
    package enum Writer: Sendable, Equatable {
        /// Root (CAP_SETUID here) writes /proc/<pid>/uid_map itself.
        case direct
        /// An unprivileged caller mapping only its own gid: the kernel wants setgroups denied first.
        case directAfterDenyingSetgroups
        /// newuidmap/newgidmap (setuid root; they allow what /etc/subuid and /etc/subgid grant the caller).
        case tool(String)
    }

    package var uidMappings: [IDMapping]
    package var gidMappings: [IDMapping]
    package var uidWriter: Writer
    package var gidWriter: Writer
    /// An unprivileged parent can open the child's map files (and newuidmap accepts the child) only while the
    /// child is dumpable, so such a child turns non-dumpable after protocol step 0 instead of at once.
    package var childStaysDumpableUntilMapped: Bool

    package init(uidMappings: [IDMapping], gidMappings: [IDMapping], callerUID: UInt32, callerGID: UInt32,
                searchPath: String?) throws(PlanError) {
        let problems = ConfigChecks.mappings(uidMappings, path: ".linux.uidMappings", kind: "uid", required: true)
            + ConfigChecks.mappings(gidMappings, path: ".linux.gidMappings", kind: "gid", required: true)
        if let first = problems.first { throw first }
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
        uidWriter = try UserNamespacePlan.writer(uidMappings, callerID: callerUID, privileged: callerUID == 0,
                                                 group: false, searchPath: searchPath)
        gidWriter = try UserNamespacePlan.writer(gidMappings, callerID: callerGID, privileged: callerUID == 0,
                                                 group: true, searchPath: searchPath)
        childStaysDumpableUntilMapped = callerUID != 0
    }

    /// The text of /proc/<pid>/uid_map: one "inside outside count" line per range.
    package static func text(_ mappings: [IDMapping]) -> String {
        mappings.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joinedText()
    }

    /// newuidmap's arguments: the pid, then each range's three numbers.
    package static func toolArguments(pid: pid_t, _ mappings: [IDMapping]) -> [String] {
        [String(pid)] + mappings.flatMap { [String($0.containerID), String($0.hostID), String($0.size)] }
    }

    package static func maps(_ id: UInt32, in mappings: [IDMapping]) -> Bool {
        mappings.contains { UInt64(id) >= UInt64($0.containerID) && UInt64(id) < UInt64($0.containerID) + UInt64($0.size) }
    }

    /// Root writes any map. An unprivileged caller may write one line mapping its own id (runc's rootless
    /// default); anything more goes through the setuid tool, which checks /etc/subuid and /etc/subgid.
    static func writer(_ mappings: [IDMapping], callerID: UInt32, privileged: Bool, group: Bool,
                       searchPath: String?) throws(PlanError) -> Writer {
        if privileged { return .direct }
        if mappings.count == 1, mappings[0].size == 1, mappings[0].hostID == callerID {
            return group ? .directAfterDenyingSetgroups : .direct
        }
        let tool = group ? "newgidmap" : "newuidmap"
        guard let path = Processes.findProgram(tool, path: searchPath) else {
            let field = group ? ".linux.gidMappings" : ".linux.uidMappings"
            throw PlanError(field, "mapping more than your own \(group ? "gid" : "uid") \(callerID) needs \(tool) "
                            + "(Debian package uidmap), which is not installed")
        }
        return .tool(path)
    }

    // MARK: in the parent

    /// A map the kernel or the tool refused, named by its JSON path.
    package struct WriteError: Error, CustomStringConvertible {
        package var description: String
    }

    /// Between clone and protocol step 0: the uid map, then the gid map (setgroups first where needed).
    package func writeMaps(pid: pid_t) throws(WriteError) {
        try write(uidMappings, uidWriter, pid: pid, file: "uid_map", field: ".linux.uidMappings")
        try write(gidMappings, gidWriter, pid: pid, file: "gid_map", field: ".linux.gidMappings")
    }

    private func write(_ mappings: [IDMapping], _ writer: Writer, pid: pid_t, file: String, field: String) throws(WriteError) {
        let text = UserNamespacePlan.text(mappings)
        var tool: (path: String, arguments: [String], status: ExitStatus, output: String)?
        do throws(SysError) {
            switch writer {
            case .direct:
                try IDMaps.write(pid: pid, file: file, text)
            case .directAfterDenyingSetgroups:
                try IDMaps.denySetgroups(pid: pid)
                try IDMaps.write(pid: pid, file: file, text)
            case .tool(let path):
                let arguments = UserNamespacePlan.toolArguments(pid: pid, mappings)
                let (status, output) = try Processes.runTool(path, arguments)
                tool = (path, arguments, status, output)
            }
        } catch {
            throw WriteError(description: "\(field): \(error)")
        }
        guard let tool, tool.status != .exited(0) else { return }
        let said = tool.output.split(separator: "\n").map { $0.trimmingSpaces }.filter { !$0.isEmpty }.joined(separator: "; ")
        let how: String
        switch tool.status {
        case .exited(let code): how = "exit status \(code)"
        case .signaled(let signal): how = "signal \(signal)"
        }
        throw WriteError(description: "\(field): \(([tool.path] + tool.arguments).joined(separator: " ")): \(how)"
                         + (said.isEmpty ? "" : ": \(said)"))
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        var s = self
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }
}

// MARK: planning (ContainerPlan)

extension ContainerPlan {
    /// The user namespace part of the plan, for a config ConfigChecks.userNamespace found nothing wrong with: who
    /// writes the maps (which can still fail: newuidmap missing).
    package static func planUserNamespace(_ spec: Spec, created: NamespaceSet) throws(PlanError) -> UserNamespacePlan? {
        guard created.contains(.user) else { return nil }
        return try UserNamespacePlan(uidMappings: spec.linux?.uidMappings ?? [], gidMappings: spec.linux?.gidMappings ?? [],
                                     callerUID: UInt32(Processes.effectiveUID), callerGID: UInt32(Processes.effectiveGID),
                                     searchPath: Processes.environment().first { $0.hasBytePrefix("PATH=") }.map { String($0.dropFirst(5)) })
    }

    /// devpts takes `uid=`/`gid=` only for ids mapped in the mounter's user namespace (EINVAL otherwise): the
    /// usual `gid=5` goes when gid 5 is not mapped, and the terminal group is then the container's root group.
    static func mappedOwnerOptions(_ mount: Mount, _ userNamespace: UserNamespacePlan?, warnings: inout [String]) -> [String] {
        guard let userNamespace, mount.type == "devpts" else { return mount.options }
        return mount.options.filter { option in
            for (prefix, mappings) in [("uid=", userNamespace.uidMappings), ("gid=", userNamespace.gidMappings)]
            where option.hasBytePrefix(prefix) {
                guard let id = UInt32(option.dropFirst(prefix.count)), !UserNamespacePlan.maps(id, in: mappings) else { return true }
                warnings.append("devpts on \(mount.destination): dropped \(option), which the user namespace does not map")
                return false
            }
            return true
        }
    }
}

extension ContainerPlan {
    /// `linux.timeOffsets` as /proc/self/timens_offsets wants it; only with a new time namespace.
    static func planTimeNamespace(_ linux: Linux?, created: NamespaceSet) throws(PlanError) -> String {
        let offsets = linux?.timeOffsets ?? [:]
        if created.contains(.time) {
            guard Namespaces.haveTimeNamespaces else {
                let index = linux?.namespaces.firstIndex { $0.type == .time } ?? 0
                throw PlanError(".linux.namespaces[\(index)]", "this kernel has no time namespaces")
            }
        } else if !offsets.isEmpty {
            throw PlanError(".linux.timeOffsets", "needs a new time namespace in .linux.namespaces")
        }
        var text = ""
        for clock in offsets.keys.sorted() {
            let offset = offsets[clock]!
            if offset.nanosecs >= 1_000_000_000 {
                throw PlanError(".linux.timeOffsets.\(clock).nanosecs", "must be below 1000000000, got \(offset.nanosecs)")
            }
            text += "\(clock) \(offset.secs) \(offset.nanosecs)\n"
        }
        return text
    }
}
