import Testing
import JSON
import OCISpec

@Suite struct DefaultSpecTests {
    @Test func encodesAndDecodesToTheSameSpec() throws {
        for rootless in [false, true] {
            let spec = Spec.makeDefault(rootless: rootless, hostUID: 1000, hostGID: 1001)
            for pretty in [false, true] {
                #expect(try Spec.decode(spec.encode(pretty: pretty)) == spec)
            }
        }
    }

    @Test func matchesRuncSpecExceptWhereDocumented() throws {
        // runc 1.1.5's output differs from ours only in the version, hostname and the ambient set (no-ops there:
        // not inheritable). Its terminal, args and namespaces are what scripts written for runc expect (issue 13).
        var runc = try decode(runcDefaultConfig)
        runc.ociVersion = "1.2.0"
        runc.hostname = "crabcan"
        runc.process?.capabilities?.ambient = []
        // runc spec writes no seccomp profile; ours carries the default one (DESIGN.md §6).
        runc.linux?.seccomp = .defaultProfile
        #expect(Spec.makeDefault(rootless: false) == runc)
    }

    @Test func rootlessLikeRunc() throws {
        let spec = Spec.makeDefault(rootless: true, hostUID: 1000, hostGID: 1001)
        let linux = try #require(spec.linux)
        #expect(linux.namespaces.map(\.type) == [.pid, .ipc, .uts, .mount, .user])
        #expect(linux.uidMappings == [IDMapping(containerID: 0, hostID: 1000, size: 1)])
        #expect(linux.gidMappings == [IDMapping(containerID: 0, hostID: 1001, size: 1)])
        #expect(linux.resources == nil)
        #expect(spec.mounts.first { $0.destination == "/sys" } == Mount(
            destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"]))
        #expect(spec.mounts.first { $0.destination == "/dev/pts" }?.options == ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"])
        #expect(spec.mounts.count == 7)
        #expect(spec.linux?.maskedPaths == Spec.makeDefault(rootless: false).linux?.maskedPaths)
        #expect(spec.linux?.seccomp == .defaultProfile)
    }

    @Test func prettyOutputIsGolden() {
        let text = String(decoding: Spec.makeDefault(rootless: false).encode(pretty: true), as: UTF8.self)
        #expect(text == defaultSpecGolden)
    }
}

@Suite struct StateTests {
    let full = State(
        id: "web-1", status: "running", pid: 4242, bundle: "/run/bundles/web \"1\"",
        annotations: ["z": "last", "a": "first"], rootfs: "/run/bundles/web/rootfs",
        created: "2024-05-06T07:08:09.123456789Z", owner: "")

    @Test func compactGolden() {
        let text = String(decoding: full.encode(pretty: false), as: UTF8.self)
        #expect(text == #"{"ociVersion":"1.2.0","id":"web-1","pid":4242,"status":"running","bundle":"/run/bundles/web \"1\"","rootfs":"/run/bundles/web/rootfs","created":"2024-05-06T07:08:09.123456789Z","owner":"","annotations":{"a":"first","z":"last"}}"#)
    }

    @Test func omitsAbsentFields() {
        let state = State(id: "x", status: "stopped", bundle: "/b")
        #expect(String(decoding: state.encode(pretty: false), as: UTF8.self) == #"{"ociVersion":"1.2.0","id":"x","status":"stopped","bundle":"/b"}"#)
    }

    @Test func prettyGolden() {
        let state = State(id: "x", status: "created", pid: 1, bundle: "/b", annotations: ["k": "v"])
        #expect(String(decoding: state.encode(pretty: true), as: UTF8.self) == """
            {
              "ociVersion": "1.2.0",
              "id": "x",
              "pid": 1,
              "status": "created",
              "bundle": "/b",
              "annotations": {
                "k": "v"
              }
            }
            """)
    }

    @Test func decodesWhatItEncodes() throws {
        #expect(try State.decode(full.encode(pretty: true)) == full)
        #expect(try State.decode(full.encode(pretty: false)) == full)
    }

    @Test func decodeReportsProblems() {
        do {
            _ = try State.decode(Array(#"{"ociVersion": "1.2.0", "id": 5, "pid": 99999999999}"#.utf8))
            Issue.record("decoded an invalid state")
        } catch {
            #expect(error.problems.map(\.description) == [
                ".id: expected string",
                ".status: required field is missing",
                ".pid: expected integer in -2147483648...2147483647",
                ".bundle: required field is missing",
            ])
        }
    }
}

let defaultSpecGolden = """
{
  "ociVersion": "1.2.0",
  "process": {
    "terminal": true,
    "user": {
      "uid": 0,
      "gid": 0
    },
    "args": [
      "sh"
    ],
    "env": [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "TERM=xterm"
    ],
    "cwd": "/",
    "capabilities": {
      "bounding": [
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE"
      ],
      "effective": [
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE"
      ],
      "permitted": [
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE"
      ]
    },
    "rlimits": [
      {
        "type": "RLIMIT_NOFILE",
        "hard": 1024,
        "soft": 1024
      }
    ],
    "noNewPrivileges": true
  },
  "root": {
    "path": "rootfs",
    "readonly": true
  },
  "hostname": "crabcan",
  "mounts": [
    {
      "destination": "/proc",
      "type": "proc",
      "source": "proc"
    },
    {
      "destination": "/dev",
      "type": "tmpfs",
      "source": "tmpfs",
      "options": [
        "nosuid",
        "strictatime",
        "mode=755",
        "size=65536k"
      ]
    },
    {
      "destination": "/dev/pts",
      "type": "devpts",
      "source": "devpts",
      "options": [
        "nosuid",
        "noexec",
        "newinstance",
        "ptmxmode=0666",
        "mode=0620",
        "gid=5"
      ]
    },
    {
      "destination": "/dev/shm",
      "type": "tmpfs",
      "source": "shm",
      "options": [
        "nosuid",
        "noexec",
        "nodev",
        "mode=1777",
        "size=65536k"
      ]
    },
    {
      "destination": "/dev/mqueue",
      "type": "mqueue",
      "source": "mqueue",
      "options": [
        "nosuid",
        "noexec",
        "nodev"
      ]
    },
    {
      "destination": "/sys",
      "type": "sysfs",
      "source": "sysfs",
      "options": [
        "nosuid",
        "noexec",
        "nodev",
        "ro"
      ]
    },
    {
      "destination": "/sys/fs/cgroup",
      "type": "cgroup",
      "source": "cgroup",
      "options": [
        "nosuid",
        "noexec",
        "nodev",
        "relatime",
        "ro"
      ]
    }
  ],
  "linux": {
    "resources": {
      "devices": [
        {
          "allow": false,
          "access": "rwm"
        }
      ]
    },
    "namespaces": [
      {
        "type": "pid"
      },
      {
        "type": "network"
      },
      {
        "type": "ipc"
      },
      {
        "type": "uts"
      },
      {
        "type": "mount"
      }
    ],
    "seccomp": {
      "defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [
        {
          "names": [
            "keyctl",
            "add_key",
            "request_key",
            "mbind",
            "migrate_pages",
            "move_pages",
            "set_mempolicy",
            "userfaultfd",
            "perf_event_open",
            "bpf",
            "init_module",
            "finit_module",
            "delete_module",
            "kexec_load",
            "kexec_file_load",
            "reboot",
            "swapon",
            "swapoff",
            "acct",
            "open_by_handle_at",
            "lookup_dcookie"
          ],
          "action": "SCMP_ACT_ERRNO",
          "errnoRet": 1
        },
        {
          "names": [
            "unshare",
            "clone"
          ],
          "action": "SCMP_ACT_ERRNO",
          "errnoRet": 1,
          "args": [
            {
              "index": 0,
              "value": 268435456,
              "valueTwo": 268435456,
              "op": "SCMP_CMP_MASKED_EQ"
            }
          ]
        },
        {
          "names": [
            "clone3"
          ],
          "action": "SCMP_ACT_ERRNO",
          "errnoRet": 38
        },
        {
          "names": [
            "chmod",
            "fchmod"
          ],
          "action": "SCMP_ACT_ERRNO",
          "errnoRet": 1,
          "args": [
            {
              "index": 1,
              "value": 2048,
              "valueTwo": 2048,
              "op": "SCMP_CMP_MASKED_EQ"
            }
          ]
        },
        {
          "names": [
            "chmod",
            "fchmod"
          ],
          "action": "SCMP_ACT_ERRNO",
          "errnoRet": 1,
          "args": [
            {
              "index": 1,
              "value": 1024,
              "valueTwo": 1024,
              "op": "SCMP_CMP_MASKED_EQ"
            }
          ]
        },
        {
          "names": [
            "fchmodat",
            "fchmodat2"
          ],
          "action": "SCMP_ACT_ERRNO",
          "errnoRet": 1,
          "args": [
            {
              "index": 2,
              "value": 2048,
              "valueTwo": 2048,
              "op": "SCMP_CMP_MASKED_EQ"
            }
          ]
        },
        {
          "names": [
            "fchmodat",
            "fchmodat2"
          ],
          "action": "SCMP_ACT_ERRNO",
          "errnoRet": 1,
          "args": [
            {
              "index": 2,
              "value": 1024,
              "valueTwo": 1024,
              "op": "SCMP_CMP_MASKED_EQ"
            }
          ]
        },
        {
          "names": [
            "ioctl"
          ],
          "action": "SCMP_ACT_ERRNO",
          "errnoRet": 1,
          "args": [
            {
              "index": 1,
              "value": 4294967295,
              "valueTwo": 21522,
              "op": "SCMP_CMP_MASKED_EQ"
            }
          ]
        }
      ]
    },
    "maskedPaths": [
      "/proc/acpi",
      "/proc/asound",
      "/proc/kcore",
      "/proc/keys",
      "/proc/latency_stats",
      "/proc/timer_list",
      "/proc/timer_stats",
      "/proc/sched_debug",
      "/sys/firmware",
      "/proc/scsi"
    ],
    "readonlyPaths": [
      "/proc/bus",
      "/proc/fs",
      "/proc/irq",
      "/proc/sys",
      "/proc/sysrq-trigger"
    ]
  }
}
"""
