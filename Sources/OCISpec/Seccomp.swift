import JSON
import Sys

/// `linux.seccomp` (config-linux.md "Seccomp").
package struct Seccomp: Sendable, Equatable {
    package var defaultAction: Action
    package var defaultErrnoRet: UInt32?
    /// e.g. "SCMP_ARCH_X86_64"; resolved where the filter is built.
    package var architectures: [String]
    /// e.g. "SECCOMP_FILTER_FLAG_LOG".
    package var flags: [String]
    package var listenerPath: String?
    package var listenerMetadata: String?
    package var syscalls: [Syscall]

    package init(
        defaultAction: Action, defaultErrnoRet: UInt32? = nil, architectures: [String] = [], flags: [String] = [],
        listenerPath: String? = nil, listenerMetadata: String? = nil, syscalls: [Syscall] = []
    ) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.flags = flags
        self.listenerPath = listenerPath
        self.listenerMetadata = listenerMetadata
        self.syscalls = syscalls
    }

    package enum Action: String, Sendable, Equatable, Hashable, CaseIterable {
        case kill = "SCMP_ACT_KILL"
        case killProcess = "SCMP_ACT_KILL_PROCESS"
        case killThread = "SCMP_ACT_KILL_THREAD"
        case trap = "SCMP_ACT_TRAP"
        case errno = "SCMP_ACT_ERRNO"
        case trace = "SCMP_ACT_TRACE"
        case allow = "SCMP_ACT_ALLOW"
        case log = "SCMP_ACT_LOG"
        case notify = "SCMP_ACT_NOTIFY"
    }

    package enum Operator: String, Sendable, Equatable, Hashable, CaseIterable {
        case notEqual = "SCMP_CMP_NE"
        case lessThan = "SCMP_CMP_LT"
        case lessOrEqual = "SCMP_CMP_LE"
        case equal = "SCMP_CMP_EQ"
        case greaterOrEqual = "SCMP_CMP_GE"
        case greaterThan = "SCMP_CMP_GT"
        case maskedEqual = "SCMP_CMP_MASKED_EQ"
    }

    package struct Syscall: Sendable, Equatable {
        package var names: [String]
        package var action: Action
        package var errnoRet: UInt32?
        package var args: [Arg]

        package init(names: [String], action: Action, errnoRet: UInt32? = nil, args: [Arg] = []) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
        }
    }

    package struct Arg: Sendable, Equatable {
        package var index: UInt32
        /// Full 64-bit range: masks such as 0xffffffffffffffff appear in real profiles.
        package var value: UInt64
        package var valueTwo: UInt64?
        package var op: Operator

        package init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: Operator) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }
    }
}

// MARK: - Decoding

extension Seccomp: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let defaultAction = o.required("defaultAction", Action.self)
        let defaultErrnoRet = o.optional("defaultErrnoRet", UInt32.self)
        // A pattern rather than a list: libseccomp learns architectures faster than the spec lists them.
        let architectures = o.checkedStrings(
            "architectures", { matches($0, prefix: "SCMP_ARCH_", rest: isUpperDigitOrUnderscore) }, { "unknown seccomp architecture \($0)" })
        let flags = o.oneOfStrings("flags", Vocabulary.seccompFlags)
        let listenerPath = o.optional("listenerPath")?.absolutePath()
        let listenerMetadata = o.optional("listenerMetadata", String.self)
        let syscalls = o.array("syscalls", of: Syscall.self)
        guard let defaultAction else { return nil }
        if o.contains("listenerPath") && listenerPath == nil { return nil }
        self.init(
            defaultAction: defaultAction, defaultErrnoRet: defaultErrnoRet, architectures: architectures,
            flags: flags, listenerPath: listenerPath, listenerMetadata: listenerMetadata, syscalls: syscalls)
    }
}

extension Seccomp.Action: JSONDecodable {
    package init?(json: JSONReader) {
        guard let text = json.string() else { return nil }
        guard let action = Seccomp.Action(rawValue: text) else {
            json.report("unknown seccomp action \(jsonQuote(text))")
            return nil
        }
        self = action
    }
}

extension Seccomp.Operator: JSONDecodable {
    package init?(json: JSONReader) {
        guard let text = json.string() else { return nil }
        guard let op = Seccomp.Operator(rawValue: text) else {
            json.report("unknown seccomp operator \(jsonQuote(text))")
            return nil
        }
        self = op
    }
}

extension Seccomp.Syscall: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let namesReader = o.required("names")
        let names = namesReader?.checkedStrings({ !$0.isEmpty }, { _ in "must not be empty" })
        // config-linux.md: names MUST contain at least one entry.
        if let namesReader, namesReader.elementCount == 0 {
            namesReader.report("must not be empty")
        }
        let action = o.required("action", Seccomp.Action.self)
        let errnoRet = o.optional("errnoRet", UInt32.self)
        let args = o.array("args", of: Seccomp.Arg.self)
        guard let names, !names.isEmpty, let action else { return nil }
        self.init(names: names, action: action, errnoRet: errnoRet, args: args)
    }
}

extension Seccomp.Arg: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        // seccomp_data has six syscall arguments.
        let index = o.required("index")?.integer(in: UInt32(0)...5)
        let value = o.required("value", UInt64.self)
        let valueTwo = o.optional("valueTwo", UInt64.self)
        let op = o.required("op", Seccomp.Operator.self)
        guard let index, let value, let op else { return nil }
        self.init(index: index, value: value, valueTwo: valueTwo, op: op)
    }
}

// MARK: - Encoding

extension Seccomp: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("defaultAction", defaultAction.rawValue)
        w.field("defaultErrnoRet", defaultErrnoRet)
        w.field("architectures", nonEmpty: architectures)
        w.field("flags", nonEmpty: flags)
        w.field("listenerPath", listenerPath)
        w.field("listenerMetadata", listenerMetadata)
        w.field("syscalls", nonEmpty: syscalls)
        w.endObject()
    }
}

extension Seccomp.Syscall: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("names", names)
        w.field("action", action.rawValue)
        w.field("errnoRet", errnoRet)
        w.field("args", nonEmpty: args)
        w.endObject()
    }
}

extension Seccomp.Arg: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("index", index)
        w.field("value", value)
        w.field("valueTwo", valueTwo)
        w.field("op", op.rawValue)
        w.endObject()
    }
}
