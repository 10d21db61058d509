import Sys

/// stdout through write(2): Swift 6 flags libc's `stdout` global as not concurrency-safe (DESIGN.md §5).
enum Output {
    static func write(_ bytes: [UInt8]) {
        let out = FileDescriptor(1)
        defer { _ = out.release() }
        try? out.write(bytes)
    }

    static func line(_ text: String) { write(Array((text + "\n").utf8)) }
}
