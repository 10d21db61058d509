import Sys

extension Runtime {
    /// `ps ID [ps options]` without --format json, as runc does it: the host's `ps` runs with the options
    /// (default `-ef`), and its header and the rows whose PID column is one of the container's processes are
    /// kept, so scripts get the table (and columns) they asked `ps` for.
    package func processTable(_ id: String, psArguments: [String]) throws -> String {
        let pids = Set(try processes(id))
        let environment = Processes.environment()
        let path = environment.first { $0.hasBytePrefix("PATH=") }.map { String($0.dropFirst(5)) }
        guard let ps = Processes.findProgram("ps", path: path) else {
            throw RuntimeError("ps: executable file not found in $PATH (install procps)")
        }
        let (status, output) = try Processes.runTool(ps, psArguments.isEmpty ? ["-ef"] : psArguments, environment: environment)
        guard status == .exited(0) else { throw RuntimeError("\(ps) \(status): \(output)") }
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let header = lines.first, let pidColumn = header.split(separator: " ").firstIndex(of: "PID") else {
            throw RuntimeError("couldn't find PID field in ps output")
        }
        var table = String(header) + "\n"
        for line in lines.dropFirst() where !line.isEmpty {
            let fields = line.split(separator: " ")
            guard pidColumn < fields.count, let pid = Int32(fields[pidColumn]) else {
                throw RuntimeError("unable to parse pid in ps output: \(Log.oneLine(String(line)))")
            }
            if pids.contains(pid) { table += String(line) + "\n" }
        }
        return table
    }
}
