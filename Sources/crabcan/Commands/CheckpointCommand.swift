import Runtime

/// `checkpoint` and `restore` take runc's flags and drive CRIU as runc does (Runtime+Checkpoint, Runtime+Restore;
/// docs/checkpoint.md); the few flags crabcan does not support fail with one "not supported" line, exit 1.
enum CheckpointCommand: Command {
    static let name = "checkpoint"
    static let summary = "checkpoint a running container (through CRIU)"
    static let flags: [FlagSpec] = [
        FlagSpec(name: "image-path", short: nil, takesValue: true, help: "path for saving criu image files"),
        FlagSpec(name: "work-path", short: nil, takesValue: true, help: "path for saving work files and logs"),
        FlagSpec(name: "parent-path", short: nil, takesValue: true, help: "path for previous criu image files in pre-dump"),
        FlagSpec(name: "leave-running", short: nil, takesValue: false, help: "leave the process running after checkpointing"),
        FlagSpec(name: "tcp-established", short: nil, takesValue: false, help: "allow open tcp connections"),
        FlagSpec(name: "ext-unix-sk", short: nil, takesValue: false, help: "allow external unix sockets"),
        FlagSpec(name: "shell-job", short: nil, takesValue: false, help: "allow shell jobs"),
        FlagSpec(name: "lazy-pages", short: nil, takesValue: false, help: "use userfaultfd to lazily restore memory pages"),
        FlagSpec(name: "status-fd", short: nil, takesValue: true, help: "criu writes \\0 to this FD once lazy-pages is ready (default: -1)"),
        FlagSpec(name: "page-server", short: nil, takesValue: true, help: "ADDRESS:PORT of the page server"),
        FlagSpec(name: "file-locks", short: nil, takesValue: false, help: "handle file locks, for safety"),
        FlagSpec(name: "pre-dump", short: nil, takesValue: false, help: "dump container's memory information only, leave the container running after this"),
        FlagSpec(name: "manage-cgroups-mode", short: nil, takesValue: true, help: "cgroups mode: 'soft' (default), 'full' and 'strict'"),
        FlagSpec(name: "empty-ns", short: nil, takesValue: true, repeatable: true, help: "create a namespace, but don't restore its properties"),
        FlagSpec(name: "auto-dedup", short: nil, takesValue: false, help: "enable auto deduplication of memory images"),
    ]

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        try runtime.checkpoint(try arguments.containerID(name), try checkpointOptions(arguments))
        return 0
    }
}

enum RestoreCommand: Command {
    static let name = "restore"
    static let summary = "restore a container from a previous checkpoint (through CRIU)"
    static let flags: [FlagSpec] = [
        FlagSpec(name: "console-socket", short: nil, takesValue: true,
                 help: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"),
        FlagSpec(name: "image-path", short: nil, takesValue: true, help: "path to criu image files for restoring"),
        FlagSpec(name: "work-path", short: nil, takesValue: true, help: "path for saving work files and logs"),
        FlagSpec(name: "tcp-established", short: nil, takesValue: false, help: "allow open tcp connections"),
        FlagSpec(name: "ext-unix-sk", short: nil, takesValue: false, help: "allow external unix sockets"),
        FlagSpec(name: "shell-job", short: nil, takesValue: false, help: "allow shell jobs"),
        FlagSpec(name: "file-locks", short: nil, takesValue: false, help: "handle file locks, for safety"),
        FlagSpec(name: "manage-cgroups-mode", short: nil, takesValue: true, help: "cgroups mode: 'soft' (default), 'full' and 'strict'"),
        FlagSpec(name: "bundle", short: "b", takesValue: true, help: "path to the root of the bundle directory"),
        FlagSpec(name: "detach", short: "d", takesValue: false, help: "detach from the container's process"),
        FlagSpec(name: "pid-file", short: nil, takesValue: true, help: "specify the file to write the process id to"),
        FlagSpec(name: "no-subreaper", short: nil, takesValue: false, help: "disable the use of the subreaper used to reap reparented processes"),
        FlagSpec(name: "no-pivot", short: nil, takesValue: false,
                 help: "do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk"),
        FlagSpec(name: "empty-ns", short: nil, takesValue: true, repeatable: true, help: "create a namespace, but don't restore its properties"),
        FlagSpec(name: "auto-dedup", short: nil, takesValue: false, help: "enable auto deduplication of memory images"),
        FlagSpec(name: "lazy-pages", short: nil, takesValue: false, help: "use userfaultfd to lazily restore memory pages"),
        FlagSpec(name: "lsm-profile", short: nil, takesValue: true, help: "Specify an LSM profile to be used during restore in the form of TYPE:NAME."),
        FlagSpec(name: "lsm-mount-context", short: nil, takesValue: true, help: "Specify an LSM mount context to be used during restore."),
    ]

    static func run(_ arguments: ParsedArguments, _ runtime: Runtime) throws -> Int32 {
        try runtime.restore(try arguments.containerID(name), try restoreOptions(arguments))
    }
}
