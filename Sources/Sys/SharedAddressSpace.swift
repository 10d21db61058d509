import CShim
import Glibc

/// A child in our own address space until its execve (clone CLONE_VM; CShim's shared_init.c; docs/design.md §2,
/// "One side runs at a time"): the calls that hand control from one side to the other, each made inside a raw
/// system call, so that the two never run at the same time.
package enum SharedAddressSpace {
    /// A C handle the child's C end uses after `ready` (libcap's prepared sets), made by the module that owns it.
    package struct CHandle {
        let pointer: UnsafeMutableRawPointer
        package init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
    }

    /// What the child runs, kept for good: it reads this until its execve, and freeing it would be our code
    /// running under it.
    private final class Start {
        let body: () -> Never
        init(_ body: @escaping () -> Never) { self.body = body }
    }

    /// Clones a child that closes its copy of `parentSocket`, dies with us, waits in the kernel for the one-byte
    /// packet `placedTag` on `childSocket`, then runs `body` on a stack of its own. With `cgroup` (a cgroup v2
    /// directory) it is born there when the kernel can (clone3 CLONE_INTO_CGROUP); `inCgroup` says which happened.
    package static func clone(flags: UInt, childSocket: FileDescriptor, parentSocket: FileDescriptor, placedTag: UInt8,
                              into cgroup: FileDescriptor?, stackSize: Int,
                              body: @escaping () -> Never) throws(SysError) -> (pid: pid_t, inCgroup: Bool) {
        let context = Unmanaged.passRetained(Start(body)).toOpaque()
        let start = UnsafeMutablePointer<cshim_shared_init>.allocate(capacity: 1)
        start.initialize(to: cshim_shared_init(sock: childSocket.raw, parent_sock: parentSocket.raw, placed_tag: placedTag,
                                               entry: { Unmanaged<Start>.fromOpaque($0!).takeUnretainedValue().body() },
                                               context: context))
        if let cgroup {
            let pid = cshim_clone_shared_into_cgroup(flags, start, stackSize, cgroup.raw)
            if pid > 0 { return (pid_t(pid), true) }
        }
        return (pid_t(try check("clone") { cshim_clone_shared(flags, start, stackSize) }), false)
    }

    /// The parent's side: sends `packet` (none when empty), then waits in the kernel for the child's next packet
    /// into `reply`. Its length (0 at end of file or on failure) and the fd it carried, if any. Both buffers exist
    /// before the child runs.
    package static func handOver(_ socket: FileDescriptor, sending packet: [UInt8],
                                 reply: inout [UInt8]) -> (length: Int, descriptor: FileDescriptor?) {
        var received: Int32 = -1
        let got = packet.withUnsafeBufferPointer { packet in
            reply.withUnsafeMutableBufferPointer {
                cshim_hand_over(socket.raw, packet.baseAddress, packet.count, $0.baseAddress, $0.count, &received)
            }
        }
        return (max(got, 0), received >= 0 ? FileDescriptor(received) : nil)
    }

    /// A queued packet's length word, for `finish` and `exchange`: with `carriesDescriptor`, a 4-byte fd follows it
    /// and goes with the packet.
    package static func queuedLength(_ count: Int, carriesDescriptor: Bool) -> UInt32 {
        UInt32(count) | (carriesDescriptor ? UInt32(CSHIM_QUEUED_WITH_FD) : 0)
    }

    /// The child's side of a hand-over in the middle of its set-up: `packets` (queued as for `finish`; the parent
    /// runs from the first on), then a wait in the kernel for the parent's reply, read into a buffer of
    /// `replyCapacity` bytes made before anything is sent (only the pages the reply fills are touched). nil at end of
    /// file or on failure.
    package static func exchange(_ socket: FileDescriptor, packets: [UInt8], replyCapacity: Int) -> [UInt8]? {
        var got = -1
        let reply = [UInt8](unsafeUninitializedCapacity: replyCapacity) { buffer, count in
            got = packets.withUnsafeBufferPointer {
                cshim_shared_init_exchange(socket.raw, $0.baseAddress, $0.count, buffer.baseAddress, buffer.count)
            }
            count = max(got, 0)
        }
        return got > 0 ? reply : nil
    }

    /// The child's failure report and its exit, with nothing between them: the parent runs once the packet is there.
    package static func sendAndExit(_ socket: FileDescriptor, _ packet: [UInt8]) -> Never {
        packet.withUnsafeBufferPointer { cshim_shared_init_fail(socket.raw, $0.baseAddress, $0.count) }
    }

    /// The child's C end (cshim_shared_init_finish): `packets` (each a 4-byte native length, `queuedLength`, then
    /// its bytes; `ready` last), then with the parent running again `committedTag`, `fifo` opened for writing (or,
    /// with no fifo, `startTag` received on the socket, which execve then closes), the seccomp `filter` loaded,
    /// `capabilities` set, and `exec`. `affinity`, when given, is set just before the filter.
    package static func finish(_ socket: FileDescriptor, packets: [UInt8], committedTag: UInt8, fifo: String?,
                               startTag: UInt8, filter: [UInt8], filterFlags: UInt32, capabilities: CHandle?,
                               affinity: [UInt64]?, exec: PreparedExec) -> Never {
        let described = "exec \(exec.pathName)"
        func withFifo(_ body: (UnsafePointer<CChar>?) -> Never) -> Never {
            guard let fifo else { return body(nil) }
            return fifo.withCString { body($0) }
        }
        return packets.withUnsafeBufferPointer { packets in
            filter.withUnsafeBytes { program in
                withFifo { fifo in
                    described.withCString { described in
                        exec.withCArguments { path, arguments, environment in
                            var finish = cshim_shared_finish(
                                sock: socket.raw, packets: packets.baseAddress, packets_length: packets.count,
                                committed_tag: committedTag, fifo: fifo, start_tag: startTag, filter: program.baseAddress,
                                filter_count: UInt16(filter.count / SeccompFilter.instructionSize), filter_flags: filterFlags,
                                capabilities: capabilities?.pointer, path: path, argv: arguments, envp: environment,
                                exec_description: described, affinity: nil, affinity_bytes: 0)
                            guard let affinity else { cshim_shared_init_finish(&finish) }
                            return affinity.withUnsafeBufferPointer { mask -> Never in
                                finish.affinity = mask.baseAddress
                                finish.affinity_bytes = UInt(mask.count * 8)
                                cshim_shared_init_finish(&finish)
                            }
                        }
                    }
                }
            }
        }
    }
}
