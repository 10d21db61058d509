/// /proc/self/mountinfo, parsed once per reader (proc(5)):
/// "<id> <parent> <maj:min> <root> <mount point> <options> [optional fields...] - <fstype> <source> <superopts>".
package struct MountInfoEntry: Sendable, Equatable {
    /// The directory of the filesystem mounted here ("/" unless a subtree was bound).
    package var root: String
    package var mountPoint: String
    /// "shared:N", "master:N", "propagate_from:N", "unbindable".
    package var optionalFields: [String]
    package var fsType: String
    package var source: String
    package var superOptions: [String]
}

package enum MountInfo {
    package static func read() throws(SysError) -> [MountInfoEntry] {
        parse(try Files.readText("/proc/self/mountinfo"))
    }

    /// The entries of `text`; with `fsTypes`, only those of these types. Bytes, not Characters: a host has
    /// hundreds of mounts and a reader wants few of them (splitting each line as a String showed as a quarter of
    /// `create`'s checks in profiles).
    package static func parse(_ text: String, fsTypes: Set<String>? = nil) -> [MountInfoEntry] {
        parse(Array(text.utf8)[...], fsTypes: fsTypes)
    }

    /// The entries of the whole lines in `bytes` (a reader's chunk of them). Fields are taken in place, one line
    /// at a time, and Strings are made only for a line whose type is wanted: most are dropped at the type.
    package static func parse(_ bytes: ArraySlice<UInt8>, fsTypes: Set<String>? = nil) -> [MountInfoEntry] {
        var entries: [MountInfoEntry] = []
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            if let entry = entry(bytes[start..<end], fsTypes: fsTypes) { entries.append(entry) }
            start = end + 1
        }
        return entries
    }

    private static let separator = Array(" - ".utf8)

    /// One line's entry; nil when it is malformed or of a type not wanted.
    private static func entry(_ line: ArraySlice<UInt8>, fsTypes: Set<String>?) -> MountInfoEntry? {
        guard let dash = ByteSearch.firstIndex(of: separator, in: line) else { return nil }
        // After the separator every field counts, an empty source included.
        var right = Fields(line[(dash + separator.count)...], omittingEmpty: false)
        guard let typeBytes = right.next() else { return nil }
        if let fsTypes, !fsTypes.contains(where: { $0.utf8.elementsEqual(typeBytes) }) { return nil }
        guard let source = right.next(), let superOptions = right.next() else { return nil }
        var left = Fields(line[..<dash], omittingEmpty: true)
        // The id, the parent's id and maj:min come before the root; the mount options after the mount point.
        guard left.next() != nil, left.next() != nil, left.next() != nil,
              let root = left.next(), let mountPoint = left.next(), left.next() != nil else { return nil }
        var optionalFields: [String] = []
        while let field = left.next() { optionalFields.append(String(decoding: field, as: UTF8.self)) }
        return MountInfoEntry(
            root: unescape(String(decoding: root, as: UTF8.self)),
            mountPoint: unescape(String(decoding: mountPoint, as: UTF8.self)),
            optionalFields: optionalFields,
            fsType: String(decoding: typeBytes, as: UTF8.self),
            source: unescape(String(decoding: source, as: UTF8.self)),
            superOptions: superOptions.split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) })
    }

    /// The space-separated fields of a line, in place.
    private struct Fields {
        var rest: ArraySlice<UInt8>
        let omittingEmpty: Bool
        var done = false

        init(_ text: ArraySlice<UInt8>, omittingEmpty: Bool) {
            rest = text
            self.omittingEmpty = omittingEmpty
        }

        mutating func next() -> ArraySlice<UInt8>? {
            while !done {
                let space = rest.firstIndex(of: UInt8(ascii: " "))
                let field = rest[..<(space ?? rest.endIndex)]
                if let space { rest = rest[(space + 1)...] } else { done = true }
                if !(omittingEmpty && field.isEmpty) { return field }
            }
            return nil
        }
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    package static func unescape(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "\\")) else { return text }
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
               let value = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
