// The thin bridge to yajl: the only file of the JSON module that touches unsafe pointers.
import CYajl
import Sys

// MARK: - Parser

/// Builds a JSONTape from yajl's callback parser: an entry per value and key, text left where it is in the input.
final class YajlParser {
    private typealias Entry = JSONTape.Entry

    private let input: [UInt8]
    private let maxDepth: Int
    private var handle: yajl_handle?
    /// Where `input` is while yajl_parse runs: a string or number whose bytes yajl hands over from there is
    /// kept as a range of the input; one from anywhere else (unescaped, or lexed at the end from yajl's own
    /// buffer) is copied to `decoded`.
    private var inputStart: UnsafePointer<UInt8>?
    /// yajl_complete_parse feeds yajl a private one-byte buffer, so its offsets are not ours.
    private var finishing = false
    // The builder's state is touched by every callback, never by two at once (yajl calls back one at a time on this
    // thread): no exclusivity check at run time, which cost more than the appends themselves.
    /// End offset of the last token that produced a callback; the next value starts after whitespace, ',' or ':'.
    @exclusivity(unchecked) private var lastEnd = 0
    @exclusivity(unchecked) private var entries: [Entry] = []
    @exclusivity(unchecked) private var decoded: [UInt8] = []
    /// The entries of the containers still open, innermost last, and how many elements or members each has so far.
    @exclusivity(unchecked) private var open: [Int] = []
    @exclusivity(unchecked) private var counts: [Int] = []
    /// The keys of an open object with more members than a scan of them handles cheaply, by its entry: as bytes,
    /// the way the tape compares keys (Strings would take canonically equivalent spellings for one key). Made on
    /// the first such object: a config has none.
    private var manyKeys: [Int: Set<[UInt8]>]?
    private var cancelReason: JSONError?
    private var sawDuplicateKey = false

    /// Objects up to this many members are searched for a repeated key by a scan of their keys.
    private static let keysScanned = 16

    private init(input: [UInt8], maxDepth: Int) {
        self.input = input
        self.maxDepth = maxDepth
        // A config holds about a value per 8 bytes: room for them at once, not grown 1, 2, 4, 8.
        entries.reserveCapacity(input.count / 8 + 4)
    }

    static func parse(_ bytes: [UInt8], maxDepth: Int) throws(JSONError) -> JSONTape {
        // Offsets are kept in 32 bits.
        guard bytes.count < Int(UInt32.max) else { throw JSONError(message: "document too large") }
        let builder = YajlParser(input: bytes, maxDepth: maxDepth)
        if let error = builder.run() { throw error }
        guard !builder.entries.isEmpty else {
            throw JSONError(message: "parse error: premature EOF", position: JSONDocument.position(ofOffset: bytes.count, in: bytes))
        }
        return JSONTape(entries: builder.entries, bytes: bytes, decoded: builder.decoded, hasDuplicateKeys: builder.sawDuplicateKey)
    }

    private func run() -> JSONError? {
        var callbacks = yajl_callbacks(
            yajl_null: { ctx in YajlParser.from(ctx).scalar(.null) },
            yajl_boolean: { ctx, value in YajlParser.from(ctx).scalar(value != 0 ? .true : .false) },
            yajl_integer: nil,
            yajl_double: nil,
            yajl_number: { ctx, text, length in
                YajlParser.from(ctx).text(.number, UnsafeRawPointer(text)?.assumingMemoryBound(to: UInt8.self), length)
            },
            yajl_string: { ctx, text, length in YajlParser.from(ctx).text(.string, text, length) },
            yajl_start_map: { ctx in YajlParser.from(ctx).open(.object) },
            yajl_map_key: { ctx, text, length in YajlParser.from(ctx).key(text, length) },
            yajl_end_map: { ctx in YajlParser.from(ctx).close() },
            yajl_start_array: { ctx in YajlParser.from(ctx).open(.array) },
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
                    let status = input.withUnsafeBufferPointer { buffer in
                        inputStart = buffer.baseAddress
                        defer { inputStart = nil }
                        return yajl_parse(handle, buffer.baseAddress, buffer.count)
                    }
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

    /// Where a token's text is: (in `decoded`, start).
    private func place(_ text: UnsafePointer<UInt8>?, _ length: Int) -> (inDecoded: Bool, start: Int) {
        guard let text, length > 0 else { return (true, decoded.count) }
        if let inputStart, text >= inputStart, text - inputStart <= input.count - length {
            return (false, text - inputStart)
        }
        let start = decoded.count
        decoded.append(contentsOf: UnsafeBufferPointer(start: text, count: length))
        return (true, start)
    }

    private func scalar(_ kind: JSONTape.Kind) -> Int32 {
        let start = tokenStart()
        lastEnd = consumed
        countValue()
        entries.append(Entry(kind: kind, offset: UInt32(start)))
        return 1
    }

    private func text(_ kind: JSONTape.Kind, _ text: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
        let start = tokenStart()
        lastEnd = consumed
        countValue()
        let (inDecoded, textStart) = place(text, length)
        entries.append(Entry(kind: kind, offset: UInt32(start), inDecoded: inDecoded, first: UInt32(textStart), second: UInt32(length)))
        return 1
    }

    private func key(_ text: UnsafePointer<UInt8>?, _ length: Int) -> Int32 {
        let start = tokenStart()
        lastEnd = consumed
        let (inDecoded, textStart) = place(text, length)
        entries.append(Entry(kind: .key, offset: UInt32(start), inDecoded: inDecoded, first: UInt32(textStart), second: UInt32(length)))
        if let object = open.last {
            counts[counts.count - 1] += 1
            if isRepeated(key: entries.count - 1, in: object, members: counts[counts.count - 1]) { sawDuplicateKey = true }
        }
        return 1
    }

    /// Whether the key just added to the open object at `object` is one of its earlier keys.
    private func isRepeated(key: Int, in object: Int, members: Int) -> Bool {
        if members <= Self.keysScanned {
            var at = object + 1
            while at < key {
                if keyEntry(at, equals: key) { return true }
                at = nextEntry(after: at + 1)
            }
            return false
        }
        var keys = manyKeys?.removeValue(forKey: object) ?? []
        if keys.isEmpty {
            var at = object + 1
            while at < key {
                keys.insert(keyBytes(at))
                at = nextEntry(after: at + 1)
            }
        }
        let repeated = !keys.insert(keyBytes(key)).inserted
        manyKeys = manyKeys ?? [:]
        manyKeys![object] = keys
        return repeated
    }

    private func keyEntry(_ a: Int, equals b: Int) -> Bool {
        JSONTape.sameText(entries[a], entries[b], source: input, decoded: decoded)
    }

    private func keyBytes(_ index: Int) -> [UInt8] {
        let entry = entries[index], range = JSONTape.textRange(of: entry)
        return entry.inDecoded ? Array(decoded[range]) : Array(input[range])
    }

    private func nextEntry(after index: Int) -> Int { JSONTape.next(after: index, in: entries) }

    /// A value begins: one more element of the open array (an object's members are counted by their keys).
    private func countValue() {
        if let container = open.last, entries[container].kind == .array { counts[counts.count - 1] += 1 }
    }

    private func open(_ kind: JSONTape.Kind) -> Int32 {
        let start = tokenStart()
        lastEnd = consumed
        if open.count >= maxDepth {
            cancelReason = JSONError(
                message: "nesting depth exceeds \(maxDepth)",
                position: JSONDocument.position(ofOffset: start, in: input))
            return 0
        }
        countValue()
        open.append(entries.count)
        counts.append(0)
        entries.append(Entry(kind: kind, offset: UInt32(start)))
        return 1
    }

    private func close() -> Int32 {
        lastEnd = consumed
        guard let container = open.popLast(), let count = counts.popLast() else { return 0 }
        entries[container].first = UInt32(count)
        entries[container].second = UInt32(entries.count - container - 1)
        if count > Self.keysScanned { manyKeys?[container] = nil }
        return 1
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
