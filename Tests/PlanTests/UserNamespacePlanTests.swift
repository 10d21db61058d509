import Glibc
import OCISpec
@testable import Plan
import Sys
import Testing

/// Issue 5: user namespace mappings (checked with their JSON path before clone, written as the kernel and
/// newuidmap take them), time offsets, and what changes for an unprivileged caller. No root needed.
@Suite struct UserNamespacePlanTests {
    /// The lexical cleaning a program path gets before it is looked up in the rootfs (filepath.Clean's, rooted).
    @Test func programPathsAreCleanedLexically() {
        let cases = ["/bin/true": "/bin/true", "bin//true": "/bin/true", "/./bin/./true/": "/bin/true",
                     "/usr/../bin/true": "/bin/true", "/../../x": "/x", "..": "/", "": "/", "/": "/", "a/b/..": "/a",
                     "/a/..b/.c": "/a/..b/.c", "/é/ü": "/é/ü"]
        for (path, clean) in cases { #expect(ConfigChecks.clean(path) == clean, "\(path)") }
    }

    func map(_ c: UInt32, _ h: UInt32, _ s: UInt32) -> IDMapping { IDMapping(containerID: c, hostID: h, size: s) }

    func problem(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The one rule for every id map (a new user namespace's and an idmapped mount's): ConfigChecks.mappings.
    func problems(_ maps: [IDMapping], required: Bool = true) -> [String] {
        ConfigChecks.mappings(maps, path: ".linux.uidMappings", kind: "uid", required: required).map { "\($0)" }
    }

    @Test func validMappingsPass() throws {
        #expect(problems([map(0, 100000, 65536)]).isEmpty)
        #expect(problems([map(0, 1000, 1), map(1, 100000, 65536)]).isEmpty)
        // The last mappable id is 4294967294.
        #expect(problems([map(4294967294, 0, 1)]).isEmpty)
        // The plan takes what the rule takes.
        _ = try UserNamespacePlan(uidMappings: [map(0, 0, 65536)], gidMappings: [map(0, 0, 65536)], callerUID: 0, callerGID: 0, searchPath: nil)
    }

    @Test func badMappingsNameTheirPath() {
        let path = ".linux.uidMappings"
        #expect(problems([]) == ["\(path): a new user namespace needs uid mappings"])
        #expect(problems([], required: false).isEmpty)
        #expect(problems([map(0, 1, 0)]) == ["\(path)[0].size: must be greater than zero"])
        #expect(problems([map(0, 100, 10), map(5, 500, 10)]) == ["\(path)[1].containerID: container uids 5...14 overlap \(path)[0] (0...9)"])
        #expect(problems([map(0, 100, 10), map(10, 105, 10)]) == ["\(path)[1].hostID: host uids 105...114 overlap \(path)[0] (100...109)"])
        #expect(problems([map(4294967295, 0, 1)]) == ["\(path)[0].containerID: container uids 4294967295...4294967295 go past 4294967294, the highest uid"])
        #expect(problems([map(0, 4294967000, 1000)]) == ["\(path)[0].hostID: host uids 4294967000...4294967999 go past 4294967294, the highest uid"])
        let many = (0..<341).map { map(UInt32($0), UInt32($0) + 100000, 1) }
        #expect(problems(many).contains("\(path): 341 mappings; the kernel takes at most 340"))
        // Adjacent ranges do not overlap.
        #expect(problems([map(0, 100, 10), map(10, 110, 10)]).isEmpty)
        // The plan refuses with the rule's first problem.
        #expect(problem {
            _ = try UserNamespacePlan(uidMappings: [map(0, 1, 0)], gidMappings: [map(0, 0, 1)], callerUID: 0, callerGID: 0, searchPath: nil)
        } == "\(path)[0].size: must be greater than zero")
    }

    @Test func mapTextAndToolArguments() {
        let mappings = [map(0, 1000, 1), map(1, 100000, 65536)]
        #expect(UserNamespacePlan.text(mappings) == "0 1000 1\n1 100000 65536\n")
        #expect(UserNamespacePlan.toolArguments(pid: 42, mappings) == ["42", "0", "1000", "1", "1", "100000", "65536"])
        #expect(UserNamespacePlan.maps(0, in: mappings))
        #expect(UserNamespacePlan.maps(65536, in: mappings))
        #expect(!UserNamespacePlan.maps(65537, in: mappings))
    }

    @Test func whoWritesTheMaps() throws {
        let own = [map(0, 1000, 1)]
        let more = [map(0, 1000, 1), map(1, 100000, 65536)]
        // Root writes anything itself.
        let root = try UserNamespacePlan(uidMappings: more, gidMappings: more, callerUID: 0, callerGID: 0, searchPath: "/nonexistent")
        #expect(root.uidWriter == .direct && root.gidWriter == .direct && !root.childStaysDumpableUntilMapped)
        // An ordinary user maps its own ids itself; the gid only after denying setgroups.
        let single = try UserNamespacePlan(uidMappings: own, gidMappings: own, callerUID: 1000, callerGID: 1000,
                                           searchPath: "/nonexistent")
        #expect(single.uidWriter == .direct && single.gidWriter == .directAfterDenyingSetgroups)
        #expect(single.childStaysDumpableUntilMapped)
        // More needs newuidmap/newgidmap, found in PATH, or a clear error.
        let tools = Processes.findProgram("newuidmap", path: nil)
        if let tools {
            let directory = String(tools[..<tools.lastIndex(of: "/")!])
            let viaTool = try UserNamespacePlan(uidMappings: more, gidMappings: more, callerUID: 1000, callerGID: 1000,
                                                searchPath: directory)
            #expect(viaTool.uidWriter == .tool(directory + "/newuidmap"))
            #expect(viaTool.gidWriter == .tool(directory + "/newgidmap"))
        }
        #expect(problem {
            _ = try UserNamespacePlan(uidMappings: more, gidMappings: own, callerUID: 1000, callerGID: 1000, searchPath: "/nonexistent")
        }?.hasPrefix(".linux.uidMappings: mapping more than your own uid 1000 needs newuidmap") == true)
    }

    func spec(_ json: String) throws -> Spec { try Spec.decode(Array(json.utf8)) }

    @Test func planChecksMappingsAgainstTheNamespacesAndTheUser() throws {
        let withUser = try spec("""
            {"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "process": {"user": {"uid": 70000, "gid": 0}, "args": ["sh"], "cwd": "/"},
             "linux": {"namespaces": [{"type": "user"}, {"type": "mount"}],
                       "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                       "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}}
            """)
        // Through the one collector, as check and create see it; the plan is not made while it has problems.
        let created: NamespaceSet = [.user, .mount]
        #expect(ConfigChecks.userNamespace(linux: withUser.linux, process: withUser.process, created: created, joined: []).map(\.description)
                == [".process.user.uid: 70000 is not mapped by .linux.uidMappings"])
        #expect(ContainerPlan.check(spec: withUser, bundle: "/").errors.map(\.description).contains(".process.user.uid: 70000 is not mapped by .linux.uidMappings"))
        // Mappings without a new user namespace (none, or a joined one with mappings of its own).
        #expect(ConfigChecks.userNamespace(linux: withUser.linux, process: withUser.process, created: [.mount], joined: []).map(\.description)
                == [".linux.uidMappings: needs a new user namespace in .linux.namespaces", ".linux.gidMappings: needs a new user namespace in .linux.namespaces"])
        let noMappings = try spec("""
            {"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
             "linux": {"namespaces": [{"type": "user"}, {"type": "mount"}]}}
            """)
        #expect(problem { _ = try ContainerPlan.planUserNamespace(noMappings, created: [.user, .mount]) }
                == ".linux.uidMappings: a new user namespace needs uid mappings")
        #expect(try ContainerPlan.planUserNamespace(noMappings, created: [.mount]) == nil)
    }

    @Test func devptsGidIsDroppedWhenUnmapped() throws {
        let mount = Mount(destination: "/dev/pts", type: "devpts", source: "devpts", options: ["newinstance", "gid=5", "mode=0620"])
        var warnings: [String] = []
        let unmapped = try UserNamespacePlan(uidMappings: [map(0, 1000, 1)], gidMappings: [map(0, 1000, 1)], callerUID: 0,
                                             callerGID: 0, searchPath: nil)
        #expect(ContainerPlan.mappedOwnerOptions(mount, unmapped, warnings: &warnings) == ["newinstance", "mode=0620"])
        #expect(warnings.count == 1)
        let mapped = try UserNamespacePlan(uidMappings: [map(0, 100000, 65536)], gidMappings: [map(0, 100000, 65536)],
                                           callerUID: 0, callerGID: 0, searchPath: nil)
        #expect(ContainerPlan.mappedOwnerOptions(mount, mapped, warnings: &warnings) == mount.options)
        #expect(ContainerPlan.mappedOwnerOptions(mount, nil, warnings: &warnings) == mount.options)
    }

    @Test func timeOffsetsText() throws {
        let linux = Linux(namespaces: [Namespace(type: .time)],
                          timeOffsets: ["monotonic": TimeOffset(secs: 3600), "boottime": TimeOffset(secs: -5, nanosecs: 7)])
        if Namespaces.haveTimeNamespaces {
            #expect(try ContainerPlan.planTimeNamespace(linux, created: [.time]) == "boottime -5 7\nmonotonic 3600 0\n")
        }
        #expect(problem { _ = try ContainerPlan.planTimeNamespace(linux, created: []) }
                == ".linux.timeOffsets: needs a new time namespace in .linux.namespaces")
        let bad = Linux(namespaces: [Namespace(type: .time)], timeOffsets: ["boottime": TimeOffset(secs: 1, nanosecs: 1_000_000_000)])
        if Namespaces.haveTimeNamespaces {
            #expect(problem { _ = try ContainerPlan.planTimeNamespace(bad, created: [.time]) }
                    == ".linux.timeOffsets.boottime.nanosecs: must be below 1000000000, got 1000000000")
        }
    }
}
