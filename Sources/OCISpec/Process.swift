import JSON
import Sys

/// `process` of config.md: what to run in the container.
package struct Process: Sendable, Equatable {
    package var terminal: Bool
    package var consoleSize: ConsoleSize?
    package var user: User
    package var args: [String]
    /// Windows only; decoded so that a config round-trips, never used on Linux.
    package var commandLine: String?
    package var env: [String]
    package var cwd: String
    package var capabilities: Capabilities?
    package var rlimits: [Rlimit]
    package var noNewPrivileges: Bool
    package var apparmorProfile: String?
    package var oomScoreAdj: Int?
    package var selinuxLabel: String?
    package var ioPriority: IOPriority?
    package var scheduler: Scheduler?
    package var execCPUAffinity: ExecCPUAffinity?

    package init(
        terminal: Bool = false, consoleSize: ConsoleSize? = nil, user: User = User(), args: [String] = [],
        commandLine: String? = nil, env: [String] = [], cwd: String = "/", capabilities: Capabilities? = nil,
        rlimits: [Rlimit] = [], noNewPrivileges: Bool = false, apparmorProfile: String? = nil,
        oomScoreAdj: Int? = nil, selinuxLabel: String? = nil, ioPriority: IOPriority? = nil,
        scheduler: Scheduler? = nil, execCPUAffinity: ExecCPUAffinity? = nil
    ) {
        self.terminal = terminal
        self.consoleSize = consoleSize
        self.user = user
        self.args = args
        self.commandLine = commandLine
        self.env = env
        self.cwd = cwd
        self.capabilities = capabilities
        self.rlimits = rlimits
        self.noNewPrivileges = noNewPrivileges
        self.apparmorProfile = apparmorProfile
        self.oomScoreAdj = oomScoreAdj
        self.selinuxLabel = selinuxLabel
        self.ioPriority = ioPriority
        self.scheduler = scheduler
        self.execCPUAffinity = execCPUAffinity
    }

    package struct ConsoleSize: Sendable, Equatable {
        package var height: UInt32
        package var width: UInt32

        package init(height: UInt32, width: UInt32) {
            self.height = height
            self.width = width
        }
    }

    package struct Capabilities: Sendable, Equatable {
        package var bounding: [String]
        package var effective: [String]
        package var inheritable: [String]
        package var permitted: [String]
        package var ambient: [String]

        package init(
            bounding: [String] = [], effective: [String] = [], inheritable: [String] = [],
            permitted: [String] = [], ambient: [String] = []
        ) {
            self.bounding = bounding
            self.effective = effective
            self.inheritable = inheritable
            self.permitted = permitted
            self.ambient = ambient
        }
    }

    package struct Rlimit: Sendable, Equatable {
        /// e.g. "RLIMIT_NOFILE"; decoding checks the form, the name is resolved where it is applied.
        package var type: String
        package var hard: UInt64
        package var soft: UInt64

        package init(type: String, hard: UInt64, soft: UInt64) {
            self.type = type
            self.hard = hard
            self.soft = soft
        }
    }

    package struct IOPriority: Sendable, Equatable {
        /// IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE.
        package var `class`: String
        /// 0 (highest) to 7 (lowest).
        package var priority: Int

        package init(class: String, priority: Int) {
            self.class = `class`
            self.priority = priority
        }
    }

    /// sched_setattr(2) parameters.
    package struct Scheduler: Sendable, Equatable {
        /// e.g. SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE.
        package var policy: String
        package var nice: Int32?
        package var priority: Int32?
        package var flags: [String]
        package var runtime: UInt64?
        package var deadline: UInt64?
        package var period: UInt64?

        package init(
            policy: String, nice: Int32? = nil, priority: Int32? = nil, flags: [String] = [],
            runtime: UInt64? = nil, deadline: UInt64? = nil, period: UInt64? = nil
        ) {
            self.policy = policy
            self.nice = nice
            self.priority = priority
            self.flags = flags
            self.runtime = runtime
            self.deadline = deadline
            self.period = period
        }
    }

    /// CPU affinity of `exec`'d processes before (`initial`) and after (`final`) they join the cgroup.
    package struct ExecCPUAffinity: Sendable, Equatable {
        package var initial: String?
        package var final: String?

        package init(initial: String? = nil, final: String? = nil) {
            self.initial = initial
            self.final = final
        }
    }
}

package struct User: Sendable, Equatable {
    /// Required on POSIX platforms (config.md), though runc lets Go's zero value stand in.
    package var uid: UInt32
    package var gid: UInt32
    package var umask: UInt32?
    package var additionalGids: [UInt32]
    /// Windows only.
    package var username: String?

    package init(uid: UInt32 = 0, gid: UInt32 = 0, umask: UInt32? = nil, additionalGids: [UInt32] = [], username: String? = nil) {
        self.uid = uid
        self.gid = gid
        self.umask = umask
        self.additionalGids = additionalGids
        self.username = username
    }
}

// MARK: - Decoding

extension Process: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let terminal = o.optional("terminal", Bool.self) ?? false
        let consoleSize = o.optional("consoleSize", ConsoleSize.self)
        let user = o.required("user", User.self)
        let argsReader = o.required("args")
        let args = argsReader?.stringArray()
        if let argsReader, argsReader.elementCount == 0 {
            argsReader.report("must not be empty")
        }
        let commandLine = o.optional("commandLine", String.self)
        // runc refuses entries without '=' or with an empty name.
        let env = o.checkedStrings("env", { $0.first != "=" && $0.contains("=") }, { "expected KEY=value, got \($0)" })
        let cwd = o.required("cwd")?.absolutePath()
        let capabilities = o.optional("capabilities", Capabilities.self)
        var rlimits: [Rlimit] = []
        if let items = o.optional("rlimits") {
            var seen: Set<String> = []
            items.forEachElement { item in
                guard let rlimit = Rlimit(json: item) else { return }
                // config.md: duplicated types MUST be an error.
                if seen.insert(rlimit.type).inserted {
                    rlimits.append(rlimit)
                } else {
                    (item.object()?.optional("type") ?? item).report("duplicate rlimit \(jsonQuote(rlimit.type))")
                }
            }
        }
        let noNewPrivileges = o.optional("noNewPrivileges", Bool.self) ?? false
        let apparmorProfile = o.optional("apparmorProfile", String.self)
        // The kernel's range for /proc/<pid>/oom_score_adj.
        let oomScoreAdj = o.optional("oomScoreAdj")?.integer(in: -1000...1000)
        let selinuxLabel = o.optional("selinuxLabel", String.self)
        let ioPriority = o.optional("ioPriority", IOPriority.self)
        let scheduler = o.optional("scheduler", Scheduler.self)
        let execCPUAffinity = o.optional("execCPUAffinity", ExecCPUAffinity.self)
        guard let user, let args, !args.isEmpty, let cwd else { return nil }
        self.init(
            terminal: terminal, consoleSize: consoleSize, user: user, args: args, commandLine: commandLine,
            env: env, cwd: cwd, capabilities: capabilities, rlimits: rlimits, noNewPrivileges: noNewPrivileges,
            apparmorProfile: apparmorProfile, oomScoreAdj: oomScoreAdj, selinuxLabel: selinuxLabel,
            ioPriority: ioPriority, scheduler: scheduler, execCPUAffinity: execCPUAffinity)
    }
}

extension Process.ConsoleSize: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let height = o.required("height", UInt32.self)
        let width = o.required("width", UInt32.self)
        guard let height, let width else { return nil }
        self.init(height: height, width: width)
    }
}

extension Process.Capabilities: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        // The form only; whether the kernel knows the name is checked where capabilities are applied.
        func list(_ key: String) -> [String] {
            o.checkedStrings(key, { matches($0, prefix: "CAP_", rest: isUpperDigitOrUnderscore) }, { "unknown capability \($0)" })
        }
        self.init(
            bounding: list("bounding"), effective: list("effective"), inheritable: list("inheritable"),
            permitted: list("permitted"), ambient: list("ambient"))
    }
}

extension Process.Rlimit: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let type = o.required("type")?.checkedString({ matches($0, prefix: "RLIMIT_", rest: isUpper) }, { "unknown rlimit \($0)" })
        let hard = o.required("hard", UInt64.self)
        let soft = o.required("soft", UInt64.self)
        guard let type, let hard, let soft else { return nil }
        self.init(type: type, hard: hard, soft: soft)
    }
}

extension Process.IOPriority: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let ioClass = o.required("class")?.oneOf(Vocabulary.ioPriorityClasses)
        // Absent means 0, like Go's zero value; ioprio_set(2) takes 0...7.
        let priorityReader = o.optional("priority")
        let priority = priorityReader?.integer(in: 0...7)
        guard let ioClass, priorityReader == nil || priority != nil else { return nil }
        self.init(class: ioClass, priority: priority ?? 0)
    }
}

extension Process.Scheduler: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let policy = o.required("policy")?.oneOf(Vocabulary.schedulerPolicies)
        let nice = o.optional("nice", Int32.self)
        let priority = o.optional("priority", Int32.self)
        let flags = o.oneOfStrings("flags", Vocabulary.schedulerFlags)
        let runtime = o.optional("runtime", UInt64.self)
        let deadline = o.optional("deadline", UInt64.self)
        let period = o.optional("period", UInt64.self)
        guard let policy else { return nil }
        self.init(policy: policy, nice: nice, priority: priority, flags: flags, runtime: runtime, deadline: deadline, period: period)
    }
}

extension Process.ExecCPUAffinity: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        self.init(initial: o.optional("initial", String.self), final: o.optional("final", String.self))
    }
}

extension User: JSONDecodable {
    package init?(json: JSONReader) {
        guard let o = json.object() else { return nil }
        let uid = o.required("uid", UInt32.self)
        let gid = o.required("gid", UInt32.self)
        let umask = o.optional("umask", UInt32.self)
        let additionalGids = o.array("additionalGids", of: UInt32.self)
        let username = o.optional("username", String.self)
        guard let uid, let gid else { return nil }
        self.init(uid: uid, gid: gid, umask: umask, additionalGids: additionalGids, username: username)
    }
}

// MARK: - Encoding (field order and omissions follow runtime-spec's Go types)

extension Process: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("terminal", ifTrue: terminal)
        w.field("consoleSize", consoleSize)
        w.field("user", user)
        w.field("args", nonEmpty: args)
        w.field("commandLine", commandLine)
        w.field("env", nonEmpty: env)
        w.field("cwd", cwd)
        w.field("capabilities", capabilities)
        w.field("rlimits", nonEmpty: rlimits)
        w.field("noNewPrivileges", ifTrue: noNewPrivileges)
        w.field("apparmorProfile", apparmorProfile)
        w.field("oomScoreAdj", oomScoreAdj)
        w.field("scheduler", scheduler)
        w.field("selinuxLabel", selinuxLabel)
        w.field("ioPriority", ioPriority)
        w.field("execCPUAffinity", execCPUAffinity)
        w.endObject()
    }
}

extension Process.ConsoleSize: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("height", height)
        w.field("width", width)
        w.endObject()
    }
}

extension Process.Capabilities: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("bounding", nonEmpty: bounding)
        w.field("effective", nonEmpty: effective)
        w.field("inheritable", nonEmpty: inheritable)
        w.field("permitted", nonEmpty: permitted)
        w.field("ambient", nonEmpty: ambient)
        w.endObject()
    }
}

extension Process.Rlimit: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("type", type)
        w.field("hard", hard)
        w.field("soft", soft)
        w.endObject()
    }
}

extension Process.IOPriority: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("class", self.class)
        w.field("priority", priority)
        w.endObject()
    }
}

extension Process.Scheduler: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("policy", policy)
        w.field("nice", nice)
        w.field("priority", priority)
        w.field("flags", nonEmpty: flags)
        w.field("runtime", runtime)
        w.field("deadline", deadline)
        w.field("period", period)
        w.endObject()
    }
}

extension Process.ExecCPUAffinity: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("initial", initial)
        w.field("final", final)
        w.endObject()
    }
}

extension User: JSONEncodable {
    package func encode(to w: JSONWriter) {
        w.beginObject()
        w.field("uid", uid)
        w.field("gid", gid)
        w.field("umask", umask)
        w.field("additionalGids", nonEmpty: additionalGids)
        w.field("username", username)
        w.endObject()
    }
}
