import Glibc
@testable import Launcher
@testable import Runtime
import Sys
import Testing

/// Issue 15.7: an error keeps what failed underneath, so the errno and the init's stage survive the one-line
/// message. (What a real failed create keeps is seen through the binary: LogTests.childFailureNamesItsStage
/// reads this stage and errno from the debug log; a unit test must not clone from the threaded test process.)
@Suite struct RuntimeErrorTests {
    @Test func causesKeepTheirErrnoAndStage() {
        let failure = ChildFailure(message: "mount none on /nofs: ENODEV (no such device)", errno: ENODEV, stage: .rootfs)
        let create = RuntimeError("create c1: \(failure)", cause: failure)
        let run = RuntimeError("run c1: \(create)", cause: create)
        #expect(run.errno == ENODEV && run.setupStage == .rootfs)
        #expect(run.description == "run c1: create c1: mount none on /nofs: ENODEV (no such device)")
        let sys = RuntimeError("console socket /x: \(SysError("connect", path: "/x", errno: ECONNREFUSED))",
                               cause: SysError("connect", path: "/x", errno: ECONNREFUSED))
        #expect(sys.errno == ECONNREFUSED && sys.setupStage == nil)
        // A failure that carries no errno (a protocol or plan problem) says so, not 0.
        #expect(RuntimeError("create c1", cause: ChildFailure(message: "sync: waited for placed", errno: 0)).errno == nil)
        #expect(RuntimeError("plain").errno == nil)
    }
}
