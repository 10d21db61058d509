import Capabilities
import Glibc
import JSON
import OCISpec
import Plan
import Sys

/// `crabcan spec` flags: what the tutorial's command line said (`-u 0 -m ./mountdir -c /bin/bash -a /lib:/lib`,
/// `--memory`, `--nproc`, `--cap-add`), written as a bundle config instead. Unset fields keep the safe default.
package struct SpecOptions: Sendable {
    package var rootless = false
    /// `--rootfs`: relative to the current directory; stored relative to the bundle when inside it.
    package var rootfs: String?
    /// The command after `--`.
    package var args: [String] = []
    /// nil: a random readable name (`blue-crab-161`).
    package var hostname: String?
    /// `UID[:GID]`, numeric; GID defaults to 0 as with runc's and Docker's `--user`.
    package var user: String?
    package var cwd: String?
    /// `K=V`, each replacing a default of the same name.
    package var env: [String] = []
    package var memory: Int64?
    package var pids: Int64?
    package var cpuShares: UInt64?
    package var capAdd: [String] = []
    package var capDrop: [String] = []
    /// `SRC:DST[:ro]`.
    package var binds: [String] = []
    /// nil keeps the default (read-only, as runc's spec); `--readonly=false` makes the root writable.
    package var readonly: Bool?
    /// `host` or `none`.
    package var net: String?
    /// `default`, `unconfined` or a file holding a `linux.seccomp` object.
    package var seccomp: String?
    /// nil: runc's default, a terminal for the interactive `sh`; a command given after `--` runs without one.
    package var terminal: Bool?

    package init() {}
}

extension Runtime {
    /// `spec`: writes config.json into `bundle`, refusing to overwrite one (runc's behaviour).
    package static func writeSpec(bundle: String, options: SpecOptions) throws {
        let path = bundle + "/config.json"
        if Files.lstatMode(path) != nil { throw RuntimeError("file \(path) exists, remove it first") }
        let spec = try makeSpec(bundle: bundle, options: options)
        try Files.writeFile(path, spec.encode(pretty: true) + [0x0A], mode: 0o644)
    }

    /// The default spec with `options` applied. Each bad flag value is refused with the flag's name.
    package static func makeSpec(bundle: String, options: SpecOptions) throws -> Spec {
        var spec = options.rootless ? rootlessDefaultSpec() : Spec.makeDefault(rootless: false)
        var process = spec.process ?? OCISpec.Process()
        var linux = spec.linux ?? Linux()
        let here = try Files.currentDirectory()

        if let rootfs = options.rootfs {
            guard !rootfs.isEmpty else { throw RuntimeError("--rootfs: must not be empty") }
            let absolute = ConfigChecks.clean(rootfs.hasBytePrefix("/") ? rootfs : here + "/" + rootfs)
            let bundleDir = ConfigChecks.clean(bundle.hasBytePrefix("/") ? bundle : here + "/" + bundle)
            // Inside the bundle it stays relative, so the bundle can be moved as a whole (config.md: root.path).
            spec.root?.path = absolute.hasBytePrefix(bundleDir + "/") ? String(absolute.dropFirst(bundleDir.count + 1)) : absolute
        }
        if !options.args.isEmpty { process.args = options.args }
        let hostname = options.hostname ?? HostnameGenerator.random()
        guard !hostname.isEmpty, hostname.utf8.count <= 64, !hostname.contains("/") else {
            throw RuntimeError("--hostname: \(jsonQuote(hostname)) is not a host name (1 to 64 bytes)")
        }
        spec.hostname = hostname
        if let user = options.user { process.user = try parseUser(user) }
        if let cwd = options.cwd {
            guard cwd.hasBytePrefix("/") else { throw RuntimeError("--cwd: expected an absolute path, got \(jsonQuote(cwd))") }
            process.cwd = cwd
        }
        for entry in options.env {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex else {
                throw RuntimeError("--env: expected K=V, got \(jsonQuote(entry))")
            }
            let name = entry[...equals]
            process.env.removeAll { $0.hasBytePrefix(name) }
            process.env.append(entry)
        }
        if options.memory != nil || options.pids != nil || options.cpuShares != nil {
            var resources = linux.resources ?? Resources()
            if let memory = options.memory { resources.memory = Resources.Memory(limit: memory) }
            if let pids = options.pids { resources.pids = Resources.Pids(limit: pids) }
            if let shares = options.cpuShares { resources.cpu = Resources.CPU(shares: shares) }
            linux.resources = resources
        }
        if !options.capAdd.isEmpty || !options.capDrop.isEmpty {
            process.capabilities = try capabilities(process.capabilities, add: options.capAdd, drop: options.capDrop,
                                                    root: process.user.uid == 0)
        }
        for bind in options.binds { spec.mounts.append(try bindMount(bind, cwd: here)) }
        if let readonly = options.readonly { spec.root?.readonly = readonly }
        switch options.net {
        case nil: break
        case "host": linux.namespaces.removeAll { $0.type == .network }
        case "none":
            if !linux.namespaces.contains(where: { $0.type == .network }) { linux.namespaces.append(Namespace(type: .network)) }
        case let other?: throw RuntimeError("--net: expected host or none, got \(jsonQuote(other))")
        }
        switch options.seccomp {
        case nil, "default": break
        case "unconfined": linux.seccomp = nil
        case let file?: linux.seccomp = try loadSeccompProfile(file)
        }
        process.terminal = options.terminal ?? options.args.isEmpty
        spec.process = process
        spec.linux = linux
        return spec
    }

    static func parseUser(_ text: String) throws -> User {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
            throw RuntimeError("--user: expected UID[:GID] (numbers), got \(jsonQuote(text))")
        }
        return User(uid: uid, gid: parts.count == 2 ? UInt32(parts[1])! : 0)
    }

    /// `--cap-drop` first (`ALL` empties the set), then `--cap-add` (`ALL` is every capability crabcan knows).
    /// The result goes to the bounding, effective and permitted sets, like runc's default; for a non-root user
    /// the added ones also go to inheritable and ambient, or the switch from root would drop them at execve.
    static func capabilities(_ current: OCISpec.Process.Capabilities?, add: [String], drop: [String], root: Bool) throws
        -> OCISpec.Process.Capabilities {
        let known = ProcessPrivileges.knownCapabilities
        func normalize(_ name: String, _ flag: String) throws -> String {
            let upper = name.uppercased()
            if upper == "ALL" { return upper }
            let full = upper.hasBytePrefix("CAP_") ? upper : "CAP_" + upper
            guard known.contains(full) else { throw RuntimeError("--\(flag): unknown capability \(jsonQuote(name))") }
            return full
        }
        let drops = try drop.map { try normalize($0, "cap-drop") }
        let adds = try add.map { try normalize($0, "cap-add") }
        var set = Set(current?.bounding ?? [])
        if drops.contains("ALL") { set.removeAll() } else { set.subtract(drops) }
        let added = adds.contains("ALL") ? Set(known) : Set(adds)
        set.formUnion(added)
        let ordered = known.filter(set.contains)
        var caps = OCISpec.Process.Capabilities(bounding: ordered, effective: ordered, permitted: ordered)
        if !root {
            caps.inheritable = known.filter(added.contains)
            caps.ambient = caps.inheritable
        }
        return caps
    }

    /// `SRC:DST[:ro|rw]` → a recursive private bind mount; SRC relative to the current directory, and it must exist.
    static func bindMount(_ text: String, cwd: String) throws -> Mount {
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var readonly = false
        if parts.count == 3, parts[2] == "ro" || parts[2] == "rw" {
            readonly = parts.removeLast() == "ro"
        }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw RuntimeError("--bind: expected SRC:DST[:ro], got \(jsonQuote(text))")
        }
        let source = ConfigChecks.clean(parts[0].hasBytePrefix("/") ? parts[0] : cwd + "/" + parts[0])
        guard Files.exists(source) else { throw RuntimeError("--bind: \(source) does not exist") }
        guard parts[1].hasBytePrefix("/") else { throw RuntimeError("--bind: the destination must be absolute, got \(jsonQuote(parts[1]))") }
        // rprivate: mounts made later on either side do not leak to the other (Docker's default for -v).
        return Mount(destination: parts[1], type: "bind", source: source,
                     options: ["rbind", "rprivate"] + (readonly ? ["ro"] : []))
    }

    /// A `linux.seccomp` object from a file, with its problems placed at their line:column there.
    static func loadSeccompProfile(_ file: String) throws -> Seccomp {
        let bytes: [UInt8]
        do { bytes = try Files.readFile(file) } catch { throw RuntimeError("--seccomp: cannot read \(file): \(error)", cause: error) }
        let document: JSONDocument
        do {
            document = try JSONDocument.parse(bytes)
        } catch {
            throw RuntimeError("--seccomp: \(file)\(error.position.map { ":\($0)" } ?? ""): invalid JSON: \(error.message)")
        }
        let context = JSONDecodingContext(document: document)
        let profile = Seccomp(json: context.root)
        if let first = context.problems.first {
            let path = first.path.isEmpty ? "" : first.path + ": "
            throw RuntimeError("--seccomp: \(file)\(first.position.map { ":\($0)" } ?? ""): \(path)\(first.message)")
        }
        guard let profile else { throw RuntimeError("--seccomp: \(file): not a seccomp profile") }
        return profile
    }
}

/// Readable random host names, `<colour>-<animal>-<number>`, as the tutorial gave its containers.
enum HostnameGenerator {
    static let colours = [
        "amber", "azure", "black", "blue", "bronze", "coral", "crimson", "cyan", "golden", "green", "grey",
        "indigo", "ivory", "jade", "lemon", "lilac", "navy", "ochre", "olive", "orange", "pearl", "pink",
        "plum", "purple", "red", "ruby", "rusty", "sandy", "silver", "teal", "violet", "white", "yellow",
    ]
    static let animals = [
        "albatross", "anchovy", "barnacle", "beluga", "clam", "cod", "crab", "cuttlefish", "dolphin", "eel",
        "gull", "hermit", "herring", "jellyfish", "krill", "lobster", "manatee", "marlin", "mussel", "narwhal",
        "octopus", "otter", "oyster", "pelican", "penguin", "prawn", "puffin", "ray", "seal", "shrimp",
        "squid", "starfish", "tuna", "turtle", "urchin", "walrus", "whale",
    ]

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let colour = colours.randomElement(using: &generator)!
        let animal = animals.randomElement(using: &generator)!
        return "\(colour)-\(animal)-\(Int.random(in: 0...999, using: &generator))"
    }
}
