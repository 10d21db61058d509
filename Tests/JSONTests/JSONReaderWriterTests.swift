import Sys
import Testing
import JSON

private func context(_ text: String) throws -> JSONDecodingContext {
    JSONDecodingContext(document: try JSONDocument.parse(Array(text.utf8)))
}

private func text(_ writer: JSONWriter) -> String { String(decoding: writer.bytes, as: UTF8.self) }

@Suite struct JSONReaderTests {
    @Test func readsTypedValues() throws {
        let ctx = try context(#"{"s": "x", "b": true, "u": 4294967295, "i": -2147483648, "w": 65535, "d": 2.5, "n": null}"#)
        let o = try #require(ctx.root.object())
        #expect(o.optional("s")?.string() == "x")
        #expect(o.optional("b")?.bool() == true)
        #expect(o.optional("u")?.uint32() == UInt32.max)
        #expect(o.optional("i")?.int32() == Int32.min)
        #expect(o.optional("w")?.uint16() == UInt16.max)
        #expect(o.optional("d")?.double() == 2.5)
        // null reads as absent, as in Go.
        #expect(o.optional("n") == nil)
        #expect(o.optional("missing") == nil)
        #expect(o.contains("s"))
        #expect(!o.contains("n"))
        #expect(ctx.problems.isEmpty)
    }

    /// Readers walk the parsed tape: a key repeated reads as its last value and is listed once in its first place,
    /// a key or string written with escapes is read as unescaped, and members after a nested container or a
    /// member cut out are found where they are.
    @Test func readersOnTheTape() throws {
        let ctx = try context(#"{"a": [1, {"x": [2, 3]}, []], "\u0062": "c\td", "a": {"y": 4}, "e": [], "z": 5}"#)
        let o = try #require(ctx.root.object())
        #expect(o.keys == ["a", "b", "e", "z"])
        #expect(o.optional("a")?.object()?.optional("y")?.int() == 4, "the last value of a repeated key")
        #expect(o.optional("b")?.string() == "c\td")
        #expect(o.optional("e")?.elementCount == 0 && o.optional("e")?.isArray == true)
        #expect(o.optional("z")?.int() == 5 && o.optional("z")?.elementCount == nil)
        #expect(o.entries.map(\.key) == ["a", "b", "e", "z"] && o.entries[0].reader.object() != nil)
        #expect(ctx.root.map(of: JSONNode.self)?.keys.sorted() == ["a", "b", "e", "z"])
        #expect(ctx.problems.isEmpty)
        // A reader's path is found from the tape: through elements, a repeated key's last value, a quoted key.
        let deep = try context(#"{"a": [0, {"x": [5, {"y.z": true}]}], "a": {"k": [1, 2]}}"#)
        let deepRoot = try #require(deep.root.object())
        #expect(deepRoot.optional("a")?.object()?.optional("k")?.array()?[1].path == ".a.k[1]")
        let first = try #require(JSONDecodingContext(document: try JSONDocument.parse(#"[0, {"x": [5, {"y.z": true}]}]"#)).root.array())
        #expect(first[1].object()?.optional("x")?.array()?[1].object()?.optional("y.z")?.path == #"[1].x[1]["y.z"]"#)
        #expect(deep.root.path == "" && deepRoot.optional("a")?.path == ".a")

        let document = try JSONDocument.parse(#"{"l": {"s": {"k": [1, [2]]}, "t": [3], "s": 0}, "u": {"v": 6}}"#)
        let cut = JSONDecodingContext(document: document.removingMember(["l", "s"]))
        let root = try #require(cut.root.object())
        #expect(root.keys == ["l", "u"])
        #expect(root.optional("l")?.object()?.keys == ["t"], "both members of the repeated key are cut")
        #expect(root.optional("l")?.object()?.optional("t")?.array(of: Int.self) == [3])
        #expect(root.optional("u")?.object()?.optional("v")?.int() == 6)
        #expect(document.offset(ofMember: ["u", "v"]) == cut.document.offset(ofMember: ["u", "v"]))
        #expect(document.offset(ofMember: ["l", "nothing"]) == nil && document.offset(ofMember: ["u", "v", "w"]) == nil)
    }

    @Test func reportsMismatchesWithPathAndPosition() throws {
        let ctx = try context("{\n \"a\": {\"b\": [\"x\", 1]},\n \"u\": -1,\n \"f\": 1.0,\n \"net.ipv4\": 3\n}")
        let o = try #require(ctx.root.object())
        let a = try #require(o.required("a")?.object())
        #expect(a.optional("b")?.stringArray() == ["x"])
        #expect(o.optional("u")?.uint32() == nil)
        // Go refuses 1.0 for an integer field; so do we.
        #expect(o.optional("f")?.int64() == nil)
        #expect(o.optional("net.ipv4")?.string() == nil)
        #expect(o.required("gone") == nil)
        #expect(o.optional("a")?.string() == nil)
        #expect(ctx.problems.map(\.description) == [
            ".a.b[1]: expected string",
            ".u: expected integer in 0...4294967295",
            ".f: expected integer in -9223372036854775808...9223372036854775807",
            #"["net.ipv4"]: expected string"#,
            ".gone: required field is missing",
            ".a: expected string",
        ])
        #expect(ctx.problems[0].position == JSONPosition(line: 2, column: 19))
        #expect(ctx.problems[1].position == JSONPosition(line: 3, column: 7))
        // A missing field points at the object that lacks it.
        #expect(ctx.problems[4].position == JSONPosition(line: 1, column: 1))
    }

    @Test func arrayAndMapMismatches() throws {
        let ctx = try context(#"{"args": "sh", "ids": [1, "2"], "env": {"A": "1", "B": 2}, "o": [], "m": 3}"#)
        let o = try #require(ctx.root.object())
        #expect(o.array("args", of: String.self) == [])
        #expect(o.array("ids", of: UInt32.self) == [1])
        #expect(o.map("env", of: String.self) == ["A": "1"])
        #expect(o.optional("o")?.object() == nil)
        #expect(o.map("m", of: String.self) == [:])
        #expect(ctx.problems.map(\.description) == [
            ".args: expected array of strings",
            ".ids[1]: expected integer in 0...4294967295",
            ".env.B: expected string",
            ".o: expected object",
            ".m: expected object",
        ])
    }

    @Test func quotesValuesForMessages() {
        #expect(jsonQuote("foo") == #""foo""#)
        #expect(jsonQuote("a\"b\\c\n\u{1}") == #""a\"b\\c\n\u0001""#)
    }
}

@Suite struct JSONWriterTests {
    @Test func compactOutput() {
        let w = JSONWriter()
        w.beginObject()
        w.field("s", "x")
        w.field("i", Int64.min)
        w.field("u", UInt64.max)
        w.field("b", false)
        w.key("n")
        w.null()
        w.field("a", ["p", "q"])
        w.field("absent", Optional<String>.none)
        w.field("empty", nonEmpty: [String]())
        w.field("no", ifTrue: false)
        w.field("m", ["z": 1, "a": 2])
        w.field("d", 0.1)
        w.endObject()
        #expect(w.error == nil)
        #expect(text(w) == #"{"s":"x","i":-9223372036854775808,"u":18446744073709551615,"b":false,"n":null,"a":["p","q"],"m":{"a":2,"z":1},"d":0.1}"#)
    }

    @Test func escapesEveryString() throws {
        let nasty = "q\"b\\s/\u{0}\u{1}\u{1F}\n\r\t\u{7F}é😀"
        let w = JSONWriter()
        w.beginArray()
        w.string(nasty)
        w.string("")
        w.endArray()
        #expect(text(w) == "[\"q\\\"b\\\\s/\\u0000\\u0001\\u001F\\n\\r\\t\u{7F}é😀\",\"\"]")
        let doc = try JSONDocument.parse(w.bytes)
        #expect(doc.root == JSONNode(value: .array([JSONNode(value: .string(nasty)), JSONNode(value: .string(""))])))
    }

    @Test func prettyOutputMatchesGoIndent() {
        let w = JSONWriter(pretty: true)
        w.beginObject()
        w.field("a", [Int]())
        w.key("b")
        w.beginObject()
        w.endObject()
        w.field("c", ["x,y:{}", "z"])
        w.key("d")
        w.beginObject()
        w.field("e", true)
        w.endObject()
        w.endObject()
        #expect(text(w) == """
            {
              "a": [],
              "b": {},
              "c": [
                "x,y:{}",
                "z"
              ],
              "d": {
                "e": true
              }
            }
            """)
    }

    @Test func nonFiniteDoublesBecomeNull() {
        let w = JSONWriter()
        w.beginArray()
        w.double(.infinity)
        w.double(.nan)
        w.double(-2.5)
        w.endArray()
        #expect(text(w) == "[null,null,-2.5]")
    }

    @Test func misuseIsReportedNotCrashing() {
        let w = JSONWriter()
        w.beginObject()
        w.int(1)
        #expect(w.error == "integer: object keys must be strings")
    }
}
