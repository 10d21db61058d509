import Foundation
import Testing

/// runc's `tmpcopyup` (podman's `--read-only` puts it on /tmp, /run, /var/tmp): the tmpfs starts with a copy
/// of the directory it covers, modes, owners and links kept, and what the container writes stays in the tmpfs.
extension CrabcanCLI {
    @Test func tmpcopyupStartsWithTheCoveredDirectory() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let dir = box.rootfs + "/seeded"
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try "kept\n".write(toFile: dir + "/sub/file", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "sub/file")
        chmod(dir + "/sub/file", 0o640)
        chown(dir + "/sub/file", 1000, 1000)
        chmod(dir, 0o1777)
        let script = "cat /seeded/link; stat -c '%a %u %g' /seeded/sub/file /seeded; grep ' /seeded ' /proc/self/mountinfo | grep -c tmpfs; echo new > /seeded/new"
        let bundle = try box.bundle(["sh", "-c", script], readonly: true) {
            var mounts = $0["mounts"] as! [[String: Any]]
            mounts.append(["destination": "/seeded", "type": "tmpfs", "source": "tmpfs", "options": ["rw", "nosuid", "tmpcopyup"]])
            $0["mounts"] = mounts
        }
        let result = box.crabcan(["run", "--bundle", bundle, box.id("copyup")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutLines == ["kept", "640 1000 1000", "1777 0 0", "1"], "\(result)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/new"), "the write reached the covered directory")
    }
}
