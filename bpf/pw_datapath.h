/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The packet path, policy.md section 7, shared by every program through
 * the ctx shim (pw_ctx.h):
 *
 *   parse -> settings of the active slot -> non-IP -> tenant -> malformed
 *   -> unmatched -> fragments -> conntrack -> judge -> act
 *
 * pw_config.active_slot is read once per packet; everything after uses
 * that slot's inner maps, so a policy flip is atomic per packet.
 */
#ifndef PW_DATAPATH_H
#define PW_DATAPATH_H

#include "pw_common.h"
#include "pw_ctx.h"
#include "pw_ct.h"
#include "pw_events.h"
#include "pw_maps.h"
#include "pw_parse.h"
#include "pw_policy.h"
#include "pw_reject.h"

/*
 * Global functions, one per context type: the verifier checks each once
 * on its own (arguments: the ctx and scalar-only structs), and the packet
 * path sees only their result. Without them the parser's and the judge's
 * branches multiply and the programs approach the 1M-instruction limit.
 */
#define PW_HOOK_FUNCS(sfx, ctx_t, hook)                                        \
	__pw_noinline int pw_parse_##sfx(ctx_t *ctx, struct pw_pkt *p)         \
	{                                                                      \
		if (!p)                                                        \
			return PW_PARSE_MALFORMED;                             \
		return pw_parse(ctx, hook, p);                                 \
	}                                                                      \
	__pw_noinline int pw_emit_pkt_##sfx(ctx_t *ctx,                        \
					    const struct pw_env *env,          \
					    const struct pw_pkt *p,            \
					    const struct pw_evinfo *ei)        \
	{                                                                      \
		if (!env || !p || !ei)                                         \
			return 0;                                              \
		pw_emit_pkt(ctx, hook, env, p, ei);                            \
		return 0;                                                      \
	}                                                                      \
	__pw_noinline int pw_reject_##sfx(ctx_t *ctx, const struct pw_pkt *p)  \
	{                                                                      \
		if (!p)                                                        \
			return -1;                                             \
		return pw_reject(ctx, hook, p);                                \
	}                                                                      \
	__pw_noinline int pw_related_##sfx(ctx_t *ctx, const struct pw_pkt *p, \
					   __u32 tenant, struct pw_ct_key *k)  \
	{                                                                      \
		if (!p || !k)                                                  \
			return -1;                                             \
		return pw_related_key(ctx, hook, p, tenant, k);                \
	}

PW_HOOK_FUNCS(xdp, struct xdp_md, PW_HOOK_XDP)
PW_HOOK_FUNCS(tc, struct __sk_buff, PW_HOOK_TC_INGRESS)

/*
 * plumwall trace: what each packet got, for the private datapath of
 * `plumwall trace` only (fw/trace.c sets pw_trace_on before loading).
 * Live datapaths leave it 0: the verifier knows the rodata value and drops
 * every pw_trace() call below as dead code (the flag's load and branch
 * stay: a few instructions). The record is a global, not a map,
 * so nothing is pinned and user space reads it through the skeleton's
 * mmap without a syscall. Segments are looked up here, for every outcome
 * alike (also for tracked flows, which skip the lookups otherwise).
 */
const volatile __u8 pw_trace_on = 0;
struct pw_trace pw_trace_rec = {};

__pw_noinline int pw_trace_note(const struct pw_pkt *p, __u32 slot,
				__u32 tenant, __u32 rule_id, __u32 vr)
{
	struct pw_trace *t = &pw_trace_rec;
	__u32 cls;
	void *m;

	if (!p)
		return 0;
	t->rule_id = rule_id;
	t->tenant = (__u16)tenant;
	t->verdict = vr & 0xff;
	t->reason = (vr >> 8) & 0xff;
	t->src_segment = PW_SEGMENT_NONE;
	t->dst_segment = PW_SEGMENT_NONE;
	/* a malformed frame's addresses are not to be trusted */
	if (tenant != PW_TENANT_NONE && t->reason != PW_REASON_MALFORMED) {
		m = pw_slot_map(&pw_addr, slot);
		pw_lookup_addr(m, tenant, p->family, p->saddr, &cls,
			       &t->src_segment);
		pw_lookup_addr(m, tenant, p->family, p->daddr, &cls,
			       &t->dst_segment);
	}
	t->seq++;
	return 0;
}

static __always_inline void pw_trace(const struct pw_pkt *p, __u32 slot,
				     __u32 tenant, __u32 rule_id, __u8 verdict,
				     __u8 reason)
{
	if (pw_trace_on)
		pw_trace_note(p, slot, tenant, rule_id,
			      verdict | (__u32)reason << 8);
}

static __always_inline int pw_parse_any(void *ctx, const int hook,
					struct pw_pkt *p)
{
	if (PW_IS_XDP(hook))
		return pw_parse_xdp(ctx, p);
	return pw_parse_tc(ctx, p);
}

static __always_inline void pw_emit_any(void *ctx, const int hook,
					const struct pw_env *env,
					const struct pw_pkt *p,
					const struct pw_evinfo *ei)
{
	if (PW_IS_XDP(hook))
		pw_emit_pkt_xdp(ctx, env, p, ei);
	else
		pw_emit_pkt_tc(ctx, env, p, ei);
}

static __always_inline int pw_related_any(void *ctx, const int hook,
					  const struct pw_pkt *p, __u16 tenant,
					  struct pw_ct_key *k)
{
	if (PW_IS_XDP(hook))
		return pw_related_xdp(ctx, p, tenant, k);
	return pw_related_tc(ctx, p, tenant, k);
}

static __always_inline int pw_reject_any(void *ctx, const int hook,
					 const struct pw_pkt *p)
{
	if (PW_IS_XDP(hook))
		return pw_reject_xdp(ctx, p);
	return pw_reject_tc(ctx, p);
}

static __always_inline int pw_drop_logged(void *ctx, const int hook,
					  const struct pw_env *env,
					  const struct pw_pkt *p, __u8 reason)
{
	struct pw_evinfo ei = {
		.rule_id = PW_RULE_NONE,
		.src_segment = PW_SEGMENT_NONE,
		.dst_segment = PW_SEGMENT_NONE,
		.type = PW_EVENT_DROP,
		.verdict = PW_VERDICT_DENY,
		.reason = reason,
	};

	/* The tenant the event names: none for unmatched frames; for a
	 * malformed one the tenant of the wire it came from (pw_parse()),
	 * without segments (pw_trace_note()). */
	pw_trace(p, env->slot, env->tenant, PW_RULE_NONE, PW_VERDICT_DENY,
		 reason);
	pw_emit_any(ctx, hook, env, p, &ei);
	pw_count_drop(reason, p->len);
	return ctx_drop(hook);
}

/* pw_frag: first fragments leave their layer 4 fields for the later ones,
 * which take them as their own. Returns -1 when a later fragment has no
 * (live) first fragment. */
static __always_inline int pw_frag_track(const struct pw_env *env,
					 struct pw_pkt *p)
{
	struct pw_frag_key fk = {};
	struct pw_frag_val *fv, nv = {};
	int icmp = pw_is_icmp(p->proto);

	fk.tenant = env->tenant;
	fk.family = p->family;
	fk.proto = p->proto;
	fk.id = p->frag_id;
	__builtin_memcpy(fk.saddr, p->saddr, 16);
	__builtin_memcpy(fk.daddr, p->daddr, 16);

	if (p->frag == PW_FRAG_FIRST) {
		nv.sport = icmp ? p->echo_id : p->sport;
		nv.dport = icmp ? p->echo_id : p->dport;
		nv.icmp_type = p->icmp_type;
		nv.icmp_code = p->icmp_code;
		nv.created_ns = env->now;
		bpf_map_update_elem(&pw_frag, &fk, &nv, BPF_ANY);
		return 0;
	}
	fv = bpf_map_lookup_elem(&pw_frag, &fk);
	if (!fv)
		return -1;
	if (env->now > fv->created_ns &&
	    env->now - fv->created_ns > PW_FRAG_TIMEOUT_NS)
		return -1;
	if (icmp) {
		p->echo_id = fv->sport;
		p->icmp_type = fv->icmp_type;
		p->icmp_code = fv->icmp_code;
	} else if (p->proto == IPPROTO_TCP_ || p->proto == IPPROTO_UDP_) {
		p->sport = fv->sport;
		p->dport = fv->dport;
	}
	return 0;
}

static __always_inline __u8 pw_flow_reason(const struct pw_ct_val *v)
{
	return v->rule_id == PW_RULE_NONE ? PW_REASON_DEFAULT :
					    PW_REASON_POLICY;
}

/*
 * A packet of a tracked flow. Returns the program's return code, or -1
 * when the entry is gone (expired, or a closed TCP flow reopened by a
 * SYN) and the packet is to be judged as the first of a new flow.
 */
static __always_inline int
pw_ct_hit(void *ctx, const int hook, const struct pw_env *env,
	  const struct pw_settings *st, const struct pw_tenant_val *tv,
	  const struct pw_pkt *p, const struct pw_ct_key *ck,
	  struct pw_ct_val *ct, int src_is_a)
{
	struct pw_judgement j = {};
	struct pw_tuple t = {};
	int dir = (!!(ct->flags & PW_CT_INIT_IS_A)) == src_is_a ? 0 : 1;
	__u8 end, verdict = PW_VERDICT_ALLOW;

	if (pw_ct_expired(st, ck, ct, env->now)) {
		if ((ct->flags & PW_CT_LOG) && ct->state != PW_CT_TCP_CLOSED)
			pw_emit_flow(env, ck, ct, PW_EVENT_FLOW_END,
				     PW_END_TIMEOUT, PW_VERDICT_ALLOW,
				     pw_flow_reason(ct), 0);
		bpf_map_delete_elem(&pw_ct, ck);
		return -1;
	}
	if (p->proto == IPPROTO_TCP_ && ct->state == PW_CT_TCP_CLOSED &&
	    (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		bpf_map_delete_elem(&pw_ct, ck);
		return -1;
	}

	if (ct->generation != env->generation) {
		/* Allowed under an older policy: judge the flow again, as
		 * its initiator sent it, under the current one. */
		pw_ct_orig_tuple(ck, ct, &t);
		pw_judge(env->slot, env->tenant, pw_tinfo(tv), &t, &j);
		pw_count_rule(env->slot, st, j.rule_id, p->len, env->now);
		if (j.action == PW_ACTION_ALLOW) {
			ct->flags &= ~PW_CT_AUDIT;
		} else if (tv->flags & PW_TENANT_AUDIT) {
			if (!(ct->flags & PW_CT_AUDIT)) {
				/* The event shows this packet: a reply's
				 * source is the flow's destination. */
				struct pw_evinfo ei = {
					.rule_id = j.rule_id,
					.src_segment = dir ? j.dst_segment :
							     j.src_segment,
					.dst_segment = dir ? j.src_segment :
							     j.dst_segment,
					.type = PW_EVENT_AUDIT,
					.verdict = PW_VERDICT_AUDIT,
					.reason = j.reason,
				};

				ct->flags |= PW_CT_AUDIT;
				verdict = PW_VERDICT_AUDIT;
				pw_emit_any(ctx, hook, env, p, &ei);
			}
		} else {
			/* Revoked: always reported (policy.md 7.2), whether
			 * or not the flow was logged; but a closed flow
			 * lingering for its last ACKs has had its end
			 * already, and a flow ends once. */
			ct->generation = env->generation;
			ct->rule_id = j.rule_id;
			if (ct->state != PW_CT_TCP_CLOSED)
				pw_emit_flow(env, ck, ct, PW_EVENT_FLOW_END,
					     PW_END_POLICY_REVOKED,
					     PW_VERDICT_DENY,
					     PW_REASON_POLICY_REVOKED, 0);
			bpf_map_delete_elem(&pw_ct, ck);
			pw_count_drop(PW_REASON_POLICY_REVOKED, p->len);
			pw_trace(p, env->slot, env->tenant, j.rule_id,
				 PW_VERDICT_DENY, PW_REASON_POLICY_REVOKED);
			return ctx_drop(hook);
		}
		ct->generation = env->generation;
		ct->rule_id = j.rule_id;
	}

	pw_trace(p, env->slot, env->tenant, ct->rule_id, verdict,
		 dir ? PW_REASON_REPLY : PW_REASON_ESTABLISHED);
	end = pw_ct_update(ct, dir, src_is_a, p, env->now);
	if (end != PW_END_NONE && (ct->flags & PW_CT_LOG))
		pw_emit_flow(env, ck, ct, PW_EVENT_FLOW_END, end,
			     PW_VERDICT_ALLOW, pw_flow_reason(ct), 0);
	return ctx_pass(hook);
}

/*
 * Whether an allowed (or audited) packet of an unknown flow starts a
 * tracked flow. TCP: any segment but a RST. A SYN starts in state SYN; any
 * other segment is picked up mid-stream as ESTABLISHED, as stateless-
 * tolerant firewalls (Linux conntrack with tcp_loose) do, so that flows
 * survive a conntrack flush or daemon restart as long as the policy still
 * allows them; the policy was just checked for this very packet, so the
 * pick-up grants nothing the policy does not. ICMP: echo requests only.
 * Later fragments never create flows.
 */
static __always_inline int pw_flow_creates(const struct pw_pkt *p)
{
	if (p->frag == PW_FRAG_LATER)
		return 0;
	if (p->proto == IPPROTO_TCP_)
		return !(p->tcp_flags & TCP_RST);
	if (pw_is_icmp(p->proto))
		return pw_is_echo_request(p->proto, p->icmp_type);
	return 1;
}

/* First packet of a (possibly) new flow: judge it and act. */
static __always_inline int
pw_new_flow(void *ctx, const int hook, const struct pw_env *env,
	    const struct pw_settings *st, const struct pw_tenant_val *tv,
	    const struct pw_pkt *p, const struct pw_ct_key *ck, int trackable,
	    int src_is_a)
{
	struct pw_judgement j = {};
	struct pw_tuple t = {};
	struct pw_evinfo ei = {};
	struct pw_scratch *s;
	struct pw_ct_val *v;
	__u32 zero = 0;
	int audit = 0, tenant_audit = tv->flags & PW_TENANT_AUDIT;

	t.family = p->family;
	t.proto = p->proto;
	t.point = pw_pkt_point(p->proto, p->dport, p->icmp_type);
	__builtin_memcpy(t.saddr, p->saddr, 16);
	__builtin_memcpy(t.daddr, p->daddr, 16);
	pw_judge_cached(env->slot, st->fill_id, env->tenant, pw_tinfo(tv), &t,
			&j);
	pw_count_rule(env->slot, st, j.rule_id, p->len, env->now);
	if (j.rule_id == PW_RULE_NONE && pw_is_link_control(p)) {
		/*
		 * Neighbour or multicast listener discovery that no rule
		 * names: settings.non_ip, not the tenant default. It is
		 * IPv6's ARP, and a default-deny tenant must not lose
		 * address resolution or multicast (ND's solicited-node
		 * groups among it) over it. Like ARP, unlogged and outside
		 * audit mode (README: where the specification is silent).
		 */
		j.action = st->non_ip;
		j.reason = PW_REASON_NON_IP;
		j.log = 0;
		tenant_audit = 0;
	}

	pw_trace(p, env->slot, env->tenant, j.rule_id,
		 j.action == PW_ACTION_ALLOW ? PW_VERDICT_ALLOW :
		 tenant_audit		     ? PW_VERDICT_AUDIT :
					       j.action,
		 j.reason);

	ei.rule_id = j.rule_id;
	ei.src_segment = j.src_segment;
	ei.dst_segment = j.dst_segment;
	ei.reason = j.reason;

	if (j.action != PW_ACTION_ALLOW) {
		if (!tenant_audit) {
			if (j.log) {
				ei.type = PW_EVENT_DROP;
				ei.verdict = j.action;
				pw_emit_any(ctx, hook, env, p, &ei);
			}
			pw_count_drop(j.reason, p->len);
			pw_count_tenant(env->slot, st, tv, j.reason, p->len);
			if (j.action == PW_ACTION_REJECT &&
			    !pw_reject_any(ctx, hook, p))
				return ctx_bounce(ctx, hook);
			return ctx_drop(hook);
		}
		audit = 1;
		ei.type = PW_EVENT_AUDIT;
		ei.verdict = PW_VERDICT_AUDIT;
	}

	if (!trackable || !pw_flow_creates(p)) {
		/* Judged packet by packet: an audit event each time. */
		if (audit)
			pw_emit_any(ctx, hook, env, p, &ei);
		return ctx_pass(hook);
	}

	s = bpf_map_lookup_elem(&pw_scratch, &zero);
	if (!s) /* never: a one-entry array */
		return ctx_pass(hook);
	v = &s->ct_new;
	__builtin_memset(v, 0, sizeof(*v));
	v->created_ns = env->now;
	v->last_seen_ns = env->now;
	v->packets[0] = 1;
	v->bytes[0] = p->len;
	v->generation = env->generation;
	v->rule_id = j.rule_id;
	v->ifindex = p->ifindex;
	v->vlan = p->vlan;
	v->src_segment = j.src_segment;
	v->dst_segment = j.dst_segment;
	if (p->proto == IPPROTO_TCP_)
		v->state = (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN ?
				   PW_CT_TCP_SYN :
				   PW_CT_ESTABLISHED;
	else
		v->state = PW_CT_NEW;
	if (src_is_a)
		v->flags |= PW_CT_INIT_IS_A;
	if (audit) {
		v->flags |= PW_CT_AUDIT;
		pw_emit_any(ctx, hook, env, p, &ei);
	}
	if ((!audit && j.log) || (tv->flags & PW_TENANT_FLOW_LOGS)) {
		if (!pw_emit_flow(env, ck, v, PW_EVENT_FLOW_START, PW_END_NONE,
				  audit ? PW_VERDICT_AUDIT : PW_VERDICT_ALLOW,
				  j.reason, 1))
			v->flags |= PW_CT_LOG;
	}
	/* Stamped first: pw_ct_find() must never skip a flow that is in
	 * pw_ct. Another CPU may have created it meanwhile: keep theirs. */
	pw_cts_mark(ck);
	bpf_map_update_elem(&pw_ct, ck, v, BPF_NOEXIST);
	return ctx_pass(hook);
}

static __always_inline int pw_process(void *ctx, const int hook)
{
	struct pw_pkt p = {};
	struct pw_env env = {};
	struct pw_ct_key ck = {};
	struct pw_dp_config *cfg;
	struct pw_settings *st = NULL;
	struct pw_tenant_val *tv;
	struct pw_ct_val *ct;
	__u32 zero = 0;
	int pr, r, rel, trackable, src_is_a = 0;
	void *m;

	if (ctx_is_our_answer(ctx, hook))
		return ctx_pass(hook);
	env.dir = hook == PW_HOOK_TC_EGRESS ? PW_DIR_EGRESS : PW_DIR_INGRESS;
	pr = pw_parse_any(ctx, hook, &p);

	cfg = bpf_map_lookup_elem(&pw_config, &zero);
	if (!cfg)
		return ctx_drop(hook);
	/* The coarse clock (CLOCK_MONOTONIC at the last tick): reading the
	 * fine one cost about 25 ns of a 100 ns established packet, and
	 * what env.now is for (timeouts of seconds, rate buckets, rule hit
	 * times) does not need better than a tick. Events stamp the fine
	 * clock (pw_event_clock()). */
	env.now = bpf_ktime_get_coarse_ns() + cfg->clock_offset_ns;
	env.slot = *(volatile __u32 *)&cfg->active_slot & 1;
	m = pw_slot_map(&pw_settings, env.slot);
	if (m)
		st = bpf_map_lookup_elem(m, &zero);
	if (!st) {
		/* No policy in the active slot: fail closed. */
		pw_count_drop(PW_REASON_UNMATCHED, p.len);
		return ctx_drop(hook);
	}
	env.generation = st->generation;
	env.log_rate = st->log_rate;

	if (pr == PW_PARSE_NON_IP) {
		pw_trace(&p, env.slot, PW_TENANT_NONE, PW_RULE_NONE, st->non_ip,
			 PW_REASON_NON_IP);
		if (st->non_ip == PW_ACTION_ALLOW)
			return ctx_pass(hook);
		pw_count_drop(PW_REASON_NON_IP, p.len);
		/* Dropped frames only: passing ARP costs no lookup. */
		pw_count_tenant(env.slot, st,
				pw_lookup_tenant_val(env.slot,
						     pw_lookup_tenant(env.slot,
								      p.ifindex,
								      p.vlan)),
				PW_REASON_NON_IP, p.len);
		return ctx_drop(hook);
	}

	env.tenant = pw_lookup_tenant(env.slot, p.ifindex, p.vlan);
	tv = pw_lookup_tenant_val(env.slot, env.tenant);
	if (tv)
		env.tflags = tv->flags;
	else
		env.tenant = PW_TENANT_NONE;

	if (pr != PW_PARSE_IP)
		return pw_drop_logged(ctx, hook, &env, &p, PW_REASON_MALFORMED);
	if (!tv) {
		if (st->unmatched == PW_ACTION_ALLOW) {
			pw_trace(&p, env.slot, PW_TENANT_NONE, PW_RULE_NONE,
				 PW_VERDICT_ALLOW, PW_REASON_UNMATCHED);
			return ctx_pass(hook);
		}
		return pw_drop_logged(ctx, hook, &env, &p, PW_REASON_UNMATCHED);
	}
	if (p.frag != PW_FRAG_NONE && pw_frag_track(&env, &p))
		return pw_drop_logged(ctx, hook, &env, &p, PW_REASON_FRAGMENT);

	trackable = pw_flow_trackable(&p);
	if (!trackable && pw_icmp_error(&p) &&
	    (rel = pw_related_any(ctx, hook, &p, env.tenant, &ck)) >= 0) {
		/* An ICMP error about a packet of a flow we track (e.g.
		 * fragmentation needed / packet too big for path MTU
		 * discovery) belongs to that flow, like a reply. Only a
		 * live flow of the current policy counts; anything else is
		 * judged by the rules like any ICMP. The key is built in
		 * ck, which ICMP errors do not use otherwise. */
		ct = bpf_map_lookup_elem(&pw_ct, &ck);
		if (ct && ct->generation == env.generation &&
		    ct->state != PW_CT_TCP_CLOSED &&
		    !pw_ct_expired(st, &ck, ct, env.now)) {
			/* the error travels against the packet it quotes */
			pw_trace(&p, env.slot, env.tenant, ct->rule_id,
				 PW_VERDICT_ALLOW,
				 rel == !!(ct->flags & PW_CT_INIT_IS_A) ?
					 PW_REASON_REPLY :
					 PW_REASON_ESTABLISHED);
			return ctx_pass(hook);
		}
		__builtin_memset(&ck, 0, sizeof(ck));
	}
	if (trackable) {
		src_is_a = pw_ct_key_make(&ck, env.tenant, &p);
		ct = pw_ct_find(&ck);
		if (ct) {
			r = pw_ct_hit(ctx, hook, &env, st, tv, &p, &ck, ct,
				      src_is_a);
			if (r >= 0)
				return r;
		}
	}
	return pw_new_flow(ctx, hook, &env, st, tv, &p, &ck, trackable,
			   src_is_a);
}

#endif /* PW_DATAPATH_H */
