import Sys
/// A value that can write itself with a JSONWriter.
@usableFromInline
package protocol JSONEncodable {
    func encode(to writer: JSONWriter)
}

/// Streaming JSON writer on yajl_gen. yajl escapes strings; the pretty layout is ours so that it matches
/// Go's json.MarshalIndent with two spaces (yajl's beautifier prints empty containers over several lines).
@usableFromInline
package final class JSONWriter {
    private let generator = YajlGenerator()
    package let pretty: Bool

    package init(pretty: Bool = false) {
        self.pretty = pretty
    }

    /// The text written so far: compact, or indented by two spaces without a trailing newline when `pretty`.
    package var bytes: [UInt8] {
        let compact = generator.bytes
        return pretty ? JSONWriter.indent(compact) : compact
    }

    /// The first misuse yajl reported (e.g. a value where a key was expected), nil when the output is valid so far.
    package var error: String? { generator.firstError }

    @usableFromInline
    package func beginObject() { generator.beginObject() }
    @usableFromInline
    package func endObject() { generator.endObject() }
    @usableFromInline
    package func beginArray() { generator.beginArray() }
    @usableFromInline
    package func endArray() { generator.endArray() }
    @usableFromInline
    package func key(_ key: String) { generator.string(key) }
    package func string(_ value: String) { generator.string(value) }
    package func int(_ value: Int64) { generator.int(value) }
    package func uint(_ value: UInt64) { generator.number(DecimalText.of(value)) }

    /// `"key": {"a": 1, "b": 2}` in the given order: the counters of stats documents.
    package func counters(_ key: String, _ fields: [(String, UInt64)]) {
        self.key(key)
        beginObject()
        for (name, value) in fields { self.key(name); uint(value) }
        endObject()
    }
    package func bool(_ value: Bool) { generator.bool(value) }
    package func null() { generator.null() }

    /// Non-finite values have no JSON form and are written as null.
    package func double(_ value: Double) {
        if value.isFinite { generator.number(value.description) } else { generator.null() }
    }

    /// Writes already-valid JSON number text (e.g. a JSONValue.number kept from parsing).
    package func number(_ text: String) { generator.number(text) }

    @inlinable
    package func value<T: JSONEncodable>(_ value: T) { value.encode(to: self) }

    /// Writes a parsed value back out.
    package func value(_ node: JSONNode) {
        switch node.value {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let text): number(text)
        case .string(let s): string(s)
        case .array(let items):
            beginArray()
            for item in items { value(item) }
            endArray()
        case .object(let members):
            beginObject()
            for member in members {
                key(member.key)
                value(member.value)
            }
            endObject()
        }
    }

    /// `key: value`.
    @inlinable
    package func field<T: JSONEncodable>(_ key: String, _ value: T) {
        self.key(key)
        value.encode(to: self)
    }

    /// `key: value`, or nothing when the value is nil (Go's omitempty on pointers).
    @inlinable
    package func field<T: JSONEncodable>(_ key: String, _ value: T?) {
        guard let value else { return }
        field(key, value)
    }

    /// `key: value`, or nothing when the collection is empty (Go's omitempty on slices and maps).
    @inlinable
    package func field<C: Collection & JSONEncodable>(_ key: String, nonEmpty value: C) {
        guard !value.isEmpty else { return }
        field(key, value)
    }

    /// `key: true`, or nothing when false (Go's omitempty on bool).
    package func field(_ key: String, ifTrue value: Bool) {
        guard value else { return }
        field(key, true)
    }

    /// Re-indents compact JSON: two spaces per level, `"key": value`, `[]`/`{}` for empty containers.
    static func indent(_ compact: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(compact.count * 2)
        var depth = 0
        var inString = false
        var escaped = false
        func newline() {
            out.append(0x0A)
            for _ in 0..<max(depth * 2, 0) { out.append(0x20) }
        }
        var i = 0
        while i < compact.count {
            let b = compact[i]
            i += 1
            if inString {
                out.append(b)
                if escaped {
                    escaped = false
                } else if b == 0x5C {
                    escaped = true
                } else if b == 0x22 {
                    inString = false
                }
                continue
            }
            switch b {
            case 0x22:
                inString = true
                out.append(b)
            case 0x7B, 0x5B:
                out.append(b)
                if i < compact.count, compact[i] == 0x7D || compact[i] == 0x5D {
                    out.append(compact[i])
                    i += 1
                } else {
                    depth += 1
                    newline()
                }
            case 0x7D, 0x5D:
                depth -= 1
                newline()
                out.append(b)
            case 0x2C:
                out.append(b)
                newline()
            case 0x3A:
                out.append(b)
                out.append(0x20)
            default:
                out.append(b)
            }
        }
        return out
    }
}

extension String: JSONEncodable {
    @usableFromInline package func encode(to writer: JSONWriter) { writer.string(self) }
}

extension Bool: JSONEncodable {
    @usableFromInline package func encode(to writer: JSONWriter) { writer.bool(self) }
}

extension Int: JSONEncodable {
    @usableFromInline package func encode(to writer: JSONWriter) { writer.int(Int64(self)) }
}

extension Int64: JSONEncodable {
    @usableFromInline package func encode(to writer: JSONWriter) { writer.int(self) }
}

extension Int32: JSONEncodable {
    @usableFromInline package func encode(to writer: JSONWriter) { writer.int(Int64(self)) }
}

extension UInt64: JSONEncodable {
    @usableFromInline package func encode(to writer: JSONWriter) { writer.uint(self) }
}

extension UInt32: JSONEncodable {
    @usableFromInline package func encode(to writer: JSONWriter) { writer.int(Int64(self)) }
}

extension UInt16: JSONEncodable {
    @usableFromInline package func encode(to writer: JSONWriter) { writer.int(Int64(self)) }
}

extension Double: JSONEncodable {
    @usableFromInline package func encode(to writer: JSONWriter) { writer.double(self) }
}

extension JSONNode: JSONEncodable {
    @usableFromInline package func encode(to writer: JSONWriter) { writer.value(self) }
}

// The generic encoders are inlinable, so each caller gets a copy specialized for its types: unspecialized,
// they walk collections through witness tables into the standard library's unarranged code (docs/performance.md).
extension Array: JSONEncodable where Element: JSONEncodable {
    @inlinable
    package func encode(to writer: JSONWriter) {
        writer.beginArray()
        for element in self { element.encode(to: writer) }
        writer.endArray()
    }
}

extension Dictionary: JSONEncodable where Key == String, Value: JSONEncodable {
    /// Keys sorted, as Go's encoding/json does, so that output is reproducible.
    @inlinable
    package func encode(to writer: JSONWriter) {
        writer.beginObject()
        for key in keys.sorted() {
            writer.key(key)
            self[key]!.encode(to: writer)
        }
        writer.endObject()
    }
}
