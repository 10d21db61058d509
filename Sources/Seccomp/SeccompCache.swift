import OCISpec
import Sys

/// Compiled seccomp filters kept by profile under `<root>/@seccomp/` (docs/seccomp.md).
///
/// libseccomp takes about 10 ms of CPU to compile Docker's default profile (357 names on three architectures),
/// and crabcan would pay it again on every `create` and every `exec` of every container using it: Kubernetes
/// probes exec into the same containers all day. An entry holds the profile it was compiled from, byte for byte
/// with the libseccomp version and the kernel, and is used only when all of that is equal; the file name (a hash)
/// only finds it. The directory is the runtime root's, as trusted as the containers' own state. What a command
/// compiled is written only once it has succeeded (`keepCompiled`): a failed create leaves nothing in the root.
package final class SeccompCache {
    /// `@` is not allowed in a container id, so no container's directory can have this name (`list` skips it).
    package static let directoryName = "@seccomp"
    /// A bound on what a client that makes a new profile for each container can leave: at this many entries the
    /// directory is emptied before the next one is written.
    static let maximumEntries = 64
    /// Format 2: programs laid out as a binary tree (SeccompProgram.Layout); entries of format 1 are compiled again.
    static let magic = Array("crabcan-seccomp 2\n".utf8)

    package let directory: String
    /// Entries compiled by this command, for `keepCompiled`.
    private var compiled: [(path: String, entry: [UInt8])] = []

    package init(root: String) { directory = root + "/" + Self.directoryName }

    /// The program for `profile`: the cached one when an entry holds exactly this profile, else compiled (its
    /// problems added to `problems`) and, compiled cleanly, kept for `keepCompiled`. With `json`, the profile's
    /// text in config.json, the entry is the one `kept(json:)` finds.
    package func program(_ profile: OCISpec.Seccomp, json: ArraySlice<UInt8>? = nil, problems: inout [SeccompError]) -> SeccompProgram? {
        let key = json.map { Self.key(json: $0) } ?? Self.key(profile)
        let path = directory + "/" + Self.fileName(key)
        if let cached = entry(at: path, key: key) { return cached }
        let before = problems.count
        let program = SeccompProgram(profile, problems: &problems)
        if let program, problems.count == before { compiled.append((path, Self.encode(program, key: key))) }
        return program
    }

    /// The program kept for the profile whose text in config.json is `json`, found with nothing decoded: a create
    /// then reads none of the profile (decoding Docker's 357 names, and keying them, was ~5% of its `run`). An
    /// entry is written only for a profile that decoded and compiled without a problem, so the same text decodes
    /// and compiles to it again; another spelling of the same profile is another entry. nil when none is kept.
    package func kept(json: ArraySlice<UInt8>) -> SeccompProgram? {
        let key = Self.key(json: json)
        return entry(at: directory + "/" + Self.fileName(key), key: key)
    }

    /// The program an entry file holds for exactly `key`.
    private func entry(at path: String, key: [UInt8]) -> SeccompProgram? {
        guard let bytes = try? Files.readFile(path) else { return nil }
        return Self.decode(bytes, key: key)
    }

    /// A profile's key by its text: "json" first, which no field-by-field key starts with (a libseccomp version).
    static func key(json: ArraySlice<UInt8>) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(json.count + 256)
        Netstrings.append("json", to: &key)
        Netstrings.append(SeccompSupport.libseccompVersion, to: &key)
        Netstrings.append(Processes.kernelIdentity(), to: &key)
        Netstrings.append(json, to: &key)
        return key
    }

    /// Writes what `program` compiled, for the next create or exec: called once the command has succeeded.
    package func keepCompiled() {
        for (path, entry) in compiled { store(entry, at: path) }
        compiled = []
    }

    /// What the compiled program depends on, every field as a netstring: the profile (not the listener's path
    /// and metadata, which are passed on at run time), this libseccomp and the running kernel (libseccomp probes
    /// what it supports). Written here field by field rather than as JSON: an exec that finds its entry then maps
    /// none of the JSON encoder's pages (peak RSS).
    static func key(_ profile: OCISpec.Seccomp) -> [UInt8] {
        var key: [UInt8] = []
        // Room for it all at once: the names are most of it, each with a few bytes of framing.
        key.reserveCapacity(profile.syscalls.reduce(256) { room, rule in
            rule.names.reduce(room + 64 + 48 * rule.args.count) { $0 + $1.utf8.count + 6 }
        })
        func field(_ text: String) { Netstrings.append(text, to: &key) }
        func field(_ number: UInt64?) {
            if let number { Netstrings.append(number, to: &key) } else { field("-") }
        }
        func field(_ texts: [String]) {
            field(UInt64(texts.count))
            for text in texts { field(text) }
        }
        field(SeccompSupport.libseccompVersion)
        field(Processes.kernelIdentity())
        field(profile.defaultAction.rawValue)
        field(profile.defaultErrnoRet.map(UInt64.init))
        field(profile.architectures)
        field(profile.flags)
        field(UInt64(profile.syscalls.count))
        for rule in profile.syscalls {
            field(rule.names)
            field(rule.action.rawValue)
            field(rule.errnoRet.map(UInt64.init))
            field(UInt64(rule.args.count))
            for arg in rule.args {
                field(UInt64(arg.index))
                field(arg.value)
                field(arg.valueTwo)
                field(arg.op.rawValue)
            }
        }
        return key
    }

    /// A hash of the key (word by word: a profile's text is kilobytes), in hex: it only names the file; a match is
    /// decided by the whole key.
    static func fileName(_ key: [UInt8]) -> String {
        let hash = Bytes.hash(key)
        let digits = Array("0123456789abcdef".utf8)
        var name = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 { name[i] = digits[Int(truncatingIfNeeded: (hash >> UInt64(60 - 4 * i)) & 0xf)] }
        return String(decoding: name, as: UTF8.self)
    }

    /// The magic line, then netstrings (`<length>:<bytes>,`): the key, the kernel flags, whether the profile
    /// notifies, the stub length, the number of warnings, each warning's path and message, the program.
    static func encode(_ program: SeccompProgram, key: [UInt8]) -> [UInt8] {
        var out = magic
        func field(_ bytes: [UInt8]) { Netstrings.append(bytes, to: &out) }
        func field(_ number: Int) { field(Array(DecimalText.of(number).utf8)) }
        field(key)
        field(Int(program.kernelFlags))
        field(program.usesNotify ? 1 : 0)
        field(program.stubLength)
        field(program.warnings.count)
        for warning in program.warnings {
            field(Array(warning.path.utf8))
            field(Array(warning.message.utf8))
        }
        field(program.encoded)
        return out
    }

    /// nil unless the entry is whole, well formed and for exactly `key`.
    static func decode(_ bytes: [UInt8], key: [UInt8]) -> SeccompProgram? {
        guard bytes.count > magic.count, bytes[..<magic.count].elementsEqual(magic) else { return nil }
        var reader = Netstrings.Reader(bytes, from: magic.count)
        func field() -> ArraySlice<UInt8>? { reader.field() }
        func number() -> Int? { reader.number().flatMap { Int(exactly: $0) } }
        guard let storedKey = field(), Bytes.equal(storedKey, key),
              let flags = number(), let notifies = number(), let stubLength = number(), let warningCount = number(),
              warningCount <= 4096 else { return nil }
        var warnings: [SeccompError] = []
        for _ in 0..<warningCount {
            guard let path = field(), let message = field() else { return nil }
            warnings.append(SeccompError(path: String(decoding: path, as: UTF8.self), message: String(decoding: message, as: UTF8.self)))
        }
        // The kernel takes at most 4096 instructions of 8 bytes (BPF_MAXINSNS).
        guard let program = field(), reader.isAtEnd, !program.isEmpty, program.count % 8 == 0, program.count <= 4096 * 8,
              let kernelFlags = UInt32(exactly: flags), notifies <= 1 else { return nil }
        return SeccompProgram(encoded: Array(program), kernelFlags: kernelFlags, usesNotify: notifies == 1,
                              stubLength: stubLength, warnings: warnings)
    }

    /// A container's own copy of the program its init loaded (`<state>/seccomp.bpf`, docs/seccomp.md): the
    /// entry format with an empty key, since it is found by container, not by profile.
    package static func containerCopy(of program: SeccompProgram) -> [UInt8] { encode(program, key: []) }

    /// The program a `containerCopy` holds; nil unless it is whole and well formed.
    package static func program(fromContainerCopy bytes: [UInt8]) -> SeccompProgram? { decode(bytes, key: []) }

    /// Written atomically (two commands storing one entry at once each rename a whole file of their own): a
    /// reader finds the old entry, the new one or none. A failure only costs the next command a compile.
    func store(_ entry: [UInt8], at path: String) {
        if (try? Files.mkdir(directory, mode: 0o700)) == nil, !Files.isDirectory(directory) { return }
        if let names = try? Files.listDirectory(directory), names.count >= Self.maximumEntries {
            for name in names { try? Files.unlink(directory + "/" + name) }
        }
        try? Files.writeFileAtomically(path, entry, mode: 0o600)
    }
}
