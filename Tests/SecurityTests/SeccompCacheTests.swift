import Glibc
import OCISpec
@testable import Seccomp
import Sys
import Testing

/// SeccompCache: a compiled filter is used again only for exactly the profile (and libseccomp and kernel) it was
/// compiled from, and anything wrong with an entry means a compile, never a different filter.
@Suite(.serialized) struct SeccompCacheTests {
    /// A state root of its own, removed after `body`.
    func withRoot(_ body: (String, SeccompCache) throws -> Void) throws {
        var template = Array("/tmp/crabcan-seccomp-cache.XXXXXX".utf8CString)
        let root = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { stringFromC($0) })
        defer {
            let cache = SeccompCache(root: root)
            for name in (try? Files.listDirectory(cache.directory)) ?? [] { try? Files.unlink(cache.directory + "/" + name) }
            rmdir(cache.directory)
            rmdir(root)
        }
        try body(root, SeccompCache(root: root))
    }

    static let denyUname = Profile(defaultAction: .allow, flags: ["SECCOMP_FILTER_FLAG_LOG"], syscalls: [
        .init(names: ["uname", "no_such_call"], action: .errno, errnoRet: UInt32(EPERM)),
    ])
    static let denySeek = Profile(defaultAction: .allow, syscalls: [.init(names: ["lseek"], action: .errno)])

    func entries(_ cache: SeccompCache) -> [String] { ((try? Files.listDirectory(cache.directory)) ?? []).sorted() }

    func expectSame(_ a: SeccompProgram?, _ b: SeccompProgram?, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a?.instructions == b?.instructions && a?.kernelFlags == b?.kernelFlags && a?.usesNotify == b?.usesNotify
                && a?.stubLength == b?.stubLength && a?.warnings == b?.warnings, sourceLocation: sourceLocation)
    }

    @Test func aCompiledProfileIsStoredWithItsWarnings() throws {
        try withRoot { _, cache in
            var problems: [SeccompError] = []
            let first = cache.program(Self.denyUname, problems: &problems)
            #expect(problems.isEmpty)
            #expect(first?.warnings.map(\.path) == [".linux.seccomp.syscalls[0].names[1]"])
            // Written only when the command that compiled it has succeeded.
            #expect(entries(cache).isEmpty)
            cache.keepCompiled()
            let names = entries(cache)
            #expect(names.count == 1)
            let entry = try Files.readFile(cache.directory + "/" + names[0])
            expectSame(SeccompCache.decode(entry, key: SeccompCache.key(Self.denyUname)), try SeccompProgram(Self.denyUname))
            // Private like the state dirs: the filters every container of this root gets.
            var info = stat()
            #expect(stat(cache.directory, &info) == 0 && info.st_mode & 0o777 == 0o700)
            #expect(stat(cache.directory + "/" + names[0], &info) == 0 && info.st_mode & 0o777 == 0o600)
            // Found again: the same program, no second entry.
            expectSame(cache.program(Self.denyUname, problems: &problems), first)
            #expect(entries(cache) == names && problems.isEmpty)
        }
    }

    /// The entry is what decides: one holding another program under this profile's key is what a lookup returns
    /// (so the directory is as trusted as the state dirs, 0700 under the root), and one whose key is another
    /// profile's is never used, whatever its file name.
    @Test func theWholeKeyDecidesNotTheFileName() throws {
        try withRoot { _, cache in
            let keyA = SeccompCache.key(Self.denyUname), keyB = SeccompCache.key(Self.denySeek)
            #expect(SeccompCache.fileName(keyA) != SeccompCache.fileName(keyB))
            try Files.mkdir(cache.directory, mode: 0o700)
            let programB = try SeccompProgram(Self.denySeek)
            // B's program stored under A's key, at A's name: used for A.
            cache.store(SeccompCache.encode(programB, key: keyA), at: cache.directory + "/" + SeccompCache.fileName(keyA))
            var problems: [SeccompError] = []
            expectSame(cache.program(Self.denyUname, problems: &problems), programB)
            // B's own entry renamed to A's name after that one is removed: not A's key, so A is compiled and stored.
            try Files.unlink(cache.directory + "/" + SeccompCache.fileName(keyA))
            cache.store(SeccompCache.encode(programB, key: keyB), at: cache.directory + "/" + SeccompCache.fileName(keyA))
            expectSame(cache.program(Self.denyUname, problems: &problems), try SeccompProgram(Self.denyUname))
            cache.keepCompiled()
            let rewritten = try Files.readFile(cache.directory + "/" + SeccompCache.fileName(keyA))
            expectSame(SeccompCache.decode(rewritten, key: keyA), try SeccompProgram(Self.denyUname))
        }
    }

    @Test func everyDamagedEntryIsRefused() throws {
        let key = SeccompCache.key(Self.denyUname)
        let entry = SeccompCache.encode(try SeccompProgram(Self.denyUname), key: key)
        #expect(SeccompCache.decode(entry, key: key) != nil)
        for length in 0..<entry.count {
            #expect(SeccompCache.decode(Array(entry[..<length]), key: key) == nil, "cut at \(length)")
        }
        #expect(SeccompCache.decode(entry + [0], key: key) == nil)
        // A program whose length is not whole instructions, though every field is well formed.
        var program = try SeccompProgram(Self.denyUname)
        program = SeccompProgram(encoded: program.encoded + [0, 0, 0], kernelFlags: 0, usesNotify: false, stubLength: 0, warnings: [])
        #expect(SeccompCache.decode(SeccompCache.encode(program, key: key), key: key) == nil)
        // Another version of this format: the one before (programs laid out linearly) and one after.
        for version in ["1", "3"] {
            var otherVersion = entry
            otherVersion[SeccompCache.magic.count - 2] = UInt8(ascii: Unicode.Scalar(version)!)
            #expect(SeccompCache.decode(otherVersion, key: key) == nil, "format \(version)")
        }
    }

    /// The listener's socket and metadata are handed over at run time, not compiled in: every container of a
    /// profile shares one entry whatever its agent.
    @Test func listenerSettingsShareAnEntry() {
        var a = Self.denyUname, b = Self.denyUname
        a.listenerPath = "/run/agent-a.sock"
        b.listenerPath = "/run/agent-b.sock"
        b.listenerMetadata = "pod-b"
        #expect(SeccompCache.key(a) == SeccompCache.key(b))
        #expect(SeccompCache.key(a) != SeccompCache.key(Self.denySeek))
    }

    @Test func aProfileWithProblemsIsNotStored() throws {
        try withRoot { _, cache in
            var problems: [SeccompError] = []
            let bad = Profile(defaultAction: .allow, flags: ["SECCOMP_FILTER_FLAG_NONSENSE"])
            _ = cache.program(bad, problems: &problems)
            cache.keepCompiled()
            #expect(problems.map(\.path) == [".linux.seccomp.flags[0]"])
            #expect(entries(cache).isEmpty)
        }
    }

    @Test func aFullDirectoryIsEmptiedBeforeTheNextEntry() throws {
        try withRoot { _, cache in
            try Files.mkdir(cache.directory, mode: 0o700)
            for i in 0..<SeccompCache.maximumEntries { try Files.writeFile(cache.directory + "/old-\(i)", [1], mode: 0o600) }
            var problems: [SeccompError] = []
            _ = cache.program(Self.denySeek, problems: &problems)
            cache.keepCompiled()
            #expect(entries(cache) == [SeccompCache.fileName(SeccompCache.key(Self.denySeek))])
        }
    }
}
