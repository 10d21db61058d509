// The thin bridge to yajl: the only file of the JSON module that touches unsafe pointers.
import CYajl
import Sys

// MARK: - Parser

/// Builds a JSONNode tree from yajl's callback parser.
final class YajlParser {
    private struct Frame {
        var isObject: Bool
        var start: Int
        /// An array's elements, or an object's members in their first order.
        var items: [JSONNode] = []
        var members: [(key: String, value: JSONNode)] = []
        /// Where each key is, made only once an object has more keys than a scan of `members` handles cheaply: a
        /// config's objects hold a few keys each, and hashing every key cost more than the scan.
        var keyIndex: [String: Int]?
        var pendingKey: String = ""

        static let keysScanned = 16

        init(isObject: Bool, start: Int) {
            self.isObject = isObject
            self.start = start
            // Most of a config's objects and arrays hold a few values: room for them at once, not grown 1, 2, 4, 8.
            if isObject { members.reserveCapacity(8) } else { items.reserveCapacity(4) }
        }

        /// The index of `key` among the members so far.
        mutating func index(of key: String) -> Int? {
            if let keyIndex { return keyIndex[key] }
            if members.count < Self.keysScanned { return members.firstIndex { $0.key == key } }
            var index: [String: Int] = [:]
            for (position, member) in members.enumerated() where index[member.key] == nil { index[member.key] = position }
            keyIndex = index
            return index[key]
        }

        /// Adds a finished value: an array's next element, or the member under the pending key, where a repeated
        /// key replaces the earlier value (the last one wins, as in every JSON reader we follow). True when it did.
        mutating func add(_ node: JSONNode) -> Bool {
            guard isObject else {
                items.append(node)
                return false
            }
            if let existing = index(of: pendingKey) {
                members[existing].value = node
                return true
            } else {
                keyIndex?[pendingKey] = members.count
                members.append((key: pendingKey, value: node))
            }
            return false
        }
    }

    private let input: [UInt8]
    private let maxDepth: Int
    private var handle: yajl_handle?
    /// yajl_complete_parse feeds yajl a private one-byte buffer, so its offsets are not ours.
    private var finishing = false
    /// End offset of the last token that produced a callback; the next value starts after whitespace, ',' or ':'.
    private var lastEnd = 0
    private var stack: [Frame] = []
    private var root: JSONNode?
    private var cancelReason: JSONError?
    private var sawDuplicateKey = false

    private init(input: [UInt8], maxDepth: Int) {
        self.input = input
        self.maxDepth = maxDepth
    }

    /// The tree, and whether some object named a key twice.
    static func parse(_ bytes: [UInt8], maxDepth: Int) throws(JSONError) -> (root: JSONNode, duplicateKeys: Bool) {
        let builder = YajlParser(input: bytes, maxDepth: maxDepth)
        if let error = builder.run() { throw error }
        guard let root = builder.root else {
            throw JSONError(message: "parse error: premature EOF", position: JSONDocument.position(ofOffset: bytes.count, in: bytes))
        }
        return (root, builder.sawDuplicateKey)
    }

    private func run() -> JSONError? {
        var callbacks = yajl_callbacks(
            yajl_null: { ctx in YajlParser.from(ctx).scalar(.null) },
            yajl_boolean: { ctx, value in YajlParser.from(ctx).scalar(.bool(value != 0)) },
            yajl_integer: nil,
            yajl_double: nil,
            yajl_number: { ctx, text, length in
                let raw = UnsafeRawBufferPointer(start: text, count: length)
                return YajlParser.from(ctx).scalar(.number(String(decoding: raw, as: UTF8.self)))
            },
            yajl_string: { ctx, text, length in
                let raw = UnsafeRawBufferPointer(start: text, count: length)
                return YajlParser.from(ctx).scalar(.string(String(decoding: raw, as: UTF8.self)))
            },
            yajl_start_map: { ctx in YajlParser.from(ctx).open(isObject: true) },
            yajl_map_key: { ctx, text, length in
                let raw = UnsafeRawBufferPointer(start: text, count: length)
                return YajlParser.from(ctx).key(String(decoding: raw, as: UTF8.self))
            },
            yajl_end_map: { ctx in YajlParser.from(ctx).close() },
            yajl_start_array: { ctx in YajlParser.from(ctx).open(isObject: false) },
            yajl_end_array: { ctx in YajlParser.from(ctx).close() }
        )
        let context = Unmanaged.passUnretained(self).toOpaque()
        return withExtendedLifetime(self) { () -> JSONError? in
            withUnsafePointer(to: &callbacks) { callbacksPointer -> JSONError? in
                guard let handle = yajl_alloc(callbacksPointer, nil, context) else {
                    return JSONError(message: "out of memory")
                }
                self.handle = handle
                defer {
                    yajl_free(handle)
                    self.handle = nil
                }
                if !input.isEmpty {
                    let status = input.withUnsafeBufferPointer { yajl_parse(handle, $0.baseAddress, $0.count) }
                    if status != yajl_status_ok {
                        return failure(handle, status: status, offset: Int(yajl_get_bytes_consumed(handle)))
                    }
                }
                finishing = true
                let status = yajl_complete_parse(handle)
                if status != yajl_status_ok {
                    return failure(handle, status: status, offset: input.count)
                }
                return nil
            }
        }
    }

    private func failure(_ handle: yajl_handle, status: yajl_status, offset: Int) -> JSONError {
        if status == yajl_status_client_canceled, let cancelReason { return cancelReason }
        var message = "parse error"
        if let text = yajl_get_error(handle, 0, nil, 0) {
            message = YajlParser.oneLine(String(cString: text))
            yajl_free_error(handle, text)
        }
        return JSONError(message: message, position: JSONDocument.position(ofOffset: offset, in: input))
    }

    /// yajl's messages end in ".\n"; ours are one line without a trailing period.
    private static func oneLine(_ text: String) -> String {
        var line = Substring(text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first ?? "parse error")
        while let last = line.last, last == "." || last == " " { line = line.dropLast() }
        return line.isEmpty ? "parse error" : String(line)
    }

    private static func from(_ context: UnsafeMutableRawPointer?) -> YajlParser {
        Unmanaged<YajlParser>.fromOpaque(context!).takeUnretainedValue()
    }

    private var consumed: Int {
        guard !finishing, let handle else { return input.count }
        return Int(yajl_get_bytes_consumed(handle))
    }

    private func tokenStart() -> Int {
        var i = lastEnd
        while i < input.count {
            switch input[i] {
            case 0x20, 0x09, 0x0A, 0x0D, 0x2C, 0x3A: i += 1
            default: return i
            }
        }
        return min(lastEnd, input.count)
    }

    private func scalar(_ value: JSONValue) -> Int32 {
        let start = tokenStart()
        lastEnd = consumed
        insert(JSONNode(value: value, offset: start))
        return 1
    }

    private func key(_ key: String) -> Int32 {
        lastEnd = consumed
        if !stack.isEmpty { stack[stack.count - 1].pendingKey = key }
        return 1
    }

    private func open(isObject: Bool) -> Int32 {
        let start = tokenStart()
        lastEnd = consumed
        if stack.count >= maxDepth {
            cancelReason = JSONError(
                message: "nesting depth exceeds \(maxDepth)",
                position: JSONDocument.position(ofOffset: start, in: input))
            return 0
        }
        stack.append(Frame(isObject: isObject, start: start))
        return 1
    }

    private func close() -> Int32 {
        lastEnd = consumed
        guard let frame = stack.popLast() else { return 0 }
        let value: JSONValue = frame.isObject ? .object(frame.members) : .array(frame.items)
        insert(JSONNode(value: value, offset: frame.start))
        return 1
    }

    private func insert(_ node: JSONNode) {
        guard !stack.isEmpty else {
            root = node
            return
        }
        // One access to the frame for the whole change: each `stack[top]` of a class's property is checked apart.
        if stack[stack.count - 1].add(node) { sawDuplicateKey = true }
    }
}

// MARK: - Generator

/// Owns a yajl_gen handle; JSONWriter is the public face.
final class YajlGenerator {
    private let handle: yajl_gen
    /// The first error yajl reported, e.g. a key outside an object; later calls are still attempted.
    private(set) var firstError: String?

    init() {
        guard let handle = yajl_gen_alloc(nil) else { fatalError("yajl_gen_alloc: out of memory") }
        self.handle = handle
        // Swift strings are valid UTF-8 already; validation guards against a future bytes-taking API.
        _ = cyajl_gen_validate_utf8(handle, 1)
    }

    deinit { yajl_gen_free(handle) }

    private func check(_ status: yajl_gen_status, _ what: String) {
        guard status != yajl_gen_status_ok, firstError == nil else { return }
        let reason: String
        switch status {
        case yajl_gen_keys_must_be_strings: reason = "object keys must be strings"
        case yajl_max_depth_exceeded: reason = "nesting too deep"
        case yajl_gen_in_error_state: reason = "generator in error state"
        case yajl_gen_generation_complete: reason = "document already complete"
        case yajl_gen_invalid_number: reason = "invalid number"
        case yajl_gen_invalid_string: reason = "invalid utf-8 in string"
        default: reason = "status \(status.rawValue)"
        }
        firstError = "\(what): \(reason)"
    }

    func beginObject() { check(yajl_gen_map_open(handle), "begin object") }
    func endObject() { check(yajl_gen_map_close(handle), "end object") }
    func beginArray() { check(yajl_gen_array_open(handle), "begin array") }
    func endArray() { check(yajl_gen_array_close(handle), "end array") }
    func null() { check(yajl_gen_null(handle), "null") }
    func bool(_ value: Bool) { check(yajl_gen_bool(handle, value ? 1 : 0), "bool") }
    /// Formatted here, not by yajl_gen_integer: that one is sprintf, whose code and tables are pages every
    /// `create` would map for a few integers (docs/performance.md).
    func int(_ value: Int64) { number(DecimalText.of(value), what: "integer") }

    func number(_ text: String, what: String = "number") {
        var text = text
        let status = text.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { yajl_gen_number(handle, $0.baseAddress, $0.count) }
        }
        check(status, what)
    }

    func string(_ value: String) {
        var value = value
        let status = value.withUTF8 { utf8 -> yajl_gen_status in
            if utf8.isEmpty {
                // yajl's UTF-8 validator refuses a NULL pointer even with length 0.
                var empty: UInt8 = 0
                return yajl_gen_string(handle, &empty, 0)
            }
            return yajl_gen_string(handle, utf8.baseAddress, utf8.count)
        }
        check(status, "string")
    }

    var bytes: [UInt8] {
        var buffer: UnsafePointer<UInt8>?
        var length = 0
        guard yajl_gen_get_buf(handle, &buffer, &length) == yajl_gen_status_ok, let buffer else { return [] }
        return Array(UnsafeBufferPointer(start: buffer, count: length))
    }
}
