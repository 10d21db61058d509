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

    /// The entries of the whole lines in `bytes` (a reader's chunk of them).
    package static func parse(_ bytes: ArraySlice<UInt8>, fsTypes: Set<String>? = nil) -> [MountInfoEntry] {
        let separator = Array(" - ".utf8)
        let space = UInt8(ascii: " ")
        var entries: [MountInfoEntry] = []
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let dash = ByteSearch.firstIndex(of: separator, in: line) else { continue }
            let tail = line[(dash + separator.count)...]
            // The type is compared as bytes first: a reader wants few of the lines, and most are dropped here.
            let typeBytes = tail.prefix { $0 != space }
            if let fsTypes, !fsTypes.contains(where: { $0.utf8.elementsEqual(typeBytes) }) { continue }
            let right = tail.split(separator: space, omittingEmptySubsequences: false)
            guard right.count >= 3 else { continue }
            let fsType = String(decoding: right[0], as: UTF8.self)
            let left = line[..<dash].split(separator: space)
            guard left.count >= 6 else { continue }
            entries.append(MountInfoEntry(
                root: unescape(String(decoding: left[3], as: UTF8.self)),
                mountPoint: unescape(String(decoding: left[4], as: UTF8.self)),
                optionalFields: left[6...].map { String(decoding: $0, as: UTF8.self) },
                fsType: fsType,
                source: unescape(String(decoding: right[1], as: UTF8.self)),
                superOptions: right[2].split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) }))
        }
        return entries
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
