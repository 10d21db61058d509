import Launcher
import Sys

/// An error a subcommand reports: one line, saying what failed and why; the CLI prints it and exits 1.
/// It keeps what failed underneath (`cause`), so the errno and the init's stage are not lost in the text.
package struct RuntimeError: Error, CustomStringConvertible {
    package var description: String
    package var cause: (any Error)?

    package init(_ description: String, cause: (any Error)? = nil) {
        self.description = description
        self.cause = cause
    }

    /// The errno at the bottom of the causes, if a system call or the container's init gave one.
    package var errno: Int32? {
        switch cause {
        case let error as SysError: return error.errno
        case let failure as ChildFailure: return failure.errno == 0 ? nil : failure.errno
        case let error as RuntimeError: return error.errno
        default: return nil
        }
    }

    /// The init's set-up stage when it was the init that failed.
    package var setupStage: SetupStage? {
        switch cause {
        case let failure as ChildFailure: return failure.stage
        case let error as RuntimeError: return error.setupStage
        default: return nil
        }
    }
}
