# SPDX-License-Identifier: GPL-2.0
# tests/fuzz/: libFuzzer harnesses (make fuzz).
#   tests/fuzz/fuzz_NAME.c      -> build/fuzz/fuzz_NAME (one harness each)
#   tests/fuzz/corpus/NAME/     its seed corpus
#   tests/fuzz/*.dict           dictionaries (tests/fuzz/run-fuzz says
#                               which harness takes which)
#   other tests/fuzz/*.c        helpers linked into every harness
# The harnesses link their own build of the library code, compiled by
# clang with coverage instrumentation for libFuzzer and with ASan and
# UBSan (every UBSan finding aborts), in build/fuzz/obj; nothing of the
# normal build is reused but the BPF skeletons. tests/unit/gen.c (packets
# picked around a policy's prefixes and ports) comes along.
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_OBJDIR := $(FUZZ_DIR)/obj
FUZZ_CC     ?= $(CLANG)
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  = -std=gnu11 -Wall -Wextra -Werror -O1 -g \
	       -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN) \
	       $(PW_CPPFLAGS) $(PKG_CFLAGS) -MMD -MP
FUZZ_SECONDS ?= 60

FUZZ_SRCS        := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_HELPER_SRCS := $(filter-out $(FUZZ_SRCS),$(wildcard tests/fuzz/*.c))
FUZZ_BINS        := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRCS))
FUZZ_LIB_SRCS    := $(LIB_SRCS) $(LIBFW_SRCS) $(LIBLOGD_SRCS) tests/unit/gen.c

fuzz_objs = $(patsubst %.c,$(FUZZ_OBJDIR)/%.o,$(1))

$(FUZZ_OBJDIR)/%.o: %.c | $(BPF_SKELS)
	$(call msg,CC-FUZZ,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

# One archive of everything: the linker takes what a harness needs.
$(FUZZ_DIR)/libfuzz.a: $(call fuzz_objs,$(FUZZ_LIB_SRCS) $(FUZZ_HELPER_SRCS))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_OBJDIR)/tests/fuzz/fuzz_%.o $(FUZZ_DIR)/libfuzz.a
	$(call msg,LINK,$@)
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(PKG_LIBS) -lpthread

-include $(wildcard $(FUZZ_OBJDIR)/*/*.d $(FUZZ_OBJDIR)/*/*/*.d)

.PHONY: fuzz fuzz-bins
fuzz-bins: $(FUZZ_BINS)
	@:

# make fuzz FUZZ_SECONDS=N: deps, the harnesses, then each for N seconds
# (tests/fuzz/run-fuzz); fails on a crash, leak, timeout or out of memory.
fuzz: deps
	$(Q)$(MAKE) $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$$(nproc 2>/dev/null || echo 2)) \
		fuzz-bins
	$(Q)bash tests/fuzz/run-fuzz $(FUZZ_DIR) $(FUZZ_SECONDS)
