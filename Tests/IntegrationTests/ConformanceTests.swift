import Foundation
import Testing

/// Issue 12: configs the runtime-tools validation suite writes, run at crabcan's own level (what the container saw).
extension CrabcanCLI {
    /// A `sleep` in new mount and uts namespaces of its own, made by util-linux unshare outside any container.
    static func namespaceHolder() throws -> Command {
        let holder = try Command("/usr/bin/unshare", ["--mount", "--uts", "--propagation", "private", "/bin/sleep", "100"])
        _ = eventually { Host.cmdline(holder.pid).first == "/bin/sleep" }
        return holder
    }

    static func link(_ path: String) -> String { (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?" }

    /// 12.3 (file linux_ns_path): a mount and a uts namespace given by path are joined; the hostname is set there.
    @Test func mountAndUTSNamespacesAreJoinedByPathWithTheHostname() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let holder = try Self.namespaceHolder()
        defer { holder.signal(SIGKILL); _ = holder.wait() }
        let ns = { (type: String) in "/proc/\(holder.pid)/ns/\(type)" }
        let hostHostname = Command.run("/usr/bin/hostname", []).stdout
        let bundle = try box.bundle(["sh", "-c", "hostname; readlink /proc/self/ns/mnt; readlink /proc/self/ns/uts"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["namespaces"] = [["type": "mount", "path": ns("mnt")], ["type": "uts", "path": ns("uts")],
                                   ["type": "pid"], ["type": "ipc"]]
            $0["linux"] = linux
            $0["hostname"] = "joined-uts"
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("nsjoin")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["joined-uts", Self.link(ns("mnt")), Self.link(ns("uts"))], "\(result)")
        // The holder's namespace took the name; the host's did not.
        #expect(Command.run("/usr/bin/nsenter", ["-t", "\(holder.pid)", "-u", "hostname"]).stdoutLines == ["joined-uts"])
        #expect(Command.run("/usr/bin/hostname", []).stdout == hostHostname)
    }

    /// Joining the runtime's own uts or mount namespace would rename the host or pivot its root: refused.
    @Test func theRuntimesOwnUTSAndMountNamespacesAreRefused() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let hostHostname = Command.run("/usr/bin/hostname", []).stdout
        for (type, link) in [("uts", "uts"), ("mount", "mnt")] {
            let own = "/proc/\(getpid())/ns/\(link)"
            let bundle = try box.bundle(["true"], name: "own-\(type)") {
                var linux = $0["linux"] as! [String: Any]
                linux["namespaces"] = [["type": "mount"], ["type": "uts"], ["type": "pid"]].map {
                    $0["type"] == type ? ["type": type, "path": own] : $0
                }
                $0["linux"] = linux
                $0["hostname"] = "must-not-be-set"
            }
            let result = box.crabcan(["run", "--bundle", bundle, box.id("own-\(type)")])
            #expect(result.status == 1)
            let index = type == "mount" ? 0 : 1
            #expect(result.stderr.contains(".linux.namespaces[\(index)].path: \(own) is the runtime's own \(type) namespace"), "\(result)")
        }
        #expect(Command.run("/usr/bin/hostname", []).stdout == hostHostname)
    }

    /// 12.6 (file linux_mount_label): without SELinux a mount label alone is dropped with a warning, the container
    /// runs and no mount carries a context; with a process label the config is still refused (docs/conformance.md).
    @Test(.enabled(if: !((try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8))?.contains("selinuxfs") ?? true),
                   "the host has SELinux"))
    func mountLabelWithoutSELinuxIsIgnoredWithAWarning() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let label = "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811"
        let bundle = try box.bundle(["sh", "-c", "echo ran; grep -c context= /proc/self/mountinfo"]) {
            var linux = $0["linux"] as! [String: Any]
            linux["mountLabel"] = label
            $0["linux"] = linux
        }
        let log = box.dir + "/log"
        let result = box.crabcan(["--log", log, "run", "--bundle", bundle, box.id("mountlabel")])
        #expect(result.stdoutLines == ["ran", "0"], "\(result)")
        let warned = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "") + result.stderr
        // (The log quotes the message, so its inner quotes are escaped there.)
        #expect(warned.contains(".linux.mountLabel: SELinux is not enabled on this host; mount label") && warned.contains("ignored"), "\(warned)")
        let labeled = try box.bundle(["true"], name: "with-process-label") {
            var linux = $0["linux"] as! [String: Any]
            linux["mountLabel"] = label
            $0["linux"] = linux
            var process = $0["process"] as! [String: Any]
            process["selinuxLabel"] = "system_u:system_r:svirt_lxc_net_t:s0:c715,c811"
            $0["process"] = process
        }
        let refused = box.crabcan(["run", "--bundle", labeled, box.id("processlabel")])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains(".process.selinuxLabel: SELinux is not enabled on this host"), "\(refused)")
    }
}
