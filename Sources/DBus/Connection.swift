import Sys

/// A blocking, single-threaded D-Bus connection over a unix socket: authenticate, call, collect signals.
/// Signals that arrive while a call waits for its reply are kept for `waitForSignal`.
package final class DBusConnection {
    let socket: FileDescriptor
    var serial: UInt32 = 0
    var buffer: [UInt8] = []
    var pendingSignals: [DBusMessage] = []
    /// A bus (dbus-daemon) routes by destination and wants Hello; systemd's private socket is peer-to-peer.
    package let isBus: Bool
    package let path: String

    /// Connects to `path` and authenticates as `uid` (SASL EXTERNAL: the kernel vouches for the peer's uid).
    package init(path: String, uid: UInt32, isBus: Bool, timeoutMilliseconds: Int32 = 5000) throws {
        self.path = path
        self.isBus = isBus
        do { socket = try Channels.connectUnix(path) } catch { throw DBusError("connect \(path): \(error)") }
        try send(Array("\0AUTH EXTERNAL \(DBusConnection.hex(String(uid)))\r\n".utf8))
        let answer = try readLine(timeoutMilliseconds: timeoutMilliseconds)
        guard answer.hasBytePrefix("OK ") else { throw DBusError("\(path): authentication refused: \(answer)") }
        try send(Array("BEGIN\r\n".utf8))
        if isBus {
            _ = try call(destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                         interface: "org.freedesktop.DBus", member: "Hello", timeoutMilliseconds: timeoutMilliseconds)
        }
    }

    package func close() { socket.close() }

    /// The SASL form of the uid: each character of its decimal text as two hex digits ("0" → "30").
    package static func hex(_ text: String) -> String {
        let digits = Array("0123456789abcdef")
        return String(text.utf8.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    func send(_ bytes: [UInt8]) throws(DBusError) {
        do { try Channels.send(socket, bytes) } catch { throw DBusError("send to \(path): \(error)") }
    }

    /// Reads more bytes into `buffer`, waiting at most until `deadline` (monotonic ms).
    func fill(deadline: Int64) throws(DBusError) {
        let left = deadline - Clock.monotonicMilliseconds()
        guard left > 0 else { throw DBusError("timed out waiting for \(path)") }
        do {
            if try Channels.poll([Int(socket.raw)], timeoutMilliseconds: Int32(min(left, Int64(Int32.max)))).isEmpty {
                throw DBusError("timed out waiting for \(path)")
            }
            let chunk = try Channels.receive(socket, capacity: 65536)
            if chunk.isEmpty { throw DBusError("\(path) closed the connection") }
            buffer += chunk
        } catch let error as DBusError {
            throw error
        } catch {
            throw DBusError("read \(path): \(error)")
        }
    }

    func readLine(timeoutMilliseconds: Int32) throws(DBusError) -> String {
        let deadline = Clock.monotonicMilliseconds() + Int64(timeoutMilliseconds)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line.hasByteSuffix("\r") ? String(line.dropLast()) : line
            }
            if buffer.count > 4096 { throw DBusError("\(path): overlong authentication line") }
            try fill(deadline: deadline)
        }
    }

    func readMessage(deadline: Int64) throws(DBusError) -> DBusMessage {
        while true {
            if let total = try DBusMessage.totalLength(buffer[...]), buffer.count >= total {
                let message = try DBusMessage.decode(Array(buffer[..<total]))
                buffer.removeSubrange(..<total)
                return message
            }
            try fill(deadline: deadline)
        }
    }

    /// Sends a method call and returns the reply's body; an error reply throws its name and message.
    @discardableResult
    package func call(destination: String?, path: String, interface: String, member: String, body: [DBusValue] = [],
                     timeoutMilliseconds: Int32 = 25_000) throws(DBusError) -> [DBusValue] {
        serial += 1
        let message = DBusMessage.methodCall(serial: serial, destination: destination, path: path,
                                             interface: interface, member: member, body: body)
        try send(message.encoded())
        let deadline = Clock.monotonicMilliseconds() + Int64(timeoutMilliseconds)
        while true {
            let reply = try readMessage(deadline: deadline)
            switch reply.kind {
            case .signal: pendingSignals.append(reply)
            case .methodReturn where reply.replySerial == message.serial: return reply.body
            case .error where reply.replySerial == message.serial:
                throw DBusError(name: reply.errorName ?? "", reply.body.first?.stringValue ?? "(no message)")
            default: continue  // a reply to something else, or a call to us (none expected)
            }
        }
    }

    /// The first signal (already received or still to come) that `matches`, or a timeout error.
    package func waitForSignal(timeoutMilliseconds: Int32, _ matches: (DBusMessage) -> Bool) throws(DBusError) -> DBusMessage {
        if let index = pendingSignals.firstIndex(where: matches) { return pendingSignals.remove(at: index) }
        let deadline = Clock.monotonicMilliseconds() + Int64(timeoutMilliseconds)
        while true {
            let message = try readMessage(deadline: deadline)
            if message.kind == .signal && matches(message) { return message }
        }
    }
}
