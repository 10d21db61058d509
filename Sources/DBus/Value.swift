/// A D-Bus value of the types the systemd driver sends and receives (D-Bus specification, "Type System").
/// Arrays carry their element signature so an empty one still marshals (`as` with no strings is not `a(ss)`).
package indirect enum DBusValue: Sendable, Equatable {
    case byte(UInt8)
    case boolean(Bool)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case string(String)
    case objectPath(String)
    case signature(String)
    case array(element: String, [DBusValue])
    case structure([DBusValue])
    case variant(DBusValue)

    /// The value's type signature ("s", "a(sv)", "v"...).
    package var signature: String {
        switch self {
        case .byte: "y"
        case .boolean: "b"
        case .int32: "i"
        case .uint32: "u"
        case .int64: "x"
        case .uint64: "t"
        case .string: "s"
        case .objectPath: "o"
        case .signature: "g"
        case .array(let element, _): "a" + element
        case .structure(let fields): "(" + fields.map(\.signature).joined() + ")"
        case .variant: "v"
        }
    }

    // Shorthands for the shapes systemd's API uses.
    package static func strings(_ items: [String]) -> DBusValue { .array(element: "s", items.map { .string($0) }) }
    package static func bytes(_ items: [UInt8]) -> DBusValue { .array(element: "y", items.map { .byte($0) }) }
    package static func uint32s(_ items: [UInt32]) -> DBusValue { .array(element: "u", items.map { .uint32($0) }) }

    package var stringValue: String? {
        switch self {
        case .string(let s), .objectPath(let s), .signature(let s): s
        case .variant(let inner): inner.stringValue
        default: nil
        }
    }

    package var uint32Value: UInt32? {
        if case .uint32(let v) = self { return v }
        if case .variant(let inner) = self { return inner.uint32Value }
        return nil
    }
}

/// One unit property: a name and a value sent as a variant (systemd's `a(sv)`).
package struct UnitProperty: Sendable, Equatable, CustomStringConvertible {
    package var name: String
    package var value: DBusValue

    package init(_ name: String, _ value: DBusValue) {
        self.name = name
        self.value = value
    }

    package var asStructure: DBusValue { .structure([.string(name), .variant(value)]) }

    package var description: String { "\(name)=\(DBusValue.render(value))" }

    /// `a(sv)` of `properties`.
    package static func array(_ properties: [UnitProperty]) -> DBusValue {
        .array(element: "(sv)", properties.map(\.asStructure))
    }
}

extension DBusValue {
    /// A short human form for error messages and logs.
    package static func render(_ value: DBusValue) -> String {
        switch value {
        case .byte(let v): String(v)
        case .boolean(let v): v ? "true" : "false"
        case .int32(let v): String(v)
        case .uint32(let v): String(v)
        case .int64(let v): String(v)
        case .uint64(let v): v == UInt64.max ? "infinity" : String(v)
        case .string(let s), .objectPath(let s), .signature(let s): "\"\(s)\""
        case .array(_, let items): "[" + items.map(render).joined(separator: ",") + "]"
        case .structure(let fields): "(" + fields.map(render).joined(separator: ",") + ")"
        case .variant(let inner): render(inner)
        }
    }
}
