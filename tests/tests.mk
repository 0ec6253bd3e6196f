# SPDX-License-Identifier: GPL-2.0
# tests/: unit tests, benchmarks, integration tests.
#   tests/unit/test_NAME.c -> build/tests/test_NAME  (one Check suite each)
#   tests/unit/*.c not named test_*.c are helpers linked into every test
#   tests/bench/NAME.c     -> build/bench/NAME       (run by 'make bench')
#   tests/integration/*.sh  executable scripts run by tests/run-tests
# Tests and benchmarks link build/liblogd.a, build/libfw.a,
# build/libplumwall.a (in that order: each may use the ones after it), the
# PW_PKGS libraries and the 'check' library.
TEST_SRCS        := $(wildcard tests/unit/test_*.c)
TEST_HELPER_SRCS := $(filter-out $(TEST_SRCS),$(wildcard tests/unit/*.c))
TEST_HELPER_OBJS := $(call objs,$(TEST_HELPER_SRCS))
TEST_BINS        += $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRCS))

BENCH_SRCS := $(wildcard tests/bench/*.c)
BENCH_BINS += $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

ifneq ($(strip $(TEST_SRCS) $(TEST_HELPER_SRCS) $(BENCH_SRCS)),)
$(call objs,$(TEST_SRCS) $(TEST_HELPER_SRCS) $(BENCH_SRCS)): PW_CFLAGS += $(TEST_CFLAGS)
$(TEST_BINS) $(BENCH_BINS): PW_LDLIBS += $(TEST_LIBS)
endif

$(BUILD)/tests/test_%: $(OBJDIR)/tests/unit/test_%.o $(TEST_HELPER_OBJS) $(LIBLOGD) $(LIBFW) $(LIBPW)
	$(LINK)

$(BUILD)/bench/%: $(OBJDIR)/tests/bench/%.o $(LIBLOGD) $(LIBFW) $(LIBPW)
	$(LINK)

# make bench-vs (tests/bench/bench-vs.sh): its generator and floor loader,
# outside build/bench/ so that 'make bench' does not run it on its own.
BENCH_VS_GEN := $(BUILD)/bench-vs/bench_vs_gen
BENCH_BINS   += $(BENCH_VS_GEN)
$(BENCH_VS_GEN): $(OBJDIR)/tests/bench/vs/bench_vs_gen.o $(LIBPW)
	$(LINK)

# tests/tools/optdump.c -> build/tests/optdump.so: preloaded by the manual
# and completion tests to read the programs' getopt_long tables.
OPTDUMP := $(BUILD)/tests/optdump.so
TEST_BINS += $(OPTDUMP)
$(OPTDUMP): tests/tools/optdump.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -Wall -Wextra -Werror $(CFLAGS) -D_GNU_SOURCE -fPIC -shared -o $@ $< -ldl
