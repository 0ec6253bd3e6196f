# SPDX-License-Identifier: GPL-2.0
# fw/: loader, CLI and daemon.
#   fw/*.c except fw/plumwalld*.c  -> build/plumwall   (CLI)
#   fw/plumwalld*.c                -> build/plumwalld  (daemon)
# Both link build/libplumwall.a; code shared by both belongs in lib/.
PLUMWALL_SRCS  := $(filter-out fw/plumwalld%.c,$(wildcard fw/*.c))
PLUMWALLD_SRCS := $(wildcard fw/plumwalld*.c)

ifneq ($(PLUMWALL_SRCS),)
BINS += $(BUILD)/plumwall
$(BUILD)/plumwall: $(call objs,$(PLUMWALL_SRCS)) $(LIBPW)
	$(LINK)
endif

ifneq ($(PLUMWALLD_SRCS),)
BINS += $(BUILD)/plumwalld
$(BUILD)/plumwalld: $(call objs,$(PLUMWALLD_SRCS)) $(LIBPW)
	$(LINK)
endif
