/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pw_sweep: end the flows that expired without a packet to notice it
 * (pw_ct.h, "Timeouts"), for plumwalld. See struct pw_sweep_args in
 * shared.h.
 *
 * Why a program and not user space walking pw_ct: the flow end event must
 * come from the datapath's producers (per-CPU sequence numbers, LOST
 * accounting) into the same ring buffer, and the expiry must be judged
 * with the datapath's clock and the active slot's timeouts; and one
 * bpf_for_each_map_elem() walk is one syscall instead of two per entry.
 * A packet racing with the sweep on another CPU may refresh an entry the
 * callback is about to delete: the flow is then picked up again as new
 * (TCP mid-stream pick-up), which is what a timeout at that instant means.
 */
#ifndef PW_SWEEP_H
#define PW_SWEEP_H

#include "pw_datapath.h"

struct pw_sweep_ctx {
	struct pw_env env;
	const struct pw_settings *st;
	/* Counts here, copied to the ctx at the end: the callback sees this
	 * struct on the caller's stack, a plain pointer the verifier tracks
	 * easily, where a ctx pointer passed through it would not be. */
	__u32 flags;
	__u64 scanned;
	__u64 ended;
	__u64 removed;
};

static long pw_sweep_one(void *map, struct pw_ct_key *k, struct pw_ct_val *v,
			 struct pw_sweep_ctx *c)
{
	__u8 end = PW_END_TIMEOUT;

	c->scanned++;
	if (c->flags & PW_SWEEP_SHUTDOWN) {
		end = PW_END_SHUTDOWN;
	} else if (!pw_ct_expired(c->st, k, v, c->env.now)) {
		/* kept: its stamp moves to the new epoch (shared.h, pw_cts) */
		if (c->flags & PW_SWEEP_RESTAMP)
			pw_cts_mark(k);
		return 0;
	}
	/* A closed TCP flow had its end when it closed. */
	if ((v->flags & PW_CT_LOG) && v->state != PW_CT_TCP_CLOSED &&
	    !pw_emit_flow(&c->env, k, v, PW_EVENT_FLOW_END, end,
			  PW_VERDICT_ALLOW, pw_flow_reason(v), 0))
		c->ended++;
	if (!bpf_map_delete_elem(map, k))
		c->removed++;
	return 0;
}

static __always_inline int pw_sweep(struct pw_sweep_args *args)
{
	struct pw_sweep_ctx c = {};
	struct pw_dp_config *cfg;
	__u32 zero = 0;
	void *m;

	c.flags = args->flags;
	cfg = bpf_map_lookup_elem(&pw_config, &zero);
	if (!cfg)
		return -1;
	c.env.now = bpf_ktime_get_ns() + cfg->clock_offset_ns;
	c.env.slot = *(volatile __u32 *)&cfg->active_slot & 1;
	m = pw_slot_map(&pw_settings, c.env.slot);
	if (m)
		c.st = bpf_map_lookup_elem(m, &zero);
	if (!c.st)
		return -1; /* no policy: nothing to time out against */
	c.env.generation = c.st->generation;
	c.env.log_rate = c.st->log_rate;
	c.env.tenant = PW_TENANT_NONE;
	bpf_for_each_map_elem(&pw_ct, pw_sweep_one, &c, 0);
	args->scanned = c.scanned;
	args->ended = c.ended;
	args->removed = c.removed;
	return 0;
}

#endif /* PW_SWEEP_H */
