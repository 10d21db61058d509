// libFuzzer entry points for everything crabcan reads from outside: config.json, an exec process.json,
// update's resources.json, its own state.json, what a failed hook wrote, the JSON parser under them all, and the
// D-Bus messages systemd (or a bus daemon) sends the systemd cgroup driver. Built only by
// `make fuzz` (-sanitize=fuzzer,address, -enable-testing); CRABCAN_FUZZ_TARGET picks the target, the
// arguments are libFuzzer's (corpus dirs, -max_total_time=..., or crash files to replay).
//
// Besides "does not crash", each target checks what the runtime promises about bad input: every refusal is
// one non-empty line (the CLI prints it as is), and what decodes survives an encode/decode round trip.
@testable import Cgroups
import DBus
import Glibc
import JSON
@testable import Launcher
import OCISpec
@testable import Runtime
import Plan
import StateStore
import Sys

enum FuzzTarget: String, CaseIterable {
    case config, process, resources, state, json, hook, dbus
}

/// Fixed for the whole run: set once in LLVMFuzzerInitialize, before any input.
nonisolated(unsafe) var selected = FuzzTarget.json
nonisolated(unsafe) var scratch = ""

/// libFuzzer's driver (libclang_rt.fuzzer): runs the inputs and mutations, calling `callback` for each.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// SwiftPM links every executable with `main` renamed to `<target>_main` (so tests can link it), which keeps
/// libFuzzer's own main out; this is that entry point, handing over to libFuzzer's driver.
@_cdecl("crabcan_fuzz_main")
package func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    let name = getenv("CRABCAN_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        StandardStreams.writeError("set CRABCAN_FUZZ_TARGET to one of: \(names)\n")
        return 2
    }
    selected = target
    // A bundle with a real rootfs dir, and fake cgroup hierarchies, so decoded configs get past the plan's
    // file checks into the deeper ones (mounts, namespaces, privileges, seccomp, cgroup paths and limits).
    // CRABCAN_FUZZ_SCRATCH (set by scripts/fuzz.sh, which removes it) or a dir of our own in /tmp.
    scratch = getenv("CRABCAN_FUZZ_SCRATCH").map { String(cString: $0) } ?? "/tmp/crabcan-fuzz-\(getpid())"
    for dir in ["", "/bundle", "/bundle/rootfs", "/v2", "/v1"] + FakeHosts.v1Controllers.map({ "/v1/" + $0 }) {
        mkdir(scratch + dir, 0o755)
    }
    if let file = fopen(scratch + "/v2/cgroup.controllers", "w") {
        fputs("cpuset cpu io memory hugetlb pids rdma misc\n", file)
        fclose(file)
    }
    var count = argc
    var arguments = argv
    return withUnsafeMutablePointer(to: &arguments) { argvPointer in
        LLVMFuzzerRunDriver(&count, argvPointer, fuzzOneInput)
    }
}

/// One input, for the target chosen at start.
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    switch selected {
    case .config: FuzzConfig.run(bytes)
    case .process: FuzzProcess.run(bytes)
    case .resources: FuzzResources.run(bytes)
    case .state: FuzzState.run(bytes)
    case .json: FuzzJSON.run(bytes)
    case .hook: FuzzHookOutput.run(bytes)
    case .dbus: FuzzDBus.run(bytes)
    }
    return 0
}

/// A refusal must be one clear line: non-empty, no line break (the CLI prints it after "crabcan: ").
func requireOneLine(_ message: String, _ what: String) {
    if message.isEmpty || message.contains(where: { $0 == "\n" || $0 == "\r" }) {
        fatalError("\(what): error is not one line: \(jsonQuote(message))")
    }
}

func require(_ condition: Bool, _ what: @autoclosure () -> String) {
    if !condition { fatalError(what()) }
}

enum FakeHosts {
    static let v1Controllers = ["cpuset", "cpu", "cpuacct", "memory", "devices", "freezer", "blkio", "pids", "hugetlb",
                                "net_cls", "net_prio", "rdma"]

    /// Hierarchies as this machine has them, mounted under the scratch dir.
    static let v1: CgroupHost = {
        var mountinfo = ""
        var selfCgroup = ""
        for (i, c) in v1Controllers.enumerated() {
            mountinfo += "\(40 + i) 31 0:\(40 + i) / \(scratch)/v1/\(c) rw,relatime - cgroup cgroup rw,\(c)\n"
            selfCgroup += "\(i + 1):\(c):\(c == "memory" ? "/agent/a1" : "/")\n"
        }
        return CgroupHost(mountinfo: mountinfo, selfCgroup: selfCgroup)
    }()

    static let v2: CgroupHost = CgroupHost(
        mountinfo: "30 23 0:26 / \(scratch)/v2 rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
        selfCgroup: "0::/user.slice/session-1.scope\n")

    /// Managers on the fake hierarchies' roots (validation reads the v2 root's cgroup.controllers).
    static let managers: [CgroupManager] = [
        CgroupManager(CgroupSet(version: .v1, paths: Dictionary(uniqueKeysWithValues: v1Controllers.map { ($0, "\(scratch)/v1/\($0)") }))),
        CgroupManager(CgroupSet(version: .v2, paths: ["": "\(scratch)/v2"])),
    ]
}

/// Decodes `T` from a whole document the way the runtime does for a file: syntax first, then every problem.
func decodeDocument<T: JSONDecodable>(_ bytes: [UInt8], as type: T.Type) -> T? {
    let document: JSONDocument
    do {
        document = try JSONDocument.parse(bytes)
    } catch {
        requireOneLine(error.descriptionWithPosition, "\(T.self) syntax")
        return nil
    }
    let context = JSONDecodingContext(document: document)
    let value = T(json: context.root)
    for problem in context.problems { requireOneLine(problem.descriptionWithPosition, "\(T.self)") }
    // Nothing decoded must come with a reason, and a reason means nothing is used.
    require(value != nil || !context.problems.isEmpty, "\(T.self): nil without a problem")
    return context.problems.isEmpty ? value : nil
}

// MARK: - config.json

enum FuzzConfig {
    static func run(_ bytes: [UInt8]) {
        let decoded: Spec?
        do {
            let spec = try Spec.decode(bytes)
            // What we accept, we can write back (`spec`), and it reads the same.
            do {
                let again = try Spec.decode(spec.encode(pretty: true))
                require(again == spec, "config: encode/decode round trip changed the spec")
            } catch {
                fatalError("config: our own encoding is refused: \(error)")
            }
            decoded = spec
        } catch {
            require(!error.problems.isEmpty, "config: refused without a problem")
            // The decoder quotes what it shows of the input (jsonQuote, JSON paths), so its messages are one line.
            for problem in error.problems { requireOneLine(problem.descriptionWithPosition, "config") }
            decoded = nil
        }
        checkBundle(bytes, decoded: decoded != nil)
        if let spec = decoded {
            // Cgroup paths and limits on hierarchies like this machine's (v1) and a pure v2 one.
            for host in [FakeHosts.v1, FakeHosts.v2] {
                do {
                    _ = try CgroupSet.plan(cgroupsPath: spec.linux?.cgroupsPath, id: "fuzz", host: host)
                } catch {
                    requireOneLine(error.description, "cgroupsPath")
                }
            }
            let resources = DeviceRules.effective(spec.linux)
            for manager in FakeHosts.managers {
                for problem in manager.problems(resources) { requireOneLine(problem.description, "config resources") }
            }
        }
    }

    /// What `create` and `check` do with a bundle (the same checks): every problem one line of `check`'s text,
    /// its JSON output valid, and the decoder's verdict the same as the report's.
    static func checkBundle(_ bytes: [UInt8], decoded: Bool) {
        let bundle = scratch + "/bundle"
        guard let file = fopen(bundle + "/config.json", "w") else { fatalError("cannot write the fuzz bundle") }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, file) }
        fclose(file)
        let report = BundleReport.make(bundle: bundle, file: "config.json", id: "fuzz")
        let schemaProblems = report.diagnostics.filter { $0.kind == .schema }
        require(decoded == schemaProblems.isEmpty, "config: decode says \(decoded), check found \(schemaProblems.count) schema problems")
        for diagnostic in schemaProblems { requireOneLine(diagnostic.text, "check (schema)") }
        let lines = report.text().split(separator: "\n", omittingEmptySubsequences: false)
        require(lines.count == report.diagnostics.count + 2, "check: \(report.diagnostics.count) problems, \(lines.count - 2) lines")
        require((try? JSONDocument.parse(report.json())) != nil, "check: --format json output does not parse")
        if let first = report.errors.first { requireOneLine(Log.oneLine(first.line(file: "config.json")), "create error") }
    }
}

// MARK: - process.json (exec --process)

enum FuzzProcess {
    static func run(_ bytes: [UInt8]) {
        let process: OCISpec.Process
        do {
            process = try OCISpec.Process.decode(bytes)
        } catch {
            require(!error.problems.isEmpty, "process: refused without a problem")
            for problem in error.problems { requireOneLine(problem.descriptionWithPosition, "process") }
            return
        }
        let writer = JSONWriter()
        process.encode(to: writer)
        do {
            let again = try OCISpec.Process.decode(writer.bytes)
            require(again == process, "process: encode/decode round trip changed the process")
        } catch {
            fatalError("process: our own encoding is refused: \(error)")
        }
        // The checks exec makes before clone (privileges, labels); no namespaces to open in an empty spec.
        do {
            let plan = try ExecPlan(spec: Spec(), process: process, initPid: getpid())
            for warning in plan.warnings { requireOneLine(warning.description, "exec warning") }
        } catch {
            requireOneLine("\(error)", "exec plan")
        }
    }
}

// MARK: - hook output

enum FuzzHookOutput {
    /// What a failed hook wrote (its last 4 KiB) becomes part of one error line.
    static func run(_ bytes: [UInt8]) {
        let said = HookRunner.lastLine(bytes)
        require(!said.contains("\n") && said.count <= 300, "hook: last line \(jsonQuote(said))")
        requireOneLine(Log.oneLine("hook failed: exited with status 1: \(said)"), "hook error")
    }
}

// MARK: - resources.json (update -r)

enum FuzzResources {
    static func run(_ bytes: [UInt8]) {
        var request = ResourceUpdate()
        request.resourcesJSON = bytes
        request.resourcesSource = "resources.json"
        // Flags go over the document, as `update --memory ... -r FILE` does.
        request.memory = 64 << 20
        request.pidsLimit = 10
        let resources: Resources
        do {
            resources = try Runtime.resources(for: request)
        } catch {
            requireOneLine("\(error)", "resources")
            return
        }
        for manager in FakeHosts.managers {
            for problem in manager.problems(resources) { requireOneLine(problem.description, "resources validation") }
        }
    }
}

// MARK: - state.json

enum FuzzState {
    static func run(_ bytes: [UInt8]) {
        // The same text as /proc/<pid>/stat, which status derivation parses, and as the mount table and
        // /proc/self/cgroup, which cgroup detection reads by index into each line.
        let text = String(decoding: bytes, as: UTF8.self)
        _ = Processes.parseStat(bytes)
        _ = MountInfo.parse(bytes[...])
        _ = CgroupHost(mountinfo: text, selfCgroup: text)
        let record: ContainerRecord
        do {
            record = try ContainerRecord.decode(bytes)
        } catch {
            requireOneLine("\(error)", "state")
            return
        }
        do {
            let again = try ContainerRecord.decode(record.encoded())
            require(again == record, "state: encode/decode round trip changed the record")
        } catch {
            fatalError("state: our own encoding is refused: \(error)")
        }
        // What `state` prints from a record, in each status; and the cgroups `delete` would remove.
        let runtime = Runtime(root: scratch + "/root", log: Log.stderrOnly)
        for status in [ContainerStatus.created, .running, .stopped, .paused] {
            let document = runtime.stateDocument(record, status).encode(pretty: true)
            require((try? State.decode(document)) != nil, "state: printed state does not decode")
        }
        _ = Runtime.cgroups(record)
        _ = try? ContainerDirectory(root: scratch + "/root", id: record.id)
    }
}

// MARK: - JSON

enum FuzzJSON {
    static func run(_ bytes: [UInt8]) {
        let document: JSONDocument
        do {
            document = try JSONDocument.parse(bytes)
        } catch {
            requireOneLine(error.descriptionWithPosition, "json")
            return
        }
        // Every node's offset is inside the text and has a position.
        visit(document.root) { node in
            require(node.offset >= 0 && node.offset <= bytes.count, "json: offset \(node.offset) outside the text")
            _ = document.position(ofOffset: node.offset)
        }
        // Written back compact and pretty, it parses to the same value.
        for pretty in [false, true] {
            let writer = JSONWriter(pretty: pretty)
            writer.value(document.root)
            require(writer.error == nil, "json: writer error \(writer.error ?? "")")
            do {
                let again = try JSONDocument.parse(writer.bytes)
                require(again.root == document.root, "json: round trip (pretty: \(pretty)) changed the value")
            } catch {
                fatalError("json: our own output is refused (pretty: \(pretty)): \(error)")
            }
        }
        // Strings quoted for messages are valid JSON for the same text; paths are built from any key.
        let context = JSONDecodingContext(document: document)
        visit(document.root) { node in
            if case .string(let text) = node.value {
                let quoted = jsonQuote(text)
                require((try? JSONDocument.parse(quoted))?.root.value == .string(text), "json: jsonQuote does not round trip")
            }
            if case .object(let members) = node.value {
                for member in members { _ = context.root.path(appendingKey: member.key) }
            }
        }
    }

    static func visit(_ node: JSONNode, _ body: (JSONNode) -> Void) {
        body(node)
        switch node.value {
        case .array(let items): for item in items { visit(item, body) }
        case .object(let members): for member in members { visit(member.value, body) }
        default: break
        }
    }
}

// MARK: - D-Bus messages

/// A message as the connection reads it: its length from the first 16 bytes, then the whole message parsed.
/// A refusal is one line (it ends up in create's error); what parses encodes back to a message that parses the same.
enum FuzzDBus {
    static func run(_ bytes: [UInt8]) {
        let total: Int?
        do {
            total = try DBusMessage.totalLength(bytes[...])
        } catch {
            requireOneLine("\(error)", "dbus length")
            return
        }
        guard let total else { return }
        require(total >= 16, "dbus: total length \(total) below the fixed header")
        guard total <= bytes.count else { return }
        let message: DBusMessage
        do {
            message = try DBusMessage.decode(Array(bytes.prefix(total)))
        } catch {
            requireOneLine("\(error)", "dbus message")
            return
        }
        do {
            let again = try DBusMessage.decode(message.encoded())
            require(again == message, "dbus: encode/decode round trip changed the message")
        } catch {
            fatalError("dbus: our own encoding is refused: \(error)")
        }
    }
}
