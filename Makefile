# crabcan: `make run` and `make test` set up everything on a fresh Debian 12 (as root) and then act.
SWIFT_BIN ?= /opt/swift/usr/bin
export PATH := $(SWIFT_BIN):$(PATH)

# Debian packages the build and tests need (installed when missing); the benchmark adds runc, crun, hyperfine.
DEB_PACKAGES := libyajl-dev libseccomp-dev libcap-dev pkg-config busybox-static python3-jsonschema
BENCH_PACKAGES := runc crun hyperfine
# The orchestrators the integration tests drive crabcan with (issue 6); their tests skip, saying why, when these
# could not be installed.
CLIENT_PACKAGES := podman conmon containerd

STATIC_LIBS := $(CURDIR)/.build-static-libs
# Fully static (no shared Swift runtime, no libc.so): starts like /bin/true (DESIGN.md §5). Debian ships
# yajl's archive as libyajl_s.a, so a build-local libyajl.a points at it. -s strips: half the size, faster exec.
RELEASE_FLAGS := -c release -Xswiftc -static-executable -Xlinker -L$(STATIC_LIBS) -Xlinker -s
BIN := .build/release/crabcan
ROOTFS := bundles/busybox/rootfs bundles/true/rootfs
PREFIX ?= /usr/local

.PHONY: all deps clients build rootfs run test unit-test integration-test check-static bench install clean fuzz fuzz-build soak \
	test-cgroup2 guest-deps

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

$(STATIC_LIBS)/libyajl.a:
	mkdir -p $(STATIC_LIBS)
	ln -sf $$(dpkg -L libyajl-dev | grep '/libyajl_s\.a$$') $@

build: deps $(STATIC_LIBS)/libyajl.a
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
# thread holds a Swift runtime lock can hang the child (DESIGN.md §5). Podman and containerd (`clients`) run
# crabcan in some of them.
test: build rootfs clients
	CRABCAN_BIN=$(CURDIR)/$(BIN) swift test --no-parallel
	@$(MAKE) --no-print-directory test-cgroup2

unit-test:
	swift test --skip IntegrationTests

# The integration tests drive the release binary: what ships is what is tested.
integration-test: build rootfs clients
	CRABCAN_BIN=$(CURDIR)/$(BIN) swift test --filter IntegrationTests

bench: build rootfs
	@missing=""; for p in $(BENCH_PACKAGES); do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get install -y -qq $$missing; fi
	sh scripts/bench.sh $(CURDIR)/$(BIN)

# Fuzzing (issue 8): libFuzzer targets for config.json, process.json, resources.json, state.json, hook output and
# the JSON parser, built with -sanitize=fuzzer,address into their own scratch path (the static build is untouched).
# FUZZ_SECONDS per target: 6 targets x 100 s = 10 minutes. FUZZ_TARGETS picks some. Crashing inputs land in
# .build-fuzz/work/crashes/<target>/; replay one with CRABCAN_FUZZ_TARGET=<target> $(FUZZ_BIN) <file>.
FUZZ_SECONDS ?= 100
FUZZ_TARGETS ?= config process resources state json hook
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

# cgroup v2 for real (issue 16; docs/cgroup-v2.md): Debian's own kernel, booted with cgroup_no_v1=all under qemu
# (TCG: no KVM here), runs scripts/cgroup2-guest/checks.sh against the release binary, and runc 1.1.5 alongside
# for comparison. The kernel is fetched with `apt-get download` (never installed) and cached in .build-guest/.
# Skips, saying why, when qemu or the kernel cannot be had. CGROUP2_CHECKS=oom,update runs some groups only.
GUEST_PACKAGES := qemu-system-x86 runc

guest-deps:
	@missing=""; for p in $(GUEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing (cgroup v2 guest):$$missing"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } \
			|| echo "warning: could not install$$missing"; \
	fi

test-cgroup2: build rootfs guest-deps
	python3 scripts/cgroup2-guest/run.py --binary $(BIN) --rootfs bundles/busybox/rootfs --cache .build-guest

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/crabcan

clean:
	rm -rf .build .build-static-libs
