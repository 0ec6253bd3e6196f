# SPDX-License-Identifier: GPL-2.0
# logging/: logging service.
#   every logging/*.c but main.c -> build/liblogd.a (formatters, pcap
#                                   writer, ...; unit tests link it)
#   logging/main.c               -> build/plumwall-logd, built only once
#                                   it exists
# All link build/libplumwall.a; plumwall-logd also build/libfw.a (pin
# and state paths, fw/runtime.h).
LIBLOGD_SRCS := $(filter-out logging/main.c,$(wildcard logging/*.c))
LIBLOGD      := $(BUILD)/liblogd.a

$(LIBLOGD): $(call objs,$(LIBLOGD_SRCS))
	$(Q)mkdir -p $(dir $@)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

ifneq ($(wildcard logging/main.c),)
BINS += $(BUILD)/plumwall-logd
$(BUILD)/plumwall-logd: $(call objs,logging/main.c) $(LIBLOGD) $(LIBFW) $(LIBPW)
	$(LINK)
endif

# Built by 'all' too, so that its compile errors show before main.c exists.
all: $(LIBLOGD)
