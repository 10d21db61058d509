/// A 1-based line and column in a JSON text; columns count Unicode scalars, not bytes.
package struct JSONPosition: Sendable, Equatable, CustomStringConvertible {
    package var line: Int
    package var column: Int

    package init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    package var description: String { "\(line):\(column)" }
}

/// One problem in a JSON document: a syntax error (empty path) or a decoding problem at a JSON path.
package struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// jq-style path such as `.process.args[2]`; empty for the document itself and for syntax errors.
    package var path: String
    package var message: String
    package var position: JSONPosition?

    package init(path: String = "", message: String, position: JSONPosition? = nil) {
        self.path = path
        self.message = message
        self.position = position
    }

    package var description: String { path.isEmpty ? message : "\(path): \(message)" }

    /// `description` followed by ` (line L, column C)` when the position is known, for `check`-style listings.
    package var descriptionWithPosition: String {
        guard let position else { return description }
        return "\(description) (line \(position.line), column \(position.column))"
    }
}

/// A parsed JSON value. Numbers keep their source text so that 64-bit integers survive exactly.
@usableFromInline
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONNode])
    /// Members in document order; a repeated key keeps its first place and its last value (as Go does).
    case object([(key: String, value: JSONNode)])

    @usableFromInline
    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// A short name of the kind of value, for messages.
    package var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// A value and the byte offset in the source where it starts.
@usableFromInline
package struct JSONNode: Sendable, Equatable {
    @usableFromInline
    package var value: JSONValue
    package var offset: Int

    package init(value: JSONValue, offset: Int = 0) {
        self.value = value
        self.offset = offset
    }

    /// Equality of values only; offsets are where they came from, not what they are.
    @usableFromInline
    package static func == (lhs: JSONNode, rhs: JSONNode) -> Bool { lhs.value == rhs.value }

    /// The member `key` of an object (nil when absent or not an object).
    package subscript(key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        return members.first { $0.key == key }?.value
    }
}

/// A parsed JSON text: its source bytes and the tape over them (JSONTape).
package struct JSONDocument: Sendable {
    /// Nesting deeper than this is refused: no real config comes close, and it bounds recursion over the tree.
    package static let maxDepth = 256

    @usableFromInline
    let tape: JSONTape

    init(tape: JSONTape) {
        self.tape = tape
    }

    /// The source text.
    package var bytes: [UInt8] { tape.bytes }
    /// Some object of the text names a key twice (the last value is the one read).
    package var hasDuplicateKeys: Bool { tape.hasDuplicateKeys }

    /// The whole document as a tree of values (made on each call: the decoders read the tape).
    package var root: JSONNode { tape.node(at: 0) }

    package static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONDocument {
        JSONDocument(tape: try YajlParser.parse(bytes, maxDepth: maxDepth))
    }

    package static func parse(_ text: String) throws(JSONError) -> JSONDocument {
        try parse(Array(text.utf8))
    }

    package func position(ofOffset offset: Int) -> JSONPosition {
        JSONDocument.position(ofOffset: offset, in: bytes)
    }

    /// Where the value of the member at `path` (keys from the root) starts in the text; nil when there is none.
    package func offset(ofMember path: [String]) -> Int? {
        var index = 0
        for key in path {
            guard tape.entries[index].kind == .object, let value = tape.member(key, of: index) else { return nil }
            index = value
        }
        return Int(tape.entries[index].offset)
    }

    /// The text of the object or array that starts at `offset`, up to its closing bracket: the document parsed, so
    /// the brackets outside strings match. nil when no object or array starts there.
    package func containerText(at offset: Int) -> ArraySlice<UInt8>? {
        guard offset >= 0, offset < bytes.count, bytes[offset] == UInt8(ascii: "{") || bytes[offset] == UInt8(ascii: "[")
        else { return nil }
        var depth = 0
        var inString = false
        var i = offset
        while i < bytes.count {
            let byte = bytes[i]
            if inString {
                if byte == UInt8(ascii: "\\") { i += 1 } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { return bytes[offset...i] }
            }
            i += 1
        }
        return nil
    }

    /// This document without the object member at `path` (keys from the root), the text and the other offsets as
    /// they were; the same document when there is no such member.
    package func removingMember(_ path: [String]) -> JSONDocument {
        tape.removing(path).map(JSONDocument.init(tape:)) ?? self
    }

    /// The text without the object or array member at `path`, its key and one comma next to it cut out, the rest
    /// byte for byte: what `removingMember` leaves, written without encoding the tree again. nil when it cannot
    /// be cut that way: no such member, a key spelled with escapes, or a text naming some key twice (a cut of the
    /// last one would leave the earlier in place).
    package func textWithoutMember(_ path: [String]) -> [UInt8]? {
        guard let key = path.last, let offset = offset(ofMember: path), let valueText = containerText(at: offset) else {
            return nil
        }
        return textWithout(member: key, valueText: valueText)
    }

    /// `textWithoutMember` for a member whose value's text (`containerText`) the caller has already.
    package func textWithout(member key: String, valueText: ArraySlice<UInt8>) -> [UInt8]? {
        guard !hasDuplicateKeys, !key.isEmpty, !valueText.isEmpty else { return nil }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        // Back from the value: `"key"`, `:` and the blanks around them, as the key is written plain.
        var at = valueText.startIndex - 1
        while at >= 0 && isSpace(bytes[at]) { at -= 1 }
        guard at >= 0, bytes[at] == UInt8(ascii: ":") else { return nil }
        at -= 1
        while at >= 0 && isSpace(bytes[at]) { at -= 1 }
        let quoted = [UInt8(ascii: "\"")] + Array(key.utf8) + [UInt8(ascii: "\"")]
        let keyStart = at - quoted.count + 1
        guard keyStart > 0, bytes[keyStart...at].elementsEqual(quoted) else { return nil }
        var before = keyStart - 1
        while before >= 0 && isSpace(bytes[before]) { before -= 1 }
        guard before >= 0 else { return nil }
        var cut = keyStart...valueText.endIndex - 1
        if bytes[before] == UInt8(ascii: ",") {
            cut = before...cut.upperBound
        } else if bytes[before] == UInt8(ascii: "{") {
            // The first member: the comma after it goes instead, if there is one.
            var after = cut.upperBound + 1
            while after < bytes.count && isSpace(bytes[after]) { after += 1 }
            if after < bytes.count && bytes[after] == UInt8(ascii: ",") { cut = cut.lowerBound...after }
        } else {
            return nil
        }
        var text = Array(bytes[..<cut.lowerBound])
        text += bytes[(cut.upperBound + 1)...]
        return text
    }

    static func position(ofOffset offset: Int, in bytes: [UInt8]) -> JSONPosition {
        let end = min(max(offset, 0), bytes.count)
        var line = 1
        var column = 1
        var i = 0
        while i < end {
            let b = bytes[i]
            if b == 0x0A {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                // UTF-8 continuation bytes belong to the previous scalar's column.
                column += 1
            }
            i += 1
        }
        return JSONPosition(line: line, column: column)
    }
}
