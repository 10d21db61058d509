import Cgroups
import JSON
import OCISpec
import Seccomp
import Sys

/// What checking a bundle found, and what `create` goes on with when nothing is wrong: the one problems
/// collector of `check` and `create`, so both say the same things about a config (with line:column).
package struct BundleReport {
    /// config.json as named in messages.
    package var file: String
    /// In document order (line, then column); within one place, in the order the checks ran.
    package var diagnostics: [ConfigDiagnostic] = []
    package var document: JSONDocument?
    /// config.json as read: the state dir's snapshot of it when nothing is left out (Runtime.writeSnapshot).
    package var bytes: [UInt8] = []
    /// The text of `linux.seccomp` in `bytes`, when a seccomp cache was given: the profile's key there, and what
    /// the snapshot cuts out.
    package var seccompText: ArraySlice<UInt8>?
    package var spec: Spec?
    package var plan: ContainerPlan?
    package var cgroups: CgroupSet?
    /// With the systemd driver: the unit and its slice.
    package var systemdUnit: SystemdUnitPath?

    package var errors: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .error } }
    package var warnings: [ConfigDiagnostic] { diagnostics.filter { $0.severity == .warning } }

    /// `FILE:LINE:COLUMN: PATH: MESSAGE` for a problem found after the checks (by the cgroup writes).
    package func locate(_ problem: ConfigProblem) -> String {
        let at = document.map { ":\($0.position(ofPath: problem.path))" } ?? ""
        return "\(file)\(at): \(problem)"
    }
}

extension BundleReport {
    /// The checks `check` and `create` share: the document (syntax, types, required fields, enums), then the
    /// launch plan, the privileges, seccomp, the rootfs and the cgroups, each problem placed at its line:column.
    package static func make(bundle: String, file: String, id: String, noPivot: Bool = false, preserveFDs: Int32 = 0,
                             newKeyring: Bool = true, systemd: Bool = false, seccompCache: SeccompCache? = nil,
                             cgroupHostCache: CgroupHostCache? = nil) -> BundleReport {
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
        report.bytes = bytes
        // A seccomp profile whose program is kept under its text is not decoded (SeccompCache.kept); one that
        // notifies is, for the listener's fields.
        let seccompJSON = seccompCache == nil ? nil : document.offset(ofMember: ["linux", "seccomp"]).flatMap { document.containerText(at: $0) }
        report.seccompText = seccompJSON
        let keptSeccomp = seccompJSON.flatMap { seccompCache?.kept(json: $0) }
        let leftUndecoded = keptSeccomp.map { !$0.usesNotify } ?? false
        let decoded = Spec.decodeCollecting(leftUndecoded ? document.removingMember(["linux", "seccomp"]) : document)
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
            if schemaPaths.contains(where: { isRelated(problem.path, $0) }) { return }
            report.add(ConfigDiagnostic(severity: severity, kind: .semantic, path: problem.path, message: problem.message,
                                        position: document.position(ofPath: problem.path), checkOnly: problem.checkOnly))
        }

        let check = ContainerPlan.check(spec: spec, bundle: bundle, noPivot: noPivot, preserveFDs: preserveFDs,
                                        sessionKeyring: newKeyring ? "_ses.\(id)" : nil, seccompCache: seccompCache,
                                        seccompJSON: seccompJSON, keptSeccomp: keptSeccomp)
        for problem in check.errors { semantic(problem, .error) }
        for problem in check.warnings { semantic(problem, .warning) }

        var detectedHost: CgroupHost?
        do {
            let host = try CgroupHost.detect(cache: cgroupHostCache)
            detectedHost = host
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
        if report.errors.isEmpty {
            report.plan = check.plan
            report.plan?.cgroupHost = detectedHost
        }
        report.sort()
        return report
    }

    /// `a` (found after decoding) is about `b` (a field the decoder refused): one holds the other, or `a` is in
    /// an array after the element `b` is in, whose index the decoder shifted when it dropped that element.
    package static func isRelated(_ a: String, _ b: String) -> Bool {
        func holds(_ outer: String, _ inner: String) -> Bool {
            inner == outer || inner.hasBytePrefix(outer + ".") || inner.hasBytePrefix(outer + "[")
        }
        if holds(a, b) || holds(b, a) { return true }
        var index = b.startIndex
        while let bracket = b[index...].firstIndex(of: "[") {
            let array = String(b[..<bracket])
            let dropped = Int(b[b.index(after: bracket)...].prefix(while: { $0.isASCIIDigit }))
            if let dropped, !array.isEmpty, a.hasBytePrefix(array + "[") {
                let rest = a.dropFirst(array.count + 1)
                if let element = Int(rest.prefix(while: { $0.isASCIIDigit })), element >= dropped { return true }
            }
            index = b.index(after: bracket)
        }
        return false
    }
}

extension BundleReport {
    /// Adds a diagnostic unless the same one (path and message) is already there.
    package mutating func add(_ diagnostic: ConfigDiagnostic) {
        if diagnostics.contains(where: { $0.path == diagnostic.path && $0.message == diagnostic.message }) { return }
        diagnostics.append(diagnostic)
    }

    /// Document order; stable, so that problems at one place keep the order the checks found them in.
    package mutating func sort() {
        // Nothing to order in a clean config, and the enumerated pairs' array is a type made at run time.
        guard diagnostics.count > 1 else { return }
        diagnostics = diagnostics.enumerated().sorted { a, b in
            let pa = a.element.position.map { ($0.line, $0.column) } ?? (0, 0)
            let pb = b.element.position.map { ($0.line, $0.column) } ?? (0, 0)
            return pa != pb ? pa < pb : a.offset < b.offset
        }.map(\.element)
    }
}
