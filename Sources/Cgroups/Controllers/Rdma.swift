import JSON
import OCISpec
import Sys

/// rdma: the same rdma.max in v1 and v2.
enum Rdma {
    static func problems(_ rdma: [String: Resources.Rdma]) -> [ConfigProblem] {
        rdma.keys.sorted().filter { !isSafeName($0) }.map {
            ConfigProblem(".linux.resources.rdma", "invalid device name \(jsonQuote($0))")
        }
    }

    /// rdma.max lines: "<device> hca_handle=<n|max> hca_object=<n|max>".
    static func apply(_ rdma: [String: Resources.Rdma], _ d: String) throws {
        for name in rdma.keys.sorted() {
            let e = rdma[name]!
            let handles = e.hcaHandles.map(String.init) ?? "max"
            let objects = e.hcaObjects.map(String.init) ?? "max"
            try CgroupFiles.write(d, "rdma.max", "\(name) hca_handle=\(handles) hca_object=\(objects)")
        }
    }
}
