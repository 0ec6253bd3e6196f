/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Policy lookups in the active slot (decision structure: top of shared.h;
 * the same steps as policy_compiled_decide() in policy/compile.h).
 */
#ifndef PW_POLICY_H
#define PW_POLICY_H

#include "pw_common.h"
#include "pw_maps.h"
#include "pw_parse.h"

/* Result of judging a packet (or a flow's original direction). */
struct pw_judgement {
	__u32 rule_id; /* PW_RULE_NONE: the tenant default */
	__u32 src_segment;
	__u32 dst_segment;
	__u8 action; /* enum pw_action */
	__u8 reason; /* PW_REASON_POLICY or PW_REASON_DEFAULT */
	__u8 log; /* rule log, or default with log_default */
	__u8 pad;
};

/* What is judged: a packet, or a tracked flow seen from its initiator. */
struct pw_tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 family;
	__u8 proto;
	__u16 point; /* pw_pkt_point() */
} __attribute__((aligned(4))); /* PW_ADDR_ALIGNED() */

static __always_inline void *pw_slot_map(void *outer, __u32 slot)
{
	return bpf_map_lookup_elem(outer, &slot);
}

/* pw_iface: (ifindex, VLAN) -> tenant, PW_TENANT_NONE when none. */
static __always_inline __u16 pw_lookup_tenant(__u32 slot, __u32 ifindex,
					      __u16 vlan)
{
	struct pw_iface_key key = { .ifindex = ifindex, .vlan = vlan };
	struct pw_ifindex_val *x;
	struct pw_iface_val *v;
	void *m;

	/* The array first (shared.h, pw_ifindex): it decides untagged frames
	 * and the tagged frames of interfaces without VLAN bindings. */
	m = pw_slot_map(&pw_ifindex, slot);
	if (!m)
		return PW_TENANT_NONE;
	x = bpf_map_lookup_elem(m, &ifindex);
	if (x) {
		if (!vlan)
			return x->tenant;
		if (!x->vlans)
			return PW_TENANT_NONE;
	}
	m = pw_slot_map(&pw_iface, slot);
	if (!m)
		return PW_TENANT_NONE;
	v = bpf_map_lookup_elem(m, &key);
	return v ? v->tenant : PW_TENANT_NONE;
}

static __always_inline struct pw_tenant_val *pw_lookup_tenant_val(__u32 slot,
								  __u16 tenant)
{
	struct pw_tenant_val *tv;
	__u32 id = tenant;
	void *m;

	if (tenant == PW_TENANT_NONE)
		return NULL;
	m = pw_slot_map(&pw_tenant, slot);
	if (!m)
		return NULL;
	tv = bpf_map_lookup_elem(m, &id);
	if (!tv || !tv->present)
		return NULL;
	return tv;
}

static __always_inline void pw_lookup_addr(void *m, __u32 tenant, __u8 family,
					   const __u8 *addr, __u32 *class_id,
					   __u32 *segment)
{
	struct pw_addr_key key = {};
	struct pw_addr_val *v = NULL;

	addr = PW_ADDR_ALIGNED(addr);
	key.tenant_be[0] = tenant >> 8;
	key.tenant_be[1] = tenant & 0xff;
	key.family = family;
	if (family == PW_FAMILY_IPV4) {
		key.prefixlen = 32 + 32;
		__builtin_memcpy(key.addr, addr, 4);
	} else {
		key.prefixlen = 32 + 128;
		__builtin_memcpy(key.addr, addr, 16);
	}
	if (m)
		v = bpf_map_lookup_elem(m, &key);
	if (v) {
		*class_id = v->class_id;
		*segment = v->segment_id;
	} else {
		*class_id = family == PW_FAMILY_IPV4 ? PW_CLASS_DEFAULT_V4 :
						       PW_CLASS_DEFAULT_V6;
		*segment = PW_SEGMENT_NONE;
	}
}

static __always_inline __u32 pw_lookup_svc(__u32 slot, __u32 tenant, __u8 proto,
					   __u16 point)
{
	struct pw_svc_key key = {};
	struct pw_svc_val *v;
	void *m;

	m = pw_slot_map(&pw_svc, slot);
	if (!m)
		return 0;
	key.prefixlen = 24 + 16;
	key.tenant_be[0] = tenant >> 8;
	key.tenant_be[1] = tenant & 0xff;
	key.proto = proto;
	key.point_be[0] = point >> 8;
	key.point_be[1] = point & 0xff;
	v = bpf_map_lookup_elem(m, &key);
	return v ? v->svc_class : 0;
}

/* The tenant fields pw_judge() needs, packed into one scalar argument. */
static __always_inline __u64 pw_tinfo(const struct pw_tenant_val *tv)
{
	return tv->default_action | (__u32)tv->flags << 8 |
	       (__u32)tv->tuples << 16 | (__u64)tv->ext_tuples << 32;
}

/* An address of class @cls is external (shared.h, PW_CLASS_EXTERNAL). */
static __always_inline int pw_class_external(__u32 cls)
{
	return cls == PW_CLASS_DEFAULT_V4 || cls == PW_CLASS_DEFAULT_V6 ||
	       (cls & PW_CLASS_EXTERNAL);
}

/*
 * First-match over the tenant's rules in a constant number of lookups:
 * the up to eight decision keys, and in a PW_TENANT_EXT tenant up to ten
 * more with PW_CLASS_EXT for an external address, smallest rule id wins;
 * none: default. A missing inner map (never after a complete fill) fails
 * closed: deny, and returns 1 (an answer not to be cached).
 *
 * A global function: the verifier checks it once, not once for every
 * state the packet path reaches it in (the hit/miss branches would
 * otherwise multiply with everything before them).
 */
__pw_noinline int pw_judge(__u32 slot, __u32 tenant, __u64 tinfo,
			   const struct pw_tuple *t, struct pw_judgement *j)
{
	struct pw_decision_key dk = { .tenant = (__u16)tenant };
	struct pw_decision_val *dv;
	struct pw_rule_val *rv;
	__u32 src_class, dst_class, svc_class, best = PW_RULE_NONE;
	__u8 tflags = tinfo >> 8, tuples = tinfo >> 16;
	__u32 ext_tuples = (tinfo >> 32) & 0xffff;
	int src_ext, dst_ext;
	void *addr_map, *dec, *rules;
	int i;

	if (!t || !j)
		return -1;
	addr_map = pw_slot_map(&pw_addr, slot);
	pw_lookup_addr(addr_map, tenant, t->family, t->saddr, &src_class,
		       &j->src_segment);
	pw_lookup_addr(addr_map, tenant, t->family, t->daddr, &dst_class,
		       &j->dst_segment);
	svc_class = pw_lookup_svc(slot, tenant, t->proto, t->point);

	dec = pw_slot_map(&pw_decision, slot);
	if (!dec)
		goto fail;
#pragma unroll
	for (i = 0; i < 8; i++) {
		if ((tflags & PW_TENANT_TUPLES) && !(tuples & (1U << i)))
			continue;
		dk.src_class = (i & 1) ? PW_CLASS_ANY : src_class;
		dk.dst_class = (i & 2) ? PW_CLASS_ANY : dst_class;
		dk.svc_class = (i & 4) ? PW_CLASS_ANY : svc_class;
		dv = bpf_map_lookup_elem(dec, &dk);
		if (dv && dv->rule_id < best)
			best = dv->rule_id;
	}
	if (!(tflags & PW_TENANT_EXT))
		ext_tuples = 0;
	src_ext = pw_class_external(src_class);
	dst_ext = pw_class_external(dst_class);
	/* PW_EXT_TUPLE_BIT() order: i % 5 is the (src, dst) pair, i >= 5
	 * has svc = ANY; constants once unrolled. */
#pragma unroll
	for (i = 0; i < PW_EXT_TUPLES; i++) {
		if (!(ext_tuples & (1U << i)))
			continue;
		if (i % 5 <= 2) {
			if (!src_ext || (i % 5 == 2 && !dst_ext))
				continue;
			dk.src_class = PW_CLASS_EXT;
			dk.dst_class = i % 5 == 0 ? dst_class :
				       i % 5 == 1 ? PW_CLASS_ANY :
						    PW_CLASS_EXT;
		} else {
			if (!dst_ext)
				continue;
			dk.src_class = i % 5 == 3 ? src_class : PW_CLASS_ANY;
			dk.dst_class = PW_CLASS_EXT;
		}
		dk.svc_class = i >= 5 ? PW_CLASS_ANY : svc_class;
		dv = bpf_map_lookup_elem(dec, &dk);
		if (dv && dv->rule_id < best)
			best = dv->rule_id;
	}

	if (best == PW_RULE_NONE) {
		j->rule_id = PW_RULE_NONE;
		j->action = tinfo & 0xff;
		j->reason = PW_REASON_DEFAULT;
		j->log = !!(tflags & PW_TENANT_LOG_DEFAULT);
		return 0;
	}
	rules = pw_slot_map(&pw_rule, slot);
	if (!rules)
		goto fail;
	rv = bpf_map_lookup_elem(rules, &best);
	if (!rv)
		goto fail;
	j->rule_id = best;
	j->action = rv->action;
	j->reason = PW_REASON_POLICY;
	j->log = !!(rv->flags & PW_RULE_LOG);
	return 0;
fail:
	j->rule_id = PW_RULE_NONE;
	j->action = PW_ACTION_DENY;
	j->reason = PW_REASON_DEFAULT;
	j->log = 1;
	return 1;
}

/*
 * pw_jcache index of a tuple: each word times its own odd constant, the
 * products summed, and the top bits of the sum times another constant
 * (multiplicative hashing: the top bits of a product depend on every bit
 * below them). The ten products do not wait for each other; the
 * multiply-xor chain this replaces did, ten multiplies in a row, and was
 * a tenth of a denied packet's cost (perf on the hot deny path). Source
 * and destination words have different constants, so a tuple and its
 * reverse do not collide by construction.
 */
static __always_inline __u32 pw_jc_index(__u32 fill_id, __u32 tenant,
					 const struct pw_tuple *t)
{
	const __u32 *a = (const __u32 *)t->saddr, *b = (const __u32 *)t->daddr;
	__u32 h;

	h = fill_id * 0x9e3779b1U +
	    (tenant | (__u32)t->point << 16) * 0x85ebca6bU +
	    ((__u32)t->family | (__u32)t->proto << 8) * 0xc2b2ae35U +
	    a[0] * 0x27d4eb2fU + a[1] * 0x165667b1U + a[2] * 0xd3a2646dU +
	    a[3] * 0xfd7046c5U + b[0] * 0xb55a4f09U + b[1] * 0x61c88647U +
	    b[2] * 0x7feb352dU + b[3] * 0x846ca68bU;
	_Static_assert(PW_JCACHE_SLOTS == 256, "pw_jc_index takes 8 bits");
	return (h * 0x2545f491U) >> 24;
}

/*
 * The judgement cache (shared.h, pw_jcache), called before and after
 * pw_judge() rather than from it: the packet path's frame plus
 * pw_judge()'s is near the 512 bytes Linux 6.1 allows.
 *
 * The lookup, which every packet of a denied flood makes, is inlined: as
 * a global function its call cost about 10 of a deny's 90 ns (program
 * only, bench-vs BENCH_AB). It compares with one branch: with one per
 * field, Linux 6.1's verifier could not merge the states that follow a
 * hit and a miss and gave up on the XDP program after 1,000,001
 * instructions (6.18: 37k either way). The store, on misses only, stays a
 * global function.
 *
 * pw_jc_lookup(): 1 and @j filled when fill @fill_id judged @t of
 * @tenant before on this CPU and the entry is still there; 0 otherwise
 * (also without a fill id, 0: no caching).
 */
static __always_inline int pw_jc_lookup(__u32 fill_id, __u32 tenant,
					const struct pw_tuple *t,
					struct pw_judgement *j)
{
	const __u32 *a, *b, *x, *y;
	struct pw_jc_entry *e;
	__u32 idx, miss;

	idx = pw_jc_index(fill_id, tenant, t);
	e = bpf_map_lookup_elem(&pw_jcache, &idx);
	if (!e)
		return 0;
	a = (const __u32 *)t->saddr;
	b = (const __u32 *)t->daddr;
	x = (const __u32 *)e->saddr;
	y = (const __u32 *)e->daddr;
	/* one branch: every one more splits the verifier's states */
	miss = (e->fill_id ^ fill_id) | (e->tenant ^ (__u16)tenant) |
	       (e->family ^ t->family) | (e->proto ^ t->proto) |
	       (e->point ^ t->point) | (a[0] ^ x[0]) | (a[1] ^ x[1]) |
	       (a[2] ^ x[2]) | (a[3] ^ x[3]) | (b[0] ^ y[0]) | (b[1] ^ y[1]) |
	       (b[2] ^ y[2]) | (b[3] ^ y[3]) | (fill_id == 0);
	if (miss)
		return 0;
	j->rule_id = e->rule_id;
	j->src_segment = e->src_segment;
	j->dst_segment = e->dst_segment;
	j->action = e->action;
	j->reason = e->reason;
	j->log = e->log;
	return 1;
}

/* After a miss of pw_jc_lookup() (with a fill id) and pw_judge(): keep
 * @j for @t in the entry of its index. */
__pw_noinline int pw_jc_store(__u32 fill_id, __u32 tenant,
			      const struct pw_tuple *t,
			      const struct pw_judgement *j)
{
	struct pw_jc_entry *e;
	__u32 idx;

	if (!t || !j)
		return 0;
	idx = pw_jc_index(fill_id, tenant, t);
	e = bpf_map_lookup_elem(&pw_jcache, &idx);
	if (!e)
		return 0;
	e->fill_id = fill_id;
	e->tenant = (__u16)tenant;
	e->family = t->family;
	e->proto = t->proto;
	e->point = t->point;
	e->action = j->action;
	e->reason = j->reason;
	e->log = j->log;
	e->rule_id = j->rule_id;
	e->src_segment = j->src_segment;
	e->dst_segment = j->dst_segment;
	__builtin_memcpy(e->saddr, t->saddr, 16);
	__builtin_memcpy(e->daddr, t->daddr, 16);
	return 0;
}

/* Judge @t: from the cache, else from the slot's maps. */
static __always_inline void pw_judge_cached(__u32 slot, __u32 fill_id,
					    __u32 tenant, __u64 tinfo,
					    const struct pw_tuple *t,
					    struct pw_judgement *j)
{
	if (pw_jc_lookup(fill_id, tenant, t, j))
		return;
	if (!pw_judge(slot, tenant, tinfo, t, j) && fill_id)
		pw_jc_store(fill_id, tenant, t, j);
}

/*
 * This CPU's counter @idx in a map of per-CPU stripes of @stride counters
 * (shared.h, pw_rule_stats), or NULL. An array of the slot: the lookup is
 * a call that adds an offset, where the per-CPU hash it replaced hashed
 * and walked a bucket (about 30 ns of a 90 ns deny).
 */
static __always_inline void *pw_stripe_counter(void *m, __u32 stride, __u32 idx)
{
	__u32 key;

	if (!m || idx >= stride)
		return NULL;
	key = bpf_get_smp_processor_id() * stride + idx;
	return bpf_map_lookup_elem(m, &key);
}

/*
 * Per-rule per-CPU counter of the packets a rule decided, with the times
 * of the first and the last (@now, the datapath clock): `plumwall stats
 * --unused --since` needs to know when a rule last mattered, and only
 * the datapath sees it. Per CPU, so plain stores; user space takes the
 * earliest first and the latest last over the CPUs.
 */
static __always_inline void pw_count_rule(__u32 slot,
					  const struct pw_settings *st,
					  __u32 rule_id, __u32 len, __u64 now)
{
	struct pw_rule_counter *c;

	if (rule_id == PW_RULE_NONE)
		return;
	c = pw_stripe_counter(pw_slot_map(&pw_rule_stats, slot),
			      st->rule_stats_stride, rule_id);
	if (!c)
		return;
	c->packets++;
	c->bytes += len;
	if (!c->first_ns)
		c->first_ns = now;
	c->last_ns = now;
}

/* A drop of the packet of tenant @tv (NULL: none) by its default
 * (@reason PW_REASON_DEFAULT) or by settings.non_ip (PW_REASON_NON_IP);
 * other reasons are not counted per tenant. */
static __always_inline void pw_count_tenant(__u32 slot,
					    const struct pw_settings *st,
					    const struct pw_tenant_val *tv,
					    __u8 reason, __u32 len)
{
	struct pw_tenant_counter *tc;
	struct pw_counter *c;

	if (!tv || (reason != PW_REASON_DEFAULT && reason != PW_REASON_NON_IP))
		return;
	tc = pw_stripe_counter(pw_slot_map(&pw_tenant_stats, slot),
			       st->tenant_stats_stride, tv->stats_index);
	if (!tc)
		return;
	c = reason == PW_REASON_DEFAULT ? &tc->default_drops :
					  &tc->non_ip_drops;
	c->packets++;
	c->bytes += len;
}

static __always_inline void pw_count_drop(__u8 reason, __u32 len)
{
	struct pw_counter *c;
	__u32 key = reason;

	c = bpf_map_lookup_elem(&pw_drop_stats, &key);
	if (!c)
		return;
	c->packets++;
	c->bytes += len;
}

#endif /* PW_POLICY_H */
