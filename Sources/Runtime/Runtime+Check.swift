import Cgroups
import JSON
import Launcher
import OCISpec
import Plan
import Seccomp
import Sys

extension BundleReport {
    /// One line per problem, then a count (or `ok`).
    package func text() -> String {
        var out = ""
        // One line per problem, whatever a message shows of the input (a path with a line break).
        for diagnostic in diagnostics { out += Log.oneLine(diagnostic.line(file: file)) + "\n" }
        let errors = errors.count, warnings = warnings.count
        if errors == 0 && warnings == 0 { return out + "\(file): ok\n" }
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        return out + "\(file): \(count(errors, "error")), \(count(warnings, "warning"))\n"
    }

    /// `{"config": FILE, "valid": BOOL, "errors": N, "warnings": N, "problems": [{severity, kind, path, line,
    /// column, message}]}`; line and column are left out when unknown.
    package func json() -> [UInt8] {
        let w = JSONWriter(pretty: true)
        w.beginObject()
        w.field("config", file)
        w.field("valid", errors.isEmpty)
        w.field("errors", errors.count)
        w.field("warnings", warnings.count)
        w.key("problems")
        w.beginArray()
        for d in diagnostics {
            w.beginObject()
            w.field("severity", d.severity.rawValue)
            w.field("kind", d.kind.rawValue)
            w.field("path", d.path)
            w.field("line", d.position?.line)
            w.field("column", d.position?.column)
            w.field("message", d.message)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes + [0x0A]
    }
}

package enum CheckFormat: String, Sendable { case text, json }

extension Runtime {
    /// `check`: every problem of `<bundle>/config.json` without running anything. Exit status 1 with errors.
    /// `pidfdSocket`: create's `--pidfd-socket`, checked as create would use it.
    package static func check(bundle: String, systemd: Bool = false, pidfdSocket: String? = nil) -> BundleReport {
        let file = bundle == "." ? "config.json" : (bundle.hasByteSuffix("/") ? bundle : bundle + "/") + "config.json"
        var report = planBundle(bundle: bundle, file: file, id: "check", systemd: systemd)
        if systemd, report.spec != nil, let problem = systemdReachability() {
            report.add(ConfigDiagnostic(severity: .error, kind: .semantic, path: ".linux.cgroupsPath", message: problem,
                                        position: report.document?.position(ofPath: ".linux.cgroupsPath")))
            report.sort()
        }
        if let process = report.spec?.process, process.terminal {
            // check cannot know how the bundle will be run; create without a console socket has nowhere to
            // send the terminal (runc refuses it too).
            report.add(ConfigDiagnostic(severity: .warning, kind: .semantic, path: ".process.terminal",
                                        message: "create needs --console-socket to hand over the terminal",
                                        position: report.document?.position(ofPath: ".process.terminal")))
            report.sort()
        }
        report.addHostChecks(pidfdSocket: pidfdSocket)
        return report
    }

    /// The one problems collector (BundleReport.make), then what only trying can tell: whether the kernel takes
    /// each idmapped mount (its filesystem may refuse). Made and let go, so that `create` refuses it here, before
    /// anything exists, at its line:column, and `check` says the same.
    static func planBundle(bundle: String, file: String, id: String, noPivot: Bool = false, preserveFDs: Int32 = 0,
                           newKeyring: Bool = true, systemd: Bool = false, seccompCache: SeccompCache? = nil,
                           cgroupHostCache: CgroupHostCache? = nil) -> BundleReport {
        var report = BundleReport.make(bundle: bundle, file: file, id: id, noPivot: noPivot, preserveFDs: preserveFDs,
                                       newKeyring: newKeyring, systemd: systemd, seccompCache: seccompCache,
                                       cgroupHostCache: cgroupHostCache)
        guard let plan = report.plan, let document = report.document else { return report }
        let refused = IdmappedMounts.probe(plan)
        guard !refused.isEmpty else { return report }
        for problem in refused {
            report.add(ConfigDiagnostic(severity: .error, kind: .semantic, path: problem.path, message: problem.message,
                                        position: document.position(ofPath: problem.path)))
        }
        report.plan = nil
        report.sort()
        return report
    }

}

extension BundleReport {
    /// Whether `--pidfd-socket` can be used, which create finds only when it connects.
    mutating func addHostChecks(pidfdSocket: String?) {
        if let pidfdSocket, let problem = PidfdSocket.problem(pidfdSocket) {
            add(ConfigDiagnostic(severity: .error, kind: .semantic, path: "", message: "--pidfd-socket: \(problem)"))
        }
        sort()
    }
}
