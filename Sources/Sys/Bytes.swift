import Glibc

/// Byte strings compared and hashed a word at a time: the runtime's cache keys are kilobytes (a seccomp profile's
/// text), where a loop over single bytes was microseconds.
package enum Bytes {
    /// Whether `a` and `b` hold the same bytes (memcmp).
    package static func equal(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { a in b.withUnsafeBytes { b in a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
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
