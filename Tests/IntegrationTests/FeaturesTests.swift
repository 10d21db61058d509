import Foundation
import Testing

/// Issue 6: `crabcan features` prints the runtime-spec features document, golden-tested, valid against
/// spec-schema/features.schema.json, and truthful (what it lists, create accepts).
extension CrabcanCLI {
    static let featuresGolden = Paths.repo + "/Tests/Golden/features.json"

    static func featuresDocument() throws -> [String: Any] {
        let result = Command.run(Paths.binary, ["features"])
        try #require(result.status == 0 && result.stderr.isEmpty, "\(result)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    /// Byte for byte the checked-in document, but for `linux.seccomp.supportedFlags` (it depends on the kernel),
    /// which the golden file holds as a placeholder.
    @Test func featuresMatchesTheGoldenDocument() throws {
        let result = Command.run(Paths.binary, ["features"])
        try #require(result.status == 0 && result.stderr.isEmpty, "\(result)")
        let pattern = try NSRegularExpression(pattern: #""supportedFlags": \[[^\]]*\]"#)
        let whole = NSRange(result.stdout.startIndex..., in: result.stdout)
        let range = try #require(pattern.firstMatch(in: result.stdout, range: whole)?.range)
        let masked = pattern.stringByReplacingMatches(in: result.stdout, range: whole,
                                                      withTemplate: #""supportedFlags": "<depends on the kernel>""#)
        let golden = try String(contentsOfFile: Self.featuresGolden, encoding: .utf8)
        #expect(masked == golden, "features differ from Tests/Golden/features.json:\n\(result.stdout)")

        // Supported flags are known flags; this kernel (6.x) and libseccomp 2.5 support these three.
        let features = try Self.featuresDocument()
        let seccomp = try #require((features["linux"] as? [String: Any])?["seccomp"] as? [String: Any])
        let supported = try #require(seccomp["supportedFlags"] as? [String], "\((result.stdout as NSString).substring(with: range))")
        let known = try #require(seccomp["knownFlags"] as? [String])
        #expect(Set(supported).isSubset(of: Set(known)))
        #expect(Set(supported).isSuperset(of: ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]), "\(supported)")
    }

    @Test func featuresIsValidAgainstTheSchema() throws {
        let result = Command.run(Paths.binary, ["features"])
        let check = Command.run("/usr/bin/python3", [Paths.validator, "features", "-"], stdin: Data(result.stdout.utf8))
        #expect(check.status == 0, "\(check)")
    }

    /// Every namespace listed can be created; the recognized-but-unlisted ones are refused with their path.
    @Test func featuresNamespacesAreTheOnesCreateAccepts() throws {
        let features = try Self.featuresDocument()
        let listed = try #require((features["linux"] as? [String: Any])?["namespaces"] as? [String])
        let box = try Sandbox()
        defer { box.cleanup() }
        for type in ["mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time"] {
            let bundle = try box.bundle(["true"], name: "ns-\(type)") { config in
                var linux = config["linux"] as! [String: Any]
                var namespaces = (linux["namespaces"] as? [[String: Any]] ?? []).filter { ($0["type"] as? String) != type }
                namespaces.append(["type": type])
                linux["namespaces"] = namespaces
                if type == "user" {
                    linux["uidMappings"] = [["containerID": 0, "hostID": 0, "size": 65536]]
                    linux["gidMappings"] = [["containerID": 0, "hostID": 0, "size": 65536]]
                }
                config["linux"] = linux
            }
            let result = box.crabcan(["run", "--bundle", bundle, box.id("ns-\(type)")])
            if listed.contains(type) {
                #expect(result.status == 0, "\(type) is listed but refused: \(result)")
            } else {
                #expect(result.status == 1 && result.stderr.contains(".linux.namespaces"), "\(type) is not listed: \(result)")
            }
        }
    }
}
