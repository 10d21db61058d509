#!/usr/bin/env python3
"""Seed corpora for `make fuzz`, one directory per target, from what the repository already holds:
bundles/**/config.json, the JSON fixtures of Tests/OCISpecTests/Fixtures.swift, `crabcan spec` output
(when a crabcan binary is given), and the regression inputs in Tests/FuzzCorpus/<target>/.
Also writes a libFuzzer dictionary of every key and short string value seen.

usage: fuzz-seeds.py REPO OUTDIR [CRABCAN_BIN]
"""
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

TARGETS = ["config", "process", "resources", "state", "json", "hook", "dbus"]


def swift_fixtures(path):
    """The multi-line string literals of a Swift file (`\\t`, `\\\\`, `\\"` unescaped)."""
    text = open(path, encoding="utf-8").read()
    for body in re.findall(r'"""\n(.*?)\n\s*"""', text, re.S):
        yield body.replace("\\t", "\t").replace('\\"', '"').replace("\\\\", "\\")


def dbus_message(kind, serial, fields, signature="", body=b"", flags=0):
    """One little-endian D-Bus message: fields are (code, type, value) with type "s", "o", "g" or "u"."""
    def pad(b, n):
        return b + b"\0" * (-len(b) % n)

    def string(t, v):
        raw = v.encode()
        return (bytes([len(raw)]) if t == "g" else struct.pack("<I", len(raw))) + raw + b"\0"

    array = b""
    for code, t, value in fields:
        array = pad(array, 8) if array else array
        item = bytes([code]) + string("g", t)
        item = pad(item, 4) if t != "g" else item
        item += struct.pack("<I", value) if t == "u" else string(t, value)
        array += item
    if signature:
        array = pad(array, 8) + bytes([8]) + string("g", "g") + string("g", signature)
    header = b"l" + bytes([kind, flags, 1]) + struct.pack("<III", len(body), serial, len(array))
    return pad(header + array, 8) + body


def dbus_seeds():
    """A Hello call, its reply, an error reply, a JobRemoved signal, a Get reply with a variant, an a(sv) body."""
    def s(v):
        raw = v.encode()
        return struct.pack("<I", len(raw)) + raw + b"\0"

    m = "org.freedesktop.systemd1.Manager"
    job = "/org/freedesktop/systemd1/job/42"
    removed = struct.pack("<I", 42) + s(job)
    removed += b"\0" * (-len(removed) % 4)
    removed += s("c1.scope")
    removed += b"\0" * (-len(removed) % 4)
    removed += s("done")
    variant = bytes([1]) + b"s\0" + b"\0" + s("252.38-1~deb12u1")
    props = s("u") + s("replace")
    entry = s("Delegate") + bytes([1]) + b"b\0" + b"\0" * 1 + struct.pack("<I", 1)
    props += struct.pack("<I", len(entry)) + b"\0" * (-(len(props) + 4) % 8) + entry
    return [
        dbus_message(1, 1, [(1, "o", "/org/freedesktop/DBus"), (6, "s", "org.freedesktop.DBus"),
                            (2, "s", "org.freedesktop.DBus"), (3, "s", "Hello")]),
        dbus_message(2, 1, [(5, "u", 1), (6, "s", ":1.7"), (7, "s", "org.freedesktop.DBus")], "s", s(":1.7")),
        dbus_message(3, 9, [(4, "s", "org.freedesktop.systemd1.NoSuchUnit"), (5, "u", 3)], "s",
                     s("Unit c1.scope not loaded.")),
        dbus_message(4, 77, [(1, "o", "/org/freedesktop/systemd1"), (2, "s", m), (3, "s", "JobRemoved"),
                             (7, "s", ":1.0")], "uoss", removed),
        dbus_message(2, 5, [(5, "u", 4)], "v", variant),
        dbus_message(1, 6, [(1, "o", "/org/freedesktop/systemd1"), (2, "s", m), (3, "s", "StartTransientUnit")],
                     "ssa(sv)", props),
    ]


def main():
    repo, out = sys.argv[1], sys.argv[2]
    crabcan = sys.argv[3] if len(sys.argv) > 3 else None
    seeds = {t: [] for t in TARGETS}

    configs = []
    for dirpath, _, files in os.walk(os.path.join(repo, "bundles")):
        if "rootfs" in dirpath.split(os.sep):
            continue
        if "config.json" in files:
            configs.append(open(os.path.join(dirpath, "config.json"), "rb").read())
    fixtures = os.path.join(repo, "Tests", "OCISpecTests", "Fixtures.swift")
    if os.path.exists(fixtures):
        configs += [f.encode() for f in swift_fixtures(fixtures)]
    if crabcan:
        with tempfile.TemporaryDirectory() as bundle:
            for extra in ([], ["--rootless"]):
                if subprocess.run([crabcan, "spec", "--bundle", bundle] + extra, capture_output=True).returncode == 0:
                    configs.append(open(os.path.join(bundle, "config.json"), "rb").read())
                    os.unlink(os.path.join(bundle, "config.json"))

    seeds["config"] += configs
    seeds["json"] += configs
    for raw in configs:
        try:
            config = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(config, dict):
            continue
        if isinstance(config.get("process"), dict):
            seeds["process"].append(json.dumps(config["process"], indent=2).encode())
        resources = (config.get("linux") or {}).get("resources") if isinstance(config.get("linux"), dict) else None
        if isinstance(resources, dict):
            seeds["resources"].append(json.dumps(resources).encode())

    # update -r: what runc's docs show, and an empty object.
    seeds["resources"] += [b"{}", json.dumps({
        "memory": {"limit": 536870912, "reservation": 0, "swap": 1073741824, "kernel": 0, "kernelTCP": 0,
                   "swappiness": 0, "disableOOMKiller": False, "checkBeforeUpdate": True},
        "cpu": {"shares": 512, "quota": 20000, "burst": 0, "period": 100000, "realtimeRuntime": 0,
                "realtimePeriod": 0, "cpus": "0", "mems": "0", "idle": 0},
        "pids": {"limit": 100},
        "blockIO": {"weight": 500, "weightDevice": [{"major": 8, "minor": 0, "weight": 200}]},
        "unified": {"memory.high": "1G"},
    }).encode()]

    # state.json as create writes it (ContainerRecord.encoded), plus variants.
    record = {"ociVersion": "1.0.2", "id": "c1", "pid": 4242, "startTime": 123456, "bundle": "/b",
              "rootfs": "/b/rootfs", "created": "2025-01-01T00:00:00.000000000Z", "owner": "",
              "annotations": {"a": "b"}, "cgroupVersion": "v1",
              "cgroupPaths": {"memory": "/sys/fs/cgroup/memory/crabcan/c1", "cpu,cpuacct": "/sys/fs/cgroup/cpu,cpuacct/crabcan/c1"}}
    seeds["state"].append(json.dumps(record, separators=(",", ":")).encode())
    seeds["state"].append(json.dumps(dict(record, cgroupVersion="v2", cgroupPaths={"": "/sys/fs/cgroup/crabcan/c1"})).encode())
    seeds["state"].append(b"12 (sh) S 1 12 12 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 123456 1 1 18446744073709551615")
    # A mount table and a /proc/self/cgroup (hybrid v1, a bound sub-cgroup, escapes), and this host's own.
    seeds["state"].append(b"22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
                          b"30 22 0:26 / /sys/fs/cgroup/memory rw,nosuid shared:9 master:2 - cgroup cgroup rw,memory\n"
                          b"31 22 0:27 /docker/abc /sys/fs/cgroup/cpu\\040x rw - cgroup cgroup rw,cpu,cpuacct\n"
                          b"32 22 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n43 22 0:33 / /e rw - tmpfs  rw\n"
                          b"5:memory:/a\n4:cpu,cpuacct:/b:c\n1:name=systemd:/\n0::/x\n")
    for own in ("/proc/self/mountinfo", "/proc/self/cgroup"):
        seeds["state"].append(open(own, "rb").read())
    seeds["json"] += seeds["state"] + seeds["resources"] + seeds["process"]
    # What a failing hook prints: nothing, one line, several, a partial UTF-8 sequence at the 4 KiB cut.
    seeds["dbus"] += dbus_seeds()
    seeds["hook"] += [b"", b"error: no such network\n", b"a\nb\r\nc", b"\x80abc\xe2\x82", b"x" * 5000 + b"\nlast words"]

    # Inputs that once crashed a target stay in its corpus for good.
    regressions = os.path.join(repo, "Tests", "FuzzCorpus")
    for target in TARGETS:
        directory = os.path.join(regressions, target)
        if os.path.isdir(directory):
            seeds[target] += [open(os.path.join(directory, f), "rb").read() for f in sorted(os.listdir(directory))]

    words = set()

    def collect(value):
        if isinstance(value, dict):
            for key, item in value.items():
                words.add(key)
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, str) and len(value) <= 32:
            words.add(value)

    for raw in configs + seeds["state"]:
        try:
            collect(json.loads(raw))
        except ValueError:
            pass

    for target, items in seeds.items():
        directory = os.path.join(out, target)
        os.makedirs(directory, exist_ok=True)
        for item in items:
            name = hashlib.sha1(item).hexdigest()
            with open(os.path.join(directory, name), "wb") as f:
                f.write(item)
    with open(os.path.join(out, "json.dict"), "w") as f:
        for token in ["{", "}", "[", "]", ":", ",", "true", "false", "null", "-1", "0", "1e9", "18446744073709551615",
                      "-9223372036854775808", "\\u0000", "\\ud800"]:
            f.write(json.dumps(token) + "\n")
        for word in sorted(words):
            if all(32 <= ord(c) < 127 for c in word):
                f.write(json.dumps(json.dumps(word)) + "\n")
    print(" ".join(f"{t}:{len(seeds[t])}" for t in TARGETS))


if __name__ == "__main__":
    main()
