# SPDX-License-Identifier: GPL-2.0
# fw/: loader, CLI and daemon.
#   fw/*.c except fw/plumwalld*.c  -> build/plumwall   (CLI)
#   fw/plumwalld*.c                -> build/plumwalld  (daemon)
#   fw/datapath*.c                 -> build/libplumwall.a (loader library
#                                     fw_dp_*, used by both and the tests)
# Both link build/libplumwall.a; code shared by both belongs in lib/.
FW_LIB_SRCS    := $(wildcard fw/datapath*.c)
LIB_SRCS       += $(FW_LIB_SRCS)
PLUMWALL_SRCS  := $(filter-out fw/plumwalld%.c $(FW_LIB_SRCS),$(wildcard fw/*.c))
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
