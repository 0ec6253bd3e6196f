# SPDX-License-Identifier: GPL-2.0
#
# plumwall top-level Makefile.
#
# Everything is built out of tree in build/. Sources are found by wildcard
# in the per-directory fragments (*/<dir>.mk); nothing needs to be listed
# by hand. Run 'make help' for the targets.

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
# Keep intermediate files (test objects, BPF objects behind skeletons).
.SECONDARY:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules

include common.mk

# Variables the fragments append to:
#   LIB_SRCS    sources archived into build/libplumwall.a
#   BINS        executables built by 'all' and installed to $(PREFIX)/sbin
#   BPF_SKELS   generated skeleton headers (all user-space objects wait
#               for them)
#   TEST_BINS   unit-test executables run by 'make check'
#   BENCH_BINS  benchmark executables run by 'make bench'
LIB_SRCS   :=
BINS       :=
BPF_OBJS   :=
BPF_SKELS  :=
TEST_BINS  :=
BENCH_BINS :=

include bpf/bpf.mk
include lib/lib.mk
include policy/policy.mk
include fw/fw.mk
include logging/logging.mk
include tests/tests.mk
include tests/fuzz/fuzz.mk

.PHONY: all tests benches check bench bench-vs demo install clean distclean help deps \
	vm-deps vm-check lint FORCE

all: $(BPF_SKELS) $(LIBPW) $(BINS)

# A sanitized build says so: tests/run-tests then makes every sanitizer
# report a failure of the suite that caused it.
ifeq ($(SANITIZE),1)
all: $(BUILD)/sanitize
$(BUILD)/sanitize:
	$(Q)mkdir -p $(@D)
	$(Q)echo '$(SAN_CFLAGS)' >$@
endif

tests: $(TEST_BINS)
	@:

benches: $(BENCH_BINS)
	@:

# ---------------------------------------------------------------------------
# User-space objects. Every object order-depends on every BPF skeleton so a
# source may '#include "bpf/NAME.skel.h"'; after the first build -MMD
# records the real header dependencies.
$(OBJDIR)/%.o: %.c | $(BPF_SKELS)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(PW_CFLAGS) -c $< -o $@

# libplumwall.a: re-archived from scratch whenever an object or the list of
# sources changes (so deleted sources do not linger in the archive).
LIB_OBJS := $(call objs,$(LIB_SRCS))

$(BUILD)/libplumwall.srcs: FORCE
	@mkdir -p $(@D)
	@echo '$(LIB_SRCS)' | cmp -s - $@ || echo '$(LIB_SRCS)' > $@

$(LIBPW): $(LIB_OBJS) $(BUILD)/libplumwall.srcs
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $(LIB_OBJS)

# Automatic header dependencies (-MMD -MP).
-include $(wildcard $(OBJDIR)/*/*.d $(OBJDIR)/*/*/*.d $(BUILD)/bpf/*.d)

# ---------------------------------------------------------------------------
# make deps: install missing Debian packages (fast no-op when all present).
deps:
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
		echo "deps: dpkg-query not found (not Debian?); install by hand: $(DEB_PACKAGES)" >&2; \
		exit 0; \
	fi; \
	installed=" $$(dpkg-query -W -f='$${Package} $${Status}\n' $(DEB_PACKAGES) 2>/dev/null \
		| awk '$$4 == "installed" { printf "%s ", $$1 }') "; \
	missing=; \
	for p in $(DEB_PACKAGES); do \
		case "$$installed" in *" $$p "*) ;; *) missing="$$missing $$p" ;; esac; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "deps: all $(words $(DEB_PACKAGES)) packages installed"; \
		exit 0; \
	fi; \
	echo "deps: installing:$$missing"; \
	sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	$$sudo apt-get -q -o DPkg::Lock::Timeout=600 update && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 \
		install -y --no-install-recommends $$missing

# ---------------------------------------------------------------------------
# make check: deps, then build everything in a fresh make (so pkg-config
# sees the installed packages), then run every test suite.
check: deps
	$(Q)$(MAKE) $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$$(nproc 2>/dev/null || echo 2)) \
		all tests benches
	$(Q)CK_FORK=yes CK_VERBOSITY=normal bash tests/run-tests $(BUILD)

bench: all benches
	@n=0; for b in $(BUILD)/bench/*; do \
		[ -f "$$b" ] && [ -x "$$b" ] || continue; \
		n=$$((n + 1)); echo "bench: $$b"; "$$b" || exit 1; \
	done; \
	[ $$n -gt 0 ] || echo "bench: no benchmarks yet"

# make bench-vs: plumwall against nftables and bare XDP programs on veths
# (tests/bench/bench-vs.sh: method, variables such as BENCH_QUICK=1).
bench-vs: all benches
	$(Q)PLUMWALL_BUILD=$(abspath $(BUILD)) bash tests/bench/bench-vs.sh

# make vm-check: the kernel-facing suites inside VMs booted with Debian's
# stock kernels (tests/vm/vm-check). VM_RELEASES="bookworm trixie".
VM_RELEASES ?= bookworm
VM_DEB_PACKAGES := mmdebstrap qemu-system-x86 qemu-utils e2fsprogs

# make lint: cppcheck and clang-tidy (tests/lint/run-lint, .clang-tidy).
lint: deps
	$(Q)$(MAKE) all
	$(Q)bash tests/lint/run-lint

vm-deps:
	$(Q)$(MAKE) deps DEB_PACKAGES="$(VM_DEB_PACKAGES)"

vm-check: deps vm-deps
	$(Q)$(MAKE) $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$$(nproc 2>/dev/null || echo 2)) \
		all tests benches
	$(Q)VM_RELEASES="$(VM_RELEASES)" bash tests/vm/vm-check

demo: deps
	$(Q)$(MAKE) all
	$(Q)if [ -f etc/demo.sh ]; then bash etc/demo.sh; else echo "demo: not built yet"; fi

# ---------------------------------------------------------------------------
PREFIX      ?= /usr
SBINDIR     ?= $(PREFIX)/sbin
SYSCONFDIR  ?= /etc/plumwall
UNITDIR     ?= /lib/systemd/system
INST_CONF     := $(wildcard etc/plumwall.yaml)
INST_POLICIES := $(wildcard etc/policies/*.yaml)
INST_UNITS    := $(wildcard etc/*.service)

install: all
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR))
	$(Q)$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR)
	$(if $(BINS),$(Q)$(INSTALL) -m 0755 $(BINS) $(DESTDIR)$(SBINDIR)/)
	$(if $(INST_CONF),$(call msg,INSTALL,$(DESTDIR)$(SYSCONFDIR)))
	$(if $(INST_CONF),$(Q)$(INSTALL) -D -m 0644 $(INST_CONF) $(DESTDIR)$(SYSCONFDIR)/plumwall.yaml)
	$(if $(INST_POLICIES),$(call msg,INSTALL,$(DESTDIR)$(SYSCONFDIR)/policies))
	$(if $(INST_POLICIES),$(Q)$(INSTALL) -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/policies)
	$(if $(INST_POLICIES),$(Q)$(INSTALL) -m 0644 $(INST_POLICIES) $(DESTDIR)$(SYSCONFDIR)/policies/)
	$(if $(INST_UNITS),$(call msg,INSTALL,$(DESTDIR)$(UNITDIR)))
	$(if $(INST_UNITS),$(Q)$(INSTALL) -d -m 0755 $(DESTDIR)$(UNITDIR))
	$(Q)for u in $(INST_UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' $$u >$(DESTDIR)$(UNITDIR)/$$(basename $$u) && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

distclean: clean

help:
	@echo 'plumwall build targets:'
	@echo '  all        (default) BPF objects + skeletons, libplumwall.a, binaries'
	@echo '  check      make deps, build everything, run tests/run-tests'
	@echo '  bench      build and run build/bench/* benchmarks'
	@echo '  bench-vs   plumwall vs nftables and bare XDP on veths, whole path'
	@echo '             and program only (BENCH_QUICK=1: a smoke run)'
	@echo '  demo       make deps, make all, run etc/demo.sh'
	@echo '  install    install binaries, config, policies, systemd units'
	@echo '             (PREFIX=$(PREFIX) DESTDIR=$(DESTDIR))'
	@echo '  clean      remove $(BUILD)/'
	@echo '  deps       apt-get install missing Debian 12 packages'
	@echo '  vm-check   the kernel-facing suites in VMs with Debian kernels'
	@echo '             (VM_RELEASES="bookworm trixie bullseye", tests/vm/)'
	@echo '  tests      build unit-test binaries only'
	@echo '  fuzz       make deps, build the libFuzzer harnesses (tests/fuzz/),'
	@echo '             run each FUZZ_SECONDS=$(FUZZ_SECONDS) s; fails on any finding'
	@echo '  help       this text'
	@echo ''
	@echo 'Variables: V=1 (verbose), CC, CLANG, BPFTOOL, CFLAGS, LDFLAGS,'
	@echo '           EXTRA_CFLAGS, BPF_CFLAGS_EXTRA, PREFIX, DESTDIR,'
	@echo '           SANITIZE=1 (ASan + UBSan build in build/san: make check'
	@echo '           SANITIZE=1 runs every suite on it), FUZZ_SECONDS'
	@echo ''
	@echo 'Debian packages (make deps): $(DEB_PACKAGES)'

FORCE:
