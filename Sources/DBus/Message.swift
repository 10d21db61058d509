/// One D-Bus message (specification, "Message Format"): the fixed header, the header fields a(yv), the body.
package struct DBusMessage: Sendable, Equatable {
    package enum Kind: UInt8, Sendable { case methodCall = 1, methodReturn = 2, error = 3, signal = 4 }

    package var kind: Kind
    /// 0x1 NO_REPLY_EXPECTED, 0x2 NO_AUTO_START.
    package var flags: UInt8 = 0
    package var serial: UInt32
    package var path: String?
    package var interface: String?
    package var member: String?
    package var errorName: String?
    package var replySerial: UInt32?
    package var destination: String?
    package var sender: String?
    package var body: [DBusValue] = []

    package init(kind: Kind, serial: UInt32) {
        self.kind = kind
        self.serial = serial
    }

    package static func methodCall(serial: UInt32, destination: String?, path: String, interface: String,
                                  member: String, body: [DBusValue] = []) -> DBusMessage {
        var m = DBusMessage(kind: .methodCall, serial: serial)
        m.destination = destination
        m.path = path
        m.interface = interface
        m.member = member
        m.body = body
        return m
    }

    package var bodySignature: String { body.map(\.signature).joined() }

    package func encoded() -> [UInt8] {
        var fields: [DBusValue] = []
        func field(_ code: UInt8, _ value: DBusValue?) {
            if let value { fields.append(.structure([.byte(code), .variant(value)])) }
        }
        field(1, path.map { .objectPath($0) })
        field(2, interface.map { .string($0) })
        field(3, member.map { .string($0) })
        field(4, errorName.map { .string($0) })
        field(5, replySerial.map { .uint32($0) })
        field(6, destination.map { .string($0) })
        field(7, sender.map { .string($0) })
        if !body.isEmpty { field(8, .signature(bodySignature)) }

        var bodyEncoder = DBusEncoder()
        for value in body { bodyEncoder.encode(value) }
        var header = DBusEncoder()
        header.encode(.byte(UInt8(ascii: "l")))
        header.encode(.byte(kind.rawValue))
        header.encode(.byte(flags))
        header.encode(.byte(1))
        header.encode(.uint32(UInt32(bodyEncoder.bytes.count)))
        header.encode(.uint32(serial))
        header.encode(.array(element: "(yv)", fields))
        header.pad(to: 8)
        return header.bytes + bodyEncoder.bytes
    }

    /// The total length of the message at the start of `bytes`, once its first 16 bytes are there.
    package static func totalLength(_ bytes: ArraySlice<UInt8>) throws(DBusError) -> Int? {
        guard bytes.count >= 16 else { return nil }
        let b = Array(bytes.prefix(16))
        guard b[0] == UInt8(ascii: "l") else { throw DBusError("big-endian or corrupt message (first byte \(b[0]))") }
        func u32(_ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 | Int(b[at + 2]) << 16 | Int(b[at + 3]) << 24 }
        let bodyLength = u32(4), fieldsLength = u32(12)
        guard bodyLength <= 1 << 27, fieldsLength <= 1 << 26 else { throw DBusError("message too long") }
        let headerEnd = 16 + fieldsLength
        return (headerEnd + 7) / 8 * 8 + bodyLength
    }

    /// Parses one complete message (`totalLength` bytes).
    package static func decode(_ bytes: [UInt8]) throws(DBusError) -> DBusMessage {
        guard let total = try totalLength(bytes[...]), total == bytes.count else { throw DBusError("incomplete message") }
        var d = DBusDecoder(bytes)
        let fixed = try d.decode(signature: "yyyyuua(yv)")
        guard case .byte(let rawKind) = fixed[1], let kind = Kind(rawValue: rawKind),
              case .byte(let flags) = fixed[2], case .uint32(let serial) = fixed[5],
              case .array(_, let fields) = fixed[6] else { throw DBusError("unknown message type") }
        var m = DBusMessage(kind: kind, serial: serial)
        m.flags = flags
        var signature = ""
        for case .structure(let pair) in fields {
            guard pair.count == 2, case .byte(let code) = pair[0], case .variant(let value) = pair[1] else { continue }
            switch code {
            case 1: m.path = value.stringValue
            case 2: m.interface = value.stringValue
            case 3: m.member = value.stringValue
            case 4: m.errorName = value.stringValue
            case 5: m.replySerial = value.uint32Value
            case 6: m.destination = value.stringValue
            case 7: m.sender = value.stringValue
            case 8: signature = value.stringValue ?? ""
            default: break  // unknown fields are to be ignored (specification)
            }
        }
        try d.align(8)
        m.body = try d.decode(signature: signature)
        guard d.offset == bytes.count else { throw DBusError("body longer than its signature \(signature)") }
        return m
    }
}
