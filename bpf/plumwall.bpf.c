// SPDX-License-Identifier: GPL-2.0
/*
 * plumwall datapath programs: one packet path (pw_datapath.h) compiled
 * into an XDP ingress program and TC ingress and egress programs, the TC
 * program that sends the XDP program's reject answers, and the conntrack
 * sweep of plumwalld.
 */
#include "pw_datapath.h"
#include "pw_sweep.h"

SEC("xdp")
int pw_xdp_ingress(struct xdp_md *ctx)
{
	return pw_process(ctx, PW_HOOK_XDP);
}

SEC("tc")
int pw_tc_ingress(struct __sk_buff *skb)
{
	return pw_process(skb, PW_HOOK_TC_INGRESS);
}

SEC("tc")
int pw_tc_egress(struct __sk_buff *skb)
{
	return pw_process(skb, PW_HOOK_TC_EGRESS);
}

/* Next to every XDP program: sends out the reject answers it passes up
 * (pw_ctx.h ctx_bounce()); nothing else. */
SEC("tc")
int pw_tc_answer(struct __sk_buff *skb)
{
	return pw_answer_out(skb);
}

/* plumwalld's conntrack sweep, run with BPF_PROG_TEST_RUN (pw_sweep.h). */
SEC("syscall")
int pw_sweep_flows(struct pw_sweep_args *args)
{
	return pw_sweep(args);
}

char LICENSE[] SEC("license") = "GPL";
