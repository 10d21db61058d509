import Foundation
import Glibc
import JSON
import OCISpec
@testable import Plan
@testable import Runtime
import Seccomp
import StateStore
import Sys
import Testing

/// What create leaves in the state dir for exec: the config snapshot, with a seccomp profile kept as the program
/// the init loads (seccomp.bpf) and left out of config.json, unless the profile notifies (exec then needs its
/// listener settings) (docs/seccomp.md).
@Suite struct ConfigSnapshotTests {
    /// A container directory of its own, removed after `body`.
    func withDirectory(_ body: (ContainerDirectory) throws -> Void) throws {
        var template = Array("/tmp/crabcan-snapshot.XXXXXX".utf8CString)
        let root = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { stringFromC($0) })
        let directory = try ContainerDirectory(root: root, id: "c1")
        try Files.mkdir(directory.path, mode: 0o711)
        defer {
            try? directory.remove()
            rmdir(root)
        }
        try body(directory)
    }

    /// A bundle's config.json, as create read it.
    static func config(seccomp: String?) -> [UInt8] {
        let profile = seccomp.map { #","seccomp":\#($0)"# } ?? ""
        let text = #"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"],"user":{"uid":0,"gid":0}},"# +
            #""linux":{"namespaces":[{"type":"mount"},{"type":"pid"}]\#(profile)}}"#
        return Array(text.utf8)
    }

    /// What create checked: `config`, and with `document` (its parse) the profile's text found as create finds it.
    static func report(_ config: [UInt8], document: JSONDocument? = nil) -> BundleReport {
        var report = BundleReport(file: "config.json")
        report.bytes = config
        report.document = document
        report.seccompText = document.flatMap { document in
            document.root["linux"]?["seccomp"].flatMap { document.containerText(at: $0.offset) }
        }
        return report
    }

    static func spec(seccomp: String?) throws -> Spec {
        try Spec.decode(config(seccomp: seccomp))
    }

    static let denyUname = #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["uname"],"action":"SCMP_ACT_ERRNO"}]}"#

    @Test func aProfileIsKeptAsTheProgramTheInitLoads() throws {
        let spec = try Self.spec(seccomp: Self.denyUname)
        let program = try SeccompProgram(try #require(spec.linux?.seccomp))
        try withDirectory { directory in
            let kept = try Runtime.writeSnapshot(spec, Self.report(Self.config(seccomp: Self.denyUname)), seccomp: program, directory)
            #expect(kept)
            let snapshot = try Spec.decode(try Files.readFile(directory.configPath))
            #expect(snapshot.linux?.seccomp == nil)
            #expect(snapshot.linux?.namespaces == spec.linux?.namespaces && snapshot.process?.args == ["sh"])
            let loaded = try #require(directory.readSeccompProgram().flatMap(SeccompCache.program(fromContainerCopy:)))
            #expect(loaded.instructions == program.instructions && loaded.kernelFlags == program.kernelFlags)
        }
    }

    /// With the document create parsed, the snapshot is the bundle's bytes with the profile cut out, byte for byte;
    /// a text that names a key twice is encoded again instead (a cut of the last would leave the earlier).
    @Test func theProfileIsCutOutOfTheBytesRead() throws {
        let config = Self.config(seccomp: Self.denyUname)
        let spec = try Spec.decode(config)
        let program = try SeccompProgram(try #require(spec.linux?.seccomp))
        let parsed = try JSONDocument.parse(config)
        try withDirectory { directory in
            let kept = try Runtime.writeSnapshot(spec, Self.report(config, document: parsed), seccomp: program, directory)
            let written = try Files.readFile(directory.configPath)
            #expect(kept && written == Self.config(seccomp: nil))
        }
        let twice = Array(String(decoding: config, as: UTF8.self).replacingOccurrences(of: #""root":"#, with: #""root":{},"root":"#).utf8)
        let document = try JSONDocument.parse(twice)
        #expect(document.hasDuplicateKeys)
        try withDirectory { directory in
            let kept = try Runtime.writeSnapshot(spec, Self.report(twice, document: document), seccomp: program, directory)
            let written = try Files.readFile(directory.configPath)
            #expect(kept && written == Runtime.snapshot(of: spec, keptSeccomp: true).encode(pretty: false))
            let decoded = try Spec.decode(written)
            #expect(decoded.linux?.seccomp == nil)
        }
    }

    @Test func aNotifyingProfileStaysInTheConfig() throws {
        let notify = #"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}"#
        let spec = try Self.spec(seccomp: notify)
        let program = try SeccompProgram(try #require(spec.linux?.seccomp))
        #expect(program.usesNotify)
        try withDirectory { directory in
            let kept = try Runtime.writeSnapshot(spec, Self.report(Self.config(seccomp: notify)), seccomp: program, directory)
            #expect(!kept)
            let snapshot = try Spec.decode(try Files.readFile(directory.configPath))
            #expect(snapshot.linux?.seccomp?.listenerPath == "/run/agent.sock")
            #expect(directory.readSeccompProgram() == nil)
        }
    }

    @Test func withoutAProfileThereIsNoProgram() throws {
        let spec = try Self.spec(seccomp: nil)
        try withDirectory { directory in
            let kept = try Runtime.writeSnapshot(spec, Self.report(Self.config(seccomp: nil)), seccomp: nil, directory)
            #expect(!kept)
            // The bundle's own bytes: nothing is left out, so nothing is encoded again.
            #expect(try Files.readFile(directory.configPath) == Self.config(seccomp: nil))
            let snapshot = try Spec.decode(try Files.readFile(directory.configPath))
            #expect(snapshot.linux?.namespaces.count == 2)
            #expect(directory.readSeccompProgram() == nil)
        }
    }

    /// A damaged copy is no program: exec refuses it rather than run without a filter.
    @Test func aDamagedCopyIsNoProgram() throws {
        let program = try SeccompProgram(try #require(try Self.spec(seccomp: Self.denyUname).linux?.seccomp))
        let bytes = SeccompCache.containerCopy(of: program)
        #expect(SeccompCache.program(fromContainerCopy: bytes) != nil)
        for cut in [1, 8, bytes.count / 2, bytes.count - 1] {
            #expect(SeccompCache.program(fromContainerCopy: Array(bytes.prefix(cut))) == nil, "\(cut) bytes")
        }
        #expect(SeccompCache.program(fromContainerCopy: []) == nil)
    }
}
