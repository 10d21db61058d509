import Glibc
import OCISpec
import Plan
import Sys
import Testing

@testable import Launcher

/// The nodes a container's /dev gets: the runtime-spec defaults that no `linux.devices` entry replaces, in their
/// order, then the config's devices in theirs, the last of those sharing a path winning.
@Suite struct DeviceNodeTests {
    func plan(devices: [Device]) throws -> ContainerPlan {
        var template = Array("/tmp/crabcan-devices.XXXXXX".utf8CString)
        let rootfs = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer {
            unlink(rootfs + "/bin/true")
            rmdir(rootfs + "/bin")
            rmdir(rootfs)
        }
        try Files.mkdir(rootfs + "/bin", mode: 0o755)
        try Files.writeFile(rootfs + "/bin/true", [], mode: 0o755)
        var spec = Spec.makeDefault(rootless: false)
        spec.root = Root(path: rootfs)
        spec.process?.args = ["/bin/true"]
        var plan = try #require(ContainerPlan.check(spec: spec, bundle: "/").plan)
        plan.devices = devices
        return plan
    }

    func nodes(_ devices: [Device]) throws -> [String] {
        var seen: [String] = []
        try DeviceSetup(plan: try plan(devices: devices)).forEachWantedNode { node in
            seen.append("\(node.path) \(node.major):\(node.minor) \(String(node.mode, radix: 8))")
        }
        return seen
    }

    @Test func theDefaultsThenTheConfigsDevices() throws {
        #expect(try nodes([]) == ["/dev/null 1:3 666", "/dev/zero 1:5 666", "/dev/full 1:7 666", "/dev/random 1:8 666",
                                  "/dev/urandom 1:9 666", "/dev/tty 5:0 666"])
        let devices = [
            Device(type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o600),
            Device(type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o644),
            Device(type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: 0o640),
        ]
        #expect(try nodes(devices) == ["/dev/null 1:3 666", "/dev/full 1:7 666", "/dev/random 1:8 666", "/dev/urandom 1:9 666",
                                       "/dev/tty 5:0 666", "/dev/zero 1:5 644", "/dev/fuse 10:229 640"])
    }
}
