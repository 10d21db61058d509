import Testing
@testable import JSON

/// Problems found after decoding carry only a JSON path; `locate` turns it back into a line:column.
@Suite struct JSONPathLookupTests {
    let document = try! JSONDocument.parse("""
        {
          "process": {"args": ["sh", "-c"], "env": []},
          "linux": {
            "sysctl": {"net.ipv4.ip_forward": "1", "a\\"b]": "2"},
            "namespaces": [{"type": "pid"}, {"type": "mount"}]
          },
          "x y": 3
        }
        """)

    func at(_ path: String) -> String {
        let found = document.locate(path)
        return "\(document.position(ofOffset: found.node.offset))\(found.exact ? "" : " (ancestor)")"
    }

    @Test func findsMembersElementsAndQuotedKeys() {
        #expect(at(".process.args[1]") == "2:30")
        #expect(at(".linux.namespaces[1].type") == "5:46")
        #expect(at(#".linux.sysctl["net.ipv4.ip_forward"]"#) == "4:39")
        #expect(at(#".linux.sysctl["a\"b]"]"#) == "4:53")
        #expect(at(#"["x y"]"#) == "7:10")
        #expect(at(".process") == "2:14")
        #expect(at("") == "1:1")
        #expect(at(".") == "1:1")
    }

    @Test func missingPartsGiveTheDeepestAncestor() {
        #expect(at(".process.cwd") == "2:14 (ancestor)")
        #expect(at(".linux.namespaces[7].type") == "5:19 (ancestor)")
        #expect(at(".process.args.length") == "2:23 (ancestor)")
        #expect(at(".hostname") == "1:1 (ancestor)")
    }

    @Test func malformedPathsFallBackToTheRoot() {
        for path in ["process", ".process[", ".process[x]", #".linux.sysctl["open"#, ".a..b", "[99999999999999999999999]"] {
            #expect(at(path).hasPrefix("1:1"), "\(path)")
        }
    }

    @Test func stepsOfAPath() {
        #expect(JSONDocument.steps(of: #".a.b_2[3]["c.d"]"#) == [.key("a"), .key("b_2"), .index(3), .key("c.d")])
        #expect(JSONDocument.steps(of: "") == [])
    }
}
