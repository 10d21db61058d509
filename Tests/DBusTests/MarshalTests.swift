import DBus
import Testing

/// The wire format against messages laid out by hand from the D-Bus specification ("Message Format",
/// "Marshaling"): alignment of each type from the message start, array lengths without the padding before
/// the first element, variants as signature + value, header fields as a(yv) and the header padded to 8.
@Suite struct MarshalTests {
    /// "0a 0b" → bytes; spaces and "|" are for reading only.
    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.filter { $0.isHexDigit })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    static func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func body(_ values: [DBusValue]) -> [UInt8] {
        var e = DBusEncoder()
        for v in values { e.encode(v) }
        return e.bytes
    }

    @Test func helloIsTheSpecificationsLayout() throws {
        let m = DBusMessage.methodCall(serial: 1, destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus",
                                       interface: "org.freedesktop.DBus", member: "Hello")
        var expected = Self.hex("6c 01 00 01 | 00000000 | 01000000 | 6d000000")  // l, call, flags, v1, body 0, serial 1, fields 109
        expected += Self.hex("01 01 6f 00 | 15000000") + Self.ascii("/org/freedesktop/DBus") + [0] + [0, 0]     // PATH o, to 48
        expected += Self.hex("02 01 73 00 | 14000000") + Self.ascii("org.freedesktop.DBus") + [0] + [0, 0, 0]  // INTERFACE s, to 80
        expected += Self.hex("03 01 73 00 | 05000000") + Self.ascii("Hello") + [0] + [0, 0]                    // MEMBER s, to 96
        expected += Self.hex("06 01 73 00 | 14000000") + Self.ascii("org.freedesktop.DBus") + [0]              // DESTINATION s, 125
        expected += [0, 0, 0]  // header padded to 128; no body, so no SIGNATURE field
        #expect(m.encoded() == expected)
        #expect(expected.count == 128)
        #expect(try DBusMessage.decode(expected) == m)
    }

    @Test func aStructArrayPadsToEightAndCountsNoPadding() {
        let bytes = Self.body([.string("n"), UnitProperty.array([UnitProperty("D", .boolean(true))])])
        let expected = Self.hex("01000000 6e00 | 0000 | 10000000 | 00000000 | 01000000 4400 | 01 62 00 | 000000 | 01000000")
        #expect(bytes == expected)
    }

    @Test func anEmptyArrayStillPadsToItsElementAlignment() {
        let bytes = Self.body([.string("x"), .array(element: "(sa(sv))", [])])
        #expect(bytes == Self.hex("01000000 7800 0000 | 00000000 | 00000000"))
    }

    @Test func variantsOfEachPropertyType() {
        #expect(Self.body([.variant(.uint64(5))]) == Self.hex("01 74 00 | 0000000000 | 0500000000000000"))
        #expect(Self.body([.variant(.uint32s([7, 8]))]) == Self.hex("02 61 75 00 | 08000000 | 07000000 08000000"))
        #expect(Self.body([.variant(.bytes([0x0f, 0x01]))]) == Self.hex("02 61 79 00 | 02000000 | 0f 01"))
        #expect(Self.body([.variant(.strings(["a"]))]) == Self.hex("02 61 73 00 | 06000000 | 01000000 6100"))
        #expect(Self.body([.variant(.array(element: "(ss)", [.structure([.string("c"), .string("rw")])]))])
                == Self.hex("05 61 28 73 73 29 00 | 00 | 0f000000 | 00000000 | 01000000 6300 | 0000 | 02000000 727700"))
        #expect(Self.body([.byte(1), .variant(.boolean(false))]) == Self.hex("01 | 01 62 00 | 00000000"))
    }

    /// An error reply as systemd sends one: ERROR_NAME, REPLY_SERIAL, SIGNATURE "s", and the message.
    @Test func anErrorReplyDecodesToItsNameAndMessage() throws {
        var bytes = Self.hex("6c 03 01 01 | 07000000 | 07000000 | 1f000000")
        bytes += Self.hex("04 01 73 00 | 03000000") + Self.ascii("a.B") + [0] + [0, 0, 0, 0]
        bytes += Self.hex("05 01 75 00 | 02000000")
        bytes += Self.hex("08 01 67 00 | 01 73 00") + [0]
        bytes += Self.hex("02000000") + Self.ascii("no") + [0]
        let m = try DBusMessage.decode(bytes)
        #expect(m.kind == .error)
        #expect(m.flags == 1)
        #expect(m.serial == 7)
        #expect(m.replySerial == 2)
        #expect(m.errorName == "a.B")
        #expect(m.body == [.string("no")])
        var again = DBusMessage(kind: .error, serial: 7)
        again.flags = 1
        again.errorName = "a.B"
        again.replySerial = 2
        again.body = [.string("no")]
        #expect(again.encoded() == bytes)
    }

    @Test func jobRemovedRoundTrips() throws {
        var signal = DBusMessage(kind: .signal, serial: 9)
        signal.path = "/org/freedesktop/systemd1"
        signal.interface = "org.freedesktop.systemd1.Manager"
        signal.member = "JobRemoved"
        signal.sender = ":1.0"
        signal.body = [.uint32(42), .objectPath("/org/freedesktop/systemd1/job/42"), .string("crabcan-c1.scope"), .string("done")]
        let decoded = try DBusMessage.decode(signal.encoded())
        #expect(decoded == signal)
        #expect(decoded.body[1].stringValue == "/org/freedesktop/systemd1/job/42")
    }

    @Test func aPartialMessageWaitsAndACorruptOneIsAnError() throws {
        let whole = DBusMessage.methodCall(serial: 3, destination: nil, path: "/", interface: "i.f", member: "M",
                                           body: [.string("x")]).encoded()
        #expect(try DBusMessage.totalLength(whole.prefix(15)) == nil)
        #expect(try DBusMessage.totalLength(whole[...]) == whole.count)
        for cut in [16, 20, whole.count - 1] {
            #expect(throws: DBusError.self) { try DBusMessage.decode(Array(whole.prefix(cut))) }
        }
        var big = whole
        big[0] = UInt8(ascii: "B")
        #expect(throws: DBusError.self) { try DBusMessage.totalLength(big[...]) }
        // An array length past the end of the message.
        var d = DBusDecoder(Self.hex("ff000000 01"))
        #expect(throws: DBusError.self) { try d.decode(signature: "ay") }
    }

    @Test func signaturesSplitIntoCompleteTypes() throws {
        #expect(try DBusSignature.split("ssa(sv)a(sa(sv))") == ["s", "s", "a(sv)", "a(sa(sv))"])
        #expect(try DBusSignature.split("uoss") == ["u", "o", "s", "s"])
        #expect(throws: DBusError.self) { try DBusSignature.split("a(s") }
        #expect(throws: DBusError.self) { try DBusSignature.split("a") }
    }

    @Test func theAuthenticationIdentityIsTheUidTextInHex() {
        #expect(DBusConnection.hex("0") == "30")
        #expect(DBusConnection.hex("1000") == "31303030")
    }

    /// The bus first, the manager's private socket as the fallback, for root and for a user alike (runc dials the
    /// bus only; private-first stalled create and delete 25 s each in the systemd guest).
    @Test func endpointsPreferTheBus() {
        #expect(SystemdManager.endpoints(user: false, environment: []).map(\.path) == ["/run/dbus/system_bus_socket", "/run/systemd/private"])
        let user = SystemdManager.endpoints(user: true, environment: ["XDG_RUNTIME_DIR=/run/user/1000",
                                                                      "DBUS_SESSION_BUS_ADDRESS=unix:path=/tmp/b,guid=1"])
        #expect(user.map(\.path) == ["/tmp/b", "/run/user/1000/bus", "/run/user/1000/systemd/private"])
        #expect(user.map(\.isBus) == [true, true, false])
        #expect(SystemdManager.parseVersion("252.38-1~deb12u1") == 252)
        #expect(SystemdManager.parseVersion("\"v245.4-1.fc32\"") == 245)
    }
}

/// Whatever bytes arrive, decoding ends: a message or an error, never a crash or a loop.
@Suite struct MalformedInputTests {
    @Test func emptyStructuresAreRefused() {
        #expect(throws: DBusError.self) { try DBusSignature.split("a()") }
        var d = DBusDecoder([8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(throws: DBusError.self) { try d.decode(signature: "a()") }
    }

    /// Every byte of real messages replaced by a few values, and every truncation: a deterministic mutation sweep.
    @Test func mutatedMessagesDecodeOrFail() {
        var signal = DBusMessage(kind: .signal, serial: 9)
        signal.path = "/org/freedesktop/systemd1"
        signal.interface = "org.freedesktop.systemd1.Manager"
        signal.member = "JobRemoved"
        signal.body = [.uint32(42), .objectPath("/j/42"), .string("u.scope"), .string("done")]
        let call = DBusMessage.methodCall(serial: 2, destination: "d", path: "/", interface: "i", member: "m",
                                          body: [.string("u"), UnitProperty.array([UnitProperty("PIDs", .uint32s([1, 2])),
                                                                                   UnitProperty("A", .bytes([1]))])])
        var outcomes = 0
        for message in [signal, call] {
            let bytes = message.encoded()
            for index in bytes.indices {
                for value: UInt8 in [0, 1, 0x28, 0x61, 0x76, 0x7f, 0xff] {
                    var mutated = bytes
                    mutated[index] = value
                    if (try? DBusMessage.totalLength(mutated[...])) ?? nil == mutated.count {
                        _ = try? DBusMessage.decode(mutated)
                    }
                    outcomes += 1
                }
                _ = try? DBusMessage.decode(Array(bytes.prefix(index)))
            }
        }
        #expect(outcomes > 1000)
    }

    /// Tests/FuzzCorpus/dbus/signature-with-carriage-return (`make fuzz`, target dbus): a header field whose
    /// variant signature is "\r"; the byte went raw into the error, which then spanned two lines.
    @Test func aControlCharacterFromTheWireStaysOnOneLine() {
        let bytes: [UInt8] = [0x6c, 0x02, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x10, 0, 0, 0x0f, 0, 0, 0,
                              0x05, 0x01, 0x75, 0x00, 0x04, 0, 0, 0, 0x30, 0x01, 0x0d, 0x00, 0, 0, 0, 0]
        do {
            _ = try DBusMessage.decode(bytes)
            Issue.record("a signature of \"\\r\" was accepted")
        } catch {
            #expect(error.description == #"unsupported type \r in signature"#)
        }
        // An error reply's own text (the peer's words) is kept on one line the same way.
        #expect(DBusError(name: "x.Y", "line one\nline\u{7}two").description == #"x.Y: line one\nline\u0007two"#)
    }

}
