import CShim
import Glibc

/// A failed system call: what was attempted, on what, and the errno the kernel gave.
/// Prints as `mount proc on /proc: EPERM (operation not permitted)`: lower-case, no trailing period (docs/design.md §4).
package struct SysError: Error, Sendable, CustomStringConvertible, Equatable {
    package var op: String
    package var path: String?
    package var errno: Int32

    package init(_ op: String, path: String? = nil, errno: Int32 = Glibc.errno) {
        self.op = op
        self.path = path
        self.errno = errno
    }

    package var description: String {
        let subject = path.map { "\(op) \($0)" } ?? op
        return "\(subject): \(SysError.describe(errno: errno))"
    }

    /// `EPERM (operation not permitted)`: the symbolic name for grepping, strerror's text for reading.
    package static func describe(errno: Int32) -> String {
        let text = stringFromC(strerror(errno)).lowercased()
        if let name = errnoNames[errno] { return "\(name) (\(text))" }
        return "errno \(errno) (\(text))"
    }

    static let errnoNames: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", ENXIO: "ENXIO",
        E2BIG: "E2BIG", ENOEXEC: "ENOEXEC", EBADF: "EBADF", ECHILD: "ECHILD", EAGAIN: "EAGAIN",
        ENOMEM: "ENOMEM", EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST",
        EXDEV: "EXDEV", ENODEV: "ENODEV", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR", EINVAL: "EINVAL",
        ENFILE: "ENFILE", EMFILE: "EMFILE", ENOTTY: "ENOTTY", ETXTBSY: "ETXTBSY", EFBIG: "EFBIG",
        ENOSPC: "ENOSPC", ESPIPE: "ESPIPE", EROFS: "EROFS", EMLINK: "EMLINK", EPIPE: "EPIPE",
        ERANGE: "ERANGE", ENAMETOOLONG: "ENAMETOOLONG", ENOSYS: "ENOSYS", ENOTEMPTY: "ENOTEMPTY",
        ELOOP: "ELOOP", EOPNOTSUPP: "EOPNOTSUPP", ECONNREFUSED: "ECONNREFUSED", ETIMEDOUT: "ETIMEDOUT",
        EDQUOT: "EDQUOT", ENOTSOCK: "ENOTSOCK",
    ]
}

/// Calls `body` until it does not fail with EINTR: the one place EINTR is handled (docs/design.md §4).
@inline(__always)
func retryingEINTR<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let result = body()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}

/// Runs a call that returns -1 on failure, retrying EINTR, and throws a SysError naming `op` and `path`.
/// Public for the thin bridges to C libraries (libcap, libseccomp) so they fail the same way. `op` is made
/// only on failure: an interpolated pid or id would otherwise be formatted on every successful call.
@inline(__always)
@discardableResult
package func check<T: BinaryInteger>(_ op: @autoclosure () -> String, _ path: String? = nil, _ body: () -> T) throws(SysError) -> T {
    try checked(op, path, body)
}

// The two result types nearly every call has (int, ssize_t) get concrete overloads: a generic called from another
// module runs unspecialized, through the standard library's integer witnesses. Each specializes `checked` here.
@inline(__always)
@discardableResult
package func check(_ op: @autoclosure () -> String, _ path: String? = nil, _ body: () -> Int32) throws(SysError) -> Int32 {
    try checked(op, path, body)
}

@inline(__always)
@discardableResult
package func check(_ op: @autoclosure () -> String, _ path: String? = nil, _ body: () -> Int) throws(SysError) -> Int {
    try checked(op, path, body)
}

@inline(__always)
func checked<T: BinaryInteger>(_ op: () -> String, _ path: String?, _ body: () -> T) throws(SysError) -> T {
    let result = retryingEINTR(body)
    if result == -1 {
        let saved = errno
        throw SysError(op(), path: path, errno: saved)
    }
    return result
}
