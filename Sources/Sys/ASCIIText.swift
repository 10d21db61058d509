import Glibc

/// Substring search on UTF-8 bytes. The binary is built without the implicitly imported _StringProcessing module
/// (its regex engine and Unicode tables are pages every start would map; docs/performance.md), which is where
/// the standard library keeps `contains(_: some StringProtocol)` and `split(separator: some Collection)`.
package enum ByteSearch {
    /// Where `needle` first starts in `haystack`.
    package static func firstIndex(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return needle.isEmpty ? haystack.startIndex : nil }
        var index = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while index <= last {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

extension StringProtocol {
    /// Whether `needle` occurs in this text (byte for byte).
    package func containsText(_ needle: some StringProtocol) -> Bool {
        ByteSearch.firstIndex(of: Array(needle.utf8), in: Array(utf8)[...]) != nil
    }
}

/// ASCII-only classification and case: the standard library's `isNumber` and `uppercased()` consult its Unicode
/// property and case tables (pages of .rodata each command would map) for text that is ASCII by definition
/// (versions, JSON-path indexes, signal and architecture names).
extension Character {
    package var isASCIIDigit: Bool { asciiValue.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false }
}

extension StringProtocol {
    package func asciiUppercased() -> String {
        String(decoding: utf8.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") ? $0 - 32 : $0 }, as: UTF8.self)
    }

    package func asciiLowercased() -> String {
        String(decoding: utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }, as: UTF8.self)
    }
}

/// Decimal digits of an integer, written byte by byte. Interpolating an integer or String(describing:) goes
/// through the standard library's generic formatting (BinaryInteger._description and the description
/// witnesses), which lives in the part of the binary the link order cannot arrange: a 64 KiB window of pages
/// for each command that touches it (docs/performance.md). For the paths every container takes.
package enum DecimalText {
    /// Written straight into the string, which holds up to 15 bytes inline: no array is allocated for the digits.
    package static func of(_ value: UInt64) -> String {
        var count = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return String(unsafeUninitializedCapacity: count) { digits in
            var rest = value
            for index in stride(from: count - 1, through: 0, by: -1) {
                digits[index] = UInt8(truncatingIfNeeded: rest % 10) &+ UInt8(ascii: "0")
                rest /= 10
            }
            return count
        }
    }

    package static func of(_ value: Int64) -> String { value < 0 ? "-" + of(value.magnitude) : of(UInt64(value)) }
    package static func of(_ value: Int) -> String { of(Int64(value)) }
    package static func of(_ value: Int32) -> String { of(Int64(value)) }
    package static func of(_ value: UInt32) -> String { of(UInt64(value)) }

    /// The value of ASCII decimal digits (no sign; leading zeros allowed, as strconv.Atoi takes them); nil when
    /// empty, not all digits, or past UInt64.
    package static func parse(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            if overflow || carry { return nil }
            value = sum
        }
        return value
    }
}

/// `body` with `text` as a C string, or with nil. Strings go to C through withCString, not the implicit
/// conversion: that copies a small string through ContiguousArray, code the link order cannot arrange.
package func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}

/// A NUL-terminated C string as a String (UTF-8; invalid sequences repaired). String(cString:) is not
/// inlinable: it too lives in the unarranged part of the binary, while String(decoding:as:) is specialized here.
package func stringFromC(_ pointer: UnsafePointer<CChar>) -> String {
    let length = strlen(pointer)
    return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
}

/// Path text on UTF-8 bytes, as the kernel reads a path. The standard library's Character-based split, joined
/// and hasPrefix run its grapheme-break code, in the unarranged part of the binary (docs/performance.md).
package enum PathText {
    /// The non-empty components between slashes.
    package static func components(_ path: String) -> [String] { path.pieces(separatedBy: UInt8(ascii: "/")) }

    /// The components joined by single slashes, with no leading one.
    package static func joined(_ components: [String]) -> String { components.joinedText("/") }

    /// `joined(components(path))` without the array: the non-empty components joined by single slashes, with no
    /// leading or trailing one. A path already in that form is returned as it is.
    package static func relativeNormalized(_ path: String) -> String {
        let slash = UInt8(ascii: "/")
        // Normal: no slash at either end and none doubled (a leading one counts as following a slash).
        var previous = slash
        var isNormal = true
        for byte in path.utf8 {
            if byte == slash && previous == slash { isNormal = false; break }
            previous = byte
        }
        if path.isEmpty || (isNormal && previous != slash) { return path }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(path.utf8.count)
        var pendingSlash = false
        for byte in path.utf8 {
            if byte == slash {
                pendingSlash = !bytes.isEmpty
            } else {
                if pendingSlash { bytes.append(slash); pendingSlash = false }
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The text before the last slash, nil when there is none ("" when that slash is the first byte). Found on
    /// bytes: String's lastIndex(of:) steps back over Characters.
    package static func beforeLastSlash(_ path: String) -> String? {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        return String(path[..<slash])
    }

    package static func isAbsolute(_ path: String) -> Bool { path.utf8.first == UInt8(ascii: "/") }
}

extension Array where Element == String {
    /// The elements with `separator` between them, as `joined(separator:)` gives. That one is generic standard
    /// library code, which runs unspecialized here: it looks up its associated types by mangled name, and the
    /// first lookup in a process scans every protocol conformance in the binary (67 µs of each `run`'s init, for
    /// the mount options of bundles/true; docs/performance.md). For the paths every container or command takes.
    package func joinedText(_ separator: String = "") -> String {
        var bytes: [UInt8] = []
        for (index, element) in enumerated() {
            if index > 0 { bytes.append(contentsOf: separator.utf8) }
            bytes.append(contentsOf: element.utf8)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    /// The comma-separated items ("cpu,cpuacct", a mount's super options), split on UTF-8 bytes: String's own
    /// split walks Characters through the grapheme-break code, which showed in every create's cgroup lookups.
    package var commaSeparatedItems: [String] { pieces(separatedBy: UInt8(ascii: ",")) }

    /// The non-empty pieces between `separator` bytes (as `split(separator:)` on Characters gives for ASCII text),
    /// split on UTF-8: paths, PATH lists, a cgroup's pid list. Scanned on a byte array: the UTF-8 view's own split
    /// built an array of `Substring.UTF8View` first, whose storage class every process instantiated at run time.
    package func pieces(separatedBy separator: UInt8) -> [String] {
        let bytes = Array(utf8)
        var pieces: [String] = []
        var start = 0
        for index in bytes.indices where bytes[index] == separator {
            if index > start { pieces.append(String(decoding: bytes[start..<index], as: UTF8.self)) }
            start = index + 1
        }
        if bytes.count > start { pieces.append(String(decoding: bytes[start...], as: UTF8.self)) }
        return pieces
    }

    /// Whether `item` is one of the comma-separated items ("cpu" of "cpu,cpuacct"). A cgroup's lookups ask it of
    /// every hierarchy's name: most are one controller, answered by the equality or the lengths, and the rest are
    /// scanned as bytes (a String's UTF-8 view checks its representation at every step).
    /// Looked at in place (a hierarchy's name is asked for each controller): no array of either string is made.
    package func hasCommaSeparatedItem(_ item: String) -> Bool {
        guard !item.isEmpty else { return false }
        if self == item { return !item.utf8.contains(UInt8(ascii: ",")) }
        guard utf8.count > item.utf8.count else { return false }
        var list = self
        var item = item
        return list.withUTF8 { list in item.withUTF8 { item in list.containsCommaSeparatedItem { $0.elementsEqual(item) } } }
    }
}

extension RandomAccessCollection where Element == UInt8, Index == Int {
    /// Whether some comma-separated item (an empty one too) passes `test`, each looked at in place: the one scan
    /// behind a hierarchy's controllers, a mount's super options and the names of /proc/self/cgroup.
    @inlinable
    package func containsCommaSeparatedItem(where test: (SubSequence) -> Bool) -> Bool {
        var start = startIndex
        while start <= endIndex {
            var end = start
            while end < endIndex && self[end] != UInt8(ascii: ",") { end += 1 }
            if test(self[start..<end]) { return true }
            start = end + 1
        }
        return false
    }
}

// hasPrefix and hasSuffix byte for byte, as Go's strings.HasPrefix (runc) compares. On String and Substring
// themselves, not StringProtocol: an extension of the protocol is generic, and called from another module it
// runs unspecialized.
extension String {
    package func hasBytePrefix(_ prefix: String) -> Bool { utf8.starts(with: prefix.utf8) }
    package func hasBytePrefix(_ prefix: Substring) -> Bool { utf8.starts(with: prefix.utf8) }
    package func hasByteSuffix(_ suffix: String) -> Bool {
        utf8.count >= suffix.utf8.count && utf8.suffix(suffix.utf8.count).elementsEqual(suffix.utf8)
    }
}

extension Substring {
    package func hasBytePrefix(_ prefix: String) -> Bool { utf8.starts(with: prefix.utf8) }
    package func hasBytePrefix(_ prefix: Substring) -> Bool { utf8.starts(with: prefix.utf8) }
    package func hasByteSuffix(_ suffix: String) -> Bool {
        utf8.count >= suffix.utf8.count && utf8.suffix(suffix.utf8.count).elementsEqual(suffix.utf8)
    }
}
