# SPDX-License-Identifier: GPL-2.0
# logging/: logging service. Built only once logging/main.c exists:
#   logging/*.c -> build/plumwall-logd (links build/libplumwall.a)
ifneq ($(wildcard logging/main.c),)
LOGD_SRCS := $(wildcard logging/*.c)
BINS += $(BUILD)/plumwall-logd
$(BUILD)/plumwall-logd: $(call objs,$(LOGD_SRCS)) $(LIBPW)
	$(LINK)
endif
