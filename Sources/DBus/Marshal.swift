import Sys

/// The D-Bus wire format, little-endian only (the byte order of every machine crabcan builds for; a message
/// in the other order is refused, never misread). Offsets are from the start of the message: the header
/// ends padded to 8, so a body encoded from offset 0 aligns the same.
package struct DBusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The D-Bus error name of a reply ("org.freedesktop.systemd1.NoSuchUnit"), or "" for a local failure.
    package var name: String
    package var message: String

    package init(name: String = "", _ message: String) {
        self.name = name
        self.message = message
    }

    /// One line whatever the peer or the bytes said: control characters are written as \n, \r, \t or \u00XX
    /// (a signature or error text from the wire went raw into the error, which then spanned lines).
    package var description: String {
        let text = name.isEmpty ? message : "\(name): \(message)"
        return jsonEscape(text, quoting: false)
    }
}

/// Appends values with the specification's alignment (marshalling).
package struct DBusEncoder {
    package private(set) var bytes: [UInt8] = []

    package init() {}

    mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        pad(to: MemoryLayout<T>.size)
        for i in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    package mutating func encode(_ value: DBusValue) {
        switch value {
        case .byte(let v): bytes.append(v)
        case .boolean(let v): appendLE(UInt32(v ? 1 : 0))
        case .int32(let v): appendLE(v)
        case .uint32(let v): appendLE(v)
        case .int64(let v): appendLE(v)
        case .uint64(let v): appendLE(v)
        case .string(let s), .objectPath(let s):
            let utf8 = Array(s.utf8)
            appendLE(UInt32(utf8.count))
            bytes += utf8
            bytes.append(0)
        case .signature(let s):
            let utf8 = Array(s.utf8)
            bytes.append(UInt8(utf8.count))
            bytes += utf8
            bytes.append(0)
        case .array(let element, let items):
            appendLE(UInt32(0))
            let lengthAt = bytes.count - 4
            // The length counts the elements only, not the padding to the first element's alignment.
            pad(to: DBusSignature.alignment(of: element))
            let start = bytes.count
            for item in items { encode(item) }
            let length = UInt32(bytes.count - start)
            for i in 0..<4 { bytes[lengthAt + i] = UInt8(truncatingIfNeeded: length >> (8 * i)) }
        case .structure(let fields):
            pad(to: 8)
            for field in fields { encode(field) }
        case .variant(let inner):
            encode(.signature(inner.signature))
            encode(inner)
        }
    }
}

/// Reads values of a given signature back (unmarshalling), with bounds checks: a short or malformed message
/// is an error, never a crash.
package struct DBusDecoder {
    let bytes: [UInt8]
    package private(set) var offset: Int
    /// Where alignment is counted from (the message start).
    let base: Int

    package init(_ bytes: [UInt8], offset: Int = 0, base: Int = 0) {
        self.bytes = bytes
        self.offset = offset
        self.base = base
    }

    mutating func align(_ alignment: Int) throws(DBusError) {
        while (offset - base) % alignment != 0 {
            guard offset < bytes.count else { throw DBusError("message truncated") }
            offset += 1
        }
    }

    mutating func take(_ count: Int) throws(DBusError) -> ArraySlice<UInt8> {
        guard count >= 0, offset + count <= bytes.count else { throw DBusError("message truncated") }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func readLE<T: FixedWidthInteger>(_: T.Type) throws(DBusError) -> T {
        try align(MemoryLayout<T>.size)
        var value: T = 0
        for (i, byte) in try take(MemoryLayout<T>.size).enumerated() { value |= T(truncatingIfNeeded: byte) << (8 * i) }
        return value
    }

    mutating func readString(lengthBytes: Int) throws(DBusError) -> String {
        let length = lengthBytes == 1 ? Int(try take(1).first!) : Int(try readLE(UInt32.self))
        let text = try take(length)
        guard try take(1).first == 0 else { throw DBusError("string not nul-terminated") }
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes every complete type of `signature` in order.
    package mutating func decode(signature: String) throws(DBusError) -> [DBusValue] {
        var types = try DBusSignature.split(signature)[...]
        var values: [DBusValue] = []
        while let type = types.popFirst() { values.append(try decodeOne(type)) }
        return values
    }

    mutating func decodeOne(_ type: String, depth: Int = 0) throws(DBusError) -> DBusValue {
        guard depth < 32, let code = type.first else { throw DBusError("signature nested too deep: \(type)") }
        switch code {
        case "y": return .byte(try take(1).first!)
        case "b": return .boolean(try readLE(UInt32.self) != 0)
        case "i": return .int32(try readLE(Int32.self))
        case "u": return .uint32(try readLE(UInt32.self))
        case "x": return .int64(try readLE(Int64.self))
        case "t": return .uint64(try readLE(UInt64.self))
        case "s": return .string(try readString(lengthBytes: 4))
        case "o": return .objectPath(try readString(lengthBytes: 4))
        case "g": return .signature(try readString(lengthBytes: 1))
        case "v":
            let inner = try readString(lengthBytes: 1)
            let parts = try DBusSignature.split(inner)
            guard parts.count == 1 else { throw DBusError("variant signature \(inner) is not one type") }
            return .variant(try decodeOne(parts[0], depth: depth + 1))
        case "a":
            let element = String(type.dropFirst())
            let length = Int(try readLE(UInt32.self))
            try align(DBusSignature.alignment(of: element))
            let end = offset + length
            guard length <= 1 << 26, end <= bytes.count else { throw DBusError("array length \(length) past the message end") }
            var items: [DBusValue] = []
            while offset < end {
                let before = offset
                items.append(try decodeOne(element, depth: depth + 1))
                // An element of no bytes would never reach the end (only an invalid signature has one).
                guard offset > before else { throw DBusError("array of empty elements") }
            }
            guard offset == end else { throw DBusError("array elements overrun its length") }
            return .array(element: element, items)
        case "(", "{":
            try align(8)
            let inner = String(type.dropFirst().dropLast())
            var fields: [DBusValue] = []
            for field in try DBusSignature.split(inner) { fields.append(try decodeOne(field, depth: depth + 1)) }
            return .structure(fields)
        default:
            throw DBusError("unsupported type \(code) in signature")
        }
    }
}

/// Signature strings: splitting into complete types, and each type's alignment.
package enum DBusSignature {
    package static func alignment(of type: String) -> Int {
        switch type.first {
        case "y", "g", "v": 1
        case "n", "q": 2
        case "x", "t", "d", "(", "{": 8
        default: 4  // b i u s o a h
        }
    }

    /// "sa(sv)u" → ["s", "a(sv)", "u"].
    package static func split(_ signature: String) throws(DBusError) -> [String] {
        let chars = Array(signature)
        var result: [String] = []
        var i = 0
        func completeType() throws(DBusError) -> Int {
            var j = i
            while j < chars.count && chars[j] == "a" { j += 1 }
            guard j < chars.count else { throw DBusError("incomplete signature \(signature)") }
            if chars[j] == "(" || chars[j] == "{" {
                let close: Character = chars[j] == "(" ? ")" : "}"
                let open = j
                var depth = 0
                while j < chars.count {
                    if chars[j] == "(" || chars[j] == "{" { depth += 1 }
                    if chars[j] == ")" || chars[j] == "}" { depth -= 1 }
                    if depth == 0 {
                        guard chars[j] == close, j > open + 1 else { throw DBusError("unbalanced or empty structure in signature \(signature)") }
                        return j + 1
                    }
                    j += 1
                }
                throw DBusError("unbalanced signature \(signature)")
            }
            return j + 1
        }
        while i < chars.count {
            let end = try completeType()
            result.append(String(chars[i..<end]))
            i = end
        }
        return result
    }
}
