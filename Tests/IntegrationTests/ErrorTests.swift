import Foundation
import Testing

/// Failures: bad bundles, bad ids, an unrunnable process. Each is one error line, exit 1, nothing left.
extension CrabcanCLI {
    static let invalidBundles: [String] = {
        let dir = Paths.repo + "/bundles/invalid"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }()

    @Test func invalidBundlesExist() {
        #expect(CrabcanCLI.invalidBundles.count >= 6, "bundles/invalid: \(CrabcanCLI.invalidBundles)")
    }

    @Test(arguments: CrabcanCLI.invalidBundles)
    func invalidBundleRefused(_ name: String) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("bad")
        let bundle = Paths.repo + "/bundles/invalid/" + name
        let expected = try String(contentsOfFile: bundle + "/expected.txt", encoding: .utf8)
            .trimmingCharacters(in: .newlines)
        let result = box.crabcan(["create", "--bundle", bundle, id])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderrLines.count == 1, "want one error line: \(result)")
        #expect(result.stderr.contains(expected), "want \"\(expected)\": \(result)")
        #expect(result.stdout.isEmpty, "\(result)")
        #expect(!box.stateDirExists(id))
        #expect(box.rootEntries().isEmpty, "left in --root: \(box.rootEntries())")
    }

    @Test(arguments: ["a/b", "..", ".", ""])
    func invalidIDRefused(_ id: String) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let bundle = try box.bundle(["true"])
        let result = box.crabcan(["create", "--bundle", bundle, id])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderrLines.count == 1, "\(result)")
        #expect(box.rootEntries().isEmpty, "left in --root: \(box.rootEntries())")
        let run = box.crabcan(["run", "--bundle", bundle, id])
        #expect(run.status == 1, "\(run)")
        #expect(box.rootEntries().isEmpty, "left in --root: \(box.rootEntries())")
    }

    @Test func failedCreateLeavesNothing() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let mountsBefore = Host.mountinfo()
        let id = box.id("noexec")
        let bundle = try box.bundle(["/nonexistent"])
        let result = box.crabcan(["create", "--bundle", bundle, id])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("/nonexistent"), "\(result)")
        #expect(result.stderrLines.count == 1, "\(result)")
        #expect(!box.stateDirExists(id))
        #expect(box.rootEntries().isEmpty, "left in --root: \(box.rootEntries())")
        #expect(eventually(timeout: 5) { Host.processes(usingRootfs: box.rootfs, orMentioning: id).isEmpty },
                "left processes: \(Host.processes(usingRootfs: box.rootfs, orMentioning: id))")
        #expect(Host.mountinfo() == mountsBefore, "the host mount table changed")

        let runID = box.id("noexecrun")
        let run = box.crabcan(["run", "--bundle", bundle, runID])
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr.contains("/nonexistent"), "\(run)")
        #expect(box.rootEntries().isEmpty, "left in --root: \(box.rootEntries())")
        #expect(eventually(timeout: 5) { Host.processes(usingRootfs: box.rootfs, orMentioning: runID).isEmpty })
    }

    @Test func missingContainerIsAnError() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let id = box.id("ghost")
        for command in [["state", id], ["start", id], ["kill", id, "KILL"], ["delete", id]] {
            let result = box.crabcan(command)
            #expect(result.status == 1, "\(command): \(result)")
            #expect(result.stderrLines.count == 1, "\(command): \(result)")
        }
        #expect(box.crabcan(["delete", "--force", id]).status == 0, "delete --force of nothing succeeds (runc)")
    }
}
