import Glibc

/// The running kernel's upstream version, for behaviour no system call reports: uname(2)'s release
/// ("6.1.0-28-amd64": major, minor, patch), and where a distribution's release string puts its own ABI number in
/// the patch's place (Debian: "6.1.0-28"), the upstream patch from the version string ("... Debian 6.1.123-1 ...").
package struct KernelVersion: Comparable, Sendable, CustomStringConvertible {
    package let major: Int
    package let minor: Int
    package let patch: Int

    package init(_ major: Int, _ minor: Int, _ patch: Int) { (self.major, self.minor, self.patch) = (major, minor, patch) }

    /// nil when `release` does not start with "major.minor".
    package init?(release: String, version: String) {
        let numbers = Self.leadingNumbers(Array(release.utf8)[...])
        guard numbers.count >= 2 else { return nil }
        var patch = numbers.count > 2 ? numbers[2] : 0
        if patch == 0 {
            // " 6.1.123" in the version string, for the same major.minor.
            let prefix = Array(" \(DecimalText.of(Int64(numbers[0]))).\(DecimalText.of(Int64(numbers[1])))".utf8) + [UInt8(ascii: ".")]
            let bytes = Array(version.utf8)
            if let at = ByteSearch.firstIndex(of: prefix, in: bytes[...]) {
                patch = Self.leadingNumbers(bytes[(at + 1)...]).dropFirst(2).first ?? 0
            }
        }
        self.init(numbers[0], numbers[1], patch)
    }

    /// The running kernel's; nil when uname fails or names no version.
    package static let running: KernelVersion? = {
        var names = utsname()
        guard Glibc.uname(&names) == 0 else { return nil }
        return KernelVersion(release: utsField(&names.release), version: utsField(&names.version))
    }()

    /// The dot-separated decimal numbers `bytes` starts with ("6.1.0-28" → [6, 1, 0]).
    static func leadingNumbers(_ bytes: ArraySlice<UInt8>) -> [Int] {
        var numbers: [Int] = []
        var current: Int?
        for byte in bytes {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                current = (current ?? 0) * 10 + Int(byte - UInt8(ascii: "0"))
                if current! > 1_000_000 { break }
            } else if byte == UInt8(ascii: "."), let value = current {
                numbers.append(value)
                current = nil
            } else {
                break
            }
        }
        if let current { numbers.append(current) }
        return numbers
    }

    package static func < (a: KernelVersion, b: KernelVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    package var description: String { "\(major).\(minor).\(patch)" }
}

/// One of utsname's NUL-terminated fields as text.
func utsField<T>(_ field: inout T) -> String {
    withUnsafeBytes(of: &field) { raw in String(decoding: raw.bindMemory(to: UInt8.self).prefix { $0 != 0 }, as: UTF8.self) }
}
