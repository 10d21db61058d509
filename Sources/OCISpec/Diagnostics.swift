import JSON

/// One finding of `crabcan check` (and of `create`, which runs the same checks): an error refuses the
/// bundle, a warning is something crabcan skips or cannot know in advance.
public struct ConfigDiagnostic: Sendable, Equatable {
    public enum Severity: String, Sendable { case error, warning }
    /// `schema`: the document's shape (types, required fields, enums; spec-schema/config.schema.json says the
    /// same); `semantic`: what the shape allows but this host, this rootfs or the kernel would refuse.
    public enum Kind: String, Sendable { case schema, semantic }

    public var severity: Severity
    public var kind: Kind
    /// jq-style JSON path; empty for the document as a whole (a syntax error).
    public var path: String
    public var message: String
    public var position: JSONPosition?
    /// `ConfigProblem.checkOnly`: reported by `check`, not logged by `create`.
    public var checkOnly: Bool

    public init(severity: Severity, kind: Kind, path: String, message: String, position: JSONPosition? = nil,
                checkOnly: Bool = false) {
        self.severity = severity
        self.kind = kind
        self.path = path
        self.message = message
        self.position = position
        self.checkOnly = checkOnly
    }

    /// `path: message`, or the message alone for the whole document.
    public var text: String { path.isEmpty ? message : "\(path): \(message)" }

    /// `FILE:LINE:COLUMN: error: PATH: MESSAGE`, the shape compilers use, so editors can jump to it.
    public func line(file: String) -> String {
        let at = position.map { ":\($0.line):\($0.column)" } ?? ""
        return "\(file)\(at): \(severity.rawValue): \(text)"
    }
}

extension Spec {
    /// Decodes what can be decoded and returns every problem: unlike `decode`, a spec comes back even when
    /// some fields were refused (they are left out), so that later checks can look at the rest.
    /// nil when the document is not an object or has no usable ociVersion.
    public static func decodeCollecting(_ document: JSONDocument) -> (spec: Spec?, problems: [JSONError]) {
        let context = JSONDecodingContext(document: document)
        let spec = Spec(json: context.root)
        return (spec, context.problems)
    }
}
