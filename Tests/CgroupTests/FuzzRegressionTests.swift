import Foundation
import Testing

@testable import Cgroups
import JSON
import OCISpec

/// Inputs `make fuzz` found (the `resources` target; files in Tests/FuzzCorpus/resources/): each is refused
/// with one error line that names the field and quotes the value, control characters escaped.
@Suite struct FuzzRegressionTests {
    /// `update -r FILE` and config.json both reach validation through this decoding.
    static func resources(_ text: String) throws -> Resources {
        let context = JSONDecodingContext(document: try JSONDocument.parse(text))
        let resources = try #require(Resources(json: context.root))
        #expect(context.problems.isEmpty)
        return resources
    }

    /// Tests/FuzzCorpus/resources/unified-key-with-line-break.json: the key went raw into the error, which
    /// then spanned two lines.
    @Test func unifiedKeyWithALineBreakIsQuoted() throws {
        let fake = try FakeRoot()
        let manager = CgroupManager(try CgroupSet.plan(cgroupsPath: "/c1", id: "c1", host: try fake.v2Host()))
        let resources = try Self.resources(#"{"unified": {"\na": "1G"}}"#)
        #expect(throws: ConfigProblem(#".linux.resources.unified["\na"]"#, #"expected "<controller>.<file>""#)) {
            try manager.validate(resources)
        }
    }

    /// crash-4ac6625b…: a key whose controller part held a carriage return, in the "not enabled" message.
    @Test func unifiedControllerWithACarriageReturnIsQuoted() throws {
        let fake = try FakeRoot()
        _ = try fake.v2Host()  // writes the root's cgroup.controllers
        let manager = CgroupManager(CgroupSet(version: .v2, paths: ["": fake.root + "/unified"]))
        let resources = try Self.resources(#"{"unified": {"`\ry.x": "1"}}"#)
        let problem = ConfigProblem(#".linux.resources.unified["`\ry.x"]"#,
                                    #"the "`\ry" cgroup controller is not enabled for "# + fake.root + "/unified")
        #expect(throws: problem) { try manager.validate(resources) }
        #expect(!problem.description.contains("\r"))
    }

    /// Names that become file names or control-file tokens refuse every control character, not just \n and \t.
    @Test func namesWithControlCharactersAreRefusedAndQuoted() throws {
        let fake = try FakeRoot()
        let manager = CgroupManager(try CgroupSet.plan(cgroupsPath: "/c1", id: "c1", host: try fake.v1Host()))
        // (Decoding already refuses such a page size; validation must hold on its own, e.g. for `update` flags.)
        let resources = Resources(hugepageLimits: [.init(pageSize: "2\rMB", limit: 1)])
        #expect(throws: ConfigProblem(".linux.resources.hugepageLimits[0].pageSize", #"invalid page size "2\rMB""#)) {
            try manager.validate(resources)
        }
    }
}
