# SPDX-License-Identifier: GPL-2.0
# fw/: loader, CLI and daemon.
#   fw/main.c                      -> build/plumwall   (CLI entry point)
#   fw/plumwalld*.c                -> build/plumwalld  (daemon)
#   every other fw/*.c             -> build/libfw.a    (commands, output
#                                     layer, loader; unit tests link it)
# All link build/libplumwall.a; code shared beyond fw/ belongs in lib/.
PLUMWALL_SRCS  := $(wildcard fw/main.c)
PLUMWALLD_SRCS := $(wildcard fw/plumwalld*.c)
LIBFW_SRCS     := $(filter-out fw/main.c fw/plumwalld%.c,$(wildcard fw/*.c))
LIBFW          := $(BUILD)/libfw.a

$(LIBFW): $(call objs,$(LIBFW_SRCS))
	$(Q)mkdir -p $(dir $@)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

ifneq ($(PLUMWALL_SRCS),)
BINS += $(BUILD)/plumwall
$(BUILD)/plumwall: $(call objs,$(PLUMWALL_SRCS)) $(LIBFW) $(LIBPW)
	$(LINK)
endif

ifneq ($(PLUMWALLD_SRCS),)
BINS += $(BUILD)/plumwalld
# sd_notify (Type=notify): only the daemon links libsystemd.
$(call objs,$(PLUMWALLD_SRCS)): PW_CFLAGS += $(shell $(PKG_CONFIG) --cflags libsystemd 2>/dev/null)
$(BUILD)/plumwalld: PW_LDLIBS += $(shell $(PKG_CONFIG) --libs libsystemd 2>/dev/null)
$(BUILD)/plumwalld: $(call objs,$(PLUMWALLD_SRCS)) $(LIBFW) $(LIBPW)
	$(LINK)
endif
