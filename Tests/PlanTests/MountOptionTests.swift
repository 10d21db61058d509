@testable import Plan
import Sys
import Testing

@Suite struct MountOptionTests {
    @Test func flagsPropagationAndDataAreSplit() {
        let options = MountOptions(["nosuid", "noexec", "nodev", "rprivate", "mode=755", "size=65536k"], type: "tmpfs")
        #expect(options.flags == Mounts.noSUID | Mounts.noExec | Mounts.noDev)
        #expect(options.propagation == [Mounts.private | Mounts.recursive])
        #expect(options.dataString == "mode=755,size=65536k")
        // A name with '=' is data even where its start is a flag's name.
        let keyed = MountOptions(["ro=1", "private=x", "newinstance"], type: "tmpfs")
        #expect(keyed.flags == 0 && keyed.propagation.isEmpty && keyed.dataString == "ro=1,private=x,newinstance")
        #expect(!options.isBind)
    }

    @Test func bindReadonlyNeedsARemount() {
        let options = MountOptions(["rbind", "ro"], type: nil)
        #expect(options.isBind)
        #expect(options.flags & Mounts.recursive != 0)
        #expect(options.needsRemount)
        #expect(!MountOptions(["bind"], type: nil).needsRemount)
        #expect(MountOptions([], type: "bind").isBind)
    }

    @Test func laterOptionsWin() {
        #expect(MountOptions(["ro", "rw"], type: "tmpfs").flags & Mounts.readOnly == 0)
        #expect(MountOptions(["rw", "ro"], type: "tmpfs").flags & Mounts.readOnly != 0)
    }
}
