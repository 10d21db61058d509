import Glibc
import Testing

@testable import Sys

/// `readAll` reads into a buffer it never zeroes and grows by copying what it has: every byte comes back, at every
/// size around the first page and its doublings, from a file and from a pipe that delivers a little at a time.
@Suite struct ReadAllTests {
    @Test(arguments: [0, 1, 4095, 4096, 4097, 8192, 8193, 20000])
    func everyByteOfAFile(size: Int) throws {
        var template = Array("/tmp/crabcan-readall.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        let path = String(cString: template)
        defer { unlink(path) }
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        try FileDescriptor(fd).write(bytes)
        #expect(try Files.readFile(path) == bytes)
    }

    @Test func everyByteOfAPipeWrittenInPieces() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let reader = FileDescriptor(fds[0])
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let child = fork()
        if child == 0 {
            close(fds[0])
            var at = 0
            while at < bytes.count {
                let piece = min(1000, bytes.count - at)
                _ = bytes[at..<(at + piece)].withUnsafeBytes { write(fds[1], $0.baseAddress, piece) }
                at += piece
                usleep(1000)
            }
            _exit(0)
        }
        close(fds[1])
        #expect(try reader.readAll() == bytes)
        var status: Int32 = 0
        waitpid(child, &status, 0)
    }
}
