# SPDX-License-Identifier: GPL-2.0
# man/: manual pages, written in scdoc(5).
#   man/NAME.SECTION.scd -> build/man/NAME.SECTION   (built by 'all')
# @VERSION@ in a source becomes plumwall's version (fw/fw.h). scdoc takes
# the page's date from SOURCE_DATE_EPOCH when it is set (as in a package
# build), else today.
SCDOC      ?= scdoc
MAN_SRCS   := $(wildcard man/*.scd)
MAN_PAGES  := $(patsubst man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))
PW_VERSION := $(shell sed -n 's/^\#define PLUMWALL_VERSION "\(.*\)"$$/\1/p' fw/fw.h)

$(BUILD)/man/%: man/%.scd fw/fw.h
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)command -v $(SCDOC) >/dev/null 2>&1 || \
		{ echo "$(SCDOC) not found: run 'make deps'" >&2; exit 1; }
	$(Q)sed 's/@VERSION@/$(PW_VERSION)/g' $< | $(SCDOC) >$@.tmp && mv $@.tmp $@ || \
		{ rm -f $@.tmp; exit 1; }
