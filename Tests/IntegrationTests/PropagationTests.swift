import Foundation
import Testing

/// `linux.rootfsPropagation` in runc's order (issue 13): when given it replaces the initial rslave of `/`, so a
/// bind with `rshared` stays in the host's peer group and a mount made inside appears on the host (what Docker's
/// `-v SRC:DST:rshared` asks for, with rootfsPropagation "shared").
extension CrabcanCLI {
    @Test func rsharedBindPropagatesAMountMadeInsideToTheHost() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        // A shared mount of our own on the host (nothing on this host is shared), the bind's source inside it.
        let shared = box.dir + "/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        try #require(Command.run("/bin/mount", ["-t", "tmpfs", "crabcan-it-shared", shared]).status == 0)
        let volume = shared + "/vol"
        defer {
            // The mount made inside outlives the container on the host: it is ours to remove.
            Tools.unmountAll(under: shared)
        }
        try #require(Command.run("/bin/mount", ["--make-shared", shared]).status == 0)
        try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)

        let id = box.id("rshared")
        let script = "mkdir -p /vol/inner && mount -t tmpfs crabcan-it-inner /vol/inner && echo made > /vol/inner/file && grep ' /vol ' /proc/self/mountinfo && sleep 100"
        let bundle = try box.bundle(["sh", "-c", script]) { config in
            var linux = config["linux"] as! [String: Any]
            linux["rootfsPropagation"] = "shared"
            config["linux"] = linux
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/vol", "type": "bind", "source": volume, "options": ["rbind", "rshared"]])
            config["mounts"] = mounts
        }
        try #require(box.crabcan(["run", "--detach", "--bundle", bundle, id]).status == 0)
        let seen = eventually(timeout: 10) { Tools.read(volume + "/inner/file") == "made" }
        #expect(seen, "the tmpfs mounted inside under the rshared bind did not reach the host")
        #expect(Tools.mounts(under: volume).contains(volume + "/inner"), "no \(volume)/inner in the host's mountinfo")
        #expect(box.crabcan(["delete", "--force", id]).status == 0)

        // Without rootfsPropagation, nothing made inside reaches the host (the initial rslave of /).
        let closed = box.id("rslave")
        let before = Tools.mounts(under: shared)
        let quiet = try box.bundle(["sh", "-c", "mkdir -p /vol/other && mount -t tmpfs crabcan-it-other /vol/other && echo ok"], name: "quiet") { config in
            var mounts = config["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/vol", "type": "bind", "source": volume, "options": ["rbind", "rshared"]])
            config["mounts"] = mounts
        }
        let run = box.crabcan(["run", "--bundle", quiet, closed])
        #expect(run.status == 0 && run.stdout == "ok\n", "\(run)")
        #expect(Tools.mounts(under: shared) == before, "a mount made inside leaked to the host without rootfsPropagation")
    }
}
