import Checkpoint
import Testing

/// crabcan's encoding of CRIU's rpc.proto against the bytes of the reference protobuf implementation: the
/// expected strings are what Debian's pycriu (criu 3.17's rpc_pb2 with python3-protobuf) serializes for the same
/// messages (criu_req with options as checkpoint sets them; criu_resp as criu sends them).
@Suite struct CriuMessagesTests {
    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.filter { $0.isHexDigit })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
    }

    @Test func dumpRequestMatchesTheReferenceEncoding() {
        var options = CriuOptions()
        options.imagesDirFD = 5
        options.pid = 1234
        options.shellJob = false
        options.logLevel = 4
        options.logFile = "dump.log"
        options.root = "/r"
        options.externalMounts = [("/data", "/data")]
        options.manageCgroups = true
        options.cgroupRoots = [(nil, "/crabcan/x")]
        options.manageCgroupsMode = .soft
        options.external = ["net[4026531992]:extRootNetNS"]
        options.emptyNamespaces = 0x4000_0000
        let bytes = CriuRequest(type: .dump, options: options).encoded()
        #expect(bytes == Self.hex("""
            08011263080510d20938004804520864756d702e6c6f676a022f72ba010e0a052f6461746112052f64617461c00101ca010c120a\
            2f6372616263616e2f78900203aa021c6e65745b343032363533313939325d3a657874526f6f744e65744e53b0028080808004
            """))
    }

    @Test func notifyResponseDecodes() throws {
        let answer = try CriuResponse(Self.hex("080610012a110a0c706f73742d726573746f726510c102"))
        #expect(answer.type == CriuRequestType.notify.rawValue)
        #expect(answer.success)
        #expect(answer.notifyScript == "post-restore")
        #expect(answer.notifyPid == 321)
    }

    /// A negative errno is a ten-byte varint; the message comes along.
    @Test func failureResponseDecodes() throws {
        let answer = try CriuResponse(Self.hex("0801100038feffffffffffffffff014a04626f6f6d"))
        #expect(answer.typeName == "DUMP")
        #expect(!answer.success)
        #expect(answer.errno == -2)
        #expect(answer.errorMessage == "boom")
    }

    @Test func truncatedResponseIsAnError() {
        #expect(throws: (any Error).self) { try CriuResponse(Self.hex("0801100038feff")) }
        #expect(throws: (any Error).self) { try CriuResponse(Self.hex("08062a110a0c706f7374")) }
    }

    @Test func requestWithoutOptionsIsJustItsType() {
        #expect(CriuRequest(type: .notify, notifySuccess: true).encoded() == Self.hex("08061801"))
        #expect(CriuRequest(type: .version).encoded() == Self.hex("080a"))
    }
}
