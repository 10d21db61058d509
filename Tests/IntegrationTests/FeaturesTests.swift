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

    /// Everything but `linux.seccomp.supportedFlags` (which depends on the kernel) equals the checked-in document.
    @Test func featuresMatchesTheGoldenDocument() throws {
        var features = try Self.featuresDocument()
        var linux = try #require(features["linux"] as? [String: Any])
        var seccomp = try #require(linux["seccomp"] as? [String: Any])
        let supported = try #require(seccomp.removeValue(forKey: "supportedFlags") as? [String])
        linux["seccomp"] = seccomp
        features["linux"] = linux
        let golden = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.featuresGolden))) as? [String: Any])
        let printed = String(decoding: try JSONSerialization.data(withJSONObject: features, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self)
        #expect(NSDictionary(dictionary: features).isEqual(to: golden), "features differ from Tests/Golden/features.json:\n\(printed)")
        // Supported flags are known flags; this kernel (6.x) and libseccomp 2.5 support these three.
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
