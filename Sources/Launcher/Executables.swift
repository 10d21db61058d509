import Glibc
import Plan
import Sys

/// Finding the program inside the container, as execvp would but before we commit to starting.
enum Executables {
    struct NotFound: Error, CustomStringConvertible {
        var name: String
        var description: String { "exec: \"\(name)\": executable file not found in $PATH" }
    }

    static func resolve(_ name: String, searchPath: String, cwd: String) throws -> String {
        for candidate in ProgramSearch.candidates(name, searchPath: searchPath, cwd: cwd) {
            if name.contains("/") {
                guard access(candidate, X_OK) == 0 else { throw SysError("exec", path: name) }
                // execve refuses a directory with EACCES after we committed; runc says "permission denied" before.
                guard !Files.isDirectory(candidate) else { throw SysError("exec", path: name, errno: EACCES) }
                return candidate
            }
            if access(candidate, X_OK) == 0, !Files.isDirectory(candidate) { return candidate }
        }
        throw NotFound(name: name)
    }

    /// HOME from the container's /etc/passwd, as runc sets it when the config has none.
    static func homeDirectory(uid: UInt32) -> String {
        guard let passwd = try? Files.readFile("/etc/passwd") else { return "/" }
        // On bytes: /etc/passwd is bytes, and Character slicing is slow code this process would map just for it.
        for line in passwd.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            if fields.count >= 6, DecimalText.parse(fields[2]) == UInt64(uid) { return String(decoding: fields[5], as: UTF8.self) }
        }
        return "/"
    }
}
