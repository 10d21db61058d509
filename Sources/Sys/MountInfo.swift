import CShim
import Glibc

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

/// One line of the table, its fields located by index in place (still escaped, as the table has them): a String
/// is made only for what a reader asks for.
package struct MountInfoLine {
    private let text: ArraySlice<UInt8>
    private let idRange, rootRange, pointRange, optionalRange, typeRange, sourceRange, optionsRange: Range<Int>

    package var fsType: ArraySlice<UInt8> { text[typeRange] }
    /// The first field: the mount's id in this table (a later mount may reuse it once this one is gone).
    package var mountID: UInt64? { DecimalText.parse(text[idRange]) }
    /// The directory of the filesystem mounted here, escaped: "/" unless a subtree was bound.
    package var root: ArraySlice<UInt8> { text[rootRange] }
    package var mountPoint: ArraySlice<UInt8> { text[pointRange] }
    /// "rw,memory": the comma-separated super options.
    package var superOptions: ArraySlice<UInt8> { text[optionsRange] }

    /// nil when the line is malformed or `wanted` does not take its type.
    init?(_ line: ArraySlice<UInt8>, ofType wanted: (ArraySlice<UInt8>) -> Bool) {
        text = line
        guard let dash = ByteSearch.firstIndex(of: Self.separator, in: line) else { return nil }
        // After the separator every field counts, an empty source included.
        var at = dash + Self.separator.count
        guard let type = Self.field(line, from: &at, before: line.endIndex, omittingEmpty: false), wanted(line[type]),
              let source = Self.field(line, from: &at, before: line.endIndex, omittingEmpty: false),
              let options = Self.field(line, from: &at, before: line.endIndex, omittingEmpty: false) else { return nil }
        // The id, the parent's id and maj:min come before the root; the mount options after the mount point.
        at = line.startIndex
        guard let id = Self.field(line, from: &at, before: dash, omittingEmpty: true),
              Self.field(line, from: &at, before: dash, omittingEmpty: true) != nil,
              Self.field(line, from: &at, before: dash, omittingEmpty: true) != nil,
              let root = Self.field(line, from: &at, before: dash, omittingEmpty: true),
              let point = Self.field(line, from: &at, before: dash, omittingEmpty: true),
              Self.field(line, from: &at, before: dash, omittingEmpty: true) != nil else { return nil }
        (idRange, rootRange, pointRange, optionalRange) = (id, root, point, min(at, dash)..<dash)
        (typeRange, sourceRange, optionsRange) = (type, source, options)
    }

    private static let separator = Array(" - ".utf8)

    /// The next space-separated field before `end`, from `at` (moved past it and its space).
    private static func field(_ line: ArraySlice<UInt8>, from at: inout Int, before end: Int, omittingEmpty: Bool) -> Range<Int>? {
        while at <= end {
            var stop = at
            while stop < end && line[stop] != UInt8(ascii: " ") { stop += 1 }
            let field = at..<stop
            // Past the end once the last field is taken: no empty field follows it.
            at = stop == end ? end + 1 : stop + 1
            if !(omittingEmpty && field.isEmpty) { return field }
        }
        return nil
    }

    /// Whether the root is "/" (the whole filesystem is mounted here).
    package var isWholeFilesystem: Bool { rootRange.count == 1 && text[rootRange.lowerBound] == UInt8(ascii: "/") }

    /// Whether every comma-separated item of `list` ("cpu,cpuacct") is one of the super options ("rw,cpu,cpuacct").
    package func hasSuperOptions(allOf list: ArraySlice<UInt8>) -> Bool {
        !list.containsCommaSeparatedItem { item in
            !item.isEmpty && !superOptions.containsCommaSeparatedItem { $0.elementsEqual(item) }
        }
    }

    package var entry: MountInfoEntry {
        var optional: [String] = []
        var at = optionalRange.lowerBound
        while let field = Self.field(text, from: &at, before: optionalRange.upperBound, omittingEmpty: true) {
            optional.append(String(decoding: text[field], as: UTF8.self))
        }
        return MountInfoEntry(
            root: MountInfo.unescape(root), mountPoint: MountInfo.unescape(mountPoint), optionalFields: optional,
            fsType: String(decoding: fsType, as: UTF8.self), source: MountInfo.unescape(text[sourceRange]),
            superOptions: superOptions.split(separator: UInt8(ascii: ",")).map { String(decoding: $0, as: UTF8.self) })
    }
}

package enum MountInfo {
    /// The id of the mount `path` is on, its last component not followed: `unique` asks for the id no later mount
    /// reuses (Linux 6.8), else the table's first field. nil when the path or the kernel cannot say. A relative
    /// `path` is looked up in `directory` (one walk to a shared parent instead of one per path).
    package static func mountID(of path: String, unique: Bool, in directory: FileDescriptor? = nil) -> UInt64? {
        var id: UInt64 = 0
        return path.withCString { cshim_mount_id(directory?.raw ?? AT_FDCWD, $0, unique ? 1 : 0, &id) } == 0 ? id : nil
    }

    /// Ids of mount points that mostly share a parent directory (the cgroup hierarchies under /sys/fs/cgroup):
    /// each parent is opened once and each point looked up in it by its last name.
    package struct MountIDReader {
        private var parent: (path: Substring, fd: FileDescriptor)?

        package init() {}

        package mutating func uniqueID(of path: String) -> UInt64? {
            guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")), slash != path.utf8.startIndex,
                  path.utf8.index(after: slash) != path.utf8.endIndex else { return MountInfo.mountID(of: path, unique: true) }
            let directory = path[..<slash]
            if parent?.path != directory {
                guard let fd = try? Files.open(String(directory), O_PATH | O_DIRECTORY) else { return nil }
                parent = (directory, fd)
            }
            return MountInfo.mountID(of: String(path[path.utf8.index(after: slash)...]), unique: true, in: parent?.fd)
        }
    }

    package static func read() throws(SysError) -> [MountInfoEntry] {
        parse(try Files.readText("/proc/self/mountinfo"))
    }

    /// The entries of `text`; with `fsTypes`, only those of these types. Bytes, not Characters: a host has
    /// hundreds of mounts and a reader wants few of them (splitting each line as a String showed as a quarter of
    /// `create`'s checks in profiles).
    package static func parse(_ text: String, fsTypes: Set<String>? = nil) -> [MountInfoEntry] {
        parse(Array(text.utf8)[...], fsTypes: fsTypes)
    }

    /// The entries of the whole lines in `bytes` (a reader's chunk of them), of the types in `fsTypes` if given.
    package static func parse(_ bytes: ArraySlice<UInt8>, fsTypes: Set<String>? = nil) -> [MountInfoEntry] {
        var entries: [MountInfoEntry] = []
        forEachLine(in: bytes, ofType: { type in fsTypes.map { $0.contains { $0.utf8.elementsEqual(type) } } ?? true }) {
            entries.append($0.entry)
        }
        return entries
    }

    /// Calls `body` with each well-formed line of `bytes` whose type `wanted` takes, its fields found in place: the
    /// type is looked at before the rest of the line, and nothing is copied. For a reader that keeps few of many
    /// lines: detecting the cgroup mounts on every create made a String of every field of every cgroup line.
    package static func forEachLine(in bytes: ArraySlice<UInt8>, ofType wanted: (ArraySlice<UInt8>) -> Bool,
                                    _ body: (MountInfoLine) -> Void) {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            if let line = MountInfoLine(bytes[start..<end], ofType: wanted) { body(line) }
            start = end + 1
        }
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    package static func unescape(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "\\")) else { return text }
        return unescape(Array(text.utf8)[...])
    }

    /// A field of the table as its text, unescaped.
    package static func unescape(_ field: ArraySlice<UInt8>) -> String {
        guard field.contains(UInt8(ascii: "\\")) else { return String(decoding: field, as: UTF8.self) }
        var out: [UInt8] = []
        let bytes = Array(field)
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
