import Foundation
import Testing

/// The template mount namespace (docs/design.md §2, step 5): kept at /run/crabcan/@mount-template/mnt, made only
/// once a create has succeeded without it, then copied by every init whose rootfs may stand alone, which chroots
/// into the rootfs moved onto the copy's root instead of detaching an old root. What the container sees must be
/// what a pivot_root'ed copy of the host's namespace shows.
/// (On a 7.x kernel the tree namespace comes first and the template is never made: scripts/cgroup2-guest.)
extension CrabcanCLI {
    /// The host's mountinfo line whose mount point is `point` (the template's by default), nil when there is none.
    static func mountLine(at point: String = RuntimeRoot.mountTemplateFile, in mountinfo: String = Host.mountinfo()) -> String? {
        mountinfo.split(separator: "\n").map(String.init).first { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4] == point
        }
    }

    /// Unmounts the template; with `all`, its directory's bind too, and removes the directory.
    static func unmountMountTemplate(all: Bool) {
        for point in all ? [RuntimeRoot.mountTemplateFile, RuntimeRoot.mountTemplate] : [RuntimeRoot.mountTemplateFile] {
            while mountLine(at: point) != nil {
                guard Command.run("/bin/umount", [point]).status == 0 else { break }
            }
        }
        if all { try? FileManager.default.removeItem(atPath: RuntimeRoot.mountTemplate) }
    }

    /// The clone step a --debug log names for `create`: "clone (template namespace, shared memory)".
    static func cloneStep(inLog path: String) -> String? {
        guard let log = try? String(contentsOfFile: path, encoding: .utf8),
              let took = log.split(separator: "\n").first(where: { $0.contains("msg=\"create ") && $0.contains(" took ") }),
              let range = took.range(of: #"clone( \([^)]*\))?"#, options: .regularExpression) else { return nil }
        return String(took[range])
    }

    /// Python that enters the namespace whose nsfs file is argv[1] and prints its mountinfo, then the names in its
    /// "/" (nothing else there to run: /proc is opened before).
    static let templateMountinfo = """
        import ctypes, os, sys
        proc = os.open('/proc/self', os.O_RDONLY | os.O_DIRECTORY)
        if ctypes.CDLL(None, use_errno=True).setns(os.open(sys.argv[1], os.O_RDONLY), 0x20000) != 0:
            sys.exit('setns: errno %d' % ctypes.get_errno())
        print(os.read(os.open('mountinfo', os.O_RDONLY, dir_fd=proc), 65536).decode(), end='')
        print('root:', sorted(os.listdir('/')))
        """

    /// Each mount the container listed: mount point, options, type, super options (not ids or devices).
    static func mountShapes(_ mountinfo: [String]) -> [String] {
        mountinfo.map { line in
            let halves = line.components(separatedBy: " - ")
            let fields = halves[0].split(separator: " ")
            let after = halves.count > 1 ? halves[1].split(separator: " ") : []
            return [fields.count > 5 ? fields[4] : "?", fields.count > 5 ? fields[5] : "?", after.first ?? "?",
                    after.count > 2 ? after[2] : "?"].joined(separator: " ")
        }
    }

    @Test func mountTemplateIsMadeAfterASuccessfulCreateAndCopiedThen() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        Self.unmountMountTemplate(all: true)
        // A create that fails makes none.
        let failing = try box.bundle(["true"], name: "failing") {
            $0["mounts"] = ($0["mounts"] as! [[String: Any]]) + [["destination": "/mnt", "type": "nosuchfs", "source": "none"]]
        }
        let failed = box.crabcan(["create", "--bundle", failing, box.id("template-fail")])
        #expect(failed.status == 1 && failed.stderr.contains("/mnt"), "\(failed)")
        #expect(Self.mountLine() == nil && !FileManager.default.fileExists(atPath: RuntimeRoot.mountTemplate))
        #expect(Self.mountLine(at: RuntimeRoot.mountTemplate) == nil)

        // The first that succeeds copies our namespace, then makes the template: a bind of a mount namespace, in a
        // private bind of its directory.
        let bundle = try box.bundle(["cat", "/proc/self/mountinfo"])
        let hostMountsBefore = HostSnapshot.mountLines()
        let copied = box.crabcan(["--debug", "--log", box.dir + "/copied.log", "run", "--bundle", bundle, box.id("template-copy")])
        #expect(copied.status == 0, "\(copied)")
        #expect(Self.cloneStep(inLog: box.dir + "/copied.log") == "clone (shared memory)")
        let line = Self.mountLine()
        #expect(line?.contains(" - nsfs nsfs ") == true && line?.contains(" mnt:[") == true, "\(line ?? "no template")")
        let directoryLine = Self.mountLine(at: RuntimeRoot.mountTemplate)
        #expect(directoryLine != nil && !(directoryLine?.contains("shared:") ?? true), "\(directoryLine ?? "no directory bind")")
        // Inside it: one empty tmpfs, read-only for the mount and its superblock (every copy shares it).
        let inside = Command.run("/usr/bin/python3", ["-c", Self.templateMountinfo, RuntimeRoot.mountTemplateFile])
        #expect(inside.stdoutLines.count == 2 && Self.mountShapes(Array(inside.stdoutLines.prefix(1))) == ["/ ro,nosuid,nodev,noexec,relatime tmpfs ro,size=4k,mode=555"]
                && inside.stdoutLines.last == "root: []", "\(inside)")

        // The next copies the template, and sees the same mounts.
        let templated = box.crabcan(["--debug", "--log", box.dir + "/templated.log", "run", "--bundle", bundle, box.id("template-use")])
        #expect(templated.status == 0, "\(templated)")
        #expect(Self.cloneStep(inLog: box.dir + "/templated.log") == "clone (template namespace, shared memory)")
        #expect(Self.mountShapes(templated.stdoutLines) == Self.mountShapes(copied.stdoutLines),
                "copy:\n\(copied.stdout)\ntemplate:\n\(templated.stdout)")
        #expect(templated.stdoutLines.first?.split(separator: " ")[4] == "/", "\(templated.stdout)")
        // Nothing but the template itself stayed on the host.
        #expect(HostSnapshot.mountLines() == hostMountsBefore, "\(Set(HostSnapshot.mountLines()).symmetricDifference(hostMountsBefore))")

        // Unmounted (its empty file and its directory's bind left), it is made again by the next create, which copies meanwhile.
        Self.unmountMountTemplate(all: false)
        let again = box.crabcan(["--debug", "--log", box.dir + "/again.log", "run", "--bundle", bundle, box.id("template-again")])
        #expect(again.status == 0 && Self.cloneStep(inLog: box.dir + "/again.log") == "clone (shared memory)", "\(again)")
        #expect(Self.mountLine() != nil)
    }

    @Test func templateContainerStaysInItsRootfs() throws {
        guard SeccompFixtures.haveGCC else { return }
        let box = try Sandbox()
        defer { box.cleanup() }
        try SeccompFixtures.compile("chroot-escape", to: box.rootfs + "/escape", isStatic: true)
        // Made by a first create if an earlier test left none.
        box.crabcan(["run", "--bundle", try box.bundle(["true"], name: "first"), box.id("template-first")])
        #expect(Self.mountLine() != nil)
        let hostMounts = HostSnapshot.mountLines()

        // The classic chroot escape, with CAP_SYS_CHROOT: `..` from the rootfs's root comes back into it.
        let escapeBundle = try box.bundle(["/escape", box.dir], name: "escape") { config in
            var process = config["process"] as! [String: Any]
            process["capabilities"] = Dictionary(uniqueKeysWithValues: ["bounding", "effective", "permitted"].map { ($0, ["CAP_SYS_CHROOT"]) })
            config["process"] = process
        }
        let escapeID = box.id("template-escape")
        let escape = box.crabcan(["--debug", "--log", box.dir + "/escape.log", "run", "--bundle", escapeBundle, escapeID])
        #expect(Self.cloneStep(inLog: box.dir + "/escape.log") == "clone (template namespace, shared memory)")
        let rootfsNames = try FileManager.default.contentsOfDirectory(atPath: box.rootfs).sorted()
        #expect(escape.status == 0 && escape.stdoutLines == ["contained"] + rootfsNames, "\(escape)")

        // An exec joins the namespace, and setns gives it the rootfs as its root, not the tmpfs it covers.
        let id = box.id("template-exec")
        #expect(box.crabcan(["run", "--detach", "--bundle", try box.bundle(["sleep", "100"], name: "sleeper"), id]).status == 0)
        let listing = box.crabcan(["exec", id, "ls", "-a", "/"])
        #expect(listing.stdoutLines.filter { $0 != "." && $0 != ".." } == rootfsNames, "\(listing)")
        let pid = try #require(box.pid(id))
        let nsenter = Command.run("/usr/bin/nsenter", ["-m", "-t", "\(pid)", "/bin/ls", "/"])
        #expect(nsenter.stdoutLines == rootfsNames, "\(nsenter)")
        #expect(box.crabcan(["delete", "--force", id]).status == 0)
        #expect(HostSnapshot.mountLines() == hostMounts)
    }

    /// On a systemd host /run is shared, with slave peers in the namespaces of services that have their own: a mount
    /// namespace's file cannot be bound where the bind would propagate (EINVAL). The template's directory is a
    /// private bind of itself, so the template is made there too. Shown in a namespace of the test's own, whose
    /// /run/crabcan is a shared tmpfs with a slave peer.
    @Test func mountTemplateIsMadeUnderASharedRunWithPeers() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["true"])
        let log = box.dir + "/shared.log"
        let script = """
            set -e
            mount -t tmpfs shared-run-test /run/crabcan
            mount --make-shared /run/crabcan
            unshare -m --propagation slave sleep 60 & peer=$!
            while [ "$(readlink /proc/$peer/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ]; do sleep 0.01; done
            \(Paths.binary) --root \(box.root) run --bundle \(bundle) \(box.id("shared-first"))
            \(Paths.binary) --root \(box.root) --debug --log \(log) run --bundle \(bundle) \(box.id("shared-second"))
            echo "template $(grep -c ' \(RuntimeRoot.mountTemplateFile) .* - nsfs ' /proc/self/mountinfo)"
            echo "peer $(grep -c ' - nsfs ' /proc/$peer/mountinfo || true)"
            kill $peer
            """
        let result = Command.run("/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/sh", "-c", script], timeout: 30)
        #expect(result.status == 0 && result.stdoutLines == ["template 1", "peer 0"], "\(result)")
        #expect(Self.cloneStep(inLog: log) == "clone (template namespace, shared memory)")
    }

    /// Where the template cannot be made (here the helper's unshare answers ENOSYS, under a seccomp filter of the
    /// caller's), the failure is logged and remembered for the boot in the template's empty file, so that later
    /// creates neither fork a helper again nor fail; an empty file (as an unmount leaves) is tried again.
    @Test func mountTemplateThatCannotBeMadeIsNotTriedAgainInThisBoot() throws {
        guard SeccompFixtures.haveGCC else { return }
        let box = try Sandbox()
        defer { box.cleanup() }
        let wrapper = box.dir + "/deny-syscalls"
        try SeccompFixtures.compile("deny-syscalls", to: wrapper, isStatic: false, libraries: ["-lseccomp"])
        Self.unmountMountTemplate(all: true)
        let bundle = try box.bundle(["true"])
        func run(_ name: String, under prefix: [String] = []) -> (Result, String) {
            let log = box.dir + "/\(name).log"
            let arguments = prefix + [Paths.binary, "--root", box.root, "--debug", "--log", log, "run", "--bundle", bundle, box.id(name)]
            let result = Command.run(arguments[0], Array(arguments.dropFirst()))
            return (result, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        }
        let (refused, refusedLog) = run("template-refused", under: [wrapper, "unshare"])
        #expect(refused.status == 0, "\(refused)")
        #expect(refusedLog.contains("no mount template: ") && refusedLog.contains("ENOSYS"), "\(refusedLog)")
        let bootID = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
        #expect((try? String(contentsOfFile: RuntimeRoot.mountTemplateFile, encoding: .utf8)) == bootID)
        #expect(Self.mountLine() == nil)

        let (later, laterLog) = run("template-later")
        #expect(later.status == 0 && Self.cloneStep(inLog: box.dir + "/template-later.log") == "clone (shared memory)", "\(later)")
        #expect(laterLog.contains("failed earlier in this boot"), "\(laterLog)")
        #expect(Self.mountLine() == nil)

        // Emptied, as an unmount leaves it: made again by the next create.
        try Data().write(to: URL(fileURLWithPath: RuntimeRoot.mountTemplateFile))
        let (again, _) = run("template-retried")
        #expect(again.status == 0 && Self.mountLine() != nil, "\(again)")
    }
}
