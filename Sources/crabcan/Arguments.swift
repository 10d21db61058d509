/// Flag parsing the way runc's CLI library (urfave/cli) does it, because orchestrators call runtimes that way:
/// `-root X` and `--root X` and `--root=X` are the same; flags come before positional arguments, and
/// `--` ends them. swift-argument-parser would pull in FoundationEssentials and add start-up time to every
/// container, and it does not take single-dash long flags.
struct FlagSpec: Sendable {
    var name: String
    var short: Character?
    var takesValue: Bool
    var repeatable = false
    /// One line for `COMMAND -h`, in runc's words where the flag is runc's.
    var help = ""
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
}

struct ParsedArguments {
    /// Each flag given, in order (a repeatable one once per use), as two lists of one index. Lists, not a
    /// dictionary: a command line holds a few flags, and every process would otherwise pay for hashing them and
    /// for a dictionary type's set-up; two lists of String, not one of pairs, which is a type made at run time.
    private(set) var givenNames: [String] = []
    private(set) var givenValues: [String] = []
    var positional: [String] = []

    func has(_ name: String) -> Bool { givenNames.contains(name) }
    func value(_ name: String) -> String? { givenNames.lastIndex(of: name).map { givenValues[$0] } }
    func all(_ name: String) -> [String] { givenNames.indices.filter { givenNames[$0] == name }.map { givenValues[$0] } }

    mutating func give(_ name: String, _ value: String) {
        givenNames.append(name)
        givenValues.append(value)
    }

    func bool(_ name: String) -> Bool {
        guard let value = value(name) else { return false }
        return value != "false"
    }

    func int32(_ name: String, default fallback: Int32) throws -> Int32 {
        guard let text = value(name) else { return fallback }
        guard let number = Int32(text), number >= 0 else { throw UsageError(description: "invalid value \"\(text)\" for --\(name)") }
        return number
    }

    /// Parses `arguments` (no program or subcommand name) against `flags`. With `stopAtPositional`, parsing
    /// ends at the first positional argument (the global flags end at the subcommand's name).
    static func parse(_ arguments: ArraySlice<String>, flags: [FlagSpec], stopAtPositional: Bool = false) throws
        -> (parsed: ParsedArguments, rest: ArraySlice<String>) {
        var parsed = ParsedArguments()
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == "--" {
                for rest in arguments[(index + 1)...] { parsed.positional.append(rest) }
                return (parsed, [])
            }
            guard argument.utf8.first == UInt8(ascii: "-"), argument.utf8.count > 1 else {
                if stopAtPositional { return (parsed, arguments[index...]) }
                // urfave/cli stops at the first positional; the rest are positional too (e.g. `kill id 9`).
                for rest in arguments[index...] { parsed.positional.append(rest) }
                return (parsed, [])
            }
            // On UTF-8 bytes: slicing by Character makes the standard library check grapheme boundaries, code
            // (and pages) every command would run for an ASCII flag.
            let body = argument.utf8.drop(while: { $0 == UInt8(ascii: "-") })
            var name = String(decoding: body, as: UTF8.self)
            var inlineValue: String?
            if let equals = body.firstIndex(of: UInt8(ascii: "=")) {
                inlineValue = String(decoding: body[body.index(after: equals)...], as: UTF8.self)
                name = String(decoding: body[..<equals], as: UTF8.self)
            }
            guard let flag = flags.first(where: { $0.name == name || ($0.short.map { String($0) == name } ?? false) }) else {
                throw UsageError(description: "flag provided but not defined: -\(name)")
            }
            if flag.takesValue {
                if inlineValue == nil {
                    index += 1
                    guard index < arguments.endIndex else { throw UsageError(description: "flag needs an argument: -\(name)") }
                    inlineValue = arguments[index]
                }
                parsed.give(flag.name, inlineValue!)
            } else {
                parsed.give(flag.name, inlineValue ?? "true")
            }
            index += 1
        }
        return (parsed, [])
    }
}
