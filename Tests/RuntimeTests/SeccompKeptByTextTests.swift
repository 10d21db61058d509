import Glibc
import Plan
@testable import Runtime
import Seccomp
import Sys
import Testing

/// A create finds the program of a profile kept under its text in config.json and decodes none of the profile:
/// the same program, and the same warnings at the same line:column, as the create that compiled it. Another
/// spelling of the profile, or a profile that notifies (the listener needs its fields), is decoded.
@Suite(.serialized) struct SeccompKeptByTextTests {
    /// A bundle (rootfs/bin/sh, `config` as config.json) and a state root, removed after `body`.
    func withBundle(_ body: (_ bundle: String, _ root: String) throws -> Void) throws {
        var template = Array("/tmp/crabcan-kept-seccomp.XXXXXX".utf8CString)
        let top = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { stringFromC($0) })
        let bundle = top + "/bundle", root = top + "/root"
        try Files.makeDirectories(bundle + "/rootfs/bin")
        try Files.writeFile(bundle + "/rootfs/bin/sh", Array("#!/bin/true\n".utf8), mode: 0o755)
        try Files.mkdir(root, mode: 0o700)
        defer {
            let cache = SeccompCache(root: root)
            for name in (try? Files.listDirectory(cache.directory)) ?? [] { try? Files.unlink(cache.directory + "/" + name) }
            for path in [cache.directory, root, bundle + "/rootfs/bin", bundle + "/rootfs"] {
                if path.hasSuffix("/bin") { unlink(path + "/sh") }
                rmdir(path)
            }
            unlink(bundle + "/config.json")
            rmdir(bundle)
            rmdir(top)
        }
        try body(bundle, root)
    }

    static func config(seccomp: String) -> [UInt8] {
        Array((#"{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"cwd": "/", "args": ["sh"], "#
            + #""user": {"uid": 0, "gid": 0}}, "linux": {"namespaces": [{"type": "mount"}],"# + "\n"
            + #""seccomp": \#(seccomp)}}"#).utf8)
    }

    static let denyUname = #"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname", "no_such_call"], "action": "SCMP_ACT_ERRNO"}]}"#
    static let notify = #"{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/none.sock", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}"#

    func plan(_ bundle: String, _ root: String, config: [UInt8]) throws -> BundleReport {
        try Files.writeFile(bundle + "/config.json", config, mode: 0o644)
        let report = Runtime.planBundle(bundle: bundle, file: bundle + "/config.json", id: "c1",
                                        seccompCache: SeccompCache(root: root))
        #expect(report.errors.isEmpty, "\(report.errors)")
        return report
    }

    func compiledAndKept(_ bundle: String, _ root: String, config: [UInt8]) throws -> BundleReport {
        try Files.writeFile(bundle + "/config.json", config, mode: 0o644)
        let cache = SeccompCache(root: root)
        let report = Runtime.planBundle(bundle: bundle, file: bundle + "/config.json", id: "c1", seccompCache: cache)
        cache.keepCompiled()
        return report
    }

    @Test func aKeptProfileIsFoundByItsTextAndNotDecoded() throws {
        guard geteuid() == 0 else { return }
        try withBundle { bundle, root in
            let first = try compiledAndKept(bundle, root, config: Self.config(seccomp: Self.denyUname))
            #expect(first.spec?.linux?.seccomp != nil)
            let program = try #require(first.plan?.seccomp)
            let warnings = first.warnings.map { "\($0.path) \($0.position.map { "\($0)" } ?? "-") \($0.message)" }
            #expect(warnings == [#".linux.seccomp.syscalls[0].names[1] 2:81 unknown syscall "no_such_call" skipped"#])

            let again = try plan(bundle, root, config: Self.config(seccomp: Self.denyUname))
            #expect(again.spec?.linux?.seccomp == nil, "found by its text, not decoded")
            #expect(again.spec?.linux?.namespaces == first.spec?.linux?.namespaces)
            #expect(again.plan?.seccomp?.instructions == program.instructions)
            #expect(again.plan?.seccomp?.kernelFlags == program.kernelFlags)
            #expect(again.warnings.map { "\($0.path) \($0.position.map { "\($0)" } ?? "-") \($0.message)" } == warnings)

            // The same profile spelled otherwise is another text: decoded, the same program.
            let respelled = try plan(bundle, root, config: Self.config(seccomp: Self.denyUname.replacingSpaces()))
            #expect(respelled.spec?.linux?.seccomp != nil)
            #expect(respelled.plan?.seccomp?.instructions == program.instructions)
        }
    }

    @Test func aProfileThatNotifiesIsDecodedEvenWhenKept() throws {
        guard geteuid() == 0 else { return }
        try withBundle { bundle, root in
            let first = try compiledAndKept(bundle, root, config: Self.config(seccomp: Self.notify))
            #expect(first.plan?.seccomp?.usesNotify == true)
            #expect(((try? Files.listDirectory(SeccompCache(root: root).directory)) ?? []).count == 1)
            let again = try plan(bundle, root, config: Self.config(seccomp: Self.notify))
            #expect(again.spec?.linux?.seccomp?.listenerPath == "/run/none.sock")
            #expect(again.plan?.seccomp?.instructions == first.plan?.seccomp?.instructions)
        }
    }
}

extension String {
    /// One space more after each comma: the same JSON value, another text.
    func replacingSpaces() -> String { split(separator: ",", omittingEmptySubsequences: false).joined(separator: ",  ") }
}
