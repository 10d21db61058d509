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
        return homeDirectory(uid: uid, in: passwd) ?? "/"
    }

    /// The sixth field (name:password:uid:gid:gecos:home:shell) of the first line whose third is `uid`. One pass over
    /// the bytes, with no arrays of lines or fields (each a generic storage class to make, and mallocs).
    static func homeDirectory(uid: UInt32, in passwd: [UInt8]) -> String? {
        var field = 0, fieldStart = 0, uidMatches = false
        // The end of the bytes ends the last line as a newline would.
        for index in 0...passwd.count {
            let endsLine = index == passwd.count || passwd[index] == UInt8(ascii: "\n")
            guard endsLine || passwd[index] == UInt8(ascii: ":") else { continue }
            if field == 2 { uidMatches = DecimalText.parse(passwd[fieldStart..<index]) == UInt64(uid) }
            if field == 5 && uidMatches { return String(decoding: passwd[fieldStart..<index], as: UTF8.self) }
            (field, fieldStart) = (endsLine ? 0 : field + 1, index + 1)
            if endsLine { uidMatches = false }
        }
        return nil
    }
}
