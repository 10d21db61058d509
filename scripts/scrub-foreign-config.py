#!/usr/bin/env python3
"""scrub-foreign-config.py WORKDIR CONFIG — a captured client config.json made host-independent (stdout).

What the client made on the capture host becomes a placeholder the test fills in
(Tests/IntegrationTests/ForeignConfigTests.swift): root.path -> "rootfs"; a bind mount whose source lay in the
client's state (under WORKDIR) -> "@DIR@" (/dev/shm) or "@FILE@" (/etc/hosts, hostname, resolv.conf,
.containerenv); cgroupsPath -> "@CGROUP@" (kept absolute or relative, as the client wrote it; dockerd runs with an absolute --cgroup-parent, as its default /docker is); hooks that call the
client's own binaries (libnetwork-setkey through /proc/PID/exe, podman, conmon) -> removed. Nothing else changes.
"""
import json, sys

work, path = sys.argv[1], sys.argv[2]
with open(path) as f:
    config = json.load(f)

config["root"]["path"] = "rootfs"
for mount in config.get("mounts", []):
    source = mount.get("source", "")
    if source.startswith(work):
        mount["source"] = "@DIR@" if source.endswith("/shm") else "@FILE@"

linux = config.get("linux", {})
if "cgroupsPath" in linux:
    linux["cgroupsPath"] = ("/" if linux["cgroupsPath"].startswith("/") else "") + "@CGROUP@"

def client_hook(hook):
    words = [hook.get("path", "")] + hook.get("args", [])
    return any(w.startswith("/proc/") or work in w or "podman" in w or "conmon" in w or "libnetwork" in w for w in words)

hooks = {kind: [h for h in list_ if not client_hook(h)] for kind, list_ in (config.get("hooks") or {}).items()}
hooks = {kind: list_ for kind, list_ in hooks.items() if list_}
if hooks:
    config["hooks"] = hooks
else:
    config.pop("hooks", None)

left = [w for w in json.dumps(config).split('"') if work in w]
if left:
    sys.exit(f"{path}: still names the capture dir: {left}")
print(json.dumps(config, indent=2, sort_keys=True))
