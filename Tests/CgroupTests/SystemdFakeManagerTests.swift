import DBus
import Foundation
import Glibc
import Testing

@testable import Cgroups
import OCISpec

/// A stand-in for systemd's private socket, served from a thread: SASL EXTERNAL, then the Manager calls the
/// driver makes, answered the way systemd does (a job path, then JobRemoved; D-Bus errors by name). It records
/// every call, and "starts" a unit by making its cgroup directory, as systemd would.
final class FakeSystemd: @unchecked Sendable {
    let socketPath: String
    let listener: Int32
    let lock = NSLock()
    var calls: [DBusMessage] = []
    var authLine = ""
    /// unit name → the JobRemoved result its start job ends with ("done" unless set).
    var startResults: [String: String] = [:]
    var stopError: String? = "org.freedesktop.systemd1.NoSuchUnit"
    let makeCgroup: (String) -> Void
    var serial: UInt32 = 100

    init(runtimeDir: String, makeCgroup: @escaping (String) -> Void) throws {
        self.makeCgroup = makeCgroup
        try FileManager.default.createDirectory(atPath: runtimeDir + "/systemd", withIntermediateDirectories: true)
        socketPath = runtimeDir + "/systemd/private"
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in socketPath.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
        // One client per fake (each test connects once); the thread ends when that client hangs up.
        let thread = Thread { [self] in
            _ = serveOne()
            close(listener)
        }
        thread.start()
    }

    func recorded() -> [DBusMessage] { lock.withLock { calls } }

    /// One client connection, until it closes.
    func serveOne() -> Bool {
        let fd = accept(listener, nil, nil)
        if fd < 0 { return false }
        defer { close(fd) }
        var buffer: [UInt8] = []
        func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = read(fd, &chunk, chunk.count)
            if n <= 0 { return false }
            buffer += chunk[..<n]
            return true
        }
        func line() -> String? {
            while true {
                if let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let text = String(decoding: buffer[..<end], as: UTF8.self)
                    buffer.removeSubrange(...end)
                    return text
                }
                if !fill() { return nil }
            }
        }
        func send(_ m: DBusMessage) { let bytes = m.encoded(); _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) } }
        guard let auth = line() else { return true }
        lock.withLock { authLine = auth }
        _ = "OK 0123456789abcdef0123456789abcdef\r\n".withCString { write(fd, $0, strlen($0)) }
        guard line() == "BEGIN\r" else { return true }
        while true {
            guard let total = try? DBusMessage.totalLength(buffer[...]), buffer.count >= total,
                  let call = try? DBusMessage.decode(Array(buffer[..<total])) else {
                if !fill() { return true }
                continue
            }
            buffer.removeSubrange(..<total)
            lock.withLock { calls.append(call) }
            serial += 1
            var reply = DBusMessage(kind: .methodReturn, serial: serial)
            reply.replySerial = call.serial
            switch call.member ?? "" {
            case "Get":
                let property = call.body.last?.stringValue
                reply.body = [.variant(.string(property == "Version" ? "252.38-1~deb12u1" : "/user.slice/user-1000.slice/user@1000.service"))]
            case "StartTransientUnit":
                let unit = call.body[0].stringValue!
                let job = "/org/freedesktop/systemd1/job/\(serial)"
                let result = lock.withLock { startResults[unit] ?? "done" }
                if result == "done" { makeCgroup(unit) }
                reply.body = [.objectPath(job)]
                send(reply)
                // systemd answers first, then the job's end; the driver must match the job, not take the first signal.
                var other = DBusMessage(kind: .signal, serial: serial + 1)
                other.path = "/org/freedesktop/systemd1"
                other.interface = "org.freedesktop.systemd1.Manager"
                other.member = "JobRemoved"
                other.body = [.uint32(1), .objectPath("/org/freedesktop/systemd1/job/1"), .string("other.scope"), .string("failed")]
                send(other)
                var removed = other
                removed.serial = serial + 2
                removed.body = [.uint32(serial), .objectPath(job), .string(unit), .string(result)]
                send(removed)
                serial += 2
                continue
            case "StopUnit":
                if let name = lock.withLock({ stopError }) {
                    reply = DBusMessage(kind: .error, serial: serial)
                    reply.replySerial = call.serial
                    reply.errorName = name
                    reply.body = [.string("Unit \(call.body[0].stringValue!) not loaded.")]
                }
            default:
                break  // Subscribe, SetUnitProperties, ResetFailedUnit: an empty return
            }
            send(reply)
        }
    }
}

@Suite(.serialized) struct SystemdFakeManagerTests {
    func property(_ call: DBusMessage, _ name: String) -> DBusValue? {
        guard call.body.count >= 3, case .array(_, let props) = call.body[2] else { return nil }
        for case .structure(let pair) in props where pair[0].stringValue == name {
            if case .variant(let v) = pair[1] { return v }
        }
        return nil
    }

    /// create → update → delete through the driver, against the fake manager and a fake v2 cgroupfs.
    @Test func aContainersUnitFromStartToStop() throws {
        let fake = try FakeRoot()
        let host = try fake.v2Host()
        let xdg = fake.root + "/xdg"
        let systemd = try FakeSystemd(runtimeDir: xdg) { unit in
            try? fake.write("/unified/user.slice/user-1000.slice/user@1000.service/user.slice/\(unit)/cgroup.controllers",
                            "cpuset cpu io memory pids\n")
        }
        let manager = try SystemdManager(user: true, uid: 1000, environment: ["XDG_RUNTIME_DIR=\(xdg)"])
        #expect(systemd.recorded().map(\.member) == ["Subscribe"])
        #expect(systemd.lock.withLock { systemd.authLine } == "\0AUTH EXTERNAL 31303030\r")

        let path = try SystemdUnitPath.parse(nil, id: "c1", rootless: true)
        let root = try SystemdDriver.managerRoot(manager, rootless: true)
        let set = try path.plan(host: host, managerRoot: root)
        let dir = "/unified/user.slice/user-1000.slice/user@1000.service/user.slice/crabcan-c1.scope"
        #expect(set.paths[""] == fake.root + dir)
        let driver = SystemdDriver(manager, path: path, manager: CgroupManager(set))

        var r = Resources()
        r.memory = Resources.Memory(limit: 1 << 30)
        r.cpu = Resources.CPU(quota: 12345, period: 100_000)
        r.pids = Resources.Pids(limit: 10)
        try driver.prepare(r)
        #expect(!fake.exists(dir))  // nothing before the init exists
        // Rootless: the unit is told the device rules (as runc tells the user manager); the files get none.
        driver.unitDeviceRules = DeviceRules.effective(nil).devices
        try driver.placeFromParent(4242, resources: r, initPlacesItself: true)

        let start = try #require(systemd.recorded().first { $0.member == "StartTransientUnit" })
        #expect(start.body[0] == .string("crabcan-c1.scope"))
        #expect(start.body[1] == .string("replace"))
        #expect(start.body[3] == .array(element: "(sa(sv))", []))
        #expect(property(start, "Slice") == .string("user.slice"))
        #expect(property(start, "Delegate") == .boolean(true))
        #expect(property(start, "PIDs") == .uint32s([4242]))
        #expect(property(start, "MemoryMax") == .uint64(1 << 30))
        #expect(property(start, "TasksMax") == .uint64(10))
        #expect(property(start, "CPUQuotaPerSecUSec") == .uint64(130_000))
        #expect(property(start, "DevicePolicy") == .string("strict"))
        // The files get every limit too, the quota as systemd rounded it.
        #expect(fake.read(dir + "/memory.max") == "1073741824")
        #expect(fake.read(dir + "/pids.max") == "10")
        #expect(fake.read(dir + "/cpu.max") == "13000 100000")

        var more = Resources()
        more.pids = Resources.Pids(limit: 20)
        try driver.update(more)
        let set2 = try #require(systemd.recorded().last { $0.member == "SetUnitProperties" })
        #expect(set2.body[0] == .string("crabcan-c1.scope"))
        #expect(set2.body[1] == .boolean(true))
        #expect(property(set2, "TasksMax") == .uint64(20))
        #expect(fake.read(dir + "/pids.max") == "20")

        // The scope ended with its last process: StopUnit says NoSuchUnit, which is fine; the directory goes.
        try driver.destroy()
        let members = systemd.recorded().map { $0.member ?? "" }
        #expect(Array(members.suffix(2)) == ["StopUnit", "ResetFailedUnit"])
        #expect(!fake.exists(dir))
    }

    @Test func aFailedStartJobIsAnErrorAndIsReset() throws {
        let fake = try FakeRoot()
        let xdg = fake.root + "/xdg"
        let systemd = try FakeSystemd(runtimeDir: xdg) { _ in }
        systemd.lock.withLock { systemd.startResults["crabcan-bad.scope"] = "failed" }
        let manager = try SystemdManager(user: true, uid: 1000, environment: ["XDG_RUNTIME_DIR=\(xdg)"])
        let path = try SystemdUnitPath.parse(":crabcan:bad", id: "x", rootless: true)
        let driver = SystemdDriver(manager, path: path, manager: CgroupManager(try path.plan(host: try fake.v2Host())))
        do {
            try driver.placeFromParent(77, resources: Resources(), initPlacesItself: true)
            Issue.record("a failed start job was taken for success")
        } catch {
            #expect("\(error)" == "systemd unit crabcan-bad.scope: start job failed")
        }
        #expect(systemd.recorded().last?.member == "ResetFailedUnit")
    }

    @Test func anErrorReplyKeepsItsNameAndMessage() throws {
        let fake = try FakeRoot()
        let xdg = fake.root + "/xdg"
        let systemd = try FakeSystemd(runtimeDir: xdg) { _ in }
        systemd.lock.withLock { systemd.stopError = "org.freedesktop.DBus.Error.AccessDenied" }
        let manager = try SystemdManager(user: true, uid: 1000, environment: ["XDG_RUNTIME_DIR=\(xdg)"])
        do {
            try SystemdDriver.stop("x.scope", manager)
            Issue.record("an error reply was taken for success")
        } catch {
            #expect("\(error)" == "stop x.scope: org.freedesktop.DBus.Error.AccessDenied: Unit x.scope not loaded.")
        }
    }
}
