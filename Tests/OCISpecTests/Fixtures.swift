/// `runc spec` output of runc 1.1.5 (Debian), verbatim, tabs and all.
let runcDefaultConfig = """
{
\t"ociVersion": "1.0.2-dev",
\t"process": {
\t\t"terminal": true,
\t\t"user": {
\t\t\t"uid": 0,
\t\t\t"gid": 0
\t\t},
\t\t"args": [
\t\t\t"sh"
\t\t],
\t\t"env": [
\t\t\t"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
\t\t\t"TERM=xterm"
\t\t],
\t\t"cwd": "/",
\t\t"capabilities": {
\t\t\t"bounding": [
\t\t\t\t"CAP_AUDIT_WRITE",
\t\t\t\t"CAP_KILL",
\t\t\t\t"CAP_NET_BIND_SERVICE"
\t\t\t],
\t\t\t"effective": [
\t\t\t\t"CAP_AUDIT_WRITE",
\t\t\t\t"CAP_KILL",
\t\t\t\t"CAP_NET_BIND_SERVICE"
\t\t\t],
\t\t\t"permitted": [
\t\t\t\t"CAP_AUDIT_WRITE",
\t\t\t\t"CAP_KILL",
\t\t\t\t"CAP_NET_BIND_SERVICE"
\t\t\t],
\t\t\t"ambient": [
\t\t\t\t"CAP_AUDIT_WRITE",
\t\t\t\t"CAP_KILL",
\t\t\t\t"CAP_NET_BIND_SERVICE"
\t\t\t]
\t\t},
\t\t"rlimits": [
\t\t\t{
\t\t\t\t"type": "RLIMIT_NOFILE",
\t\t\t\t"hard": 1024,
\t\t\t\t"soft": 1024
\t\t\t}
\t\t],
\t\t"noNewPrivileges": true
\t},
\t"root": {
\t\t"path": "rootfs",
\t\t"readonly": true
\t},
\t"hostname": "runc",
\t"mounts": [
\t\t{
\t\t\t"destination": "/proc",
\t\t\t"type": "proc",
\t\t\t"source": "proc"
\t\t},
\t\t{
\t\t\t"destination": "/dev",
\t\t\t"type": "tmpfs",
\t\t\t"source": "tmpfs",
\t\t\t"options": [
\t\t\t\t"nosuid",
\t\t\t\t"strictatime",
\t\t\t\t"mode=755",
\t\t\t\t"size=65536k"
\t\t\t]
\t\t},
\t\t{
\t\t\t"destination": "/dev/pts",
\t\t\t"type": "devpts",
\t\t\t"source": "devpts",
\t\t\t"options": [
\t\t\t\t"nosuid",
\t\t\t\t"noexec",
\t\t\t\t"newinstance",
\t\t\t\t"ptmxmode=0666",
\t\t\t\t"mode=0620",
\t\t\t\t"gid=5"
\t\t\t]
\t\t},
\t\t{
\t\t\t"destination": "/dev/shm",
\t\t\t"type": "tmpfs",
\t\t\t"source": "shm",
\t\t\t"options": [
\t\t\t\t"nosuid",
\t\t\t\t"noexec",
\t\t\t\t"nodev",
\t\t\t\t"mode=1777",
\t\t\t\t"size=65536k"
\t\t\t]
\t\t},
\t\t{
\t\t\t"destination": "/dev/mqueue",
\t\t\t"type": "mqueue",
\t\t\t"source": "mqueue",
\t\t\t"options": [
\t\t\t\t"nosuid",
\t\t\t\t"noexec",
\t\t\t\t"nodev"
\t\t\t]
\t\t},
\t\t{
\t\t\t"destination": "/sys",
\t\t\t"type": "sysfs",
\t\t\t"source": "sysfs",
\t\t\t"options": [
\t\t\t\t"nosuid",
\t\t\t\t"noexec",
\t\t\t\t"nodev",
\t\t\t\t"ro"
\t\t\t]
\t\t},
\t\t{
\t\t\t"destination": "/sys/fs/cgroup",
\t\t\t"type": "cgroup",
\t\t\t"source": "cgroup",
\t\t\t"options": [
\t\t\t\t"nosuid",
\t\t\t\t"noexec",
\t\t\t\t"nodev",
\t\t\t\t"relatime",
\t\t\t\t"ro"
\t\t\t]
\t\t}
\t],
\t"linux": {
\t\t"resources": {
\t\t\t"devices": [
\t\t\t\t{
\t\t\t\t\t"allow": false,
\t\t\t\t\t"access": "rwm"
\t\t\t\t}
\t\t\t]
\t\t},
\t\t"namespaces": [
\t\t\t{
\t\t\t\t"type": "pid"
\t\t\t},
\t\t\t{
\t\t\t\t"type": "network"
\t\t\t},
\t\t\t{
\t\t\t\t"type": "ipc"
\t\t\t},
\t\t\t{
\t\t\t\t"type": "uts"
\t\t\t},
\t\t\t{
\t\t\t\t"type": "mount"
\t\t\t}
\t\t],
\t\t"maskedPaths": [
\t\t\t"/proc/acpi",
\t\t\t"/proc/asound",
\t\t\t"/proc/kcore",
\t\t\t"/proc/keys",
\t\t\t"/proc/latency_stats",
\t\t\t"/proc/timer_list",
\t\t\t"/proc/timer_stats",
\t\t\t"/proc/sched_debug",
\t\t\t"/sys/firmware",
\t\t\t"/proc/scsi"
\t\t],
\t\t"readonlyPaths": [
\t\t\t"/proc/bus",
\t\t\t"/proc/fs",
\t\t\t"/proc/irq",
\t\t\t"/proc/sys",
\t\t\t"/proc/sysrq-trigger"
\t\t]
\t}
}
"""

/// A config that touches every section crabcan decodes, with values at the edges of their ranges
/// and fields crabcan does not know (which must be ignored).
let richConfig = #"""
{
  "ociVersion": "1.3.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [5, 4294967295], "username": "u"},
    "args": ["/bin/sh", "-c", "echo \"hi\" \\ there"],
    "commandLine": "cmd.exe /c",
    "env": ["PATH=/bin", "HOME=/root"],
    "cwd": "/work",
    "capabilities": {
      "bounding": ["CAP_CHOWN"], "effective": ["CAP_KILL"], "inheritable": ["CAP_SETUID"],
      "permitted": ["CAP_CHOWN", "CAP_KILL"], "ambient": ["CAP_NET_RAW"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 1024}],
    "noNewPrivileges": true,
    "apparmorProfile": "docker-default",
    "oomScoreAdj": -1000,
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
    "scheduler": {"policy": "SCHED_DEADLINE", "nice": -20, "priority": 1, "flags": ["SCHED_FLAG_RESET_ON_FORK"], "runtime": 1000, "deadline": 2000, "period": 3000},
    "execCPUAffinity": {"initial": "0-3", "final": "1"},
    "futureField": {"nested": [1, 2, 3]}
  },
  "root": {"path": "/var/lib/rootfs", "readonly": false},
  "hostname": "box",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "ro"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]},
    {"destination": "relative/ok"}
  ],
  "hooks": {
    "prestart": [{"path": "/usr/bin/old"}],
    "createRuntime": [{"path": "/usr/bin/hook", "args": ["hook", "create"], "env": ["A=1"], "timeout": 5}],
    "createContainer": [{"path": "/cc"}],
    "startContainer": [{"path": "/sc"}],
    "poststart": [{"path": "/ps"}],
    "poststop": [{"path": "/pst", "timeout": 1}]
  },
  "annotations": {"org.example.key": "value", "empty": ""},
  "linux": {
    "namespaces": [
      {"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"}, {"type": "mount"}, {"type": "ipc"},
      {"type": "uts"}, {"type": "user"}, {"type": "cgroup"}, {"type": "time"}
    ],
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "timeOffsets": {"monotonic": {"secs": -9223372036854775808, "nanosecs": 4294967295}, "boottime": {"secs": 1}},
    "devices": [
      {"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
      {"type": "p", "path": "/dev/fifo"}
    ],
    "netDevices": {"eth1": {"name": "ctr0"}, "eth2": {}},
    "cgroupsPath": "/crabcan/box",
    "resources": {
      "devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}],
      "memory": {"limit": 536870912, "reservation": 268435456, "swap": -1, "kernel": 0, "kernelTCP": 1, "swappiness": 60,
                 "disableOOMKiller": false, "useHierarchy": true, "checkBeforeUpdate": true},
      "cpu": {"shares": 1024, "quota": -1, "burst": 10, "period": 100000, "realtimeRuntime": 950000, "realtimePeriod": 1000000,
              "cpus": "0-1", "mems": "0", "idle": 1},
      "pids": {"limit": -1},
      "blockIO": {"weight": 500, "leafWeight": 300,
                  "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 65535}],
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                  "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2}],
                  "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 3}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 4}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
      "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
      "unified": {"memory.high": "1G", "io.weight": "default 100"}
    },
    "rootfsPropagation": "rslave",
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/seccomp.sock",
      "listenerMetadata": "meta",
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 18446744073709551615, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"}]}
      ]
    },
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "personality": {"domain": "LINUX32", "flags": []},
    "intelRdt": {"closID": "guaranteed", "l3CacheSchema": "L3:0=7f0", "memBwSchema": "MB:0=20", "schemata": ["L2:0=ff"], "enableMonitoring": true},
    "memoryPolicy": {"mode": "MPOL_BIND", "nodes": "0-1", "flags": ["MPOL_F_STATIC_NODES"]}
  },
  "vm": {"hypervisor": {"path": "/usr/bin/qemu"}},
  "windows": {"layerFolders": ["C:\\layers"]}
}
"""#
