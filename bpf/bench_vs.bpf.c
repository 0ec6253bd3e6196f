// SPDX-License-Identifier: GPL-2.0
/*
 * bench_vs - the traffic generator and the floors of `make bench-vs`
 * (tests/bench/bench-vs.sh). Not part of plumwall's datapath: nothing in
 * plumwall loads it.
 *
 * pw_bench_gen runs under BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES on the generator's veth end and returns
 * XDP_TX: the kernel sends every frame out of that veth to the firewall
 * on its peer. In live-frames mode the kernel does not restore the frame
 * between runs (a recycled page keeps whatever the last run left), so the
 * program writes the whole frame every time: the template user space put
 * in pw_bench_frame, with the UDP source port of flow (run % flows). The
 * IPv4 checksum does not cover the ports and the UDP checksum is 0 (none,
 * valid for IPv4), so the template's checksum holds for every flow.
 *
 * pw_bench_drop and pw_bench_pass are the floors (a bare XDP program on
 * the firewall's veth, no filtering at all); pw_bench_sink drops what
 * reaches the sink and counts it.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Ethernet + IPv4 + UDP + 22 bytes of payload: the 64-byte minimum
 * Ethernet frame without its FCS. */
#define PW_BENCH_FRAME 64
#define PW_BENCH_SPORT_OFF (14 + 20)

const volatile __u32 pw_bench_flows = 1;
const volatile __u16 pw_bench_sport = 10000;
/* u64 words: the copy below is eight aligned 8-byte loads and stores */
const volatile __u64 pw_bench_frame[PW_BENCH_FRAME / 8];

__u64 pw_bench_runs;
__u64 pw_bench_sunk;

SEC("xdp")
int pw_bench_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 *w = data;
	__u16 *sport;
	__u32 flow;
	int i;

	if (data + PW_BENCH_FRAME > end)
		return XDP_ABORTED;
		/* eight 8-byte stores: unrolled, no loop for the verifier */
#pragma unroll
	for (i = 0; i < PW_BENCH_FRAME / 8; i++)
		w[i] = pw_bench_frame[i];
	flow = (__u32)(pw_bench_runs++ % pw_bench_flows);
	sport = data + PW_BENCH_SPORT_OFF;
	*sport = bpf_htons((__u16)(pw_bench_sport + flow));
	return XDP_TX;
}

SEC("xdp")
int pw_bench_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

SEC("xdp")
int pw_bench_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

SEC("xdp")
int pw_bench_sink(struct xdp_md *ctx)
{
	(void)ctx;
	__sync_fetch_and_add(&pw_bench_sunk, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
