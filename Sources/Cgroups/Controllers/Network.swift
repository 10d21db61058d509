import JSON
import OCISpec
import Sys

/// network: v1's net_cls and net_prio hierarchies; cgroup v2 has neither.
enum Network {
    static func problems(_ n: Resources.Network) -> [ConfigProblem] {
        n.priorities.enumerated().filter { !isSafeName($0.element.name) }.map { i, p in
            ConfigProblem(".linux.resources.network.priorities[\(i)].name", "invalid interface name \(jsonQuote(p.name))")
        }
    }

    static func problemsV2(_ n: Resources.Network) -> [ConfigProblem] {
        guard n.classID != nil || !n.priorities.isEmpty else { return [] }
        return [ConfigProblem(".linux.resources.network", "net_cls and net_prio do not exist in cgroup v2")]
    }

    static func applyClassID(_ n: Resources.Network, _ d: String) throws {
        if let id = n.classID { try CgroupFiles.write(d, "net_cls.classid", String(id)) }
    }

    static func applyPriorities(_ n: Resources.Network, _ d: String) throws {
        for p in n.priorities { try CgroupFiles.write(d, "net_prio.ifpriomap", "\(p.name) \(p.priority)") }
    }
}
