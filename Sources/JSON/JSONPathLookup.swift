/// Finding a value by the jq-style paths the decoders report (`.linux.namespaces[2].type`,
/// `.linux.sysctl["net.ipv4.ip_forward"]`), so that a problem found after decoding (by the launch plan,
/// the privilege or seccomp checks) still gets the line:column of the value it is about.
extension JSONDocument {
    /// The node at `path`, or the deepest node on the way when the rest is absent (a missing member is
    /// reported where its object is, as the decoder does). `exact` is false in that case.
    package func locate(_ path: String) -> (node: JSONNode, exact: Bool) {
        let found = entry(at: path)
        return (tape.node(at: found.index), found.exact)
    }

    /// The line:column of the value at `path` (or of its deepest existing ancestor).
    package func position(ofPath path: String) -> JSONPosition {
        position(ofOffset: Int(tape.entries[entry(at: path).index].offset))
    }

    /// `locate` on the tape: the entry of the value at `path` or of its deepest existing ancestor.
    private func entry(at path: String) -> (index: Int, exact: Bool) {
        var index = 0
        guard let steps = JSONDocument.steps(of: path) else { return (index, false) }
        for step in steps {
            let entry = tape.entries[index]
            switch step {
            case .key(let key) where entry.kind == .object:
                guard let value = tape.member(key, of: index) else { return (index, false) }
                index = value
            case .index(let position) where entry.kind == .array:
                guard position >= 0 && position < Int(entry.first) else { return (index, false) }
                var element = index + 1
                for _ in 0..<position { element = tape.next(after: element) }
                index = element
            default:
                return (index, false)
            }
        }
        return (index, true)
    }

    enum Step: Equatable {
        case key(String)
        case index(Int)
    }

    /// `.a.b[2]["x.y"]` → [.key("a"), .key("b"), .index(2), .key("x.y")]; nil when it is not such a path.
    static func steps(of path: String) -> [Step]? {
        let bytes = Array(path.utf8)
        var steps: [Step] = []
        var i = 0
        func isIdentifier(_ c: UInt8) -> Bool {
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F
        }
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "."):
                let start = i + 1
                var end = start
                while end < bytes.count && isIdentifier(bytes[end]) { end += 1 }
                if end == start {
                    // A lone "." is the document itself.
                    if bytes.count == 1 { return steps }
                    return nil
                }
                steps.append(.key(String(decoding: bytes[start..<end], as: UTF8.self)))
                i = end
            case UInt8(ascii: "["):
                if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") {
                    // A quoted key: a JSON string, which may itself hold `"` (escaped) and `]`.
                    var end = i + 2
                    while end < bytes.count && bytes[end] != UInt8(ascii: "\"") {
                        end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    guard end + 1 < bytes.count, bytes[end + 1] == UInt8(ascii: "]"),
                          let document = try? JSONDocument.parse(Array(bytes[(i + 1)...end])),
                          case .string(let key) = document.root.value else { return nil }
                    steps.append(.key(key))
                    i = end + 2
                } else {
                    var end = i + 1
                    var index = 0
                    while end < bytes.count && bytes[end] >= 0x30 && bytes[end] <= 0x39 {
                        let (times10, o1) = index.multipliedReportingOverflow(by: 10)
                        let (sum, o2) = times10.addingReportingOverflow(Int(bytes[end] - 0x30))
                        if o1 || o2 { return nil }
                        index = sum
                        end += 1
                    }
                    guard end > i + 1, end < bytes.count, bytes[end] == UInt8(ascii: "]") else { return nil }
                    steps.append(.index(index))
                    i = end + 1
                }
            default:
                return nil
            }
        }
        return steps
    }
}
