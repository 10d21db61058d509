import Runtime

/// runc's `checkpoint` and `restore` flags into the Runtime's options.
extension CheckpointCommand {
    static func checkpointOptions(_ arguments: ParsedArguments) throws -> CheckpointOptions {
        var options = CheckpointOptions()
        options.imagePath = arguments.value("image-path") ?? ""
        options.workPath = arguments.value("work-path") ?? ""
        options.parentPath = arguments.value("parent-path") ?? ""
        options.leaveRunning = arguments.bool("leave-running")
        options.tcpEstablished = arguments.bool("tcp-established")
        options.extUnixSk = arguments.bool("ext-unix-sk")
        options.shellJob = arguments.bool("shell-job")
        options.lazyPages = arguments.bool("lazy-pages")
        options.statusFD = try arguments.int32("status-fd", default: -1)
        options.pageServer = arguments.value("page-server") ?? ""
        options.fileLocks = arguments.bool("file-locks")
        options.preDump = arguments.bool("pre-dump")
        options.manageCgroupsMode = arguments.value("manage-cgroups-mode") ?? ""
        options.emptyNamespaces = arguments.all("empty-ns")
        options.autoDedup = arguments.bool("auto-dedup")
        return options
    }
}

extension RestoreCommand {
    static func restoreOptions(_ arguments: ParsedArguments) throws -> RestoreOptions {
        var options = RestoreOptions()
        options.bundle = arguments.value("bundle") ?? "."
        options.consoleSocket = arguments.value("console-socket")
        options.imagePath = arguments.value("image-path") ?? ""
        options.workPath = arguments.value("work-path") ?? ""
        options.tcpEstablished = arguments.bool("tcp-established")
        options.extUnixSk = arguments.bool("ext-unix-sk")
        options.shellJob = arguments.bool("shell-job")
        options.fileLocks = arguments.bool("file-locks")
        options.manageCgroupsMode = arguments.value("manage-cgroups-mode") ?? ""
        options.detach = arguments.bool("detach")
        options.pidFile = arguments.value("pid-file")
        options.noSubreaper = arguments.bool("no-subreaper")
        options.noPivot = arguments.bool("no-pivot")
        options.emptyNamespaces = arguments.all("empty-ns")
        options.autoDedup = arguments.bool("auto-dedup")
        options.lazyPages = arguments.bool("lazy-pages")
        options.lsmProfile = arguments.value("lsm-profile") ?? ""
        options.lsmMountContext = arguments.value("lsm-mount-context") ?? ""
        return options
    }
}
