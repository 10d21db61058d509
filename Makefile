# crabcan: `make run` and `make test` set up everything on a fresh Debian 12 (as root) and then act.
SWIFT_BIN ?= /opt/swift/usr/bin
export PATH := $(SWIFT_BIN):$(PATH)

# Debian packages the build and tests need (installed when missing); the benchmark adds runc and crun.
DEB_PACKAGES := libyajl-dev libseccomp-dev libcap-dev pkg-config busybox-static python3-jsonschema
BENCH_PACKAGES := runc crun
# The orchestrators the integration tests drive crabcan with (issue 6); their tests skip, saying why, when these
# could not be installed.
CLIENT_PACKAGES := podman conmon containerd

STATIC_LIBS := $(CURDIR)/.build-static-libs
# Fully static (no shared Swift runtime, no libc.so): starts like /bin/true (docs/design.md §5). Debian ships
# yajl's archive as libyajl_s.a, so a build-local libyajl.a points at it. -s strips: half the size, faster exec.
# Linked by lld with every function in its own section, laid out in the order of scripts/link-order.txt: the
# functions the node's commands enter, together, so that a run maps a few hundred KiB of text instead of most of
# it (peak RSS; docs/performance.md). `make link-order` regenerates the list; names it lacks cost pages, not
# correctness. --wrap=__libc_start_main enters CShim's static start-up, glibc's own minus its cpuid probes
# (Sources/CShim/static_startup.c).
LINK_ORDER := $(CURDIR)/scripts/link-order.txt
LINK_SCRIPT := $(CURDIR)/scripts/link-order.ld
LINK_FLAGS := -c release -Xswiftc -static-executable -Xlinker -L$(STATIC_LIBS) -Xswiftc -use-ld=lld \
	-Xswiftc -Xfrontend -Xswiftc -function-sections \
	-Xlinker --symbol-ordering-file=$(LINK_ORDER) -Xlinker --no-warn-symbol-ordering -Xlinker --script=$(LINK_SCRIPT) \
	-Xlinker --wrap=__libc_start_main
RELEASE_FLAGS := $(LINK_FLAGS) -Xlinker -s
BIN := .build/release/crabcan
ROOTFS := bundles/busybox/rootfs bundles/true/rootfs
PREFIX ?= /usr/local

.PHONY: all deps clients build rootfs run test unit-test integration-test check-static bench bench-guest link-order install clean fuzz fuzz-build soak runc-compat-deps seccomp-profiles \
	test-cgroup2 guest-deps clients13

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Installed for the tests only (not for `make run`); a failed install is not fatal: those tests then skip.
clients:
	@missing=""; for p in $(CLIENT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing (client tests):$$missing"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; } \
			|| echo "warning: could not install$$missing: the podman/containerd tests will be skipped"; \
	fi

# runc compatibility (issue 18, docs/runc-compat.md): `crabcan ps` runs the host's `ps` as runc does (procps), and
# the compatibility tests run Debian's runc side by side. A failed install is not fatal: the runc half skips.
RUNC_COMPAT_PACKAGES := procps runc

runc-compat-deps:
	@missing=""; for p in $(RUNC_COMPAT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing (runc compatibility tests):$$missing"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; } \
			|| echo "warning: could not install$$missing: the side-by-side runc tests will be skipped"; \
	fi

# Issue 13: the Docker engine (Debian's docker.io: dockerd 20.10, its own CLI at /usr/bin/docker, docker-init),
# buildah, and the CRI test's client (grpcio + grpcio-tools from PyPI in a venv under .build-cri/, stubs generated
# from ../shared/cri/api.proto). Never a service start: the tests run dockerd and containerd by hand; the package's
# own start is refused through policy-rc.d (made for the install when the machine has none). A failed install is
# not fatal: those tests then skip and say why.
CLIENT13_PACKAGES := docker.io buildah python3-venv
CRI_DIR := $(CURDIR)/.build-cri
CRI_PROTO := $(CURDIR)/../shared/cri/api.proto

clients13:
	@missing=""; for p in $(CLIENT13_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing (client tests):$$missing"; \
		made=""; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; \
			chmod 755 /usr/sbin/policy-rc.d; made=1; fi; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } \
			|| echo "warning: could not install$$missing: the docker/buildah/CRI tests will be skipped"; \
		[ -z "$$made" ] || rm -f /usr/sbin/policy-rc.d; \
	fi
	@if [ ! -f $(CRI_DIR)/stubs/api_pb2_grpc.py ]; then \
		if [ ! -f $(CRI_PROTO) ]; then echo "warning: no $(CRI_PROTO): the CRI tests will be skipped"; exit 0; fi; \
		rm -rf $(CRI_DIR) && mkdir -p $(CRI_DIR)/stubs && /usr/bin/python3 -m venv $(CRI_DIR)/venv \
		&& $(CRI_DIR)/venv/bin/pip install -q grpcio grpcio-tools \
		&& sed -e '/gogo/d' $(CRI_PROTO) > $(CRI_DIR)/stubs/api.proto \
		&& $(CRI_DIR)/venv/bin/python -m grpc_tools.protoc -I $(CRI_DIR)/stubs --python_out=$(CRI_DIR)/stubs \
			--grpc_python_out=$(CRI_DIR)/stubs $(CRI_DIR)/stubs/api.proto \
		|| { echo "warning: could not set up the CRI client (grpcio from PyPI): the CRI tests will be skipped"; rm -rf $(CRI_DIR); }; \
	fi

$(STATIC_LIBS)/libyajl.a:
	mkdir -p $(STATIC_LIBS)
	ln -sf $$(dpkg -L libyajl-dev | grep '/libyajl_s\.a$$') $@

build: deps $(STATIC_LIBS)/libyajl.a
	@# The link order is an input SwiftPM does not track: a newer list relinks.
	@if [ -e $(BIN) ] && { [ $(LINK_ORDER) -nt $(BIN) ] || [ $(LINK_SCRIPT) -nt $(BIN) ]; }; then rm -f $(BIN); fi
	swift build $(RELEASE_FLAGS) --product crabcan
	@$(MAKE) --no-print-directory check-static

# The binary must not link Foundation or any shared library at all.
check-static:
	@if ldd $(BIN) >/dev/null 2>&1; then echo "error: $(BIN) is dynamically linked:"; ldd $(BIN); exit 1; fi
	@echo "$(BIN): static, $$(du -h $(BIN) | cut -f1)"

rootfs: deps
	@for dir in $(ROOTFS); do sh scripts/mkrootfs.sh $$dir >/dev/null; done
	@echo "rootfs ready: $(ROOTFS)"

# A container that prints its hostname, its id and its processes.
run: build rootfs
	$(BIN) run --bundle bundles/busybox crabcan-demo-$$$$

# One `swift test` run: unit tests need no root; integration tests drive the release binary (what ships is what
# is tested) and skip themselves when not root. --no-parallel: some tests fork, and a fork while another test
# thread holds a Swift runtime lock can hang the child (docs/design.md §5). Podman and containerd (`clients`) run
# crabcan in some of them.
test: build rootfs clients runc-compat-deps seccomp-profiles clients13
	CRABCAN_BIN=$(CURDIR)/$(BIN) swift test --no-parallel
	@$(MAKE) --no-print-directory conformance-run
	@$(MAKE) --no-print-directory test-cgroup2
	@$(MAKE) --no-print-directory test-conformance-guest
	@$(MAKE) --no-print-directory test-systemd
	@$(MAKE) --no-print-directory test-criu

unit-test:
	swift test --skip IntegrationTests

# The integration tests drive the release binary: what ships is what is tested.
integration-test: build rootfs clients runc-compat-deps seccomp-profiles clients13
	CRABCAN_BIN=$(CURDIR)/$(BIN) swift test --filter IntegrationTests

bench: build rootfs
	@missing=""; for p in $(BENCH_PACKAGES); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get install -y -qq $$missing; fi
	sh scripts/cgroup-v1-layout.sh
	python3 scripts/bench.py $(CURDIR)/$(BIN)

# The same paths on a pure cgroup v2 host with a newer kernel, which this machine is not: a qemu guest (TCG) on
# Debian 12's 6.1 and on NEWER_KERNEL_SUITE's 7.x (where the init's mount namespace comes from open_tree),
# crabcan beside the guest copies of runc and crun (scripts/bench-guest/run.py; ratios only: software emulation).
bench-guest: build rootfs guest-deps
	@missing=""; for p in $(BENCH_PACKAGES); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get install -y -qq $$missing; fi
	python3 scripts/bench-guest/run.py --binary $(BIN) --rootfs bundles/busybox/rootfs --cache .build-guest
	python3 scripts/bench-guest/run.py --binary $(BIN) --rootfs bundles/busybox/rootfs --cache .build-guest \
		--kernel-suite $(NEWER_KERNEL_SUITE)

# The function order of the release link (issue 14): an unstripped build with the same flags, run under a
# breakpoint on every function (scripts/bptrace.c) for create, start, state, list, exec, kill, delete and run, here
# and in a qemu guest that is a pure cgroup v2 host on NEWER_KERNEL_SUITE's kernel (scripts/order-guest);
# writes the symbol order and the linker script for the unnamed helpers.
link-order: deps $(STATIC_LIBS)/libyajl.a rootfs guest-deps
	swift build $(LINK_FLAGS) -Xlinker -Map=$(CURDIR)/.build-order/crabcan.map --product crabcan --scratch-path .build-order
	NEWER_KERNEL_SUITE=$(NEWER_KERNEL_SUITE) python3 scripts/link-order.py .build-order/release/crabcan \
		.build-order/crabcan.map $(LINK_ORDER) $(LINK_SCRIPT)

# Fuzzing (issue 8): libFuzzer targets for config.json, process.json, resources.json, state.json, hook output,
# the JSON parser and D-Bus messages (the systemd driver's replies and signals), built with
# -sanitize=fuzzer,address into their own scratch path (the static build is untouched).
# FUZZ_SECONDS per target: 7 targets x 100 s = about 12 minutes. FUZZ_TARGETS picks some. Crashing inputs land in
# .build-fuzz/work/crashes/<target>/; replay one with CRABCAN_FUZZ_TARGET=<target> $(FUZZ_BIN) <file>.
FUZZ_SECONDS ?= 100
FUZZ_TARGETS ?= config process resources state json hook dbus
FUZZ_BIN := .build-fuzz/release/crabcan-fuzz
FUZZ_WORK := .build-fuzz/work

fuzz-build: deps
	CRABCAN_FUZZ=1 swift build --scratch-path .build-fuzz -c release --product crabcan-fuzz \
		-Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing

fuzz: fuzz-build
	swift build --product crabcan
	rm -rf $(FUZZ_WORK)/seeds
	python3 scripts/fuzz-seeds.py $(CURDIR) $(FUZZ_WORK)/seeds .build/debug/crabcan
	sh scripts/fuzz.sh $(FUZZ_BIN) $(FUZZ_SECONDS) $(FUZZ_WORK) $(FUZZ_TARGETS)

# Leak soak (issue 8): SOAK_CYCLES create/start/delete cycles with the release binary; prints the time per cycle
# and every leak found (mounts, cgroup dirs, files under --root, the caller's fds, zombies). `make test` runs 100.
SOAK_CYCLES ?= 1000

soak: build rootfs
	@CRABCAN_BIN=$(CURDIR)/$(BIN) SOAK_CYCLES=$(SOAK_CYCLES) swift test --no-parallel \
		--filter 'CrabcanCLI/soakCyclesLeaveNothingBehind' >.build/soak.log 2>&1; status=$$?; \
		grep -E '^soak|✘|recorded an issue' .build/soak.log; echo "full log: .build/soak.log"; exit $$status

# Seccomp profiles written by others, as test data (docs/seccomp.md; Tests/IntegrationTests/SeccompTests.swift reads
# them where these put them, and skips, saying why, where one is missing). containers-common's comes with podman
# (`clients`). Moby's: Debian's docker.io compiles it in; the file ships only in golang-github-docker-docker-dev,
# whose package is unpacked here (not installed: it would pull in 260 Go source packages). The runtime-tools
# generator's: `oci-runtime-tool generate`, built from the conformance suite's tarball with the suite's Go.
PROFILES := $(CURDIR)/.build-profiles
CONFORMANCE_SRC ?= $(CURDIR)/../shared/conformance
CONFORMANCE_DIR ?= /tmp/oci-conformance
MOBY_PROFILE := $(PROFILES)/moby/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json

seccomp-profiles:
	@mkdir -p $(PROFILES)
	@[ -f $(MOBY_PROFILE) ] || { cd $(PROFILES) && rm -f golang-github-docker-docker-dev_*.deb \
		&& { apt-get download golang-github-docker-docker-dev >/dev/null 2>&1 \
			|| { apt-get update -qq && apt-get download golang-github-docker-docker-dev >/dev/null; }; } \
		&& dpkg-deb -x golang-github-docker-docker-dev_*.deb moby && rm -f golang-github-docker-docker-dev_*.deb; } \
		|| echo "warning: moby's seccomp profile unavailable: its test will be skipped"
	@[ -f $(PROFILES)/runtime-tools-config.json ] || sh scripts/runtime-tools-profile.sh $(CONFORMANCE_SRC) $(CONFORMANCE_DIR) $(PROFILES) \
		|| echo "warning: the runtime-tools generator's profile unavailable: its test will be skipped"

# Conformance (issue 12): the OCI runtime-tools validation suite (runtime-spec 1.3.0, 58 files) from
# ../shared/conformance against the release binary; every file's outcome must match Tests/Conformance/expected.txt
# (PASS, or FAIL with its reason), a file that now passes included. `make conformance-update` rewrites the list
# from a run (reasons of files still failing are kept). The suite is built once into CONFORMANCE_DIR (it brings
# its own Go toolchain). CONFORMANCE_FILTER=REGEX runs some files. Skips, saying why, without the suite or root.
CONFORMANCE_SUITE ?= $(abspath $(CURDIR)/../shared/conformance)
CONFORMANCE_DIR ?= /tmp/oci-conformance
CONFORMANCE_EXPECTED := Tests/Conformance/expected.txt
export CONFORMANCE_DIR

.PHONY: conformance conformance-run conformance-update

conformance: build rootfs
	@$(MAKE) --no-print-directory conformance-run

conformance-run:
	@if [ ! -x $(CONFORMANCE_SUITE)/validate.sh ]; then \
		echo "conformance: skipped: $(CONFORMANCE_SUITE)/validate.sh is absent"; \
	elif [ "$$(id -u)" != 0 ]; then echo "conformance: skipped: needs root"; \
	else sh scripts/cgroup-v1-layout.sh && VALIDATE=$(CONFORMANCE_SUITE)/validate.sh python3 scripts/conformance.py \
		$(CURDIR)/$(BIN) $(CURDIR)/$(CONFORMANCE_EXPECTED); fi

conformance-update: build rootfs
	@sh scripts/cgroup-v1-layout.sh && VALIDATE=$(CONFORMANCE_SUITE)/validate.sh python3 scripts/conformance.py \
		$(CURDIR)/$(BIN) $(CURDIR)/$(CONFORMANCE_EXPECTED) --update

# cgroup v2 for real (issue 16; docs/cgroup-v2.md): Debian's own kernel, booted with cgroup_no_v1=all under qemu
# (TCG: no KVM here), runs scripts/cgroup2-guest/checks.sh against the release binary, and runc 1.1.5 alongside
# for comparison. The kernel is fetched with `apt-get download` (never installed) and cached in .build-guest/.
# Skips, saying why, when qemu or the kernel cannot be had. CGROUP2_CHECKS=oom,update runs some groups only.
# The same checks run again on the newer kernel of NEWER_KERNEL_SUITE (Linux 7.x, with OPEN_TREE_NAMESPACE, which
# crabcan's create uses where it can: docs/performance.md), without modules (the io group skips there).
GUEST_PACKAGES := qemu-system-x86 runc
NEWER_KERNEL_SUITE ?= trixie-backports
# And a third time, on an older kernel (Debian 11's 5.10: no cpu.max.burst, and a clone3 child born in a cgroup keeps
# its parent's cpuset there), the groups whose expectations do not depend on the kernel's age, and olderkernel's.
OLDER_KERNEL_SUITE ?= bullseye
OLDER_KERNEL_CHECKS ?= olderkernel,cpuset,memory,pids,unified,oom,freeze,kill,update,cgroupns,treens,foreign,oldercalls,events

guest-deps:
	@missing=""; for p in $(GUEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing (cgroup v2 guest):$$missing"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } \
			|| echo "warning: could not install$$missing"; \
	fi

test-cgroup2: build rootfs guest-deps
	python3 scripts/cgroup2-guest/run.py --binary $(BIN) --rootfs bundles/busybox/rootfs --cache .build-guest
	python3 scripts/cgroup2-guest/run.py --binary $(BIN) --rootfs bundles/busybox/rootfs --cache .build-guest \
		--kernel-suite $(NEWER_KERNEL_SUITE)
	python3 scripts/cgroup2-guest/run.py --binary $(BIN) --rootfs bundles/busybox/rootfs --cache .build-guest \
		--kernel-suite $(OLDER_KERNEL_SUITE) --checks $(OLDER_KERNEL_CHECKS)

# The systemd cgroup driver for real (issue 16; docs/cgroup-v2.md "The systemd guest"): a minimal Debian 12 whose
# PID 1 is systemd (debootstrap --variant=minbase into .build-guest/systemd/, an ext4 image of it made with
# mke2fs -d; both cached, rebuilt only when their inputs change), booted with the cgroup2 guest's kernel and qemu
# (scripts/guestlib.py) as a snapshot. scripts/systemd-guest/checks.sh drives runc 1.1.5 --systemd-cgroup (the
# known-good driver) then crabcan --systemd-cgroup, and says where the two differ. SYSTEMD_RUNTIMES=crabcan runs
# one, SYSTEMD_GROUPS=scope,user some groups (the rootless group: docs/systemd-cgroup.md). Skips, saying why,
# without qemu, debootstrap, a mirror or root.
SYSTEMD_GUEST_PACKAGES := debootstrap e2fsprogs

.PHONY: test-systemd systemd-guest-deps

systemd-guest-deps:
	@missing=""; for p in $(SYSTEMD_GUEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing (systemd guest):$$missing"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } \
			|| echo "warning: could not install$$missing"; \
	fi

# The runtime-tools validation files that pass here, again in the cgroup2 guest on NEWER_KERNEL_SUITE's 7.x kernel,
# where every root container's mount namespace comes from open_tree (scripts/conformance-guest/run.py; the suite
# as `make conformance` builds it, with GNU tar and the test programs' libc copied in).
.PHONY: test-conformance-guest
test-conformance-guest: build rootfs guest-deps
	NEWER_KERNEL_SUITE=$(NEWER_KERNEL_SUITE) python3 scripts/conformance-guest/run.py --binary $(BIN) \
		--rootfs bundles/busybox/rootfs --cache .build-guest --suite $(CONFORMANCE_SUITE)

test-systemd: build rootfs guest-deps systemd-guest-deps
	python3 scripts/systemd-guest/run.py --binary $(BIN) --rootfs bundles/busybox/rootfs --cache .build-guest

# Checkpoint/restore through CRIU (issue 17.1; docs/checkpoint.md): Debian's criu 3.17 fails its own `criu check`
# on newer kernels, so scripts/criu-guest/checks.sh runs in a qemu guest (TCG) on the cgroup2 guest's Debian 6.1
# kernel, from an initramfs holding the static crabcan, the busybox rootfs, and the host's criu and GNU tar with
# the libraries ldd lists for them. Skips, saying why, without qemu or criu.
CRIU_GUEST_PACKAGES := criu

.PHONY: test-criu criu-guest-deps

criu-guest-deps:
	@missing=""; for p in $(CRIU_GUEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing (criu guest):$$missing"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } \
			|| echo "warning: could not install$$missing"; \
	fi

test-criu: build rootfs guest-deps criu-guest-deps
	python3 scripts/criu-guest/run.py --binary $(BIN) --rootfs bundles/busybox/rootfs --cache .build-guest

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/crabcan

clean:
	rm -rf .build .build-static-libs .build-order
