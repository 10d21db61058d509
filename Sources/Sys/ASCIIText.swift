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
