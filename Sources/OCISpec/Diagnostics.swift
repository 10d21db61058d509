import JSON

/// One finding of `crabcan check` (and of `create`, which runs the same checks): an error refuses the
/// bundle, a warning is something crabcan skips or cannot know in advance.
package struct ConfigDiagnostic: Sendable, Equatable {
    package enum Severity: String, Sendable { case error, warning }
    /// `schema`: the document's shape (types, required fields, enums; spec-schema/config.schema.json says the
    /// same); `semantic`: what the shape allows but this host, this rootfs or the kernel would refuse.
    package enum Kind: String, Sendable { case schema, semantic }

    package var severity: Severity
    package var kind: Kind
    /// jq-style JSON path; empty for the document as a whole (a syntax error).
    package var path: String
    package var message: String
    package var position: JSONPosition?
    /// `ConfigProblem.checkOnly`: reported by `check`, not logged by `create`.
    package var checkOnly: Bool

    package init(severity: Severity, kind: Kind, path: String, message: String, position: JSONPosition? = nil,
                checkOnly: Bool = false) {
        self.severity = severity
        self.kind = kind
        self.path = path
        self.message = message
        self.position = position
        self.checkOnly = checkOnly
    }

    /// `path: message`, or the message alone for the whole document.
    package var text: String { path.isEmpty ? message : "\(path): \(message)" }

    /// `FILE:LINE:COLUMN: error: PATH: MESSAGE`, the shape compilers use, so editors can jump to it.
    package func line(file: String) -> String {
        let at = position.map { ":\($0.line):\($0.column)" } ?? ""
        return "\(file)\(at): \(severity.rawValue): \(text)"
    }
}

extension Spec {
    /// Decodes what can be decoded and returns every problem: unlike `decode`, a spec comes back even when
    /// some fields were refused (they are left out), so that later checks can look at the rest.
    /// nil when the document is not an object or has no usable ociVersion.
    package static func decodeCollecting(_ document: JSONDocument) -> (spec: Spec?, problems: [JSONError]) {
        let context = JSONDecodingContext(document: document)
        let spec = Spec(json: context.root)
        return (spec, context.problems)
    }
}
