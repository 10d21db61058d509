/// The protobuf wire format (proto2) as far as CRIU's rpc.proto needs it: varints, length-delimited strings and
/// nested messages. Writing only emits fields that are set; reading walks fields by number and skips the rest.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// int32 and enums: negative numbers as ten-byte varints, as protobuf does.
    mutating func int32(_ field: Int, _ value: Int32?) {
        guard let value else { return }
        key(field, 0)
        varint(UInt64(bitPattern: Int64(value)))
    }

    mutating func uint32(_ field: Int, _ value: UInt32?) {
        guard let value else { return }
        key(field, 0)
        varint(UInt64(value))
    }

    mutating func bool(_ field: Int, _ value: Bool?) {
        guard let value else { return }
        key(field, 0)
        varint(value ? 1 : 0)
    }

    mutating func string(_ field: Int, _ value: String?) {
        guard let value else { return }
        bytes(field, Array(value.utf8))
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, 2)
        varint(UInt64(value.count))
        bytes += value
    }

    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var nested = ProtoWriter()
        build(&nested)
        bytes(field, nested.bytes)
    }
}

struct ProtoError: Error, CustomStringConvertible {
    var description: String
}

/// The fields of one message: number → values in order (varints as UInt64, length-delimited as bytes).
struct ProtoMessage {
    enum Value {
        case varint(UInt64)
        case bytes([UInt8])
    }

    private(set) var fields: [Int: [Value]] = [:]

    init(_ data: [UInt8]) throws {
        var index = 0
        func readVarint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < data.count, shift < 64 else { throw ProtoError(description: "truncated varint") }
                let byte = data[index]
                index += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }
        while index < data.count {
            let key = try readVarint()
            let field = Int(key >> 3)
            switch key & 7 {
            case 0:
                fields[field, default: []].append(.varint(try readVarint()))
            case 1:
                guard index + 8 <= data.count else { throw ProtoError(description: "truncated fixed64") }
                index += 8
            case 2:
                let length = Int(try readVarint())
                guard length >= 0, index + length <= data.count else { throw ProtoError(description: "truncated field \(field)") }
                fields[field, default: []].append(.bytes(Array(data[index..<index + length])))
                index += length
            case 5:
                guard index + 4 <= data.count else { throw ProtoError(description: "truncated fixed32") }
                index += 4
            default:
                throw ProtoError(description: "wire type \(key & 7) of field \(field)")
            }
        }
    }

    func varint(_ field: Int) -> UInt64? {
        guard case .varint(let v)? = fields[field]?.last else { return nil }
        return v
    }

    func int32(_ field: Int) -> Int32? { varint(field).map { Int32(truncatingIfNeeded: Int64(bitPattern: $0)) } }
    func bool(_ field: Int) -> Bool? { varint(field).map { $0 != 0 } }

    func bytes(_ field: Int) -> [UInt8]? {
        guard case .bytes(let b)? = fields[field]?.last else { return nil }
        return b
    }

    func string(_ field: Int) -> String? { bytes(field).map { String(decoding: $0, as: UTF8.self) } }
    func message(_ field: Int) throws -> ProtoMessage? { try bytes(field).map(ProtoMessage.init) }
}
