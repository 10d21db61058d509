import Glibc
import Sys
import Testing

@Suite struct SysErrorTests {
    @Test func namesOperationPathAndErrno() {
        #expect(SysError("mount", path: "proc on /proc", errno: 1).description
                == "mount proc on /proc: EPERM (operation not permitted)")
        #expect(SysError("setns", errno: 22).description == "setns: EINVAL (invalid argument)")
    }

    /// Issue 15.7: a mount error names the flags and data the kernel refused.
    @Test func mountErrorsNameTheirFlagsAndData() {
        #expect(Mounts.flagNames(Mounts.bind | Mounts.recursive | Mounts.readOnly | Mounts.remount) == ["ro", "remount", "bind", "rec"])
        #expect(throws: SysError("mount", path: "tmpfs on /nowhere-\(getpid()) (nosuid,nodev,mode=755)", errno: ENOENT)) {
            try Mounts.mount(source: "tmpfs", target: "/nowhere-\(getpid())", type: "tmpfs", flags: Mounts.noSUID | Mounts.noDev,
                             data: "mode=755", describe: "tmpfs on /nowhere-\(getpid())")
        }
    }
}

/// The sync protocol's transport: a SOCK_SEQPACKET pair keeps each message whole, and an fd sent with a message
/// arrives as a new fd of the same open file.
@Suite struct ChannelTests {
    @Test func packetsKeepTheirBoundariesAndCarryDescriptors() throws {
        let (a, b) = try Channels.seqpacketPair()
        defer { a.close(); b.close() }
        try Channels.send(a, [1, 2, 3])
        try Channels.send(a, [4])
        #expect(try Channels.receive(b, capacity: 16) == [1, 2, 3])
        #expect(try Channels.receive(b, capacity: 16) == [4])
        let (readEnd, writeEnd) = try Channels.pipe()
        defer { readEnd.close(); writeEnd.close() }
        try Channels.sendDescriptor(a, writeEnd.raw, payload: [6])
        let (payload, received) = try Channels.receiveWithDescriptor(b, capacity: 16)
        #expect(payload == [6])
        let passed = try #require(received)
        #expect(passed.raw != writeEnd.raw)
        try passed.write([0x68, 0x69])
        passed.close()
        #expect(try readEnd.read(count: 2) == [0x68, 0x69])
        // A closed peer reads as an empty packet.
        a.close()
        #expect(try Channels.receive(b, capacity: 16) == [])
    }
}
