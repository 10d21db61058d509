import Capabilities
import OCISpec
import Seccomp

/// What turning a crabcan child into the container's process needs: the init's ContainerPlan and an
/// `exec`'s ExecPlan both give it, so privileges, seccomp, the terminal and execve are done one way.
package protocol ProcessSettings {
    var process: OCISpec.Process { get }
    var privileges: ProcessPrivileges { get }
    var labels: SecurityLabels { get }
    var seccomp: SeccompProgram? { get }
    /// fds 3..<3+preserveFDs stay open in the container (`--preserve-fds`), besides stdio.
    var preserveFDs: Int32 { get }
    var searchPath: String { get }
}

/// Where the init and `exec` look for `process.args[0]`, and where `check` looks for it in the rootfs.
package enum ProgramSearch {
    /// The paths execvp would try for `name`, in order: the name itself (relative to cwd) when it has a
    /// slash, else each directory of PATH. `check` searches the rootfs with the same list.
    package static func candidates(_ name: String, searchPath: String, cwd: String) -> [String] {
        if name.utf8.contains(UInt8(ascii: "/")) { return [name.hasBytePrefix("/") ? name : cwd + "/" + name] }
        return searchPath.pieces(separatedBy: UInt8(ascii: ":")).map { $0 + "/" + name }
    }

    /// The PATH the container's process sees: its own env, else the conventional default.
    package static func path(_ env: [String]) -> String {
        for entry in env where entry.hasBytePrefix("PATH=") { return String(entry.dropFirst(5)) }
        return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    }
}
