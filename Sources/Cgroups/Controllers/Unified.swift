import JSON
import OCISpec
import Sys

/// unified: cgroup v2 files by name (`linux.resources.unified`); v1 has none.
enum Unified {
    static func problemsV1(_ unified: [String: String]) -> [ConfigProblem] {
        unified.isEmpty ? [] : [ConfigProblem(".linux.resources.unified", "cgroup v2 keys cannot be used on a cgroup v1 host")]
    }

    /// Each key must be `<controller>.<file>` in the cgroup directory, its controller enabled there
    /// (`available`: nil before the cgroup exists).
    static func problemsV2(_ unified: [String: String], available: [Substring]?, in d: String) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        for key in unified.keys.sorted() {
            let field = ".linux.resources.unified[\(jsonQuote(key))]"
            // Written as a file name inside the container's cgroup: no way out of it.
            if key.isEmpty || key.contains("/") || key == "." || key == ".." || key.containsText("..") {
                problems.append(ConfigProblem(field, "must be a file name in the cgroup directory"))
                continue
            }
            guard let dot = key.firstIndex(of: "."), dot != key.startIndex else {
                problems.append(ConfigProblem(field, "expected \"<controller>.<file>\""))
                continue
            }
            let controller = String(key[..<dot])
            if controller != "cgroup", let available, !available.contains(Substring(controller)) {
                problems.append(ConfigProblem(field, "the \(jsonQuote(controller)) cgroup controller is not enabled for \(d)"))
            }
        }
        return problems
    }

    /// Last, so an explicit unified value overrides what the fields wrote (runc does the same).
    static func apply(_ unified: [String: String], _ d: String) throws {
        for key in unified.keys.sorted() { try CgroupFiles.write(d, key, unified[key]!) }
    }
}
