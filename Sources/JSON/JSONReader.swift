import Sys

/// A value that can be read from a JSONReader. On a mismatch it reports problems through the reader
/// (so that a caller can list every problem at once) and returns nil.
@usableFromInline
package protocol JSONDecodable {
    init?(json: JSONReader)
    /// What `expected ...` says when an array of these is something else, e.g. "array of strings".
    static var jsonArrayDescription: String { get }
}

extension JSONDecodable {
    @usableFromInline package static var jsonArrayDescription: String { "array" }
}

/// Collects the problems found while decoding one document.
package final class JSONDecodingContext {
    package let document: JSONDocument
    package private(set) var problems: [JSONError] = []

    package init(document: JSONDocument) {
        self.document = document
    }

    /// A reader on the document's root value, with the empty path.
    package var root: JSONReader { JSONReader(node: document.root, path: "", context: self) }

    package func report(path: String, message: String, offset: Int?) {
        let position = offset.map { document.position(ofOffset: $0) }
        problems.append(JSONError(path: path, message: message, position: position))
    }

    package func report(_ error: JSONError) {
        problems.append(error)
    }
}


/// Where a node sits in its document, as a chain of steps from the root. Spelled out (`path`) only when a
/// problem is reported: decoding a config looks up hundreds of members, and building each one's path string
/// eagerly was work, integer formatting and key quoting that an accepted config never used.
@usableFromInline
final class JSONLocation {
    @usableFromInline
    enum Step {
        case start(String)
        case key(String)
        case index(Int)
    }

    let parent: JSONLocation?
    let step: Step

    @usableFromInline
    init(parent: JSONLocation?, step: Step) {
        self.parent = parent
        self.step = step
    }

    /// jq's spelling of `step` after `parent`'s path: `.key`, or `["key"]` when the key is not a plain identifier;
    /// `[index]`.
    static func text(of step: Step, after parent: JSONLocation?) -> String {
        var steps: [Step] = [step]
        var location = parent
        while let current = location {
            steps.append(current.step)
            location = current.parent
        }
        var text = ""
        for step in steps.reversed() {
            switch step {
            case .start(let prefix): text += prefix
            case .key(let key): text = JSONLocation.appending(key: key, to: text)
            case .index(let index): text += "[" + DecimalText.of(index) + "]"
            }
        }
        return text
    }

    static func appending(key: String, to path: String) -> String {
        var plain = !key.isEmpty
        for (i, c) in key.utf8.enumerated() {
            let letter = (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
            let digit = c >= 0x30 && c <= 0x39
            if !(letter || (digit && i > 0)) {
                plain = false
                break
            }
        }
        return plain ? path + "." + key : path + "[" + jsonQuote(key) + "]"
    }
}

/// A node, where it is in the document and the shared problem list. The generic readers below are inlinable;
/// @usableFromInline on the types they touch is what lets another module specialize them: without it, on a
/// `package` type, `@inlinable` was accepted and silently meant nothing (every Spec field was decoded through
/// the unspecialized generic, its Optional<T> metadata made at run time).
@usableFromInline
package struct JSONReader {
    @usableFromInline
    package let node: JSONNode
    /// Where the node is: its parent's location and its own step from there. A reader's own location is an object
    /// only once it has children (`here`), made once for all of them: most nodes are leaves, and an object for
    /// every member and element read was most of a decode's allocations.
    @usableFromInline
    let parent: JSONLocation?
    @usableFromInline
    let step: JSONLocation.Step
    package let context: JSONDecodingContext

    /// A reader whose path starts as `path`.
    package init(node: JSONNode, path: String, context: JSONDecodingContext) {
        self.init(node: node, parent: nil, step: .start(path), context: context)
    }

    init(node: JSONNode, parent: JSONLocation?, step: JSONLocation.Step, context: JSONDecodingContext) {
        self.node = node
        self.parent = parent
        self.step = step
        self.context = context
    }

    /// The node's jq-style path (`.linux.namespaces[0]`), made when asked.
    package var path: String { JSONLocation.text(of: step, after: parent) }

    /// This node's location, the parent of its children's.
    @usableFromInline
    var here: JSONLocation { JSONLocation(parent: parent, step: step) }

    /// A reader on `node`, this one's member `key` or element `index`; `here` when the caller has made it already.
    @usableFromInline
    func child(_ node: JSONNode, key: String, here: JSONLocation? = nil) -> JSONReader {
        JSONReader(node: node, parent: here ?? self.here, step: .key(key), context: context)
    }

    @usableFromInline
    func child(_ node: JSONNode, index: Int, here: JSONLocation? = nil) -> JSONReader {
        JSONReader(node: node, parent: here ?? self.here, step: .index(index), context: context)
    }

    package var value: JSONValue { node.value }

    package var isNull: Bool {
        if case .null = node.value { return true }
        return false
    }

    /// Records a problem at this node's path and position.
    @usableFromInline
    package func report(_ message: String) {
        context.report(path: path, message: message, offset: node.offset)
    }

    /// The path of member `key` of this node: `.key`, or `["key"]` when the key is not a plain identifier.
    package func path(appendingKey key: String) -> String { JSONLocation.appending(key: key, to: path) }

    package func string() -> String? {
        guard case .string(let s) = node.value else {
            report("expected string")
            return nil
        }
        return s
    }

    package func bool() -> Bool? {
        guard case .bool(let b) = node.value else {
            report("expected boolean")
            return nil
        }
        return b
    }

    /// An integer of type T; a fraction, an exponent, another type or a value out of range are all
    /// reported as "expected integer in min...max" (Go refuses the same inputs).
    package func integer<T: FixedWidthInteger>(_ type: T.Type, reporting: Bool = true) -> T? {
        guard case .number(let text) = node.value, let value = JSONReader.parseInteger(text, as: T.self) else {
            if reporting { report("expected integer in \(T.min)...\(T.max)") }
            return nil
        }
        return value
    }

    /// An integer within `range`, narrower than its type (e.g. oom_score_adj's -1000...1000). One overload per
    /// type callers use, each specializing `integer(_:within:)` here: a generic called from another module runs
    /// unspecialized, through the standard library's integer witnesses (docs/performance.md).
    package func integer(in range: ClosedRange<Int>) -> Int? { integer(Int.self, within: range) }
    package func integer(in range: ClosedRange<UInt32>) -> UInt32? { integer(UInt32.self, within: range) }

    private func integer<T: FixedWidthInteger>(_ type: T.Type, within range: ClosedRange<T>) -> T? {
        guard let value = integer(T.self, reporting: false), range.contains(value) else {
            report("expected integer in \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return value
    }

    package func int64() -> Int64? { integer(Int64.self) }
    package func uint64() -> UInt64? { integer(UInt64.self) }
    package func int32() -> Int32? { integer(Int32.self) }
    package func uint32() -> UInt32? { integer(UInt32.self) }
    package func uint16() -> UInt16? { integer(UInt16.self) }
    package func int() -> Int? { integer(Int.self) }

    package func double() -> Double? {
        guard case .number(let text) = node.value, let value = Double(text), value.isFinite else {
            report("expected number")
            return nil
        }
        return value
    }

    package func array() -> [JSONReader]? {
        var readers: [JSONReader] = []
        return forEachElement { readers.append($0) } ? readers : nil
    }

    /// Each element's reader, in order; false (with the problem reported) when the node is not an array. The
    /// decoders walk elements with it: an array of readers is a type every process would make at run time.
    @discardableResult
    package func forEachElement(_ body: (JSONReader) -> Void) -> Bool {
        guard case .array(let items) = node.value else {
            report("expected array")
            return false
        }
        let here = self.here
        for (index, item) in items.enumerated() { body(child(item, index: index, here: here)) }
        return true
    }

    /// `forEachElement` for arrays of strings: an element that is a string `accept` takes needs no reader (each one
    /// a location object made and freed), and `body` gets the others, to report them. A seccomp profile's names
    /// were hundreds of such objects.
    @discardableResult
    package func forEachElement(acceptingStrings accept: (String) -> Bool, otherwise body: (JSONReader) -> Void) -> Bool {
        guard case .array(let items) = node.value else {
            report("expected array")
            return false
        }
        var here: JSONLocation?
        for (index, item) in items.enumerated() {
            if case .string(let text) = item.value, accept(text) { continue }
            let location = here ?? self.here
            here = location
            body(child(item, index: index, here: location))
        }
        return true
    }

    package func object() -> JSONObjectReader? {
        guard case .object(let members) = node.value else {
            report("expected object")
            return nil
        }
        return JSONObjectReader(reader: self, members: members)
    }

    @inlinable
    package func decode<T: JSONDecodable>(_ type: T.Type) -> T? { T(json: self) }

    /// The elements that decoded; each one that did not has reported its own problem.
    @inlinable
    package func array<T: JSONDecodable>(of type: T.Type) -> [T]? {
        guard case .array(let items) = node.value else {
            report("expected \(T.jsonArrayDescription)")
            return nil
        }
        var result: [T] = []
        result.reserveCapacity(items.count)
        let here = self.here
        for (i, item) in items.enumerated() {
            if let value = T(json: child(item, index: i, here: here)) {
                result.append(value)
            }
        }
        return result
    }

    /// The members that decoded, by key; each one that did not has reported its own problem.
    @inlinable
    package func map<T: JSONDecodable>(of type: T.Type) -> [String: T]? {
        guard case .object(let members) = node.value else {
            report("expected object")
            return nil
        }
        var result: [String: T] = [:]
        let here = self.here
        for member in members {
            let reader = child(member.value, key: member.key, here: here)
            if let value = T(json: reader) { result[member.key] = value }
        }
        return result
    }

    /// `array(of: String.self)`, with no reader made for an element that is a string.
    package func stringArray() -> [String]? {
        guard case .array(let items) = node.value else {
            report("expected \(String.jsonArrayDescription)")
            return nil
        }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        forEachElement(acceptingStrings: { text in
            strings.append(text)
            return true
        }, otherwise: { _ = $0.string() })
        return strings
    }
    package func stringMap() -> [String: String]? { map(of: String.self) }

    static func parseInteger<T: FixedWidthInteger>(_ text: String, as type: T.Type) -> T? {
        var negative = false
        var magnitude: UInt64 = 0
        var digits = 0
        for (i, c) in text.utf8.enumerated() {
            if i == 0 && c == 0x2D {
                negative = true
                continue
            }
            guard c >= 0x30 && c <= 0x39 else { return nil }
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(c - 0x30))
            if o1 || o2 { return nil }
            magnitude = sum
            digits += 1
        }
        guard digits > 0 else { return nil }
        if !negative { return T(exactly: magnitude) }
        if magnitude == 0 { return 0 }
        // Int64.min has no positive counterpart, so negate in the unsigned domain.
        guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
        let signed = magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        return T(exactly: signed)
    }
}

/// The members of a JSON object, looked up by key. Go treats `null` like an absent member, and so do we.
@usableFromInline
package struct JSONObjectReader {
    package let reader: JSONReader
    package let members: [(key: String, value: JSONNode)]
    /// The object's location, made once for every member read.
    @usableFromInline
    let here: JSONLocation

    package init(reader: JSONReader, members: [(key: String, value: JSONNode)]) {
        self.reader = reader
        self.members = members
        here = reader.here
    }

    package var path: String { reader.path }
    package var context: JSONDecodingContext { reader.context }
    package var keys: [String] { members.map(\.key) }

    /// Readers for every member, including null ones, in document order.
    package var entries: [(key: String, reader: JSONReader)] {
        members.map { (key: $0.key, reader: reader.child($0.value, key: $0.key, here: here)) }
    }

    /// True when `key` is present and not null.
    package func contains(_ key: String) -> Bool { optional(key) != nil }

    /// The member, or nil when it is absent or null.
    @usableFromInline
    package func optional(_ key: String) -> JSONReader? {
        guard let node = members.first(where: { $0.key == key })?.value else { return nil }
        if case .null = node.value { return nil }
        return reader.child(node, key: key, here: here)
    }

    /// The member; when absent or null reports "required field is missing" at the member's path.
    @usableFromInline
    package func required(_ key: String) -> JSONReader? {
        if let member = optional(key) { return member }
        reader.context.report(path: reader.path(appendingKey: key), message: "required field is missing", offset: reader.node.offset)
        return nil
    }

    // The generic readers are inlinable: called from OCISpec they are specialized there. Otherwise each call runs
    // generic code (Optional.flatMap and Array<T> through value witnesses; docs/performance.md).
    @inlinable
    package func optional<T: JSONDecodable>(_ key: String, _ type: T.Type) -> T? {
        guard let member = optional(key) else { return nil }
        return T(json: member)
    }

    @inlinable
    package func required<T: JSONDecodable>(_ key: String, _ type: T.Type) -> T? {
        guard let member = required(key) else { return nil }
        return T(json: member)
    }

    /// The array at `key`, empty when absent or null.
    @inlinable
    package func array<T: JSONDecodable>(_ key: String, of type: T.Type) -> [T] {
        optional(key)?.array(of: T.self) ?? []
    }

    /// The object at `key` as a dictionary, empty when absent or null.
    @inlinable
    package func map<T: JSONDecodable>(_ key: String, of type: T.Type) -> [String: T] {
        optional(key)?.map(of: T.self) ?? [:]
    }
}

extension String: JSONDecodable {
    @usableFromInline package init?(json: JSONReader) {
        guard let value = json.string() else { return nil }
        self = value
    }
    @usableFromInline package static var jsonArrayDescription: String { "array of strings" }
}

extension Bool: JSONDecodable {
    @usableFromInline package init?(json: JSONReader) {
        guard let value = json.bool() else { return nil }
        self = value
    }
    @usableFromInline package static var jsonArrayDescription: String { "array of booleans" }
}

extension Double: JSONDecodable {
    @usableFromInline package init?(json: JSONReader) {
        guard let value = json.double() else { return nil }
        self = value
    }
    @usableFromInline package static var jsonArrayDescription: String { "array of numbers" }
}

extension JSONNode: JSONDecodable {
    /// Any value, kept as parsed (for fields that are passed through untouched).
    @usableFromInline package init?(json: JSONReader) { self = json.node }
}

extension Int: JSONDecodable {
    @usableFromInline package init?(json: JSONReader) {
        guard let value = json.integer(Int.self) else { return nil }
        self = value
    }
    @usableFromInline package static var jsonArrayDescription: String { "array of integers" }
}

extension Int64: JSONDecodable {
    @usableFromInline package init?(json: JSONReader) {
        guard let value = json.integer(Int64.self) else { return nil }
        self = value
    }
    @usableFromInline package static var jsonArrayDescription: String { "array of integers" }
}

extension Int32: JSONDecodable {
    @usableFromInline package init?(json: JSONReader) {
        guard let value = json.integer(Int32.self) else { return nil }
        self = value
    }
    @usableFromInline package static var jsonArrayDescription: String { "array of integers" }
}

extension UInt64: JSONDecodable {
    @usableFromInline package init?(json: JSONReader) {
        guard let value = json.integer(UInt64.self) else { return nil }
        self = value
    }
    @usableFromInline package static var jsonArrayDescription: String { "array of integers" }
}

extension UInt32: JSONDecodable {
    @usableFromInline package init?(json: JSONReader) {
        guard let value = json.integer(UInt32.self) else { return nil }
        self = value
    }
    @usableFromInline package static var jsonArrayDescription: String { "array of integers" }
}

extension UInt16: JSONDecodable {
    @usableFromInline package init?(json: JSONReader) {
        guard let value = json.integer(UInt16.self) else { return nil }
        self = value
    }
    @usableFromInline package static var jsonArrayDescription: String { "array of integers" }
}
