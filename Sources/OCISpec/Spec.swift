import JSON
import Sys

/// config.json of an OCI bundle (runtime-spec config.md and config-linux.md, up to v1.3).
/// Property names are the JSON keys; absent arrays and maps decode as empty.
package struct Spec: Sendable, Equatable {
    package var ociVersion: String
    package var process: Process?
    /// Optional in the type (for building specs in code), but `decode` reports it missing, as runc does.
    package var root: Root?
    package var hostname: String?
    package var domainname: String?
    package var mounts: [Mount]
    package var hooks: Hooks?
    package var annotations: [String: String]
    package var linux: Linux?

    package init(
        ociVersion: String = Spec.defaultOCIVersion, process: Process? = nil, root: Root? = nil,
        hostname: String? = nil, domainname: String? = nil, mounts: [Mount] = [], hooks: Hooks? = nil,
        annotations: [String: String] = [:], linux: Linux? = nil
    ) {
        self.ociVersion = ociVersion
        self.process = process
        self.root = root
        self.hostname = hostname
        self.domainname = domainname
        self.mounts = mounts
        self.hooks = hooks
        self.annotations = annotations
        self.linux = linux
    }

    /// The version crabcan writes in `spec` and `state` output.
    package static let defaultOCIVersion = "1.2.0"

    /// Any 1.x.y, with an optional pre-release or build suffix ("1.0.2-dev", "1.1.0+dev"):
    /// runtime-spec keeps compatibility within a major version.
    package static func isSupported(ociVersion: String) -> Bool {
        // On UTF-8 bytes: Character by Character would run the grapheme-break code for ASCII text.
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        var rest = ociVersion.utf8[...]
        guard rest.starts(with: "1.".utf8) else { return false }
        rest = rest.dropFirst(2)
        let minor = rest.prefix(while: isDigit)
        guard !minor.isEmpty else { return false }
        rest = rest.dropFirst(minor.count)
        guard rest.first == UInt8(ascii: ".") else { return false }
        rest = rest.dropFirst()
        let patch = rest.prefix(while: isDigit)
        guard !patch.isEmpty else { return false }
        rest = rest.dropFirst(patch.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "-") || rest.first == UInt8(ascii: "+")
    }
}

/// Every problem found in a config; `description` is the first one, on one line.
package struct SpecProblems: Error, Sendable, CustomStringConvertible {
    package var problems: [JSONError]

    package init(problems: [JSONError]) {
        self.problems = problems
    }

    package var description: String { problems.first?.description ?? "invalid config" }
}

extension Spec {
    /// Decodes config.json, collecting every problem (syntax, types, missing fields, cheap semantic checks).
    package static func decode(_ bytes: [UInt8]) throws(SpecProblems) -> Spec {
        try decodeDocument(bytes, Spec.self, whenEmpty: "invalid config")
    }

    /// One JSON document as `type`: a syntax error, or every problem the decoder found, each with its JSON path.
    static func decodeDocument<T: JSONDecodable>(_ bytes: [UInt8], _ type: T.Type, whenEmpty: String) throws(SpecProblems) -> T {
        let document: JSONDocument
        do {
            document = try JSONDocument.parse(bytes)
        } catch {
            var syntax = error
            syntax.message = "invalid JSON: " + error.message
            throw SpecProblems(problems: [syntax])
        }
        let context = JSONDecodingContext(document: document)
        let value = T(json: context.root)
        guard let value, context.problems.isEmpty else {
            throw SpecProblems(problems: context.problems.isEmpty ? [JSONError(message: whenEmpty)] : context.problems)
        }
        return value
    }

    /// JSON text; absent optionals and empty arrays and maps are left out, map keys are sorted.
    package func encode(pretty: Bool) -> [UInt8] {
        let writer = JSONWriter(pretty: pretty)
        encode(to: writer)
        return writer.bytes
    }
}

package struct Root: Sendable, Equatable {
    package var path: String
    package var readonly: Bool

    package init(path: String, readonly: Bool = false) {
        self.path = path
        self.readonly = readonly
    }
}

package struct Mount: Sendable, Equatable {
    /// Absolute in practice; runtime-spec still allows relative (to "/") for old configs, so we accept it.
    package var destination: String
    package var type: String?
    package var source: String?
    package var options: [String]
    package var uidMappings: [IDMapping]
    package var gidMappings: [IDMapping]

    package init(
        destination: String, type: String? = nil, source: String? = nil, options: [String] = [],
        uidMappings: [IDMapping] = [], gidMappings: [IDMapping] = []
    ) {
        self.destination = destination
        self.type = type
        self.source = source
        self.options = options
        self.uidMappings = uidMappings
        self.gidMappings = gidMappings
    }
}

package struct Hooks: Sendable, Equatable {
    /// Deprecated by runtime-spec in favour of createRuntime/createContainer/startContainer, still honoured.
    package var prestart: [Hook]
    package var createRuntime: [Hook]
    package var createContainer: [Hook]
    package var startContainer: [Hook]
    package var poststart: [Hook]
    package var poststop: [Hook]

    package init(
        prestart: [Hook] = [], createRuntime: [Hook] = [], createContainer: [Hook] = [],
        startContainer: [Hook] = [], poststart: [Hook] = [], poststop: [Hook] = []
    ) {
        self.prestart = prestart
        self.createRuntime = createRuntime
        self.createContainer = createContainer
        self.startContainer = startContainer
        self.poststart = poststart
        self.poststop = poststop
    }
}

package struct Hook: Sendable, Equatable {
    package var path: String
    package var args: [String]
    package var env: [String]
    /// Seconds; must be greater than zero when set (config.md, POSIX-platform hooks).
    package var timeout: Int?

    package init(path: String, args: [String] = [], env: [String] = [], timeout: Int? = nil) {
        self.path = path
        self.args = args
        self.env = env
        self.timeout = timeout
    }
}

package struct IDMapping: Sendable, Equatable {
    package var containerID: UInt32
    package var hostID: UInt32
    package var size: UInt32

    package init(containerID: UInt32, hostID: UInt32, size: UInt32) {
        self.containerID = containerID
        self.hostID = hostID
        self.size = size
    }
}

// MARK: - Decoding

extension Spec: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let versionReader = o.required("ociVersion")
        let ociVersion = versionReader?.string()
        if let versionReader, let ociVersion, !Spec.isSupported(ociVersion: ociVersion) {
            versionReader.report("unsupported ociVersion \(jsonQuote(ociVersion)) (crabcan supports 1.x)")
        }
        let process = o.optional("process", Process.self)
        // config.md: root is REQUIRED on every platform but Hyper-V; runc refuses a config without it.
        let root = o.required("root", Root.self)
        let hostname = o.optional("hostname", String.self)
        let domainname = o.optional("domainname", String.self)
        let mounts = o.array("mounts", of: Mount.self)
        let hooks = o.optional("hooks", Hooks.self)
        let annotations = o.map("annotations", of: String.self)
        let linux = o.optional("linux", Linux.self)
        guard let ociVersion else { return nil }
        self.init(
            ociVersion: ociVersion, process: process, root: root, hostname: hostname, domainname: domainname,
            mounts: mounts, hooks: hooks, annotations: annotations, linux: linux)
    }
}

extension Root: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let pathReader = o.required("path")
        let path = pathReader?.string()
        if let pathReader, path == "" { pathReader.report("must not be empty") }
        let readonly = o.optional("readonly", Bool.self) ?? false
        guard let path, !path.isEmpty else { return nil }
        self.init(path: path, readonly: readonly)
    }
}

extension Mount: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let destinationReader = o.required("destination")
        let destination = destinationReader?.string()
        if let destinationReader, destination == "" { destinationReader.report("must not be empty") }
        let type = o.optional("type", String.self)
        let source = o.optional("source", String.self)
        let options = o.array("options", of: String.self)
        let uidMappings = o.array("uidMappings", of: IDMapping.self)
        let gidMappings = o.array("gidMappings", of: IDMapping.self)
        guard let destination, !destination.isEmpty else { return nil }
        self.init(
            destination: destination, type: type, source: source, options: options,
            uidMappings: uidMappings, gidMappings: gidMappings)
    }
}

extension Hooks: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        self.init(
            prestart: o.array("prestart", of: Hook.self),
            createRuntime: o.array("createRuntime", of: Hook.self),
            createContainer: o.array("createContainer", of: Hook.self),
            startContainer: o.array("startContainer", of: Hook.self),
            poststart: o.array("poststart", of: Hook.self),
            poststop: o.array("poststop", of: Hook.self))
    }
}

extension Hook: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        // config.md: hook paths MUST be absolute.
        let path = o.required("path")?.absolutePath()
        let args = o.array("args", of: String.self)
        let env = o.array("env", of: String.self)
        let timeoutReader = o.optional("timeout")
        let timeout = timeoutReader?.int()
        if let timeoutReader, let timeout, timeout <= 0 { timeoutReader.report("must be greater than zero") }
        guard let path else { return nil }
        if let timeout, timeout <= 0 { return nil }
        self.init(path: path, args: args, env: env, timeout: timeout)
    }
}

extension IDMapping: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let containerID = o.required("containerID", UInt32.self)
        let hostID = o.required("hostID", UInt32.self)
        let size = o.required("size", UInt32.self)
        guard let containerID, let hostID, let size else { return nil }
        self.init(containerID: containerID, hostID: hostID, size: size)
    }
}

// MARK: - Encoding

extension Spec: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("ociVersion", ociVersion)
        w.field("process", process)
        w.field("root", root)
        w.field("hostname", hostname)
        w.field("domainname", domainname)
        w.field("mounts", nonEmpty: mounts)
        w.field("hooks", hooks)
        w.field("annotations", nonEmpty: annotations)
        w.field("linux", linux)
        w.endObject()
    }
}

extension Root: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("path", path)
        w.field("readonly", ifTrue: readonly)
        w.endObject()
    }
}

extension Mount: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("destination", destination)
        w.field("type", type)
        w.field("source", source)
        w.field("options", nonEmpty: options)
        w.field("uidMappings", nonEmpty: uidMappings)
        w.field("gidMappings", nonEmpty: gidMappings)
        w.endObject()
    }
}

extension Hooks: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("prestart", nonEmpty: prestart)
        w.field("createRuntime", nonEmpty: createRuntime)
        w.field("createContainer", nonEmpty: createContainer)
        w.field("startContainer", nonEmpty: startContainer)
        w.field("poststart", nonEmpty: poststart)
        w.field("poststop", nonEmpty: poststop)
        w.endObject()
    }
}

extension Hook: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("path", path)
        w.field("args", nonEmpty: args)
        w.field("env", nonEmpty: env)
        w.field("timeout", timeout)
        w.endObject()
    }
}

extension IDMapping: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("containerID", containerID)
        w.field("hostID", hostID)
        w.field("size", size)
        w.endObject()
    }
}
