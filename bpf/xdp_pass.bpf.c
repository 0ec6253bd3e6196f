// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_pass - minimal XDP program that passes every packet.
 *
 * Baseline for benchmarks (cost of an attached no-op XDP program) and a
 * smoke test of the clang -> bpftool gen skeleton pipeline. Also a tc
 * program for the tests: qinq_push gives every frame the tags a QinQ
 * stack of VLAN devices would (802.1Q 100 in the frame, 802.1ad 200 in
 * the skb's metadata), where the kernel has no VLAN devices.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("tc")
int qinq_push(struct __sk_buff *skb)
{
	/* the second push moves the first tag into the frame */
	bpf_skb_vlan_push(skb, bpf_htons(0x8100), 100);
	bpf_skb_vlan_push(skb, bpf_htons(0x88a8), 200);
	return 0; /* TC_ACT_OK */
}

char LICENSE[] SEC("license") = "GPL";
