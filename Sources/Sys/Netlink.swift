import CShim
import Glibc

/// rtnetlink, for `linux.netDevices`: one request, one acknowledgement.
package enum Netlink {
    /// The index of network device `name` in our network namespace, nil when there is none.
    package static func interfaceIndex(_ name: String) -> UInt32? {
        let index = if_nametoindex(name)
        return index == 0 ? nil : index
    }

    /// RTM_NEWLINK: device `index` goes into the network namespace `netns`, named `newName` there.
    package static func moveLink(index: UInt32, toNamespace netns: FileDescriptor, as newName: String) throws(SysError) {
        var message: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { message += $0 } }
        func attribute(_ type: UInt16, _ payload: [UInt8]) {
            append(UInt16(4 + payload.count)); append(type); message += payload
            while message.count % 4 != 0 { message.append(0) }
        }
        append(UInt32(0))                                   // nlmsghdr.nlmsg_len, set below
        append(UInt16(16)); append(UInt16(1 | 4))           // RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK
        append(UInt32(1)); append(UInt32(0))                // seq, pid
        message += [0, 0]; append(UInt16(0))                // ifinfomsg: AF_UNSPEC, pad, type
        append(Int32(bitPattern: index)); append(UInt32(0)); append(UInt32(0))  // index, flags, change
        withUnsafeBytes(of: UInt32(bitPattern: netns.raw).littleEndian) { attribute(28, Array($0)) }  // IFLA_NET_NS_FD
        attribute(3, Array(newName.utf8) + [0])             // IFLA_IFNAME: the name in the target namespace
        withUnsafeBytes(of: UInt32(message.count).littleEndian) { for i in 0..<4 { message[i] = $0[i] } }

        let socket = FileDescriptor(try check("socket(NETLINK_ROUTE)") { cshim_netlink_route_open() })
        defer { socket.close() }
        _ = try check("send(RTM_NEWLINK)") { message.withUnsafeBytes { send(socket.raw, $0.baseAddress, $0.count, 0) } }
        var reply = [UInt8](repeating: 0, count: 4096)
        let count = try check("recv(rtnetlink)") { reply.withUnsafeMutableBytes { recv(socket.raw, $0.baseAddress, $0.count, 0) } }
        // NLMSG_ERROR (2) carries -errno, 0 for the acknowledgement.
        guard count >= 20, reply[4] == 2, reply[5] == 0 else { throw SysError("rtnetlink: unexpected reply", errno: EPROTO) }
        let code = reply[16..<20].withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(as: Int32.self)) }
        if code != 0 { throw SysError("RTM_NEWLINK", errno: -code) }
    }
}
