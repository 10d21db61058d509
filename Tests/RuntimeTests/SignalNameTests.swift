@testable import Runtime
import Testing

@Suite struct SignalNameTests {
    @Test func namesNumbersAndPrefixes() throws {
        #expect(try SignalNames.parse("TERM") == 15)
        #expect(try SignalNames.parse("SIGTERM") == 15)
        #expect(try SignalNames.parse("sigkill") == 9)
        #expect(try SignalNames.parse("15") == 15)
        #expect(try SignalNames.parse("RTMIN+2") == 36)
        // runc takes signal 0 (`kill --all ID 0` probes that the container is there).
        #expect(try SignalNames.parse("0") == 0)
    }

    @Test(arguments: ["FOO", "65", "-1", "", "RTMIN+99"])
    func refusesUnknownSignals(_ text: String) {
        #expect(throws: RuntimeError.self) { try SignalNames.parse(text) }
    }
}
