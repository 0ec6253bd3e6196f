# SPDX-License-Identifier: GPL-2.0
# bpf/: datapath programs. Every bpf/NAME.bpf.c becomes
#   build/bpf/NAME.bpf.o   (clang -target bpf)
#   build/bpf/NAME.skel.h  (bpftool gen skeleton; skeleton struct is
#                           NAME_bpf, e.g. xdp_pass_bpf__open_and_load())
# BPF sources include "vmlinux.h" (build/vmlinux.h, generated from the
# running kernel's BTF) and <bpf/bpf_helpers.h> etc. from libbpf.
# User space includes a skeleton as: #include "bpf/NAME.skel.h"
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  += $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS += $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRCS))

$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp
	$(Q)mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h
	$(call msg,CLANG,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp
	$(Q)mv $@.tmp $@
