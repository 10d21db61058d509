import Sys

/// A parsed JSON text as one flat array of entries in document order: a container's entry is followed by its
/// contents (an object's as key, value, key, value...), and a string, number or key is a range of the source bytes.
/// Nothing is made per value: a config's tree of arrays, member tuples and strings was most of its parse (every
/// object an array and every string a String, most never read), and a decoder reads a member by comparing bytes.
/// Immutable once built, so readers share it by reference.
@usableFromInline
package final class JSONTape: Sendable {
    @usableFromInline
    enum Kind: UInt8, Sendable {
        case null, `false`, `true`, number, string, key, array, object
    }

    /// One value, or one object key. 16 bytes, no references: an array of them costs no retains to walk.
    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var kind: Kind
        /// The text lies in `decoded` (a string yajl unescaped, or a token it lexed from its own buffer), not in
        /// the source.
        @usableFromInline var inDecoded: Bool
        /// Where the value starts in the source, for line:column.
        @usableFromInline var offset: UInt32
        /// A string's, number's or key's text start; a container's count of elements or members.
        @usableFromInline var first: UInt32
        /// The text's length; a container's count of entries after its own that it holds.
        @usableFromInline var second: UInt32

        @usableFromInline
        init(kind: Kind, offset: UInt32, inDecoded: Bool = false, first: UInt32 = 0, second: UInt32 = 0) {
            self.kind = kind
            self.inDecoded = inDecoded
            self.offset = offset
            self.first = first
            self.second = second
        }

        @usableFromInline var isContainer: Bool { kind == .array || kind == .object }
    }

    @usableFromInline let entries: [Entry]
    /// The source text.
    package let bytes: [UInt8]
    /// Text that is not in the source as written: unescaped strings and keys.
    @usableFromInline let decoded: [UInt8]
    /// Some object names a key twice: lookups then take the last value, and listings each key once, in its first place.
    package let hasDuplicateKeys: Bool

    init(entries: [Entry], bytes: [UInt8], decoded: [UInt8], hasDuplicateKeys: Bool) {
        self.entries = entries
        self.bytes = bytes
        self.decoded = decoded
        self.hasDuplicateKeys = hasDuplicateKeys
    }

    /// The entry after the value at `index` and everything it holds.
    @usableFromInline
    func next(after index: Int) -> Int { Self.next(after: index, in: entries) }

    /// The text of a string, number or key.
    @usableFromInline
    func text(at index: Int) -> String { Self.text(of: entries[index], source: bytes, decoded: decoded) }

    // The rules below are the parser's too, on the entries it has made so far.

    /// The entry after the finished value at `index` in `entries`, its contents included.
    @inline(__always)
    static func next(after index: Int, in entries: [Entry]) -> Int {
        let entry = entries[index]
        return index + 1 + (entry.isContainer ? Int(entry.second) : 0)
    }

    /// A string's, number's or key's text, from the buffer it lies in.
    @inline(__always)
    static func text(of entry: Entry, source: [UInt8], decoded: [UInt8]) -> String {
        let range = textRange(of: entry)
        return entry.inDecoded ? String(decoding: decoded[range], as: UTF8.self) : String(decoding: source[range], as: UTF8.self)
    }

    /// Where a string's, number's or key's text lies, in the source or in `decoded` as the entry says.
    @inline(__always)
    static func textRange(of entry: Entry) -> Range<Int> { Int(entry.first)..<(Int(entry.first) + Int(entry.second)) }

    /// Whether two keys are the same bytes, wherever each lies.
    @inline(__always)
    static func sameText(_ x: Entry, _ y: Entry, source: [UInt8], decoded: [UInt8]) -> Bool {
        guard x.second == y.second else { return false }
        let xRange = textRange(of: x), yRange = textRange(of: y)
        switch (x.inDecoded, y.inDecoded) {
        case (false, false): return Bytes.equal(source, xRange, source, yRange)
        case (false, true): return Bytes.equal(source, xRange, decoded, yRange)
        case (true, false): return Bytes.equal(decoded, xRange, source, yRange)
        case (true, true): return Bytes.equal(decoded, xRange, decoded, yRange)
        }
    }

    /// Whether the key at `index` is `key`, compared where its bytes lie. Each array is passed as it is held (a
    /// conditional expression choosing one would be a copy: a retain and a release per key compared).
    @usableFromInline
    func key(at index: Int, is key: String) -> Bool {
        let entry = entries[index]
        return entry.inDecoded
            ? Bytes.equal(decoded, from: Int(entry.first), count: Int(entry.second), key)
            : Bytes.equal(bytes, from: Int(entry.first), count: Int(entry.second), key)
    }

    /// Whether the keys at `a` and `b` are the same text.
    func key(at a: Int, equalsKeyAt b: Int) -> Bool {
        Self.sameText(entries[a], entries[b], source: bytes, decoded: decoded)
    }

    /// The value of member `key` of the object at `index` (the last one when the key is there twice); nil when
    /// absent.
    @usableFromInline
    func member(_ key: String, of index: Int) -> Int? {
        let length = key.utf8.count
        var found: Int?
        var at = index + 1
        for _ in 0..<entries[index].first {
            // Most keys differ in length: no bytes compared for them.
            if Int(entries[at].second) == length, self.key(at: at, is: key) {
                found = at + 1
                if !hasDuplicateKeys { break }
            }
            at = next(after: at + 1)
        }
        return found
    }

    /// Each distinct member of the object at `index` in its first place, with its key's entry and its last value's.
    @usableFromInline
    func forEachMember(of index: Int, _ body: (_ key: Int, _ value: Int) -> Void) {
        var at = index + 1
        for _ in 0..<entries[index].first {
            if !hasDuplicateKeys {
                body(at, at + 1)
            } else if !isRepeated(keyAt: at, in: index) {
                body(at, lastValue(ofKeyAt: at))
            }
            at = next(after: at + 1)
        }
    }

    /// The jq-style path of the value at `index` (`.linux.namespaces[0]`): from the root down, into the member or
    /// element whose entries hold it. Made only for a problem's report.
    func path(to index: Int) -> String {
        var text = ""
        var at = 0
        descending: while at != index {
            let container = entries[at]
            guard container.isContainer, index > at, index <= at + Int(container.second) else { break }
            var child = at + 1
            for position in 0..<Int(container.first) {
                let value = container.kind == .object ? child + 1 : child
                let end = next(after: value)
                if index >= value && index < end {
                    text = container.kind == .object
                        ? JSONPathText.appending(key: self.text(at: child), to: text)
                        : JSONPathText.appending(position: position, to: text)
                    at = value
                    continue descending
                }
                child = end
            }
            break
        }
        return text
    }

    /// Each element of the array at `index`, with its position.
    @usableFromInline
    func forEachElement(of index: Int, _ body: (_ position: Int, _ element: Int) -> Void) {
        var at = index + 1
        for position in 0..<Int(entries[index].first) {
            body(position, at)
            at = next(after: at)
        }
    }

    /// Whether an earlier member of the object at `object` has the key at `key`.
    private func isRepeated(keyAt key: Int, in object: Int) -> Bool {
        var at = object + 1
        while at < key {
            if self.key(at: at, equalsKeyAt: key) { return true }
            at = next(after: at + 1)
        }
        return false
    }

    /// The value of the last member, from the key at `key` on, that has that key.
    private func lastValue(ofKeyAt key: Int) -> Int {
        var value = key + 1
        var at = next(after: key + 1)
        let end = enclosingEnd(ofMemberAt: key)
        while at < end {
            if self.key(at: at, equalsKeyAt: key) { value = at + 1 }
            at = next(after: at + 1)
        }
        return value
    }

    /// Where the object holding the member whose key is at `key` ends.
    private func enclosingEnd(ofMemberAt key: Int) -> Int {
        var at = key - 1
        while at >= 0 {
            let entry = entries[at]
            if entry.kind == .object, at + Int(entry.second) >= key { return at + 1 + Int(entry.second) }
            at -= 1
        }
        return entries.count
    }

    /// The value at `index` as a tree, for callers that want one (tests, the fuzzer, a value passed through).
    func node(at index: Int) -> JSONNode {
        let entry = entries[index]
        let value: JSONValue
        switch entry.kind {
        case .null: value = .null
        case .false: value = .bool(false)
        case .true: value = .bool(true)
        case .number: value = .number(text(at: index))
        case .string, .key: value = .string(text(at: index))
        case .array:
            var items: [JSONNode] = []
            forEachElement(of: index) { _, element in items.append(node(at: element)) }
            value = .array(items)
        case .object:
            var members: [(key: String, value: JSONNode)] = []
            forEachMember(of: index) { key, value in members.append((key: text(at: key), value: node(at: value))) }
            value = .object(members)
        }
        return JSONNode(value: value, offset: Int(entry.offset))
    }

    /// This tape without the member at `path` (keys from the root; every member of that key when it is there
    /// twice), its key and value's entries cut and the containers around them shrunk; nil when there is no such
    /// member.
    func removing(_ path: [String]) -> JSONTape? {
        guard let last = path.last else { return nil }
        var containers: [Int] = []
        var object = 0
        for key in path.dropLast() {
            guard entries[object].kind == .object, let value = member(key, of: object) else { return nil }
            containers.append(object)
            object = value
        }
        guard entries[object].kind == .object else { return nil }
        containers.append(object)
        var keys: [Int] = []
        var at = object + 1
        for _ in 0..<entries[object].first {
            if key(at: at, is: last) { keys.append(at) }
            at = next(after: at + 1)
        }
        guard !keys.isEmpty else { return nil }
        var kept = entries
        var removedEntries = 0
        var removedMembers: UInt32 = 0
        // From the last member back, so that the earlier ones' indices stay where they were.
        for key in keys.reversed() {
            let end = next(after: key + 1)
            kept.removeSubrange(key..<end)
            removedEntries += end - key
            removedMembers += 1
        }
        for container in containers { kept[container].second -= UInt32(removedEntries) }
        kept[object].first -= removedMembers
        return JSONTape(entries: kept, bytes: bytes, decoded: decoded, hasDuplicateKeys: hasDuplicateKeys)
    }
}
