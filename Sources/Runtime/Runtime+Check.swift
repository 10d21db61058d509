import Cgroups
import JSON
import OCISpec
import Plan
import Sys

extension BundleReport {
    /// One line per problem, then a count (or `ok`).
    public func text() -> String {
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
    public func json() -> [UInt8] {
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

public enum CheckFormat: String, Sendable { case text, json }

extension Runtime {
    /// `check`: every problem of `<bundle>/config.json` without running anything. Exit status 1 with errors.
    public static func check(bundle: String, systemd: Bool = false) -> BundleReport {
        let file = bundle == "." ? "config.json" : (bundle.hasSuffix("/") ? bundle : bundle + "/") + "config.json"
        var report = BundleReport.make(bundle: bundle, file: file, id: "check", systemd: systemd)
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
        return report
    }

}
