import Testing
@testable import JSON

private func parse(_ text: String) throws(JSONError) -> JSONDocument {
    try JSONDocument.parse(Array(text.utf8))
}

private func parseError(_ bytes: [UInt8]) -> JSONError? {
    do {
        _ = try JSONDocument.parse(bytes)
        return nil
    } catch {
        return error
    }
}

private func compact(_ node: JSONNode) -> String {
    let writer = JSONWriter()
    writer.value(node)
    return String(decoding: writer.bytes, as: UTF8.self)
}

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let doc = try parse(#"{"n": null, "t": true, "f": false, "i": -12, "d": 1.5e3, "s": "x", "a": [1, [2]], "o": {"k": {}}}"#)
        guard case .object(let members) = doc.root.value else {
            Issue.record("root is not an object")
            return
        }
        #expect(members.map(\.key) == ["n", "t", "f", "i", "d", "s", "a", "o"])
        #expect(doc.root["n"]?.value == .null)
        #expect(doc.root["t"]?.value == .bool(true))
        #expect(doc.root["f"]?.value == .bool(false))
        // Numbers keep their source text.
        #expect(doc.root["i"]?.value == .number("-12"))
        #expect(doc.root["d"]?.value == .number("1.5e3"))
        #expect(doc.root["s"]?.value == .string("x"))
        #expect(doc.root["o"]?["k"]?.value == .object([]))
    }

    @Test func roundTripsThroughTheWriter() throws {
        let text = #"{"a":[1,-2,3.25,1e-7,true,false,null],"b":{"c":"d","e":[]},"f":{},"g":"\"\\\/"}"#
        let doc = try parse(text)
        // yajl does not escape '/', so the one escaped solidus comes back plain.
        #expect(compact(doc.root) == #"{"a":[1,-2,3.25,1e-7,true,false,null],"b":{"c":"d","e":[]},"f":{},"g":"\"\\/"}"#)
        let again = try JSONDocument.parse(Array(compact(doc.root).utf8))
        #expect(again.root == doc.root)
    }

    @Test func keepsUInt64MaxAndInt64MinExactly() throws {
        let doc = try parse("[18446744073709551615, -9223372036854775808, 9223372036854775807, 18446744073709551616]")
        let context = JSONDecodingContext(document: doc)
        let items = try #require(context.root.array())
        #expect(items[0].uint64() == UInt64.max)
        #expect(items[1].int64() == Int64.min)
        #expect(items[2].int64() == Int64.max)
        #expect(context.problems.isEmpty)
        // One past UInt64.max fits nothing, and is reported rather than rounded.
        #expect(items[3].uint64() == nil)
        #expect(context.problems.map(\.description) == ["[3]: expected integer in 0...18446744073709551615"])
        // And the raw text written back is the same.
        #expect(compact(doc.root) == "[18446744073709551615,-9223372036854775808,9223372036854775807,18446744073709551616]")
    }

    @Test func decodesEscapes() throws {
        let doc = try parse(#"["a\"b\\c\n\t\u00e9\ud83d\ude00\u0000/\/"]"#)
        guard case .array(let items) = doc.root.value else {
            Issue.record("not an array")
            return
        }
        #expect(items[0].value == .string("a\"b\\c\n\té😀\u{0}//"))
    }

    @Test func duplicateKeysKeepTheLastValue() throws {
        let doc = try parse(#"{"a": 1, "b": 2, "a": 3}"#)
        guard case .object(let members) = doc.root.value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["a", "b"])
        #expect(doc.root["a"]?.value == .number("3"))
    }

    /// Past the keys a scan handles, the parser indexes them: a repeat on either side of that point, and one of
    /// a key seen before the index was made, still replaces the earlier value in place.
    @Test func duplicateKeysKeepTheLastValueInLargeObjects() throws {
        let names = (0..<40).map { "k\($0)" }
        let members = names.map { "\"\($0)\": 0" } + ["\"k3\": 1", "\"k30\": 2", "\"k39\": 3", "\"new\": 4", "\"k3\": 5"]
        let doc = try parse("{" + members.joined(separator: ", ") + "}")
        guard case .object(let parsed) = doc.root.value else {
            Issue.record("not an object")
            return
        }
        #expect(parsed.map(\.key) == names + ["new"])
        #expect(doc.root["k3"]?.value == .number("5") && doc.root["k30"]?.value == .number("2"))
        #expect(doc.root["k39"]?.value == .number("3") && doc.root["new"]?.value == .number("4"))
        #expect(doc.root["k0"]?.value == .number("0"))
        // Keys are the same only byte for byte, past the scan as before it: "é" and "e" + U+0301 are two keys.
        let spellings = try parse("{" + (names.map { "\"\($0)\": 0" } + [#""\u00e9": 1"#, #""e\u0301": 2"#]).joined(separator: ", ") + "}")
        #expect(!spellings.hasDuplicateKeys)
        guard case .object(let both) = spellings.root.value else {
            Issue.record("not an object")
            return
        }
        #expect(both.count == names.count + 2)
    }

    @Test func topLevelScalars() throws {
        // A number at the very end is only finished by yajl_complete_parse.
        #expect(try parse("42").root.value == .number("42"))
        #expect(try parse("  -7  ").root.value == .number("-7"))
        #expect(try parse("\"s\"").root.value == .string("s"))
        #expect(try parse("null").root.value == .null)
    }

    @Test func syntaxErrorHasMessageAndLineColumn() throws {
        let error = try #require(parseError(Array("{\n  \"a\": 1,\n  \"b\": tru\n}".utf8)))
        #expect(error.path == "")
        #expect(error.message == "lexical error: invalid string in json text")
        #expect(!error.message.contains("\n"))
        #expect(error.position == JSONPosition(line: 3, column: 11))
        #expect(error.description == error.message)
        #expect(error.descriptionWithPosition == "lexical error: invalid string in json text (line 3, column 11)")
    }

    @Test func missingCommaIsAParseError() throws {
        let error = try #require(parseError(Array("{\"a\": 1\n \"b\": 2}".utf8)))
        #expect(error.message.hasPrefix("parse error: "))
        #expect(error.position?.line == 2)
    }

    @Test func emptyAndTruncatedInputs() throws {
        for text in ["", "   ", "{", "[1,", "{\"a\":", "\"abc", "tru", "-"] {
            let error = try #require(parseError(Array(text.utf8)), "accepted \(text.debugDescription)")
            #expect(!error.message.isEmpty)
            #expect(error.position != nil)
        }
        let error = try #require(parseError([]))
        #expect(error.message == "parse error: premature EOF")
        #expect(error.position == JSONPosition(line: 1, column: 1))
    }

    @Test func refusesTrailingGarbageAndComments() {
        #expect(parseError(Array("{} x".utf8)) != nil)
        #expect(parseError(Array("{} {}".utf8)) != nil)
        #expect(parseError(Array("[1] // no".utf8)) != nil)
        #expect(parseError(Array("[01]".utf8)) != nil)
        #expect(parseError(Array("[1,]".utf8)) != nil)
        #expect(parseError(Array("{'a': 1}".utf8)) != nil)
    }

    @Test func depthIsCappedWithoutCrashing() throws {
        let okay = String(repeating: "[", count: JSONDocument.maxDepth) + String(repeating: "]", count: JSONDocument.maxDepth)
        #expect(parseError(Array(okay.utf8)) == nil)

        let tooDeep = String(repeating: "[", count: JSONDocument.maxDepth + 1) + String(repeating: "]", count: JSONDocument.maxDepth + 1)
        let error = try #require(parseError(Array(tooDeep.utf8)))
        #expect(error.message == "nesting depth exceeds 256")
        #expect(error.position == JSONPosition(line: 1, column: 257))

        let bomb = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
        #expect(parseError(bomb)?.message == "nesting depth exceeds 256")
        let objectBomb = Array(String(repeating: "{\"a\":", count: 100_000).utf8)
        #expect(parseError(objectBomb)?.message == "nesting depth exceeds 256")
    }

    @Test func invalidUTF8IsRefused() throws {
        let inString: [UInt8] = [0x22, 0xFF, 0xFE, 0x22]
        let error = try #require(parseError(inString))
        #expect(error.message == "lexical error: invalid bytes in UTF8 string")
        // yajl lets an overlong encoding of '/' through; like Go, we end up with U+FFFD, never with '/'.
        let overlong = try JSONDocument.parse([0x22, 0xC0, 0xAF, 0x22]).root.value
        #expect(overlong == .string("\u{FFFD}\u{FFFD}"))
        // A lone continuation byte and garbage outside strings are refused.
        #expect(parseError([0x22, 0x80, 0x22]) != nil)
        #expect(parseError([0x5B, 0xFF, 0x5D]) != nil)
        // Valid multi-byte UTF-8 is kept as is.
        #expect(try JSONDocument.parse([0x22, 0xE2, 0x82, 0xAC, 0x22]).root.value == .string("€"))
    }

    @Test func hugeNumbersStayText() throws {
        let digits = String(repeating: "9", count: 5000)
        let doc = try parse("[\(digits), 1e999999, -0.0]")
        guard case .array(let items) = doc.root.value else {
            Issue.record("not an array")
            return
        }
        #expect(items[0].value == .number(digits))
        let context = JSONDecodingContext(document: doc)
        let readers = try #require(context.root.array())
        #expect(readers[0].uint64() == nil)
        #expect(readers[1].double() == nil)
        #expect(readers[2].double() == 0)
        #expect(context.problems.count == 2)
    }

    @Test func nodesKnowWhereTheyStart() throws {
        let text = "{\n  \"a\": [1, {\"b\": true}],\n  \"é\": \"x\",\n  \"n\":   -5\n}"
        let doc = try parse(text)
        func position(_ node: JSONNode?) -> JSONPosition? { node.map { doc.position(ofOffset: $0.offset) } }
        #expect(position(doc.root) == JSONPosition(line: 1, column: 1))
        #expect(position(doc.root["a"]) == JSONPosition(line: 2, column: 8))
        guard case .array(let items)? = doc.root["a"]?.value else {
            Issue.record("a is not an array")
            return
        }
        #expect(position(items[0]) == JSONPosition(line: 2, column: 9))
        #expect(position(items[1]) == JSONPosition(line: 2, column: 12))
        #expect(position(items[1]["b"]) == JSONPosition(line: 2, column: 18))
        // Columns count characters: "é" is two bytes but one column.
        #expect(position(doc.root["é"]) == JSONPosition(line: 3, column: 8))
        #expect(position(doc.root["n"]) == JSONPosition(line: 4, column: 10))
    }

    @Test func neverCrashesOnGarbage() {
        // A fixed-seed xorshift so that failures reproduce.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        let seed = Array(#"{"a":[1,2.5e3,"x\u00e9\n",{"b":null,"c":[true,false]}],"d":-9223372036854775808}"#.utf8)
        let alphabet = Array(#"{}[]":,-+.eE0123456789truefalsn\ "#.utf8) + [0x00, 0xFF, 0xC3, 0x80, 0x0A]
        var parsed = 0
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = seed
                for _ in 0..<(1 + Int(next() % 4)) {
                    let i = Int(next() % UInt64(bytes.count))
                    switch next() % 3 {
                    case 0: bytes[i] = alphabet[Int(next() % UInt64(alphabet.count))]
                    case 1: bytes.remove(at: i)
                    default: bytes.insert(alphabet[Int(next() % UInt64(alphabet.count))], at: i)
                    }
                }
            } else {
                bytes = (0..<Int(next() % 64)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
            }
            if let doc = try? JSONDocument.parse(bytes) {
                parsed += 1
                // Whatever parses must write back to something that parses to the same tree.
                let writer = JSONWriter()
                writer.value(doc.root)
                #expect((try? JSONDocument.parse(writer.bytes))?.root == doc.root)
            }
        }
        #expect(parsed > 0)
    }

    /// The text of an object or array ends at its own closing bracket, whatever brackets, quotes and escapes its
    /// strings hold; a member left out of the tree leaves every other offset where it was.
    @Test func containerTextAndAMemberLeftOut() throws {
        let text = #"{"a": 1, "linux": {"seccomp": {"s": "}]\\\"{[", "n": [[1], {"x": "]"}]}, "b": [2]}, "c": "{"}"#
        let document = try JSONDocument.parse(text)
        let seccomp = try #require(document.root["linux"]?["seccomp"])
        let found = try #require(document.containerText(at: seccomp.offset))
        #expect(String(decoding: found, as: UTF8.self) == #"{"s": "}]\\\"{[", "n": [[1], {"x": "]"}]}"#)
        let b = try #require(document.root["linux"]?["b"])
        #expect(document.containerText(at: b.offset).map { String(decoding: $0, as: UTF8.self) } == "[2]")
        #expect(document.containerText(at: try #require(document.root["a"]).offset) == nil, "not an object or array")
        #expect(document.containerText(at: text.utf8.count) == nil)

        let without = document.removingMember(["linux", "seccomp"])
        #expect(without.root["linux"]?["seccomp"] == nil)
        #expect(without.root["linux"]?["b"]?.offset == b.offset && without.root["c"] == document.root["c"])
        #expect(document.root["linux"]?["seccomp"] != nil, "the document itself is unchanged")
        #expect(document.removingMember(["linux", "none"]).root == document.root)
    }

    /// The text without a member is the text with that member, its key and one comma cut out, and nothing else
    /// changed; it parses to the tree `removingMember` leaves. Where that cut is not sure (a key written with
    /// escapes, a text naming some key twice, no such member) there is none.
    @Test func textWithoutAMember() throws {
        func cut(_ text: String, _ path: [String] = ["linux", "seccomp"]) throws -> String? {
            let document = try JSONDocument.parse(text)
            guard let bytes = document.textWithoutMember(path) else { return nil }
            let cut = try JSONDocument.parse(bytes)
            #expect(cut.root == document.removingMember(path).root, "\(text)")
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(try cut(#"{"linux": {"a": 1, "seccomp": {"x": [1]}, "b": 2}}"#) == #"{"linux": {"a": 1, "b": 2}}"#)
        #expect(try cut(#"{"linux": {"seccomp": {"x": "}"}, "b": 2}}"#) == #"{"linux": { "b": 2}}"#)
        #expect(try cut("{\"linux\": {\"a\": 1, \"seccomp\" :\n {}\n}}") == "{\"linux\": {\"a\": 1\n}}")
        #expect(try cut(#"{"linux":{"seccomp":{}}}"#) == #"{"linux":{}}"#)
        #expect(try cut(#"{"linux": {"a": {"seccomp": {}}, "seccomp": []}}"#) == #"{"linux": {"a": {"seccomp": {}}}}"#)
        #expect(try cut(#"{"linux": {"\u0073eccomp": {}}}"#) == nil, "a key written with an escape")
        #expect(try cut(#"{"linux": {"seccomp": {}, "seccomp": {}}}"#) == nil, "a key named twice")
        #expect(try cut(#"{"a": 1, "a": 2, "linux": {"seccomp": {}}}"#) == nil, "a key named twice elsewhere")
        #expect(try cut(#"{"linux": {"a": 1}}"#) == nil && cut(#"{"linux": {"seccomp": 5}}"#) == nil)
    }
}
