#!/usr/bin/env python3
"""link-order.py UNSTRIPPED MAP ORDER SCRIPT — the function order the release link lays .text out in (issue 14).

Why: the binary is static and ~9 MB, and every page fault on it maps a 64 KiB window of the page cache (the
kernel's fault-around), so peak RSS counts the windows a command touches, not the bytes. Left to the archive
order, the ~2,000 functions a `run` enters are spread over most of .text. Laid out together (lld's
--symbol-ordering-file, with every function in its own section), they fill a few hundred KiB.

How: runs the node's commands (create, start, state, list, exec, kill, delete, run, with and without the default
seccomp profile; run and exec with the config Docker wrote, whose seccomp filter is compiled by the first and
found kept by the others; --version, spec) under scripts/bptrace.c, which puts a breakpoint on the first byte of every
function of UNSTRIPPED (a release build with the same flags, not stripped; every function is where .eh_frame says
one starts) in the runtime and each process it clones, and records each function the first time it is entered,
and whether a cloned process (the container's init, exec's child) entered it. Those come first, in their own
first-entered order, then the rest in theirs (startup first): fork copies no page table of the binary's text, so a
child maps again every 64 KiB window it enters, and with its functions together it enters a few instead of most of
the runtime's (docs/performance.md, session 18). Writes:
  ORDER   the symbol names of the functions that have one (lld's --symbol-ordering-file), then one symbol of
          each data section those functions name (data_order);
  SCRIPT  a linker script that places the rest, the compiler's unnamed helpers (`.text..L__unnamed_N` sections
          of crabcan's own objects, found in the link MAP), in an output section of their own before .text.
Names missing from a later build are skipped by the linker, and an unnamed section's number can come to mean
another helper: a stale list costs pages, never correctness. Regenerate with `make link-order` after large
changes. Needs root (it runs containers).

This host is cgroup v1 on 6.18, so its commands never enter the cgroup v2 code nor the tree namespace's (Linux
7.0), and on a v2 host those functions lay scattered over .text: `run`'s peak RSS was 1.12x crun's in the bench
guest, against 0.96x here. So the same commands run again in a qemu guest that is a pure cgroup v2 host on
NEWER_KERNEL_SUITE's kernel (scripts/order-guest/, the cgroup2 guest's kernel cache), and the functions entered
there and not here follow the host's, in their first-entered order. LINK_ORDER_GUEST=0, or no qemu, skips it.
"""
import bisect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from bench import docker_bundles, make_guest_bundles  # noqa: E402  (the bench's runnable bundles)


def fde_starts(binary):
    """Every function start .eh_frame knows, named or not."""
    out = subprocess.run(["readelf", "--debug-dump=frames", binary], capture_output=True, text=True, check=True).stdout
    return {int(m.group(1), 16) for m in re.finditer(r" FDE cie=\S+ pc=([0-9a-f]+)\.\.", out)}


def input_sections(map_path):
    """[(start, end, object, section)] of .text's input sections, from lld's map file."""
    sections = []
    for line in open(map_path):
        m = re.match(r"\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s{9}(\S.*):\((\.text[^)]*)\)$", line)
        if m:
            start = int(m.group(1), 16)
            sections.append((start, start + int(m.group(2), 16), m.group(3), m.group(4)))
    return sorted(sections)


DATA_OUTPUTS = (".data.rel.ro", ".data", ".rodata", ".bss")


def data_sections(map_path):
    """[(start, end, first symbol)] of the input sections of DATA_OUTPUTS that hold a named symbol, from lld's map
    (output sections at one space of indent, input sections at nine, their symbols at seventeen)."""
    sections, output, current = [], None, None
    for line in open(map_path):
        m = re.match(r"\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+( +)(\S.*)$", line)
        if not m:
            continue
        start, size, indent, name = int(m.group(1), 16), int(m.group(2), 16), len(m.group(3)), m.group(4).strip()
        if indent == 1:
            output, current = name, None
        elif output in DATA_OUTPUTS and indent == 9:
            current = [start, start + max(size, 1), None]
            sections.append(current)
        elif output in DATA_OUTPUTS and indent == 17 and current is not None and current[2] is None:
            current[2] = name
    return sorted((start, end, symbol) for start, end, symbol in sections if symbol)


def data_order(binary, map_path, entered):
    """The data sections the entered functions name, each by its first symbol, smallest first: lld's
    --symbol-ordering-file places data sections by their symbols as it does functions. Which data a command
    touches is what its code names with RIP-relative operands (swift_once tokens, metadata caches, lazy metadata
    variables, glibc's state); ordered, a `run` faulted 32 times on .data, .rodata and .bss, not 47
    (docs/performance.md, session 22). Smallest first, so the many small sections share pages and the standard
    library's one big .bss, .data and .rodata come after them."""
    sections = data_sections(map_path)
    starts = [s[0] for s in sections]
    hot, inside = set(), False
    disassembly = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary], capture_output=True, text=True,
                                 check=True).stdout
    for line in disassembly.splitlines():
        m = re.match(r"^([0-9a-f]+) <.*>:$", line)
        if m:
            inside = int(m.group(1), 16) in entered
            continue
        target = re.search(r"# ([0-9a-f]+) <", line) if inside else None
        if target:
            address = int(target.group(1), 16)
            i = bisect.bisect_right(starts, address) - 1
            if i >= 0 and sections[i][0] <= address < sections[i][1]:
                hot.add(i)
    return [sections[i][2] for i in sorted(hot, key=lambda i: (sections[i][1] - sections[i][0], sections[i][0]))]


def functions(binary):
    """{address: [names]} of the functions in .text, from nm."""
    out = subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout
    names = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            names.setdefault(int(parts[0], 16), []).append(parts[2])
    return names


def commands(binary, root, bundles, spec_dir):
    """The node's commands, in the order they are traced (here and in the guest)."""
    c = [binary, "--root", root]
    return [
        [binary, "--version"],
        c + ["create", "--bundle", bundles["true"], "o1"], c + ["start", "o1"], c + ["state", "o1"],
        c + ["delete", "-f", "o1"],
        c + ["run", "--bundle", bundles["true"], "o2"],
        c + ["run", "-d", "--bundle", bundles["sleep"], "o3"], c + ["exec", "o3", "/bin/true"],
        c + ["list"], c + ["kill", "o3", "KILL"], c + ["delete", "-f", "o3"],
        c + ["run", "--bundle", bundles["seccomp"], "o4"],
        c + ["run", "--bundle", bundles["docker"], "o5"],
        c + ["run", "-d", "--bundle", bundles["docker-sleep"], "o6"], c + ["exec", "o6", "/bin/true"],
        c + ["delete", "-f", "o6"],
        [binary, "spec", "--bundle", spec_dir],
    ]


def guest_order(binary, starts, tmp):
    """The functions entered by the same commands in the order guest (a pure cgroup v2 host on a 7.x kernel), in
    first-entered order, as (address, entered by a cloned process); [] when it cannot run (a line says why)."""
    if os.environ.get("LINK_ORDER_GUEST", "1") == "0" or not shutil.which("qemu-system-x86_64"):
        print("link-order: the cgroup v2 guest skipped (LINK_ORDER_GUEST=0 or no qemu-system-x86_64)")
        return []
    import guestlib
    guestlib.SUITE = "link-order"
    here = os.path.join(REPO, "scripts", "order-guest")
    tracer = os.path.join(tmp, "bptrace-static")
    subprocess.run(["gcc", "-O2", "-static", "-o", tracer, os.path.join(REPO, "scripts/bptrace.c")], check=True)
    cache = os.path.join(REPO, ".build-guest")
    kdir = guestlib.fetch_suite_kernel(cache, os.environ.get("NEWER_KERNEL_SUITE", "trixie-backports"))
    image = guestlib.busybox_guest(here, binary, os.path.join(REPO, "bundles/busybox/rootfs"), driver="trace.sh")
    image.file("bin/bptrace", tracer)
    image.file("functions", data="".join("%x\n" % a for a in starts).encode(), mode=0o644)
    guest = {name: f"/b/bundle-{name}" for name in ("true", "sleep", "seccomp", "docker", "docker-sleep")}
    steps = commands("/bin/crabcan", "/run/order", guest, "/tmp/spec2")
    image.file("steps", data="".join("\t".join(step) + "\n" for step in steps).encode(), mode=0o644)
    image.tree("b", make_guest_bundles(binary, tmp, "/b"))
    initramfs = os.path.join(cache, "order.cpio")
    image.write(initramfs)
    cmdline = ["console=ttyS0", "quiet", "loglevel=4", "panic=-1", "oops=panic", "cgroup_no_v1=all", "rdinit=/init"]
    lines, failed, seconds, _, _ = guestlib.boot(kdir, initramfs, cache, cmdline, 1800, quiet_limit=600,
                                                 echo=lambda line: not line.startswith("H "))
    problems = [l for l in lines if l.startswith("FAIL")]
    if failed or problems or "DONE" not in lines:
        raise RuntimeError(f"link-order guest: {failed or '; '.join(problems) or 'no DONE line'}")
    order = [(int(l.split()[2], 16), l.split()[3:] == ["c"]) for l in lines if l.startswith("H ")]
    print(f"link-order: the guest ({guestlib.kernel_version(kdir)}, cgroup v2) entered {len({a for a, _ in order})} "
          f"functions in {seconds:.0f} s")
    return order


def main():
    if len(sys.argv) != 5 or os.geteuid() != 0:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    binary, map_path, order_path, script_path = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    names = functions(binary)
    starts = sorted(set(names) | fde_starts(binary))
    sections = input_sections(map_path)
    tmp = tempfile.mkdtemp(prefix="crabcan-order.")
    try:
        tracer = os.path.join(tmp, "bptrace")
        subprocess.run(["gcc", "-O2", "-o", tracer, os.path.join(REPO, "scripts/bptrace.c")], check=True)
        with open(os.path.join(tmp, "functions"), "w") as f:
            f.writelines("%x\n" % a for a in starts)

        root = os.path.join(tmp, "root")
        base = json.load(open(os.path.join(REPO, "bundles/true/config.json")))
        base["root"]["path"] = os.path.join(REPO, "bundles/true/rootfs")
        bundles = {}
        spec = os.path.join(tmp, "spec")
        os.makedirs(spec)
        subprocess.run([binary, "spec", "--bundle", spec], check=True)
        profile = json.load(open(os.path.join(spec, "config.json")))["linux"]["seccomp"]
        for name, args, seccomp in (("true", ["/bin/true"], False), ("sleep", ["/bin/sleep", "1000"], False),
                                    ("seccomp", ["/bin/true"], True)):
            config = json.loads(json.dumps(base))
            config["process"]["args"] = args
            if seccomp:
                config["linux"]["seccomp"] = profile
            bundles[name] = os.path.join(tmp, "bundle-" + name)
            os.makedirs(bundles[name])
            json.dump(config, open(os.path.join(bundles[name], "config.json"), "w"))
        bundles.update(docker_bundles(tmp))

        steps = commands(binary, root, bundles, os.path.join(tmp, "spec2"))
        os.makedirs(os.path.join(tmp, "spec2"))
        tracers = []
        for i, step in enumerate(steps):
            hits = os.path.join(tmp, f"hits{i}")
            tracers.append(subprocess.Popen([tracer, os.path.join(tmp, "functions"), hits, "--", *step],
                                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))
            # On to the next command once this one has returned; its init may still be followed.
            while not os.path.exists(hits + ".done"):
                if tracers[-1].poll() is not None:
                    break
                time.sleep(0.01)
        for t, step in zip(tracers, steps):
            if t.wait() != 0:
                raise RuntimeError(f"{' '.join(step)}: exit {t.returncode} under bptrace")
        host = [(int(line.split()[0], 16), line.split()[2:] == ["c"])
                for i in range(len(steps)) for line in open(os.path.join(tmp, f"hits{i}"))]
        guest = guest_order(binary, starts, tmp)
        # What the cloned processes entered (here, then in the guest), then the rest (here, then in the guest).
        order, seen = [], set()
        for address, _ in [e for e in host if e[1]] + [e for e in guest if e[1]] + host + guest:
            if address not in seen:
                seen.add(address)
                order.append(address)
        print(f"link-order: {len({a for a, cloned in host + guest if cloned})} functions entered by cloned processes, "
              f"placed first; {len({a for a, _ in guest} - {a for a, _ in host})} entered in the guest only")
        unnamed, placed = [], set()
        with open(order_path, "w") as f:
            for address in order:
                if address in names:
                    f.writelines(n + "\n" for n in names[address])
                    continue
                i = bisect.bisect_right(sections, (address, float("inf"))) - 1
                if i < 0 or not sections[i][0] <= address < sections[i][1]:
                    continue
                _, _, obj, section = sections[i]
                build = obj.split("/release/", 1)
                # Only crabcan's own objects: an archive member's unnamed section has no stable name to give.
                if section.startswith(".text..L") and len(build) == 2 and (build[1], section) not in placed:
                    placed.add((build[1], section))
                    unnamed.append(f"    */{build[1]}({section})\n")
            data = data_order(binary, map_path, set(order))
            f.writelines(n + "\n" for n in data)
        print(f"link-order: {len(data)} data sections the entered functions name -> {order_path}, after them")
        with open(script_path, "w") as f:
            f.write("/* Generated by scripts/link-order.py (make link-order): the unnamed helpers crabcan's commands\n"
                    "   enter, in first-entered order, laid out together (issue 14). */\n"
                    "SECTIONS {\n  .text.hot.unnamed : {\n" + "".join(unnamed) + "  }\n} INSERT BEFORE .text;\n")
        print(f"link-order: {len(order)} functions from {len(steps)} commands: {sum(a in names for a in order)} named "
              f"-> {order_path}, {len(unnamed)} unnamed -> {script_path}")
        # What no order can place: the standard library's one big .text section. Each 64 KiB window of it that
        # a command enters is resident (docs/performance.md); a rise here is RSS coming back.
        stdlib = [(start, end) for start, end, obj, section in sections if obj.endswith("(Swift.o)") and section == ".text"]
        entered = [a for a in order if any(start <= a < end for start, end in stdlib)]
        print(f"link-order: {len(entered)} of them in libswiftCore's unordered Swift.o .text, "
              f"{len({a >> 16 for a in entered})} windows of 64 KiB")
    finally:
        for leftover in ("o3", "o6"):
            subprocess.run([binary, "--root", os.path.join(tmp, "root"), "delete", "-f", leftover], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
