// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_pass - minimal XDP program that passes every packet.
 *
 * Baseline for benchmarks (cost of an attached no-op XDP program) and a
 * smoke test of the clang -> bpftool gen skeleton pipeline.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
