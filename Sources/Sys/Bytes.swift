import Glibc

/// Byte strings compared and hashed a word at a time: the runtime's cache keys are kilobytes (a seccomp profile's
/// text), where a loop over single bytes was microseconds.
package enum Bytes {
    /// Whether `a` and `b` hold the same bytes (memcmp).
    package static func equal(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { a in b.withUnsafeBytes { b in a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
    }

    /// Whether two ranges of byte arrays hold the same bytes (memcmp).
    @inlinable
    package static func equal(_ a: [UInt8], _ aRange: Range<Int>, _ b: [UInt8], _ bRange: Range<Int>) -> Bool {
        guard aRange.count == bRange.count, aRange.lowerBound >= 0, aRange.upperBound <= a.count,
              bRange.lowerBound >= 0, bRange.upperBound <= b.count else { return false }
        if aRange.isEmpty { return true }
        return a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                memcmp(a.baseAddress! + aRange.lowerBound, b.baseAddress! + bRange.lowerBound, aRange.count) == 0
            }
        }
    }

    /// Whether `count` bytes of `bytes` from `start` are `text`'s UTF-8 (memcmp), e.g. a JSON key where it lies in
    /// the source against the key a decoder asks for: no String made for the one in the source.
    @inlinable
    package static func equal(_ bytes: [UInt8], from start: Int, count: Int, _ text: String) -> Bool {
        guard text.utf8.count == count, start >= 0, start <= bytes.count - count else { return false }
        if let equal = text.utf8.withContiguousStorageIfAvailable({ utf8 in
            bytes.withUnsafeBufferPointer { all in count == 0 || memcmp(all.baseAddress! + start, utf8.baseAddress!, count) == 0 }
        }) { return equal }
        return bytes[start..<(start + count)].elementsEqual(text.utf8)
    }

    /// FNV-1a over 8-byte little-endian words, then the bytes left over, and the length: a name for a key, not a
    /// check of it (a file named by it holds the whole key).
    package static func hash(_ bytes: [UInt8]) -> UInt64 {
        let prime: UInt64 = 0x0000_0100_0000_01b3
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        bytes.withUnsafeBytes { raw in
            var at = 0
            while at + 8 <= raw.count {
                hash = (hash ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))) &* prime
                hash ^= hash >> 29
                at += 8
            }
            while at < raw.count {
                hash = (hash ^ UInt64(raw[at])) &* prime
                at += 1
            }
        }
        return (hash ^ UInt64(bytes.count)) &* prime
    }
}
