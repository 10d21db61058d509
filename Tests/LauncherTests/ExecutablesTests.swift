@testable import Launcher
import Testing

/// HOME from the container's /etc/passwd (runc's rule): the first line with the uid gives its sixth field, read in
/// one pass over the bytes.
@Suite struct HomeDirectoryTests {
    static let passwd = Array("""
        root:x:0:0:root:/root:/bin/sh
        short:x:7:7
        empty:x:8:8:::/bin/sh
        user:x:1000:1000:user:/home/user:/bin/sh
        again:x:1000:1000:again:/home/again:/bin/sh
        last:x:1001:1001::/home/last
        """.utf8)

    @Test func theFirstLineWithTheUidGivesItsSixthField() {
        #expect(Executables.homeDirectory(uid: 0, in: Self.passwd) == "/root")
        #expect(Executables.homeDirectory(uid: 1000, in: Self.passwd) == "/home/user")
        #expect(Executables.homeDirectory(uid: 8, in: Self.passwd) == "")
        // The last line needs no newline; a line of fewer than six fields gives nothing.
        #expect(Executables.homeDirectory(uid: 1001, in: Self.passwd) == "/home/last")
        #expect(Executables.homeDirectory(uid: 7, in: Self.passwd) == nil)
        #expect(Executables.homeDirectory(uid: 4242, in: Self.passwd) == nil)
        #expect(Executables.homeDirectory(uid: 0, in: []) == nil)
    }
}
