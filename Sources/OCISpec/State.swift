import JSON

/// The state of a container as `crabcan state` prints it: runtime-spec's state (runtime.md "State")
/// plus runc's extras (rootfs, created, owner), so that tools written against runc keep working.
package struct State: Sendable, Equatable {
    package var ociVersion: String
    package var id: String
    /// "creating", "created", "running", "stopped" (runtime-spec) or "paused" (runc).
    package var status: String
    /// Required by runtime-spec when created or running; left out of the output when nil.
    package var pid: Int32?
    package var bundle: String
    package var annotations: [String: String]
    package var rootfs: String?
    /// RFC 3339 text, formatted by the caller.
    package var created: String?
    package var owner: String?

    package init(
        ociVersion: String = Spec.defaultOCIVersion, id: String, status: String, pid: Int32? = nil, bundle: String,
        annotations: [String: String] = [:], rootfs: String? = nil, created: String? = nil, owner: String? = nil
    ) {
        self.ociVersion = ociVersion
        self.id = id
        self.status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = annotations
        self.rootfs = rootfs
        self.created = created
        self.owner = owner
    }

    /// Keys in runc's order: ociVersion, id, pid, status, bundle, rootfs, created, owner, annotations.
    package func encode(pretty: Bool) -> [UInt8] {
        let writer = JSONWriter(pretty: pretty)
        encode(to: writer)
        return writer.bytes
    }

    package static func decode(_ bytes: [UInt8]) throws(SpecProblems) -> State {
        let document: JSONDocument
        do {
            document = try JSONDocument.parse(bytes)
        } catch {
            throw SpecProblems(problems: [error])
        }
        let context = JSONDecodingContext(document: document)
        guard let state = State(json: context.root), context.problems.isEmpty else {
            throw SpecProblems(problems: context.problems.isEmpty ? [JSONError(message: "invalid state")] : context.problems)
        }
        return state
    }
}

extension State: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("ociVersion", ociVersion)
        w.field("id", id)
        w.field("pid", pid)
        w.field("status", status)
        w.field("bundle", bundle)
        w.field("rootfs", rootfs)
        w.field("created", created)
        w.field("owner", owner)
        w.field("annotations", nonEmpty: annotations)
        w.endObject()
    }
}

extension State: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let ociVersion = o.required("ociVersion", String.self)
        let id = o.required("id", String.self)
        let status = o.required("status", String.self)
        let pid = o.optional("pid", Int32.self)
        let bundle = o.required("bundle", String.self)
        let annotations = o.map("annotations", of: String.self)
        let rootfs = o.optional("rootfs", String.self)
        let created = o.optional("created", String.self)
        let owner = o.optional("owner", String.self)
        guard let ociVersion, let id, let status, let bundle else { return nil }
        self.init(
            ociVersion: ociVersion, id: id, status: status, pid: pid, bundle: bundle, annotations: annotations,
            rootfs: rootfs, created: created, owner: owner)
    }
}
