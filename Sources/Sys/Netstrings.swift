/// `<length>:<bytes>,` fields, one after another: the runtime's own cache files (compiled seccomp programs, the
/// detected cgroup mounts), where any byte may occur in a field and a reader must tell a whole file from a torn one.
package enum Netstrings {
    // Appended to `out` in place: a key of a few hundred fields (a seccomp profile's names) made two arrays for
    // each, a third of the key's time.
    package static func append(_ bytes: [UInt8], to out: inout [UInt8]) { append(bytes[...], to: &out) }

    package static func append(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        appendLength(bytes.count, to: &out)
        out += bytes
        out.append(UInt8(ascii: ","))
    }

    package static func append(_ text: String, to out: inout [UInt8]) {
        appendLength(text.utf8.count, to: &out)
        out.append(contentsOf: text.utf8)
        out.append(UInt8(ascii: ","))
    }

    package static func append(_ number: UInt64, to out: inout [UInt8]) { append(DecimalText.of(number), to: &out) }

    /// `<length>:`, the digits as `DecimalText` writes them (inline in the string: no array).
    static func appendLength(_ length: Int, to out: inout [UInt8]) {
        out.append(contentsOf: DecimalText.of(length).utf8)
        out.append(UInt8(ascii: ":"))
    }

    /// Fields read in order from `bytes`; every read is nil once one is malformed or runs past the end.
    package struct Reader {
        private let bytes: [UInt8]
        private var at: Int

        package init(_ bytes: [UInt8], from start: Int = 0) {
            self.bytes = bytes
            at = start
        }

        package var isAtEnd: Bool { at == bytes.count }

        package mutating func field() -> ArraySlice<UInt8>? {
            guard at < bytes.count, let colon = bytes[at...].firstIndex(of: UInt8(ascii: ":")), colon - at <= 10,
                  let parsed = DecimalText.parse(bytes[at..<colon]), let length = Int(exactly: parsed),
                  length <= bytes.count - colon - 2, bytes[colon + 1 + length] == UInt8(ascii: ",") else { return nil }
            at = colon + 2 + length
            return bytes[(colon + 1)..<(colon + 1 + length)]
        }

        package mutating func text() -> String? { field().map { String(decoding: $0, as: UTF8.self) } }

        package mutating func number() -> UInt64? { field().flatMap { DecimalText.parse($0) } }
    }
}
