import Testing
@testable import Runtime

/// Issue 18.5: crabcan's log lines are runc 1.1.5's (logrus 1.8.1 built with Go 1.19): the expected strings
/// below are what Go's fmt %q and encoding/json print for the same input (checked with a Go program).
@Suite struct LogFormatTests {
    static let time = "2024-01-02T03:04:05Z"
    static let caller = Log.Caller(function: "create(_:options:)", file: "Runtime/Runtime+Create.swift", line: 97)

    @Test func textLineIsLogrusTextFormatter() {
        #expect(Log.textLine(.debug, "nsexec started", time: Self.time)
                == "time=\"2024-01-02T03:04:05Z\" level=debug msg=\"nsexec started\"\n")
        #expect(Log.textLine(.warning, "w", time: Self.time) == "time=\"2024-01-02T03:04:05Z\" level=warning msg=w\n")
        // logrus leaves out an empty message's field.
        #expect(Log.textLine(.error, "", time: Self.time) == "time=\"2024-01-02T03:04:05Z\" level=error\n")
        // --debug: runc's CallerPrettyfier adds func="pkg.name()" and file="path:line".
        #expect(Log.textLine(.error, "container does not exist", time: Self.time, caller: Self.caller)
                == "time=\"2024-01-02T03:04:05Z\" level=error msg=\"container does not exist\" func=\"Runtime.create()\" file=\"Runtime/Runtime+Create.swift:97\"\n")
    }

    @Test func valuesAreQuotedAsLogrusNeedsQuoting() {
        #expect(Log.logfmtValue("plain-word_1.2/x@y^z+") == "plain-word_1.2/x@y^z+")
        #expect(Log.logfmtValue("") == "")
        #expect(Log.logfmtValue("two words") == "\"two words\"")
        #expect(Log.logfmtValue("a:b") == "\"a:b\"")
        // Go's %q, byte for byte.
        #expect(Log.goQuote("quote\" back\\slash") == #""quote\" back\\slash""#)
        #expect(Log.goQuote("bell\u{07} bs\u{08} ff\u{0C} nl\n cr\r tab\t vt\u{0B} esc\u{1B} del\u{7F}")
                == #""bell\a bs\b ff\f nl\n cr\r tab\t vt\v esc\x1b del\x7f""#)
        #expect(Log.goQuote("é ünï 中文 \u{A0}nbsp \u{2028}ls \u{200B}zw \u{1F600} \u{E0001}")
                == #""é ünï 中文 \u00a0nbsp \u2028ls \u200bzw 😀 \U000e0001""#)
    }

    @Test func jsonLineIsLogrusJSONFormatter() {
        #expect(Log.jsonLine(.error, "container does not exist", time: Self.time)
                == #"{"level":"error","msg":"container does not exist","time":"2024-01-02T03:04:05Z"}"# + "\n")
        #expect(Log.jsonLine(.debug, "", time: Self.time) == #"{"level":"debug","msg":"","time":"2024-01-02T03:04:05Z"}"# + "\n")
        // --debug: file and func (unprettified) sort first.
        #expect(Log.jsonLine(.warning, "w", time: Self.time, caller: Self.caller)
                == #"{"file":"Sources/Runtime/Runtime+Create.swift:97","func":"Runtime.create","level":"warning","msg":"w","time":"2024-01-02T03:04:05Z"}"# + "\n")
        // Go 1.19's encoding/json with HTML escaping (logrus's default): \b and \f as \u escapes.
        #expect(Log.goJSONQuote("<tag> & co") == #""\u003ctag\u003e \u0026 co""#)
        #expect(Log.goJSONQuote("bell\u{07} bs\u{08} nl\n cr\r tab\t esc\u{1B} del\u{7F} \u{2028}")
                == "\"bell\\u0007 bs\\u0008 nl\\n cr\\r tab\\t esc\\u001b del\u{7F} \\u2028\"")
        #expect(Log.goJSONQuote("quote\" back\\slash é") == #""quote\" back\\slash é""#)
    }

    @Test func timeIsRFC3339InWholeSeconds() {
        let time = Log.rfc3339Seconds()
        #expect(time.count == 20 && time.hasSuffix("Z") && !time.contains("."), "\(time)")
    }
}
