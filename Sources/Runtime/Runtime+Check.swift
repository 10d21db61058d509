import Cgroups
import JSON
import Launcher
import OCISpec
import Sys

/// What checking a bundle found, and what `create` goes on with when nothing is wrong.
public struct BundleReport {
    /// config.json as named in messages.
    public var file: String
    /// In document order (line, then column); within one place, in the order the checks ran.
    public var diagnostics: [ConfigDiagnostic] = []
    public var document: JSONDocument?
    public var spec: Spec?
    public var plan: ContainerPlan?
    public var cgroups: CgroupSet?
    /// With the systemd driver: the unit and its slice.
    public var systemdUnit: SystemdUnitPath?

    public var errors: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .warning } }

    /// `FILE:LINE:COLUMN: PATH: MESSAGE` for a problem found after the checks (by the cgroup writes).
    public func locate(_ problem: ConfigProblem) -> String {
        let at = document.map { ":\($0.position(ofPath: problem.path))" } ?? ""
        return "\(file)\(at): \(problem)"
    }

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
    /// `pidfdSocket`: create's `--pidfd-socket`, checked as create would use it.
    public static func check(bundle: String, systemd: Bool = false, pidfdSocket: String? = nil) -> BundleReport {
        let file = bundle == "." ? "config.json" : (bundle.hasSuffix("/") ? bundle : bundle + "/") + "config.json"
        var report = checkBundle(bundle: bundle, file: file, id: "check", createOptions: CreateOptions(), systemd: systemd)
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

    /// The checks `check` and `create` share: the document (syntax, types, required fields, enums), then the
    /// launch plan, the privileges, seccomp, the rootfs and the cgroups, each problem placed at its line:column.
    static func checkBundle(bundle: String, file: String, id: String, createOptions options: CreateOptions,
                            systemd: Bool = false) -> BundleReport {
        var report = BundleReport(file: file)
        let bytes: [UInt8]
        do {
            bytes = try Files.readFile(bundle + "/config.json")
        } catch {
            report.add(ConfigDiagnostic(severity: .error, kind: .schema, path: "", message: "cannot read: \(error)"))
            return report
        }
        let document: JSONDocument
        do {
            document = try JSONDocument.parse(bytes)
        } catch {
            report.add(ConfigDiagnostic(severity: .error, kind: .schema, path: "", message: "invalid JSON: " + error.message,
                                        position: error.position))
            return report
        }
        report.document = document
        let decoded = Spec.decodeCollecting(document)
        let schemaPaths = decoded.problems.map(\.path)
        for problem in decoded.problems {
            report.add(ConfigDiagnostic(severity: .error, kind: .schema, path: problem.path, message: problem.message,
                                        position: problem.position))
        }
        guard let spec = decoded.spec else {
            report.sort()
            return report
        }
        report.spec = spec

        func semantic(_ problem: ConfigProblem, _ severity: ConfigDiagnostic.Severity) {
            // A field the decoder refused was left out of `spec`; what later checks say about it or around it
            // (an array whose indexes shifted) would be noise or wrong.
            if schemaPaths.contains(where: { Runtime.isRelated(problem.path, $0) }) { return }
            report.add(ConfigDiagnostic(severity: severity, kind: .semantic, path: problem.path, message: problem.message,
                                        position: document.position(ofPath: problem.path), checkOnly: problem.checkOnly))
        }

        let check = ContainerPlan.check(spec: spec, bundle: bundle, noPivot: options.noPivot, preserveFDs: options.preserveFDs,
                                        sessionKeyring: options.noNewKeyring ? nil : "_ses.\(id)")
        for problem in check.errors { semantic(problem, .error) }
        for problem in check.warnings { semantic(problem, .warning) }

        do {
            let host = try CgroupHost.detect()
            let cgroups: CgroupSet
            if systemd {
                // A rootless caller's units live under its user manager's cgroup: create re-plans with it.
                let unit = try SystemdUnitPath.parse(spec.linux?.cgroupsPath, id: id, rootless: Processes.effectiveUID != 0)
                report.systemdUnit = unit
                cgroups = try unit.plan(host: host)
            } else {
                cgroups = try CgroupSet.plan(cgroupsPath: spec.linux?.cgroupsPath, id: id, host: host)
            }
            for problem in CgroupManager(cgroups).problems(DeviceRules.effective(spec.linux)) { semantic(problem, .error) }
            report.cgroups = cgroups
        } catch let problem as ConfigProblem {
            semantic(problem, .error)
        } catch {
            report.add(ConfigDiagnostic(severity: .error, kind: .semantic, path: "", message: "cgroups: \(error)"))
        }
        // runc keeps the r, w and m of a device rule's access and ignores other letters; so does crabcan, saying so here.
        for (index, rule) in (spec.linux?.resources?.devices ?? []).enumerated() {
            guard let access = rule.access, access.contains(where: { !"rwm".contains($0) }) else { continue }
            var note = ConfigProblem(".linux.resources.devices[\(index)].access",
                                     "letters other than r, w, m are ignored (as runc does): \(jsonQuote(access)) is \(jsonQuote(rule.permissions))")
            note.checkOnly = true
            semantic(note, .warning)
        }
        // Whether the kernel takes each idmapped mount (its filesystem may refuse): made and let go, so that create
        // refuses it here, before anything exists, at its line:column.
        if report.errors.isEmpty, let plan = check.plan { for problem in IdmappedMounts.probe(plan) { semantic(problem, .error) } }
        if report.errors.isEmpty { report.plan = check.plan }
        report.sort()
        return report
    }

    /// `a` (found after decoding) is about `b` (a field the decoder refused): one holds the other, or `a` is in
    /// an array after the element `b` is in, whose index the decoder shifted when it dropped that element.
    static func isRelated(_ a: String, _ b: String) -> Bool {
        func holds(_ outer: String, _ inner: String) -> Bool {
            inner == outer || inner.hasPrefix(outer + ".") || inner.hasPrefix(outer + "[")
        }
        if holds(a, b) || holds(b, a) { return true }
        var index = b.startIndex
        while let bracket = b[index...].firstIndex(of: "[") {
            let array = String(b[..<bracket])
            let dropped = Int(b[b.index(after: bracket)...].prefix(while: { $0.isASCII && $0.isNumber }))
            if let dropped, !array.isEmpty, a.hasPrefix(array + "[") {
                let rest = a.dropFirst(array.count + 1)
                if let element = Int(rest.prefix(while: { $0.isASCII && $0.isNumber })), element >= dropped { return true }
            }
            index = b.index(after: bracket)
        }
        return false
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

    /// Adds a diagnostic unless the same one (path and message) is already there.
    mutating func add(_ diagnostic: ConfigDiagnostic) {
        if diagnostics.contains(where: { $0.path == diagnostic.path && $0.message == diagnostic.message }) { return }
        diagnostics.append(diagnostic)
    }

    /// Document order; stable, so that problems at one place keep the order the checks found them in.
    mutating func sort() {
        diagnostics = diagnostics.enumerated().sorted { a, b in
            let pa = a.element.position.map { ($0.line, $0.column) } ?? (0, 0)
            let pb = b.element.position.map { ($0.line, $0.column) } ?? (0, 0)
            return pa != pb ? pa < pb : a.offset < b.offset
        }.map(\.element)
    }
}
