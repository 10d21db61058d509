"""What the qemu guests of `make test-cgroup2` and `make test-systemd` share (docs/cgroup-v2.md).

Debian's own kernel (from the linux-image .deb that linux-image-amd64 points at, fetched with `apt-get download`,
unpacked here, never installed) cached in <cache>/kernel with the modules either guest loads; an uncompressed newc
writer for the initramfs; the qemu invocation (TCG: no KVM on these machines), whose second serial port carries
one result line a check; and the reading of those lines into an exit status.
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import time

# Set by the runner: the prefix of its lines ("test-cgroup2", "test-systemd").
SUITE = "guest"

# Modules either guest loads (everything else is built into Debian's kernel: cgroup2 and every controller, bpf,
# seccomp, namespaces). The cgroup2 guest: null_blk (+configfs) for a block device to limit, bfq for
# io.bfq.weight. The systemd guest: its root is an ext4 image on a virtio disk, and all of that is modular.
MODULES = [
    "kernel/fs/configfs/configfs.ko", "kernel/drivers/block/null_blk/null_blk.ko", "kernel/block/bfq.ko",
    "kernel/crypto/crc32c_generic.ko", "kernel/lib/crc16.ko", "kernel/fs/mbcache.ko", "kernel/fs/jbd2/jbd2.ko",
    "kernel/fs/ext4/ext4.ko", "kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko",
    "kernel/drivers/virtio/virtio_pci_modern_dev.ko", "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
    "kernel/drivers/virtio/virtio_pci.ko", "kernel/drivers/block/virtio_blk.ko",
]


def log(message):
    print(f"{SUITE}: {message}", flush=True)


def skip(reason):
    # A machine without qemu or without a reachable Debian mirror cannot run the guest: say so, do not fail.
    print(f"SKIP {SUITE}: {reason}", flush=True)
    sys.exit(0)


def run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def kernel_package():
    """The versioned image package linux-image-amd64 depends on (linux-image-6.1.0-NN-amd64 on Debian 12)."""
    for attempt in range(2):
        out = run(["apt-cache", "depends", "linux-image-amd64"])
        found = re.findall(r"Depends: (linux-image-\S+)", out.stdout)
        if found:
            return found[0]
        if attempt == 0:
            run(["apt-get", "update", "-qq"])
    return None


def module_path(kdir, module):
    return os.path.join(kdir, os.path.basename(module))


def fetch_kernel(cache):
    """vmlinuz + MODULES under cache/kernel, unpacked from the .deb once (again when MODULES grew)."""
    kdir = os.path.join(cache, "kernel")
    if os.path.exists(os.path.join(kdir, "vmlinuz")) and all(os.path.exists(module_path(kdir, m)) for m in MODULES):
        return kdir
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        skip("no apt-get/dpkg-deb to fetch Debian's kernel")
    package = kernel_package()
    if not package:
        skip("apt-cache knows no linux-image-amd64 (no Debian package lists)")
    deb = download_deb(os.path.join(cache, "download"), package)
    # Only the image, its config and the modules above: the whole package unpacks to ~400 MB.
    wanted = {"vmlinuz": re.compile(r"^\./boot/vmlinuz-"), "config": re.compile(r"^\./boot/config-")}
    for m in MODULES:
        wanted[os.path.basename(m)] = re.compile(r"^\./lib/modules/[^/]+/" + re.escape(m) + "$")
    staging = kdir + ".new"
    found = extract(deb, staging, wanted)
    missing = [n for n in wanted if n not in found]
    if missing:
        sys.exit(f"{SUITE}: {os.path.basename(deb)} lacks {', '.join(missing)}")
    with open(os.path.join(staging, "version"), "w") as f:
        f.write(found["vmlinuz"].split("vmlinuz-", 1)[1] + "\n")
    return replace(kdir, staging, deb)


def download_deb(download, package, env=None, origin=""):
    """`apt-get download PACKAGE` into a fresh directory `download`; the .deb's path (a skip when it cannot be had)."""
    shutil.rmtree(download, ignore_errors=True)
    os.makedirs(download)
    log(f"fetching {package}{origin} (apt-get download, not installed)")
    got = run(["apt-get", "download", "-q", package], cwd=download, env=env)
    debs = [f for f in os.listdir(download) if f.endswith(".deb")]
    if got.returncode != 0 or not debs:
        skip(f"apt-get download {package} failed: {got.stderr.strip().splitlines()[-1:] or got.returncode}")
    return os.path.join(download, debs[0])


def extract(deb, staging, wanted):
    """Each file of the .deb whose path matches wanted[NAME] as staging/NAME, read as a stream (no unpacking of
    the rest); returns {NAME: the path it had in the package}."""
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    found = {}
    tar_stream = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    with tarfile.open(fileobj=tar_stream.stdout, mode="r|") as archive:
        for member in archive:
            for name, pattern in wanted.items():
                if member.isfile() and pattern.match(member.name):
                    with archive.extractfile(member) as src, open(os.path.join(staging, name), "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    found[name] = member.name
    tar_stream.wait()
    return found


def replace(kdir, staging, deb):
    """staging becomes kdir; the download goes."""
    shutil.rmtree(kdir, ignore_errors=True)
    os.rename(staging, kdir)
    shutil.rmtree(os.path.dirname(deb), ignore_errors=True)
    return kdir


def fetch_suite_kernel(cache, suite):
    """vmlinuz alone under cache/kernel-SUITE, from the kernel Debian's SUITE ships: trixie-backports' for what only a
    newer kernel has (open_tree's OPEN_TREE_NAMESPACE, Linux 7.0), bullseye's for what an older one lacks. apt reads that
    suite's package list into a state of its own under the cache (the host's sources stay as they are), signed by
    the same archive keyring; the image is in the linux-binary-VERSION package the linux-image one depends on.
    Fetched again when the suite moves to a newer kernel. No modules: what needs one skips."""
    kdir = os.path.join(cache, f"kernel-{suite}")
    state = os.path.join(cache, f"apt-{suite}")
    for sub in ("lists/partial", "cache/archives/partial", "etc/sources.list.d"):
        os.makedirs(os.path.join(state, sub), exist_ok=True)
    with open(os.path.join(state, "etc/sources.list"), "w") as f:
        f.write(f"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian {suite} main\n")
    open(os.path.join(state, "status"), "a").close()
    settings = {"Dir::Etc::sourcelist": "etc/sources.list", "Dir::Etc::sourceparts": "etc/sources.list.d",
                "Dir::State": "", "Dir::State::Lists": "lists", "Dir::State::status": "status", "Dir::Cache": "cache"}
    with open(os.path.join(state, "apt.conf"), "w") as f:
        for key, sub in settings.items():
            f.write(f'{key} "{os.path.join(state, sub)}";\n')
        f.write('Acquire::Languages "none";\nAPT::Architecture "amd64";\n')
    env = dict(os.environ, APT_CONFIG=os.path.join(state, "apt.conf"))
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        skip("no apt-get/dpkg-deb to fetch Debian's kernel")
    updated = run(["apt-get", "update", "-qq"], env=env)
    depends = lambda package: re.findall(r"Depends: (\S+)", run(["apt-cache", "depends", package], env=env).stdout)
    images = [p for p in depends("linux-image-amd64") if p.startswith("linux-image-")]
    if not images:
        skip(f"{suite}: no linux-image-amd64 ({updated.stderr.strip().splitlines()[-1:] or 'empty package list'})")
    binary = [p for p in depends(images[0]) if p.startswith("linux-binary-")] or images[:1]
    version = images[0][len("linux-image-"):]
    if os.path.exists(os.path.join(kdir, "vmlinuz")) and kernel_version(kdir) == version:
        return kdir
    deb = download_deb(os.path.join(cache, f"download-{suite}"), binary[0], env=env, origin=f" from {suite}")
    staging = kdir + ".new"
    image = re.compile(r"^\./(boot/vmlinuz-.+|usr/lib/modules/[^/]+/vmlinuz)$")
    if "vmlinuz" not in extract(deb, staging, {"vmlinuz": image}):
        sys.exit(f"{SUITE}: {os.path.basename(deb)} holds no kernel image")
    with open(os.path.join(staging, "version"), "w") as f:
        f.write(version + "\n")
    return replace(kdir, staging, deb)


def kernel_version(kdir):
    with open(os.path.join(kdir, "version")) as f:
        return f.read().strip()


class Cpio:
    """An uncompressed newc archive (the kernel unpacks it fastest; TCG makes decompression slow)."""

    def __init__(self):
        self.out = bytearray()
        self.ino = 1
        self.names = set()

    def _entry(self, name, mode, data=b"", uid=0, gid=0):
        assert name not in self.names, name
        self.names.add(name)
        fields = [self.ino, mode, uid, gid, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
        self.ino += 1
        header = b"070701" + b"".join(b"%08X" % v for v in fields)
        self.out += header + name.encode() + b"\0"
        self.out += b"\0" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, name, mode=0o755, uid=0, gid=0):
        parts = name.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent not in self.names:
                self._entry(parent, stat.S_IFDIR | 0o755)
        if name not in self.names:
            self._entry(name, stat.S_IFDIR | mode, uid=uid, gid=gid)

    def file(self, name, path=None, data=None, mode=0o755):
        self.dir(os.path.dirname(name))
        if data is None:
            with open(path, "rb") as f:
                data = f.read()
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self.dir(os.path.dirname(name))
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def tree(self, prefix, root):
        """A directory tree as it is (modes, owners, symlinks); device nodes are skipped."""
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root)
            here = prefix if rel == "." else f"{prefix}/{rel}"
            st = os.lstat(dirpath)
            self.dir(here, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            for name in sorted(dirnames + filenames):
                path = os.path.join(dirpath, name)
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    self.symlink(f"{here}/{name}", os.readlink(path))
                elif stat.S_ISREG(st.st_mode):
                    self.file(f"{here}/{name}", path, mode=stat.S_IMODE(st.st_mode))

    def modules(self, kdir, names, prefix="modules"):
        for m in MODULES:
            # A newer kernel's directory (fetch_suite_kernel) holds none: the checks that need one skip.
            if os.path.basename(m)[:-3] in names and os.path.exists(module_path(kdir, m)):
                self.file(f"{prefix}/{os.path.basename(m)}", module_path(kdir, m), mode=0o644)

    def write(self, path):
        self._entry("TRAILER!!!", 0)
        with open(path + ".tmp", "wb") as f:
            f.write(bytes(self.out))
        os.rename(path + ".tmp", path)


def busybox_guest(here, binary, rootfs, driver="checks.sh"):
    """What the busybox guests (cgroup2, criu, bench, order, conformance) start from: busybox, crabcan, the guest's
    driver script (checks.sh) from `here`, its init.sh, or where it has none the shared guest-init.sh (which runs
    the driver with the kernel command line's guest.args=), the shared stage script guest-base.sh, and the
    containers' rootfs."""
    scripts = os.path.dirname(os.path.abspath(__file__))
    image = Cpio()
    for d in ["proc", "sys", "dev", "run", "tmp", "newroot", "etc"]:
        image.dir(d)
    image.file("bin/busybox", "/bin/busybox")
    image.file("bin/crabcan", binary)
    own_init = os.path.join(here, "init.sh")
    image.file("init", own_init if os.path.exists(own_init) else os.path.join(scripts, "guest-init.sh"))
    image.file("guest-name", data=os.path.basename(here).encode(), mode=0o644)
    image.file("guest-driver", data=driver.encode(), mode=0o644)
    image.file("guest-base.sh", os.path.join(scripts, "guest-base.sh"), mode=0o644)
    image.file(driver, os.path.join(here, driver))
    image.tree("rootfs", rootfs)
    return image


def shared_libraries(binary):
    """The libraries `ldd` lists for a dynamic binary (runc: libseccomp, libc, the loader)."""
    out = run(["ldd", binary]).stdout
    return [p for p in re.findall(r"(/\S+) \(0x", out) if os.path.exists(p)]


def check_binary(binary, rootfs):
    """The static release binary and the busybox rootfs the containers run from, or exit saying what to build."""
    for path in (binary, rootfs + "/bin/busybox"):
        if not os.path.exists(path):
            sys.exit(f"{SUITE}: {path} is missing (make build rootfs)")
    if run(["ldd", binary]).returncode == 0:
        sys.exit(f"{SUITE}: {binary} is not static (make build)")


def boot(kdir, initramfs, outdir, cmdline, timeout, quiet_limit, extra_qemu=(), memory=1024, echo=lambda line: True):
    """Boots the guest; echoes (those `echo` accepts) and returns the lines of its second serial port (ttyS1,
    results.log in outdir) while the kernel console goes to console.log. Returns (lines, why it was killed or None,
    seconds, qemu's output, the console log's path).
    Booted once more when the kernel panicked before the guest printed anything: a fault of the emulation says
    nothing about what the guest tests (multi-threaded TCG let 7.3's code patching hit a stale int3 at boot in CI's
    run of session 15; the guests now run single-threaded TCG, see _boot_once)."""
    result = _boot_once(kdir, initramfs, outdir, cmdline, timeout, quiet_limit, extra_qemu, memory, echo)
    lines, console = result[0], result[4]
    if not lines and os.path.exists(console) and "Kernel panic" in open(console, errors="replace").read():
        log("the guest's kernel panicked before it printed anything; booting it again (console.log.panic keeps the log)")
        shutil.copyfile(console, console + ".panic")
        result = _boot_once(kdir, initramfs, outdir, cmdline, timeout, quiet_limit, extra_qemu, memory, echo)
    return result


def _boot_once(kdir, initramfs, outdir, cmdline, timeout, quiet_limit, extra_qemu, memory, echo):
    console = os.path.join(outdir, "console.log")
    results = os.path.join(outdir, "results.log")
    for f in (console, results):
        if os.path.exists(f):
            os.unlink(f)
    # One host thread runs both vCPUs: under multi-threaded TCG a vCPU could run a stale translation of code the
    # other had just patched (Debian's 7.3 kernel hit a leftover int3 of its text_poke in __dequeue_task 9 s into
    # CI's session-25 run, and at boot once here); single-threaded, the 7.3 guest took the same time (38-55 s in 55
    # runs).
    qemu = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg,thread=single", "-cpu", "max", "-smp", "2",
            "-m", str(memory), "-display", "none", "-monitor", "none", "-no-reboot", "-nodefaults",
            "-kernel", os.path.join(kdir, "vmlinuz"), "-initrd", initramfs, "-append", " ".join(cmdline),
            "-serial", f"file:{console}", "-serial", f"file:{results}", *extra_qemu]
    start = time.monotonic()
    proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen, partial, offset, last_output = [], b"", 0, time.monotonic()
    failed_reason = None
    while True:
        finished = proc.poll() is not None
        if os.path.exists(results):
            with open(results, "rb") as f:
                f.seek(offset)
                chunk = f.read()
            if chunk:
                offset += len(chunk)
                last_output = time.monotonic()
                *lines, partial = (partial + chunk).split(b"\n")
                for raw in lines:
                    line = raw.decode(errors="replace").replace("\r", "")
                    seen.append(line)
                    if echo(line):
                        print(line, flush=True)
        if finished:
            break
        now = time.monotonic()
        if now - start > timeout:
            failed_reason = f"the guest did not finish in {timeout} s"
        elif now - last_output > quiet_limit:
            failed_reason = f"the guest printed nothing for {quiet_limit} s"
        if failed_reason:
            proc.kill()
            proc.wait()
            break
        time.sleep(0.2)
    if partial:
        seen.append(partial.decode(errors="replace"))
        print(seen[-1], flush=True)
    qemu_out = proc.stdout.read().decode(errors="replace").strip()
    return seen, failed_reason, time.monotonic() - start, qemu_out, console


def finish(lines, failed_reason, seconds, qemu_out, console, started, extra=""):
    """Counts PASS/FAIL/SKIP lines; exit 0 only when the guest reached DONE and nothing failed."""
    counts = {k: sum(1 for l in lines if l.startswith(k + " ")) for k in ("PASS", "FAIL", "SKIP")}
    done = any(l.startswith("DONE") for l in lines)
    problems = []
    if failed_reason:
        problems.append(failed_reason)
    elif not done:
        problems.append("the guest stopped before its DONE line")
    if not lines:
        problems.append("no output from the guest")
    if counts["FAIL"]:
        problems.append(f"{counts['FAIL']} checks failed")
    summary = (f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped; "
               f"{extra}guest {seconds:.1f} s, total {time.monotonic() - started:.1f} s")
    if problems:
        if qemu_out:
            print("qemu: " + qemu_out)
        if os.path.exists(console):
            with open(console, errors="replace") as f:
                tail = f.read().splitlines()[-25:]
            print(f"--- last lines of the guest console ({console}):")
            print("\n".join(tail))
        print(f"{SUITE}: FAILED ({'; '.join(problems)}): {summary}")
        sys.exit(1)
    print(f"{SUITE}: ok: {summary}")
