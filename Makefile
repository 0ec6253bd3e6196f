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
include man/man.mk

.PHONY: all tests benches check bench bench-vs demo install uninstall clean distclean help \
	deps vm-deps vm-check lint deb-deps deb deb-check image-deps image image-check FORCE

all: $(BPF_SKELS) $(LIBPW) $(BINS) $(MAN_PAGES)

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

# ---------------------------------------------------------------------------
# make deb: the Debian package, built by dpkg-buildpackage -b -us -uc from a
# copy of this tree (the package build cleans and rebuilds its own build/;
# dpkg writes its output next to the source, which is build/deb/src), then
# moved to build/deb. make deb-check builds it and checks it
# (tests/deb/deb-check: lintian, contents, conffiles in a scratch root).
DEB_DEB_PACKAGES := debhelper dpkg-dev lintian
DEB_OUT := $(BUILD)/deb
DEB_FILE := $(DEB_OUT)/plumwall_$(PW_VERSION)_amd64.deb
# What the package is built from: the tree the deb recipe copies.
DEB_SRCS = $(shell find . \( -path ./build -o -path ./.git -o -path ./.cache \) \
	-prune -o -type f -print)

deb-deps:
	$(Q)$(MAKE) deps DEB_PACKAGES="$(DEB_DEB_PACKAGES)"

deb: deps deb-deps
	$(call msg,DEB,$(DEB_OUT))
	$(Q)rm -rf $(DEB_OUT) && mkdir -p $(DEB_OUT)/src/plumwall
	$(Q)tar -C . --exclude=./build --exclude=./.git --exclude=./.cache -cf - . | \
		tar -C $(DEB_OUT)/src/plumwall -xf -
	$(Q)cd $(DEB_OUT)/src/plumwall && dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -n 40 ../build.log; echo "deb: dpkg-buildpackage failed; log: $(DEB_OUT)/build.log" >&2; \
		  mv ../build.log $(CURDIR)/$(DEB_OUT)/ 2>/dev/null; exit 1; }
	$(Q)mv $(DEB_OUT)/src/*.deb $(DEB_OUT)/src/*.changes $(DEB_OUT)/src/*.buildinfo \
		$(DEB_OUT)/src/build.log $(DEB_OUT)/
	$(Q)rm -rf $(DEB_OUT)/src
	$(Q)ls $(DEB_OUT)/*.deb

deb-check: deb
	$(Q)bash tests/deb/deb-check $(DEB_OUT)

# The image takes the package already built when no source is newer (CI
# builds it once for deb-check: each build compiles everything and runs
# the unit suites); make deb always builds afresh.
$(DEB_FILE): $(DEB_SRCS)
	$(Q)$(MAKE) deb

# ---------------------------------------------------------------------------
# make image: the appliance, a bootable disk image of Debian 12 with the
# package installed (image/mkimage; IMAGE_FORMAT=raw for a raw disk).
# make image-check boots it under qemu and checks it (tests/vm/image-check).
IMAGE_FORMAT ?= qcow2
IMAGE_DEB_PACKAGES := mmdebstrap qemu-system-x86 qemu-utils e2fsprogs fdisk \
		      openssh-client iproute2 netcat-openbsd iputils-ping
IMAGE := $(BUILD)/image/plumwall-$(PW_VERSION)-amd64.$(if $(filter raw,$(IMAGE_FORMAT)),img,qcow2)

image-deps:
	$(Q)$(MAKE) deps DEB_PACKAGES="$(IMAGE_DEB_PACKAGES)"

image: $(DEB_FILE) image-deps
	$(call msg,IMAGE,$(IMAGE))
	$(Q)bash image/mkimage $(DEB_FILE) $(IMAGE) $(IMAGE_FORMAT)

image-check: image
	$(Q)bash tests/vm/image-check $(IMAGE)

demo: deps
	$(Q)$(MAKE) all
	$(Q)if [ -f etc/demo.sh ]; then bash etc/demo.sh; else echo "demo: not built yet"; fi

# ---------------------------------------------------------------------------
# make install / make uninstall (DESTDIR honoured).
#
# Programs, units, manual pages, documentation, completion and tmpfiles.d
# are plumwall's and are replaced. The configuration, the policy and the
# logrotate snippet are the administrator's once installed: an existing
# file that differs from the stock one is kept, and the stock one goes
# beside it as FILE.dist (compare and merge by hand); an unchanged one is
# left as it is. `make uninstall` removes what install put there, except
# configuration that differs from the stock one.
SBINDIR      ?= $(PREFIX)/sbin
SYSCONFDIR   ?= /etc/plumwall
UNITDIR      ?= /lib/systemd/system
MANDIR       ?= $(PREFIX)/share/man
DOCDIR       ?= $(PREFIX)/share/doc/plumwall
BASHCOMPDIR  ?= $(PREFIX)/share/bash-completion/completions
TMPFILESDIR  ?= $(PREFIX)/lib/tmpfiles.d
LOGROTATEDIR ?= /etc/logrotate.d

INST_UNITS    := $(wildcard etc/*.service)
INST_EXAMPLES := $(wildcard etc/policies/*.yaml)
INST_DOCS     := README.md $(wildcard docs/*.md)
# SOURCE:DESTINATION of the administrator's files.
INST_CONFIGS  := etc/plumwall.yaml:$(SYSCONFDIR)/plumwall.yaml \
		 etc/policy.yaml:$(SYSCONFDIR)/policy.yaml \
		 etc/logrotate/plumwall:$(LOGROTATEDIR)/plumwall
INST_BINNAMES := $(notdir $(BINS))
INST_MANNAMES := $(notdir $(MAN_PAGES))
INST_COMPLETIONS := plumwall plumwalld plumwall-logd

install: all
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR))
	$(Q)$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR)
	$(Q)$(INSTALL) -m 0755 $(BINS) $(DESTDIR)$(SBINDIR)/
	$(call msg,INSTALL,$(DESTDIR)$(UNITDIR))
	$(Q)$(INSTALL) -d -m 0755 $(DESTDIR)$(UNITDIR)
	$(Q)for u in $(INST_UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' $$u >$(DESTDIR)$(UNITDIR)/$$(basename $$u) && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done
	$(call msg,INSTALL,$(DESTDIR)$(MANDIR))
	$(Q)for m in $(MAN_PAGES); do \
		s=$${m##*.}; \
		$(INSTALL) -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/$$(basename $$m) || exit 1; \
	done
	$(call msg,INSTALL,$(DESTDIR)$(DOCDIR))
	$(Q)$(INSTALL) -d -m 0755 $(DESTDIR)$(DOCDIR)/examples
	$(Q)$(INSTALL) -m 0644 $(INST_DOCS) $(DESTDIR)$(DOCDIR)/
	$(Q)$(INSTALL) -m 0644 $(INST_EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	$(call msg,INSTALL,$(DESTDIR)$(BASHCOMPDIR))
	$(Q)$(INSTALL) -D -m 0644 etc/bash-completion/plumwall $(DESTDIR)$(BASHCOMPDIR)/plumwall
	$(Q)ln -sf plumwall $(DESTDIR)$(BASHCOMPDIR)/plumwalld
	$(Q)ln -sf plumwall $(DESTDIR)$(BASHCOMPDIR)/plumwall-logd
	$(call msg,INSTALL,$(DESTDIR)$(TMPFILESDIR))
	$(Q)$(INSTALL) -D -m 0644 etc/tmpfiles/plumwall.conf $(DESTDIR)$(TMPFILESDIR)/plumwall.conf
	$(call msg,INSTALL,$(DESTDIR)$(SYSCONFDIR))
	$(Q)for c in $(INST_CONFIGS); do \
		src=$${c%%:*}; dst=$(DESTDIR)$${c#*:}; \
		if [ -e "$$dst" ] && ! cmp -s "$$src" "$$dst"; then \
			$(INSTALL) -m 0644 "$$src" "$$dst.dist" || exit 1; \
			echo "  KEEP     $$dst (yours; the stock one is $$dst.dist)"; \
		else \
			$(INSTALL) -D -m 0644 "$$src" "$$dst" && rm -f "$$dst.dist" || exit 1; \
		fi; \
	done

uninstall:
	$(call msg,REMOVE,$(DESTDIR)$(SBINDIR))
	$(Q)for b in $(INST_BINNAMES); do rm -f $(DESTDIR)$(SBINDIR)/$$b; done
	$(call msg,REMOVE,$(DESTDIR)$(UNITDIR))
	$(Q)for u in $(notdir $(INST_UNITS)); do rm -f $(DESTDIR)$(UNITDIR)/$$u; done
	$(call msg,REMOVE,$(DESTDIR)$(MANDIR))
	$(Q)for m in $(INST_MANNAMES); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m; done
	$(call msg,REMOVE,$(DESTDIR)$(DOCDIR))
	$(Q)rm -rf $(DESTDIR)$(DOCDIR)
	$(Q)for c in $(INST_COMPLETIONS); do rm -f $(DESTDIR)$(BASHCOMPDIR)/$$c; done
	$(Q)rm -f $(DESTDIR)$(TMPFILESDIR)/plumwall.conf
	$(call msg,REMOVE,$(DESTDIR)$(SYSCONFDIR))
	$(Q)for c in $(INST_CONFIGS); do \
		src=$${c%%:*}; dst=$(DESTDIR)$${c#*:}; \
		rm -f "$$dst.dist"; \
		if [ -e "$$dst" ] && ! cmp -s "$$src" "$$dst"; then \
			echo "  KEEP     $$dst (differs from the stock one)"; \
		else \
			rm -f "$$dst"; \
		fi; \
	done
	$(Q)rmdir $(DESTDIR)$(SYSCONFDIR) 2>/dev/null || true

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
	@echo '  install    install binaries, units, manual pages, docs, completion;'
	@echo '             configuration and policy only where not edited (else'
	@echo '             beside them as .dist) (PREFIX=$(PREFIX) DESTDIR=$(DESTDIR))'
	@echo '  uninstall  remove what install put there (edited configuration stays)'
	@echo '  deb        the Debian package in $(BUILD)/deb (dpkg-buildpackage -b -us -uc)'
	@echo '  deb-check  make deb, then lintian, its contents, conffiles kept on reinstall'
	@echo '  image      the appliance disk image in $(BUILD)/image (IMAGE_FORMAT=qcow2|raw)'
	@echo '  image-check make image, boot it under qemu, check it (tests/vm/image-check)'
	@echo '  clean      remove $(BUILD)/'
	@echo '  deps       apt-get install missing Debian 12 packages'
	@echo '  vm-check   the kernel-facing suites in VMs with Debian kernels'
	@echo '             (VM_RELEASES="bookworm trixie bullseye", tests/vm/)'
	@echo '  tests      build unit-test binaries only'
	@echo '  fuzz       make deps, build the libFuzzer harnesses (tests/fuzz/),'
	@echo '             run each FUZZ_SECONDS=$(FUZZ_SECONDS) s; fails on any finding'
	@echo '  lint       make all, then cppcheck and clang-tidy (.clang-tidy) over'
	@echo '             lib/ policy/ fw/ logging/; fails on any finding'
	@echo '  help       this text'
	@echo ''
	@echo 'Variables: V=1 (verbose), CC, CLANG, BPFTOOL, CFLAGS, LDFLAGS,'
	@echo '           EXTRA_CFLAGS, BPF_CFLAGS_EXTRA, PREFIX, DESTDIR,'
	@echo '           SANITIZE=1 (ASan + UBSan build in build/san: make check'
	@echo '           SANITIZE=1 runs every suite on it), FUZZ_SECONDS'
	@echo ''
	@echo 'Debian packages (make deps): $(DEB_PACKAGES)'

FORCE:
