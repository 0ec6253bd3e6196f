/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events into the pw_events ring buffer (struct pw_event, events.md).
 *
 * Sequence numbers: every CPU is a producer (pw_event.cpu) with its own
 * counter in pw_producer. A number is taken for every event the datapath
 * tries to emit, so a failed ring buffer reservation shows as a gap; the
 * failure is also counted (pw_producer.lost) and reported by a LOST event
 * (count = failures since the last one) as soon as a reservation on that
 * CPU succeeds again.
 *
 * Rate limit: a token bucket per event source (pw_rate_key) with
 * settings.log_rate tokens per second and a burst of log_rate; 0 disables
 * it. A suppressed event only bumps the bucket's counter; the next event of
 * that bucket that gets a token first emits a SUPPRESSED event with the
 * count. Buckets that stay silent keep their count in pw_rate for the
 * daemon to report.
 */
#ifndef PW_EVENTS_H
#define PW_EVENTS_H

#include "pw_common.h"
#include "pw_ctx.h"
#include "pw_maps.h"
#include "pw_parse.h"

#define PW_NSEC_PER_SEC 1000000000ULL

/* What the packet path knows about the packet besides its headers. */
struct pw_env {
	__u64 now; /* datapath clock */
	__u32 slot; /* active slot, read once */
	__u32 generation; /* settings.generation of that slot */
	__u32 log_rate;
	__u16 tenant; /* PW_TENANT_NONE until known */
	__u8 tflags; /* PW_TENANT_* of the tenant */
	__u8 dir; /* enum pw_dir */
};

/* The verdict part of a drop or audit event. */
struct pw_evinfo {
	__u32 rule_id;
	__u32 src_segment;
	__u32 dst_segment;
	__u8 type; /* enum pw_event_type */
	__u8 verdict;
	__u8 reason;
	__u8 pad;
};

/*
 * Token bucket. Returns 1 when the event may go out. *@report is set to
 * the number of events suppressed before it (0 if none). Buckets are
 * updated without locks: concurrent CPUs may let a token more or less
 * through, which a log rate can afford.
 */
static __always_inline int pw_rate_admit(const struct pw_env *env,
					 __u32 rule_id, __u8 reason,
					 __u64 *report)
{
	struct pw_rate_key key = {};
	struct pw_rate_val *v, nv = {};
	__u64 cost, tokens;

	*report = 0;
	if (!env->log_rate)
		return 1;
	cost = PW_NSEC_PER_SEC / env->log_rate;
	key.rule_id = rule_id;
	if (rule_id == PW_RULE_NONE) {
		key.tenant = env->tenant;
		key.reason = reason;
	}
	v = bpf_map_lookup_elem(&pw_rate, &key);
	if (!v) {
		/* A full bucket, minus this event. */
		nv.tokens_ns = PW_NSEC_PER_SEC - cost;
		nv.last_ns = env->now;
		bpf_map_update_elem(&pw_rate, &key, &nv, BPF_NOEXIST);
		return 1;
	}
	tokens = v->tokens_ns;
	/* The clock only moves back when a test lowers clock_offset_ns. */
	if (env->now > v->last_ns)
		tokens += env->now - v->last_ns;
	if (tokens > PW_NSEC_PER_SEC)
		tokens = PW_NSEC_PER_SEC;
	v->last_ns = env->now;
	if (tokens < cost) {
		v->tokens_ns = tokens;
		__sync_fetch_and_add(&v->suppressed, 1);
		return 0;
	}
	v->tokens_ns = tokens - cost;
	if (v->suppressed)
		*report = __sync_lock_test_and_set(&v->suppressed, 0);
	return 1;
}

/*
 * An event's time stamp: the fine clock, not env->now, which the packet
 * path takes from the coarse one (pw_process()): events are rare, and
 * their times are shown to the microsecond. Never before env->now (the
 * coarse clock is the fine one at the last tick).
 */
static __always_inline __u64 pw_event_clock(const struct pw_env *env)
{
	struct pw_dp_config *cfg;
	__u32 zero = 0;
	__u64 t;

	cfg = bpf_map_lookup_elem(&pw_config, &zero);
	if (!cfg)
		return env->now;
	t = bpf_ktime_get_ns() + cfg->clock_offset_ns;
	return t > env->now ? t : env->now;
}

/*
 * One ring-buffer record stamped with the next sequence number of this CPU.
 * A failed reservation still takes a sequence number, so the consumer sees
 * the gap, and is counted as lost and as pending for the next LOST event.
 */
static __always_inline struct pw_event *
pw_ev_reserve_raw(const struct pw_env *env, struct pw_producer *pr, __u16 cpu,
		  __u8 type)
{
	struct pw_event *ev = bpf_ringbuf_reserve(&pw_events, sizeof(*ev), 0);

	if (!ev) {
		pr->seq++;
		pr->lost++;
		pr->lost_pending++;
		return NULL;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->ts_ns = pw_event_clock(env);
	ev->seq = pr->seq++;
	ev->cpu = cpu;
	ev->type = type;
	ev->dir = env->dir;
	return ev;
}

/*
 * Reserve an event of @type with the common header filled in and the rest
 * zeroed, after a LOST event if this CPU has failures to report. NULL when
 * the ring buffer is full (counted).
 */
static __always_inline struct pw_event *pw_ev_reserve(const struct pw_env *env,
						      __u8 type)
{
	struct pw_producer *pr;
	struct pw_event *ev;
	__u32 zero = 0;
	__u16 cpu = (__u16)bpf_get_smp_processor_id();

	pr = bpf_map_lookup_elem(&pw_producer, &zero);
	if (!pr)
		return NULL;
	if (pr->lost_pending) {
		ev = pw_ev_reserve_raw(env, pr, cpu, PW_EVENT_LOST);
		if (!ev)
			return NULL;
		ev->count = (__u32)pr->lost_pending;
		pr->lost_pending = 0;
		bpf_ringbuf_submit(ev, 0);
	}
	ev = pw_ev_reserve_raw(env, pr, cpu, type);
	if (!ev)
		return NULL;
	ev->tenant = env->tenant;
	ev->generation = env->generation;
	return ev;
}

/* SUPPRESSED summary for a bucket. */
static __always_inline void pw_ev_suppressed(const struct pw_env *env,
					     __u32 rule_id, __u8 reason,
					     __u64 count)
{
	struct pw_event *ev;

	ev = pw_ev_reserve(env, PW_EVENT_SUPPRESSED);
	if (!ev)
		return;
	ev->rule_id = rule_id;
	ev->reason = reason;
	ev->count = count > 0xffffffffULL ? 0xffffffffU : (__u32)count;
	bpf_ringbuf_submit(ev, 0);
}

/* Rate limit, then reserve. */
static __always_inline struct pw_event *
pw_ev_admit_reserve(const struct pw_env *env, __u8 type, __u32 rule_id,
		    __u8 reason)
{
	__u64 report;

	if (!pw_rate_admit(env, rule_id, reason, &report))
		return NULL;
	if (report)
		pw_ev_suppressed(env, rule_id, reason, report);
	return pw_ev_reserve(env, type);
}

static __always_inline void pw_ev_fill_pkt(struct pw_event *ev,
					   const struct pw_pkt *p)
{
	ev->family = p->family;
	ev->proto = p->proto;
	ev->tcp_flags = p->tcp_flags;
	ev->icmp_type = p->icmp_type;
	ev->icmp_code = p->icmp_code;
	ev->vlan = p->vlan;
	ev->ifindex = p->ifindex;
	if (p->proto == IPPROTO_TCP_ || p->proto == IPPROTO_UDP_) {
		ev->sport = p->sport;
		ev->dport = p->dport;
	}
	ev->pkt_len = p->len;
	__builtin_memcpy(ev->saddr, p->saddr, 16);
	__builtin_memcpy(ev->daddr, p->daddr, 16);
}

/* First PW_SNAPLEN bytes of the frame, before any rewrite. */
static __always_inline void pw_ev_snap(void *ctx, const int hook,
				       struct pw_event *ev, __u32 len)
{
	__u32 n = len < PW_SNAPLEN ? len : PW_SNAPLEN;

	pw_require_range(n, 1, PW_SNAPLEN, return );
	if (!ctx_load_bytes(ctx, hook, 0, ev->snap, n))
		ev->snap_len = n;
}

/* DROP or AUDIT event for the packet, rate limited. */
static __always_inline void pw_emit_pkt(void *ctx, const int hook,
					const struct pw_env *env,
					const struct pw_pkt *p,
					const struct pw_evinfo *ei)
{
	struct pw_event *ev;

	ev = pw_ev_admit_reserve(env, ei->type, ei->rule_id, ei->reason);
	if (!ev)
		return;
	ev->verdict = ei->verdict;
	ev->reason = ei->reason;
	ev->rule_id = ei->rule_id;
	ev->src_segment = ei->src_segment;
	ev->dst_segment = ei->dst_segment;
	pw_ev_fill_pkt(ev, p);
	pw_ev_snap(ctx, hook, ev, p->len);
	bpf_ringbuf_submit(ev, 0);
}

/*
 * Flow start / end from the conntrack entry: addresses and ports are the
 * initiator's. Flow starts are rate limited (a suppressed start leaves
 * the flow unlogged, so starts and ends stay paired); ends of logged
 * flows are not. @rate_rule: the bucket's rule id, PW_RULE_NONE for the
 * tenant default.
 */
static __always_inline int pw_emit_flow(const struct pw_env *env,
					const struct pw_ct_key *k,
					const struct pw_ct_val *v, __u8 type,
					__u8 end_reason, __u8 verdict,
					__u8 reason, int rate_limited)
{
	struct pw_event *ev;
	int init_a = v->flags & PW_CT_INIT_IS_A;

	if (rate_limited)
		ev = pw_ev_admit_reserve(env, type, v->rule_id,
					 v->rule_id == PW_RULE_NONE ?
						 PW_REASON_DEFAULT :
						 PW_REASON_POLICY);
	else
		ev = pw_ev_reserve(env, type);
	if (!ev)
		return -1;
	ev->verdict = verdict;
	ev->reason = reason;
	ev->family = k->family;
	ev->proto = k->proto;
	ev->tenant = k->tenant;
	ev->vlan = v->vlan;
	ev->ifindex = v->ifindex;
	ev->rule_id = v->rule_id;
	ev->generation = v->generation;
	ev->src_segment = v->src_segment;
	ev->dst_segment = v->dst_segment;
	if (k->proto == IPPROTO_TCP_ || k->proto == IPPROTO_UDP_) {
		ev->sport = init_a ? k->port_a : k->port_b;
		ev->dport = init_a ? k->port_b : k->port_a;
	} else if (pw_is_icmp(k->proto)) {
		ev->icmp_type = k->proto == IPPROTO_ICMP_ ?
					ICMP_ECHO_ :
					ICMPV6_ECHO_REQUEST_;
	}
	if (init_a) {
		__builtin_memcpy(ev->saddr, k->addr_a, 16);
		__builtin_memcpy(ev->daddr, k->addr_b, 16);
	} else {
		__builtin_memcpy(ev->saddr, k->addr_b, 16);
		__builtin_memcpy(ev->daddr, k->addr_a, 16);
	}
	ev->start_ns = v->created_ns;
	ev->packets[0] = v->packets[0];
	ev->packets[1] = v->packets[1];
	ev->bytes[0] = v->bytes[0];
	ev->bytes[1] = v->bytes[1];
	ev->end_reason = end_reason;
	bpf_ringbuf_submit(ev, 0);
	return 0;
}

#endif /* PW_EVENTS_H */
