# SPDX-License-Identifier: GPL-2.0
#
# common.mk - shared tools, flags and helpers for the plumwall build.
#
# Included first by the top-level Makefile; the per-directory fragments
# (lib/lib.mk, policy/policy.mk, bpf/bpf.mk, fw/fw.mk, logging/logging.mk,
# tests/tests.mk) only append to the variables defined here.
#
# User overrides (command line or environment):
#   V=1                 show full commands
#   CC, CLANG, BPFTOOL  compilers / tools
#   CFLAGS, LDFLAGS     optimisation/debug and extra link flags
#                       (e.g. make CFLAGS="-O0 -g -fsanitize=address"
#                             LDFLAGS=-fsanitize=address)
#   EXTRA_CFLAGS        appended to every user-space compile
#   SANITIZE=1          user space with ASan and UBSan (every report
#                       fatal), built in build/san (BPF objects as ever)
#   BPF_CFLAGS_EXTRA    appended to every BPF compile
#   PREFIX, DESTDIR     install locations

# ---------------------------------------------------------------------------
# Output layout. A sanitized build gets a directory of its own, so that it
# never mixes objects with a normal one.
SANITIZE ?=
ifeq ($(SANITIZE),1)
BUILD   := build/san
SAN_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	      -fno-omit-frame-pointer
else
BUILD   := build
SAN_CFLAGS :=
endif
OBJDIR  := $(BUILD)/obj
LIBPW   := $(BUILD)/libplumwall.a

# ---------------------------------------------------------------------------
# Tools
CC      ?= cc
AR      ?= ar
CLANG   ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
INSTALL ?= install

PREFIX  ?= /usr/local
DESTDIR ?=

# Kernel BTF used to generate build/vmlinux.h.
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

# ---------------------------------------------------------------------------
# Debian 12 packages needed to build, test and demo plumwall (make deps).
# libclang-rt-14-dev: libFuzzer and clang's sanitizer runtimes (make fuzz);
# clang only recommends it, and make deps installs no recommends.
# time: GNU time, peak memory of a command in the tests (cli.sh).
# groff-base, man-db: the manual pages rendered and checked (man.sh).
DEB_PACKAGES := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
		libyaml-dev libjansson-dev libnftnl-dev libmnl-dev \
		libpcap-dev check pkg-config iproute2 nftables tcpdump jq \
		libsystemd-dev make gcc netcat-openbsd iputils-ping \
		libssl-dev rsyslog libclang-rt-14-dev scdoc bash-completion \
		cppcheck clang-tidy time groff-base man-db

# ---------------------------------------------------------------------------
# pkg-config modules. PW_PKGS is linked into every user-space binary;
# TEST_PKGS additionally into test binaries. Fragments may append.
PW_PKGS   := libbpf yaml-0.1 jansson libnftnl libmnl libpcap libelf zlib \
	     openssl
TEST_PKGS := check

# pkg-config is only consulted when something is going to be compiled, so
# that 'make help', 'make deps' and 'make clean' (and the outer, pre-deps
# invocation of 'make check' / 'make demo') work on a bare machine.
NOPKG_GOALS := help deps vm-deps clean distclean check demo vm-check fuzz lint \
	       uninstall deb-deps deb deb-check image-deps image image-check
ifneq ($(filter-out $(NOPKG_GOALS),$(or $(MAKECMDGOALS),all)),)
HAVE_PKG_CONFIG := $(shell command -v $(PKG_CONFIG) 2>/dev/null)
ifeq ($(HAVE_PKG_CONFIG),)
$(warning pkg-config not found: run 'make deps')
else
pkg_found = $(shell for m in $(1); do $(PKG_CONFIG) --exists $$m && echo $$m; done)
PW_PKGS_FOUND   := $(call pkg_found,$(PW_PKGS))
TEST_PKGS_FOUND := $(call pkg_found,$(TEST_PKGS))
PW_PKGS_MISSING := $(filter-out $(PW_PKGS_FOUND) $(TEST_PKGS_FOUND),$(PW_PKGS) $(TEST_PKGS))
ifneq ($(PW_PKGS_MISSING),)
$(warning pkg-config does not know: $(PW_PKGS_MISSING) (run 'make deps'))
endif
PKG_CFLAGS  := $(if $(PW_PKGS_FOUND),$(shell $(PKG_CONFIG) --cflags $(PW_PKGS_FOUND)))
PKG_LIBS    := $(if $(PW_PKGS_FOUND),$(shell $(PKG_CONFIG) --libs $(PW_PKGS_FOUND)))
TEST_CFLAGS := $(if $(TEST_PKGS_FOUND),$(shell $(PKG_CONFIG) --cflags $(TEST_PKGS_FOUND)))
TEST_LIBS   := $(if $(TEST_PKGS_FOUND),$(shell $(PKG_CONFIG) --libs $(TEST_PKGS_FOUND)))
endif
endif

# ---------------------------------------------------------------------------
# User-space flags
CFLAGS  ?= -O2 -g
LDFLAGS ?=
EXTRA_CFLAGS ?=

# -I. lets user space name module headers by path: "policy/policy.h".
PW_CPPFLAGS = -D_GNU_SOURCE -I. -Iinclude -I$(BUILD)
PW_CFLAGS   = -std=gnu11 -Wall -Wextra -Werror $(CFLAGS) $(SAN_CFLAGS) \
	      $(PW_CPPFLAGS) $(PKG_CFLAGS) $(EXTRA_CFLAGS) -MMD -MP
PW_LDFLAGS  = $(CFLAGS) $(SAN_CFLAGS) $(LDFLAGS) -Wl,--as-needed
PW_LDLIBS   = $(LIBPW) $(PKG_LIBS) -lpthread

# ---------------------------------------------------------------------------
# BPF flags
BPF_ARCH ?= x86
# v3 (ALU32 + JMP32) is supported by every kernel we target (>= 5.1).
BPF_CPU  ?= v3
BPF_CFLAGS_EXTRA ?=
BPF_CFLAGS = -g -O2 -target bpf -mcpu=$(BPF_CPU) -D__TARGET_ARCH_$(BPF_ARCH) \
	     -I$(BUILD) -Iinclude -Ibpf -idirafter /usr/include/x86_64-linux-gnu \
	     -Wall -Werror $(BPF_CFLAGS_EXTRA) -MMD -MP

# ---------------------------------------------------------------------------
# Quiet output: "  CC      lib/foo.c" unless V=1.
ifeq ($(V),1)
Q   :=
msg  =
else
Q   := @
msg  = @printf '  %-8s %s\n' '$(1)' '$(2)';
MAKEFLAGS += --no-print-directory
endif

# Object file for a user-space source: lib/foo.c -> build/obj/lib/foo.o
objs = $(patsubst %.c,$(OBJDIR)/%.o,$(1))

# Link recipe shared by every user-space executable. Prerequisites are the
# objects and module archives (+ $(LIBPW), which is filtered out and linked
# via PW_LDLIBS).
# Use as the whole recipe:   $(BUILD)/foo: $(call objs,$(FOO_SRCS)) $(LIBPW)
#                                    $(LINK)
define LINK
$(call msg,LINK,$@)
$(Q)mkdir -p $(@D)
$(Q)$(CC) $(PW_LDFLAGS) -o $@ $(filter-out $(LIBPW),$(filter %.o %.a,$^)) $(PW_LDLIBS)
endef
