import Glibc
import Testing

@testable import Sys

/// The byte-level stand-ins for what the binary leaves out of the standard library (_StringProcessing, the
/// Unicode tables) must give the same answers on the text crabcan reads.
@Suite struct ASCIITextTests {
    @Test func substringSearch() {
        #expect("Error (criu/cr-dump.c:1): Can't dump".containsText("Error"))
        #expect("a,b".containsText(","))
        #expect(!"Erro".containsText("Error"))
        #expect("anything".containsText(""))
        #expect("héllo wörld".containsText("wörld"))
        #expect(!"".containsText("x"))
    }

    @Test func asciiCaseAndDigits() {
        #expect("sigKill".asciiUppercased() == "SIGKILL")
        #expect("X86_64".asciiLowercased() == "x86_64")
        #expect("élan".asciiUppercased() == "éLAN")  // only ASCII letters change
        #expect("0123456789".allSatisfy { $0.isASCIIDigit })
        #expect(!"٣".first!.isASCIIDigit)  // an Arabic-Indic digit is a number, not an ASCII digit
        #expect(!"a".first!.isASCIIDigit)
    }

    @Test func decimalTextAgreesWithTheStandardLibrary() {
        var samples: [Int64] = [0, 1, -1, 9, 10, 99, 100, -100, 1_000_000_007, Int64.max, Int64.min, Int64(Int32.min)]
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for _ in 0..<2000 {  // a fixed pseudo-random walk over every magnitude
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            samples.append(Int64(bitPattern: state) >> (state % 63))
        }
        for value in samples {
            #expect(DecimalText.of(value) == String(value))
            #expect(DecimalText.of(value.magnitude) == String(value.magnitude))
        }
        #expect(DecimalText.of(UInt64.max) == "18446744073709551615")
        #expect(DecimalText.of(Int32(-42)) == "-42" && DecimalText.of(UInt32.max) == "4294967295")
    }

    @Test func decimalParse() {
        #expect(DecimalText.parse(Array("1000".utf8)[...]) == 1000)
        #expect(DecimalText.parse(Array("0010".utf8)[...]) == 10)  // as strconv.Atoi reads a passwd uid
        #expect(DecimalText.parse(Array("18446744073709551615".utf8)[...]) == UInt64.max)
        #expect(DecimalText.parse(Array("18446744073709551616".utf8)[...]) == nil)
        #expect(DecimalText.parse(Array("".utf8)[...]) == nil)
        #expect(DecimalText.parse(Array("-1".utf8)[...]) == nil)
        #expect(DecimalText.parse(Array("1a".utf8)[...]) == nil)
    }

    /// Netstrings are written digit by digit into the output: the same bytes as the decimal text, and what the
    /// reader gives back, for lengths and numbers across every digit count, text with multi-byte scalars and none.
    @Test func netstringsRoundTrip() {
        var out: [UInt8] = []
        let numbers: [UInt64] = [0, 9, 10, 99, 100, 1_000_000, UInt64(Int64.max), UInt64.max]
        for number in numbers { Netstrings.append(number, to: &out) }
        let texts = ["", "é", "seccomp ☃", String(repeating: "x", count: 1234)]
        for text in texts { Netstrings.append(text, to: &out) }
        Netstrings.append([0, 44, 58], to: &out)
        #expect(out.starts(with: Array("1:0,1:9,2:10,2:99,3:100,7:1000000,".utf8)))
        var reader = Netstrings.Reader(out)
        for number in numbers { #expect(reader.number() == number) }
        for text in texts { #expect(reader.text() == text) }
        #expect(reader.field().map(Array.init) == [0, 44, 58])
        #expect(reader.isAtEnd)
    }

    /// Keys compared whole, word by word; hashed so that a change anywhere, in a tail shorter than a word, or in the
    /// length alone (zero bytes) names another file.
    @Test func bytesEqualAndHash() {
        let key = Array("crabcan-seccomp key with a tail".utf8)
        #expect(Bytes.equal(key[...], key) && Bytes.equal([][...], []))
        #expect(!Bytes.equal(key.dropLast(), key) && !Bytes.equal(Array(key.dropFirst() + [0])[...], key))
        // Ranges of two arrays (a JSON key in the source against one unescaped), and text against a range.
        let other = Array("xxcrabcan".utf8)
        #expect(Bytes.equal(key, 0..<7, other, 2..<9) && Bytes.equal(key, 3..<3, other, 9..<9))
        #expect(!Bytes.equal(key, 0..<7, other, 1..<8) && !Bytes.equal(key, 0..<7, other, 2..<10), "a range past the end is no match")
        #expect(Bytes.equal(key, from: 0, count: 7, "crabcan") && !Bytes.equal(key, from: 1, count: 7, "crabcan"))
        #expect(!Bytes.equal(key, from: key.count - 2, count: 4, "tail"), "a range past the end is no match")
        var hashes: Set<UInt64> = [Bytes.hash(key), Bytes.hash([]), Bytes.hash([0]), Bytes.hash([0, 0]), Bytes.hash(Array(repeating: 0, count: 8))]
        for index in key.indices {
            var changed = key
            changed[index] ^= 1
            hashes.insert(Bytes.hash(changed))
        }
        #expect(hashes.count == 5 + key.count)
        #expect(Bytes.hash(key) == Bytes.hash(Array(key)), "the same bytes, the same name")
    }

    /// Prefixes, suffixes and path components compare bytes, as the kernel and Go's strings package do: a
    /// combining accent after the prefix does not hide it.
    @Test func byteComparisonsAndPaths() {
        #expect("/proc/self".hasBytePrefix("/proc"))
        #expect(!"/pro".hasBytePrefix("/proc"))
        #expect("e\u{301}tat".hasBytePrefix("e"))
        #expect(!"e\u{301}tat".hasPrefix("e"))  // the standard library's Character comparison differs
        #expect("name=systemd"[...].hasBytePrefix("name="))
        #expect("memory.max".hasByteSuffix(".max") && !"max".hasByteSuffix(".max") && "x".hasByteSuffix(""))
        #expect(PathText.components("//a/./b//c/") == ["a", ".", "b", "c"])
        #expect(PathText.components("/") == [] && PathText.joined([]) == "")
        #expect(PathText.joined(["a", "b", "c"]) == "a/b/c")
        #expect(PathText.beforeLastSlash("/a/b") == "/a" && PathText.beforeLastSlash("/a") == "")
        #expect(PathText.beforeLastSlash("a") == nil && PathText.beforeLastSlash("é/ü") == "é")
        #expect(PathText.isAbsolute("/x") && !PathText.isAbsolute("x") && !PathText.isAbsolute(""))
    }

    @Test func relativeNormalizedIsTheComponentsJoined() {
        for path in ["", "/", "//", "a", "/a", "a/", "a//b", "/a/b/c", "crabcan/c1", "//a/./b//c/", "é/日本//", "/user.slice/x.scope"] {
            #expect(PathText.relativeNormalized(path) == PathText.joined(PathText.components(path)), "\(path)")
        }
    }

    @Test func joinedTextAgreesWithTheStandardLibrary() {
        let lists: [[String]] = [[], [""], ["", ""], ["a"], ["a", "", "b"], ["rw", "size=65536k", "mode=755"], ["é", "日本", ""]]
        for list in lists {
            for separator in ["", ",", " ", "; ", "é"] {
                #expect(list.joinedText(separator) == list.joined(separator: separator), "\(list) by \(separator)")
            }
        }
    }

    @Test func commaSeparatedItemsAreWholeItems() {
        #expect("cpu,cpuacct".commaSeparatedItems == ["cpu", "cpuacct"])
        #expect("a,,b,".commaSeparatedItems == ["a", "b"] && "".commaSeparatedItems == [])
        // The same pieces as String's split on Characters gives for these texts, empty ones left out.
        for (text, separator) in [("/usr/local/bin::/bin:", ":"), ("12\n345\n\n", "\n"), ("//a/é//b", "/")] {
            #expect(text.pieces(separatedBy: UInt8(ascii: Unicode.Scalar(separator)!)) == text.split(separator: Character(separator)).map(String.init))
        }
        #expect("cpu,cpuacct".hasCommaSeparatedItem("cpuacct") && "cpu,cpuacct".hasCommaSeparatedItem("cpu"))
        #expect(!"cpuacct".hasCommaSeparatedItem("cpu") && !"cpu,cpuacct".hasCommaSeparatedItem("acct"))
        #expect("name=systemd".hasCommaSeparatedItem("name=systemd") && !"a,,b".hasCommaSeparatedItem(""))
        #expect("net_cls,net_prio".hasCommaSeparatedItem("net_prio") && "net_cls,net_prio".hasCommaSeparatedItem("net_cls"))
        #expect(!"net_cls,net_prio".hasCommaSeparatedItem("net") && !"net_cls,net_prio".hasCommaSeparatedItem("net_cls,"))
        #expect("a,bc,".hasCommaSeparatedItem("bc") && !"a,bc,".hasCommaSeparatedItem("c") && !"xa,b".hasCommaSeparatedItem("a"))
    }

    @Test func cStringsAreRepairedNotRefused() {
        let bytes: [CChar] = [0x61, -0x3e, 0x62, 0]  // "a", a lone 0xC2, "b"
        bytes.withUnsafeBufferPointer { #expect(stringFromC($0.baseAddress!) == "a\u{FFFD}b") }
        "héllo".withCString { #expect(stringFromC($0) == "héllo") }
    }

    /// The command line is read from what the C library handed the constructors, not CommandLine.
    @Test func argumentsAreTheCommandLine() {
        #expect(Processes.arguments == CommandLine.arguments)
    }
}

@Suite struct MountInfoTests {
    static let text = """
        22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
        30 22 0:26 / /sys/fs/cgroup/memory rw,nosuid shared:9 master:2 - cgroup cgroup rw,memory
        31 22 0:27 /docker/abc /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu,cpuacct
        40 22 0:30 / /mnt/with\\040space\\134slash rw - tmpfs my\\040tmp rw,size=4k
        41 22 0:31 / /proc rw,nosuid - proc proc rw
        garbage line without the separator
        42 22 0:32 / /short - x
        43 22 0:33 / /empty-source rw - tmpfs  rw,size=1k
        """

    @Test func fieldsOptionalFieldsAndEscapes() {
        let entries = MountInfo.parse(Self.text)
        #expect(entries.map(\.mountPoint) == ["/", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu", "/mnt/with space\\slash", "/proc",
                                              "/empty-source"])
        #expect(entries[0].optionalFields == ["shared:1"])
        #expect(entries[1].optionalFields == ["shared:9", "master:2"])
        #expect(entries[2].optionalFields.isEmpty)
        #expect(entries[2].root == "/docker/abc")
        #expect(entries[2].superOptions == ["rw", "cpu", "cpuacct"])
        #expect(entries[3].source == "my tmp")
        #expect(entries[3].fsType == "tmpfs")
        // After the separator every field counts: an empty source is a field, and the super options follow it.
        #expect(entries[5].source == "" && entries[5].superOptions == ["rw", "size=1k"])
    }

    /// What cgroup detection asks of each line without making its entry: the type first, whole super options
    /// (cpu is not cpuacct's prefix, nor cpuset's), and whether the whole filesystem is mounted.
    @Test func linesAnswerWithoutEntries() {
        var seen: [(type: String, whole: Bool, cpu: Bool, cpuAndAcct: Bool, memory: Bool)] = []
        MountInfo.forEachLine(in: Array(Self.text.utf8)[...], ofType: { $0.first == UInt8(ascii: "c") }) { line in
            seen.append((String(decoding: line.fsType, as: UTF8.self), line.isWholeFilesystem,
                         line.hasSuperOptions(allOf: Array("cpu".utf8)[...]), line.hasSuperOptions(allOf: Array("cpu,cpuacct".utf8)[...]),
                         line.hasSuperOptions(allOf: Array("memory".utf8)[...])))
        }
        #expect(seen.map(\.type) == ["cgroup", "cgroup"])
        #expect(seen.map(\.whole) == [true, false])
        #expect(seen.map(\.cpu) == [false, true])
        #expect(seen.map(\.cpuAndAcct) == [false, true])
        #expect(seen.map(\.memory) == [true, false])
        var cpuset = false
        MountInfo.forEachLine(in: Array("1 2 0:3 / /c rw - cgroup cgroup rw,cpuset\n".utf8)[...], ofType: { _ in true }) {
            cpuset = $0.hasSuperOptions(allOf: Array("cpu".utf8)[...])
        }
        #expect(!cpuset)
    }

    @Test func keepsOnlyTheAskedTypes() {
        let cgroups = MountInfo.parse(Self.text, fsTypes: ["cgroup", "cgroup2"])
        #expect(cgroups.map(\.mountPoint) == ["/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu"])
    }

    @Test func readsThisProcess() throws {
        let entries = try MountInfo.read()
        #expect(entries.contains { $0.mountPoint == "/" })
        #expect(entries.contains { $0.fsType == "proc" })
    }

    /// Mount points looked up in their shared parent (one open of it) give the ids an absolute lookup gives: every
    /// mount point of this process's table, the mounts under /sys/fs/cgroup in a row, and paths with no parent.
    @Test func idsLookedUpInASharedParentAreTheAbsoluteOnes() throws {
        guard MountInfo.mountID(of: "/", unique: true) != nil else { return }  // before Linux 6.8: nothing to compare
        var reader = MountInfo.MountIDReader()
        let points = try MountInfo.read().map(\.mountPoint).filter { Files.isDirectory($0) } + ["/", "relative-name"]
        for point in points {
            #expect(reader.uniqueID(of: point) == MountInfo.mountID(of: point, unique: true), "\(point)")
        }
        let mountedOver = try MountInfo.read().filter { $0.mountPoint.hasPrefix("/sys/fs/cgroup/") }.map(\.mountPoint)
        let ids = mountedOver.map { reader.uniqueID(of: $0) }
        #expect(Set(ids.compactMap { $0 }).count == mountedOver.count, "one mount each: \(mountedOver) \(ids)")
    }
}

/// FileDescriptor.readLines: whole lines however the reads cut them, the unterminated last one at the end, and a
/// reader that stops early leaves the rest of the file unread (what keeps mountinfo's formatting cheap).
@Suite struct ReadLinesTests {
    static func file(_ text: String) throws -> FileDescriptor {
        try Files.memoryFile("lines", Array(text.utf8))
    }

    @Test(arguments: [1, 3, 7, 512]) func linesArriveWholeWhateverTheChunk(_ chunk: Int) throws {
        let text = "first line\nsecond, a little longer\n\nfourth\nno newline at the end"
        var lines: [String] = []
        try Self.file(text).readLines(chunk: chunk) { slice in
            lines += slice.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            if slice.last == UInt8(ascii: "\n") { lines.removeLast() }  // the split's empty tail
            return false
        }
        #expect(lines == ["first line", "second, a little longer", "", "fourth", "no newline at the end"])
    }

    @Test func stoppingEarlyReadsNoFurther() throws {
        let text = String(repeating: "0123456789abcdef\n", count: 1000)  // 17,000 bytes
        let fd = try Self.file(text)
        var seen = 0
        try fd.readLines(chunk: 512) { slice in
            seen += slice.count
            return seen >= 1000
        }
        let offset = lseek(fd.raw, 0, SEEK_CUR)
        #expect(seen >= 1000 && seen % 17 == 0)
        #expect(offset <= 1024 + 512, "read \(offset) bytes to hand \(seen)")
    }
}
