import Foundation
import Testing

/// The filesystem the container sees: its mounts, masked and read-only paths, devices, a read-only root.
extension CrabcanCLI {
    @Test func mountsInsideTheContainer() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("mounts")
        let fm = FileManager.default
        var isDir: ObjCBool = false
        // Masked paths from bundles/busybox/config.json that this kernel has: files become /dev/null, dirs empty.
        let maskedFiles = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/latency_stats", "/proc/sched_debug",
                           "/proc/timer_stats"].filter { fm.fileExists(atPath: $0, isDirectory: &isDir) && !isDir.boolValue }
        let maskedDirs = ["/proc/acpi", "/proc/asound", "/proc/scsi", "/sys/firmware"]
            .filter { fm.fileExists(atPath: $0, isDirectory: &isDir) && isDir.boolValue }
        let script = """
            sed 's/^/mnt /' /proc/self/mountinfo
            for p in \(maskedFiles.joined(separator: " ")); do echo "maskedfile $p $(stat -c %t,%T $p) $(wc -c < $p)"; done
            for d in \(maskedDirs.joined(separator: " ")); do echo "maskeddir $d $(ls -A $d | wc -l)"; done
            for d in \(maskedDirs.joined(separator: " ")); do if touch $d/x 2>/dev/null; then echo "maskwrite $d ok"; else echo "maskwrite $d refused"; fi; done
            if (echo 1 > /proc/sys/kernel/ns_last_pid) 2>/dev/null; then echo "procsys-write ok"; else echo "procsys-write failed"; fi
            [ -c /dev/null ] && echo "chr null $(stat -c %t,%T /dev/null)"
            [ -c /dev/zero ] && echo "chr zero $(stat -c %t,%T /dev/zero)"
            [ -L /dev/fd ] && echo "devfd $(readlink /dev/fd)"
            echo end
            """
        let result = box.crabcan(["run", "--bundle", try box.bundle(["sh", "-c", script]), id])
        #expect(result.status == 0, "\(result)")
        let lines = result.stdoutLines
        #expect(lines.last == "end", "\(result)")

        // mountinfo: field 5 is the mount point, then the options; "- fstype source superopts" follows.
        let mounts = lines.filter { $0.hasPrefix("mnt ") }.map { $0.dropFirst(4).split(separator: " ").map(String.init) }
        func mount(_ point: String) -> [String]? { mounts.last { $0.count > 5 && $0[4] == point } }
        func fstype(_ fields: [String]) -> String? { fields.firstIndex(of: "-").map { fields[$0 + 1] } }
        for (point, type) in [("/", nil), ("/proc", "proc"), ("/dev", "tmpfs"), ("/dev/pts", "devpts"),
                              ("/dev/shm", "tmpfs"), ("/sys", "sysfs")] as [(String, String?)] {
            let fields = mount(point)
            #expect(fields != nil, "no \(point) mount inside:\n\(result.stdout)")
            if let fields, let type { #expect(fstype(fields) == type, "\(point): \(fields)") }
        }
        #expect(mount("/")?[3] == box.rootfs, "the root mount must be the bundle's rootfs")
        if let sys = mount("/sys") { #expect(sys[5].split(separator: ",").contains("ro"), "/sys: \(sys)") }
        if let procSys = mount("/proc/sys") {
            // A read-only path is also nosuid, nodev and noexec (runc's readonlyPath): the bind's remount sets all four.
            let options = procSys[5].split(separator: ",")
            for option in ["ro", "nosuid", "nodev", "noexec"] { #expect(options.contains(Substring(option)), "/proc/sys: \(procSys)") }
        } else {
            Issue.record("/proc/sys is not a (read-only) mount:\n\(result.stdout)")
        }
        #expect(lines.contains("procsys-write failed"), "writing /proc/sys must fail:\n\(result.stdout)")

        #expect(!maskedFiles.isEmpty, "no masked file to check on this kernel")
        for path in maskedFiles {
            #expect(lines.contains("maskedfile \(path) 1,3 0"), "\(path) must be /dev/null:\n\(result.stdout)")
        }
        for path in maskedDirs {
            #expect(lines.contains("maskeddir \(path) 0"), "\(path) must be empty:\n\(result.stdout)")
            #expect(lines.contains("maskwrite \(path) refused"), "\(path) must be read-only:\n\(result.stdout)")
            #expect(mount(path).flatMap(fstype) == "tmpfs", "\(path) must be a tmpfs mount:\n\(result.stdout)")
        }
        // One empty tmpfs serves every masked directory (bound from the first): one superblock, one device.
        let maskDevices = Set(maskedDirs.compactMap { mount($0)?[2] })
        #expect(maskDevices.count <= 1, "masked directories on \(maskDevices.count) tmpfs superblocks: \(maskDevices)")
        #expect(lines.contains("chr null 1,3"), "\(result)")
        #expect(lines.contains("chr zero 1,5"), "\(result)")
        #expect(lines.contains("devfd /proc/self/fd"), "\(result)")
    }

    /// Each read-only path is a recursive bind of itself whose top mount has the procfs's own flags plus ro, nosuid,
    /// nodev and noexec, and nothing else: made by open_tree, mount_setattr and move_mount, and by bind and remount
    /// where mount_setattr answers ENOSYS (a kernel before 5.12), with the same mountinfo either way. A file is bound
    /// as well as a directory; a mount under one is carried along with its own flags (as runc's remount leaves it).
    @Test func readonlyPathsGetTheSameFlagsByEitherMountAPI() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let script = "awk '{ print $5, $6 }' /proc/self/mountinfo; "
            + "(echo 1 > /proc/sys/kernel/ns_last_pid) 2>/dev/null && echo procsys-writable; "
            + "touch /proc/sys/fs/binfmt_misc/made && echo submount-writable"
        let bundle = try box.bundle(["sh", "-c", script]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["readonlyPaths"] = (linux["readonlyPaths"] as! [String]) + ["/proc/uptime", "/proc/no-such-path"]
            config["linux"] = linux
            config["mounts"] = (config["mounts"] as! [[String: Any]])
                + [["destination": "/proc/sys/fs/binfmt_misc", "type": "tmpfs", "source": "tmpfs", "options": ["nodev"]]]
        }
        func options(_ result: Result) -> [String: String] {
            var byPoint: [String: String] = [:]
            for line in result.stdoutLines {
                let fields = line.split(separator: " ").map(String.init)
                if fields.count == 2 { byPoint[fields[0]] = fields[1] }  // the last mount at a point is the one seen
            }
            return byPoint
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("ro-paths")])
        #expect(result.status == 0, "\(result)")
        let seen = options(result)
        #expect(seen["/proc"] == "rw,relatime", "\(result)")
        for path in ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/uptime"] where FileManager.default.fileExists(atPath: path) {
            #expect(seen[path] == "ro,nosuid,nodev,noexec,relatime", "\(path): \(result)")
        }
        #expect(seen["/proc/sys/fs/binfmt_misc"] == "rw,nodev,relatime", "\(result)")
        #expect(!result.stdoutLines.contains("procsys-writable") && result.stdoutLines.contains("submount-writable"), "\(result)")
        guard SeccompFixtures.haveGCC else { return }
        let wrapper = box.dir + "/deny-syscalls"
        try SeccompFixtures.compile("deny-syscalls", to: wrapper, isStatic: false, libraries: ["-lseccomp"])
        let old = Command.run(wrapper, ["mount_setattr", Paths.binary, "--root", box.root, "run", "--bundle", bundle, box.id("ro-paths-old")])
        #expect(old.status == 0, "\(old)")
        #expect(options(old) == seen, "bind and remount: \(old)\nnew mount API: \(result)")
        #expect(old.stdoutLines.suffix(1) == result.stdoutLines.suffix(1), "\(old)")
    }

    /// /dev/pts, /dev/shm and /dev/mqueue are made in the /dev tmpfs the set-up has just mounted, on one fd of it
    /// (no lookup of each whole path first), and each is mounted with its config's options. A tmpfs stacked on
    /// /dev/shm takes the mount named under it next, not the one it covers; a /dev that is a symlink in the image
    /// gets it all where the symlink points inside the rootfs.
    @Test func devMountsAreMadeInTheFreshDevWithTheirOptions() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let script = "awk '{ print $5, $6, $(NF-2), $(NF-1) }' /proc/self/mountinfo; ls /dev/shm; echo end"
        let bundle = try box.bundle(["sh", "-c", script]) { config in
            var mounts = config["mounts"] as! [[String: Any]]
            let sys = mounts.firstIndex { $0["destination"] as? String == "/sys" } ?? mounts.count
            mounts.insert(contentsOf: [["destination": "/dev/shm/covered", "type": "tmpfs", "source": "covered"],
                                       ["destination": "/dev/shm", "type": "tmpfs", "source": "stacked", "options": ["nodev"]],
                                       ["destination": "/dev/shm/on-top", "type": "tmpfs", "source": "on-top"]], at: sys)
            config["mounts"] = mounts
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("dev")])
        #expect(result.status == 0 && result.stdoutLines.last == "end", "\(result)")
        let lines = result.stdoutLines
        for expected in ["/dev rw,nosuid tmpfs tmpfs", "/dev/pts rw,nosuid,noexec,relatime devpts devpts",
                         "/dev/shm rw,nosuid,nodev,noexec,relatime tmpfs shm", "/dev/mqueue rw,nosuid,nodev,noexec,relatime mqueue mqueue",
                         "/dev/shm/covered rw,relatime tmpfs covered", "/dev/shm rw,nodev,relatime tmpfs stacked",
                         "/dev/shm/on-top rw,relatime tmpfs on-top"] {
            #expect(lines.filter { $0 == expected }.count == 1, "\(expected):\n\(result.stdout)")
        }
        #expect(Array(lines.suffix(2)) == ["on-top", "end"], "only what is on the stacked tmpfs is seen:\n\(result.stdout)")

        try FileManager.default.removeItem(atPath: box.rootfs + "/dev")
        try FileManager.default.createDirectory(atPath: box.rootfs + "/realdev", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: box.rootfs + "/dev", withDestinationPath: "/realdev")
        let linked = box.crabcan(["run", "--bundle", try box.bundle(["awk", "{ print $5 }", "/proc/self/mountinfo"], name: "linked"),
                                  box.id("dev-link")])
        #expect(linked.status == 0, "\(linked)")
        for point in ["/realdev", "/realdev/pts", "/realdev/shm", "/realdev/mqueue"] {
            #expect(linked.stdoutLines.contains(point), "\(point):\n\(linked.stdout)")
        }
        #expect(!linked.stdoutLines.contains { $0.hasPrefix("/dev") }, "\(linked.stdout)")
        // pts, shm and mqueue were made in the tmpfs, none in the image's directory under it.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: box.rootfs + "/realdev")) == [], "\(linked)")
    }

    @Test func readonlyRootRefusesWrites() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("ro")
        let bundle = try box.bundle(["sh", "-c", "touch /x 2>&1; echo rc=$?; touch /tmp/y 2>&1; echo tmp=$?"],
                                    readonly: true)
        let result = box.crabcan(["run", "--bundle", bundle, id])
        #expect(result.status == 0, "\(result)")
        #expect(!result.stdoutLines.contains("rc=0"), "\(result)")
        #expect(result.stdout.contains("Read-only file system"), "\(result)")
        #expect(!result.stdoutLines.contains("tmp=0"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: box.rootfs + "/x"))
        #expect(!FileManager.default.fileExists(atPath: box.rootfs + "/tmp/y"))
    }

    /// The control: with `readonly: false` the same write works and lands in the rootfs.
    @Test func writableRootAcceptsWrites() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("rw")
        let result = box.crabcan(["run", "--bundle", try box.bundle(["sh", "-c", "echo hi > /x; echo rc=$?"]), id])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines.contains("rc=0"), "\(result)")
        #expect((try? String(contentsOfFile: box.rootfs + "/x", encoding: .utf8)) == "hi\n")
    }
}
