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
@usableFromInline
package final class JSONDecodingContext {
    package let document: JSONDocument
    /// The document's tape, which every reader reads.
    @usableFromInline
    let tape: JSONTape
    package private(set) var problems: [JSONError] = []

    package init(document: JSONDocument) {
        self.document = document
        tape = document.tape
    }

    /// A reader on the document's root value, with the empty path.
    package var root: JSONReader { JSONReader(index: 0, context: self) }

    package func report(path: String, message: String, offset: Int?) {
        let position = offset.map { document.position(ofOffset: $0) }
        problems.append(JSONError(path: path, message: message, position: position))
    }

    package func report(_ error: JSONError) {
        problems.append(error)
    }
}


/// jq's spelling of paths (`.linux.namespaces[0]`, `.linux.sysctl["net.ipv4.ip_forward"]`), made only when a
/// problem is reported: an accepted config never spells one.
enum JSONPathText {
    /// `.key`, or `["key"]` when the key is not a plain identifier, after `path`.
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

    /// `[position]` after `path`.
    static func appending(position: Int, to path: String) -> String { path + "[" + DecimalText.of(position) + "]" }
}

/// A value of the document (its entry in the tape) and the shared problem list. The generic readers below are
/// inlinable; @usableFromInline on the types they touch is what lets another module specialize them: without it, on
/// a `package` type, `@inlinable` was accepted and silently meant nothing (every Spec field was decoded through
/// the unspecialized generic, its Optional<T> metadata made at run time).
@usableFromInline
package struct JSONReader {
    /// The value's entry in the context's tape. Where it is in the document (its path) is found from the tape when
    /// a problem is reported: a reader holds no location of its own, so reading a member makes nothing.
    @usableFromInline
    let index: Int
    @usableFromInline
    package let context: JSONDecodingContext

    @usableFromInline
    init(index: Int, context: JSONDecodingContext) {
        self.index = index
        self.context = context
    }

    @usableFromInline
    var entry: JSONTape.Entry { context.tape.entries[index] }

    /// The node's jq-style path (`.linux.namespaces[0]`), made when asked.
    package var path: String { context.tape.path(to: index) }

    /// A reader on the value at `index`: a member or an element of this one.
    @usableFromInline
    func child(_ index: Int) -> JSONReader { JSONReader(index: index, context: context) }

    /// The value as a tree (made on each call), for a value passed through as it is.
    package var node: JSONNode { context.tape.node(at: index) }

    /// Where the value starts in the text.
    package var offset: Int { Int(entry.offset) }

    package var isNull: Bool { entry.kind == .null }
    package var isArray: Bool { entry.kind == .array }
    /// An array's count of elements; nil for any other value.
    package var elementCount: Int? { entry.kind == .array ? Int(entry.first) : nil }

    /// Records a problem at this node's path and position.
    @usableFromInline
    package func report(_ message: String) {
        context.report(path: path, message: message, offset: offset)
    }

    /// The path of member `key` of this node: `.key`, or `["key"]` when the key is not a plain identifier.
    package func path(appendingKey key: String) -> String { JSONPathText.appending(key: key, to: path) }

    package func string() -> String? {
        guard entry.kind == .string else {
            report("expected string")
            return nil
        }
        return context.tape.text(at: index)
    }

    package func bool() -> Bool? {
        switch entry.kind {
        case .true: return true
        case .false: return false
        default:
            report("expected boolean")
            return nil
        }
    }

    /// An integer of type T; a fraction, an exponent, another type or a value out of range are all
    /// reported as "expected integer in min...max" (Go refuses the same inputs).
    package func integer<T: FixedWidthInteger>(_ type: T.Type, reporting: Bool = true) -> T? {
        guard entry.kind == .number, let value = JSONReader.parseInteger(numberText, as: T.self) else {
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
        guard entry.kind == .number, let value = Double(context.tape.text(at: index)), value.isFinite else {
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
        guard entry.kind == .array else {
            report("expected array")
            return false
        }
        context.tape.forEachElement(of: index) { _, element in body(child(element)) }
        return true
    }

    /// `forEachElement` for arrays of strings: an element that is a string `accept` takes needs no reader (each one
    /// a location object made and freed), and `body` gets the others, to report them. A seccomp profile's names
    /// were hundreds of such objects.
    @discardableResult
    package func forEachElement(acceptingStrings accept: (String) -> Bool, otherwise body: (JSONReader) -> Void) -> Bool {
        guard entry.kind == .array else {
            report("expected array")
            return false
        }
        let tape = context.tape
        tape.forEachElement(of: index) { _, element in
            if tape.entries[element].kind == .string, accept(tape.text(at: element)) { return }
            body(child(element))
        }
        return true
    }

    package func object() -> JSONObjectReader? {
        guard entry.kind == .object else {
            report("expected object")
            return nil
        }
        return JSONObjectReader(reader: self)
    }

    @inlinable
    package func decode<T: JSONDecodable>(_ type: T.Type) -> T? { T(json: self) }

    /// The elements that decoded; each one that did not has reported its own problem.
    @inlinable
    package func array<T: JSONDecodable>(of type: T.Type) -> [T]? {
        let entry = self.entry
        guard entry.kind == .array else {
            report("expected \(T.jsonArrayDescription)")
            return nil
        }
        var result: [T] = []
        result.reserveCapacity(Int(entry.first))
        context.tape.forEachElement(of: index) { _, element in
            if let value = T(json: child(element)) {
                result.append(value)
            }
        }
        return result
    }

    /// The members that decoded, by key; each one that did not has reported its own problem.
    @inlinable
    package func map<T: JSONDecodable>(of type: T.Type) -> [String: T]? {
        guard entry.kind == .object else {
            report("expected object")
            return nil
        }
        // Room for every member at once: grown one rehash at a time, an 11-hierarchy cgroupPaths took four.
        var result: [String: T] = [:]
        result.reserveCapacity(Int(entry.first))
        let tape = context.tape
        tape.forEachMember(of: index) { key, value in
            if let decoded = T(json: child(value)) { result[tape.text(at: key)] = decoded }
        }
        return result
    }

    /// `array(of: String.self)`, with no reader made for an element that is a string.
    package func stringArray() -> [String]? {
        guard let count = elementCount else {
            report("expected \(String.jsonArrayDescription)")
            return nil
        }
        var strings: [String] = []
        strings.reserveCapacity(count)
        forEachElement(acceptingStrings: { text in
            strings.append(text)
            return true
        }, otherwise: { _ = $0.string() })
        return strings
    }
    package func stringMap() -> [String: String]? { map(of: String.self) }

    /// The number's text where it lies, not made into a String.
    private var numberText: ArraySlice<UInt8> {
        let entry = self.entry, tape = context.tape
        let range = Int(entry.first)..<Int(entry.first + entry.second)
        return entry.inDecoded ? tape.decoded[range] : tape.bytes[range]
    }

    static func parseInteger<T: FixedWidthInteger>(_ text: ArraySlice<UInt8>, as type: T.Type) -> T? {
        var negative = false
        var magnitude: UInt64 = 0
        var digits = 0
        for (i, c) in zip(0..., text) {
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

    package init(reader: JSONReader) {
        self.reader = reader
    }

    package var path: String { reader.path }
    package var context: JSONDecodingContext { reader.context }

    /// The keys, each once, in document order.
    package var keys: [String] {
        var keys: [String] = []
        let tape = context.tape
        tape.forEachMember(of: reader.index) { key, _ in keys.append(tape.text(at: key)) }
        return keys
    }

    /// Readers for every member, including null ones, in document order.
    package var entries: [(key: String, reader: JSONReader)] {
        var entries: [(key: String, reader: JSONReader)] = []
        let tape = context.tape
        tape.forEachMember(of: reader.index) { key, value in entries.append((key: tape.text(at: key), reader: reader.child(value))) }
        return entries
    }

    /// True when `key` is present and not null.
    package func contains(_ key: String) -> Bool { optional(key) != nil }

    /// The member, or nil when it is absent or null.
    @usableFromInline
    package func optional(_ key: String) -> JSONReader? {
        let tape = context.tape
        guard let value = tape.member(key, of: reader.index), tape.entries[value].kind != .null else { return nil }
        return reader.child(value)
    }

    /// The member; when absent or null reports "required field is missing" at the member's path.
    @usableFromInline
    package func required(_ key: String) -> JSONReader? {
        if let member = optional(key) { return member }
        reader.context.report(path: reader.path(appendingKey: key), message: "required field is missing", offset: reader.offset)
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
