/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reference evaluator: policy.md section 7 evaluated directly from the
 * validated model, rule by rule, selector by selector, prefix by prefix.
 *
 * It shares nothing with the analysis or the compiler (no classes, no
 * service sets, no maps), so it can judge them: the tests hold the
 * compiled maps (compile.h, policy_compiled_decide()) equal to it on
 * random policies and packets. It is also the engine behind
 * `plumwall trace --engine model`.
 *
 * Two parts:
 * - policy_eval_packet(): stateless, "the first packet of a new flow"
 *   (steps 1 and 3, plus the non-IP / malformed / fragment cases);
 * - struct policy_ct_model: the connection-tracking model of steps 2, 4
 *   and 5 on top of it, with a caller-supplied clock.
 *
 * Order of the checks (the datapath follows the same order):
 *   1. malformed frame                 -> deny, reason MALFORMED, logged
 *   2. non-IP frame                    -> settings.non_ip, reason NON_IP
 *   3. no tenant owns (ifname, VLAN)   -> settings.unmatched, UNMATCHED
 *   4. later fragment, first not seen  -> deny, reason FRAGMENT, logged
 *   5. (model) tracked flow            -> allow, ESTABLISHED or REPLY, or
 *      revalidation (POLICY_REVOKED)
 *   6. global rules, then the tenant's; first match decides (POLICY);
 *      none: the tenant's default (DEFAULT), except for IPv6 neighbour
 *      and multicast listener discovery
 *      (policy_packet_is_link_control()): settings.non_ip (NON_IP),
 *      unlogged, never audited
 *   7. audit mode: deny/reject become verdict AUDIT (passes, logged)
 * Logged (res.log): malformed, fragment and unmatched drops, audit
 * verdicts, rules with log, defaults with log_default; never non_ip.
 */
#ifndef PLUMWALL_POLICY_EVAL_H
#define PLUMWALL_POLICY_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include <plumwall/shared.h>

#include "packet.h"
#include "policy.h"

struct policy_eval_result {
	enum pw_verdict verdict;
	enum pw_reason reason;
	enum pw_action action; /* what decided, before audit mode */
	/* Rule that decided (POLICY), revoked the flow (POLICY_REVOKED) or
	 * allowed the tracked flow (ESTABLISHED, REPLY); NULL otherwise. */
	const struct policy_rule *rule;
	uint32_t rule_id; /* rule->id or PW_RULE_NONE */
	/* NULL: none (or not looked up: non-IP). A malformed frame's is the
	 * tenant owning (interface, VLAN of its outer 802.1Q tag, or
	 * untagged), as the datapath reports it; it has no segments. */
	const struct policy_tenant *tenant;
	/* Display segments (policy.md section 4); NULL: external */
	const struct policy_segment *src_segment;
	const struct policy_segment *dst_segment;
	bool log; /* an event for this packet (drop, audit, rule log) */

	/* Connection tracking (policy_ct_model_packet() only) */
	bool tracked; /* the packet belongs to a tracked flow (after it) */
	bool flow_new; /* ... which this packet started */
	bool flow_logged; /* the flow emits flow start/end events */
	bool flow_audit; /* the flow passes only because of audit mode */
	enum pw_ct_state ct_state; /* the flow's state after this packet */
	enum pw_end_reason flow_end; /* this packet ended its flow: why */
	/* The tracked flow was judged again under a new policy (and rule_id
	 * is what judged it now): the datapath counts that as a rule hit. */
	bool revalidated;
	/* An ICMP error about a tracked flow, passed as part of it (reason
	 * REPLY or ESTABLISHED by the direction, rule_id the flow's); the
	 * flow itself is untouched. */
	bool related;
};

/* The tenant owning (@ifname, @vlan), NULL when none. */
const struct policy_tenant *
policy_eval_tenant(const struct policy *pol, const char *ifname, uint16_t vlan);

/* Most specific segment of @addr among the global and @tenant's segments
 * (longest prefix, ties by definition order); NULL: external. */
const struct policy_segment *
policy_eval_segment(const struct policy *pol,
		    const struct policy_tenant *tenant, uint8_t family,
		    const uint8_t addr[16]);

/* Whether @rule (global or @tenant's) matches @pkt: from, to, proto and
 * ports / ICMP types. @pkt must carry its layer 4 fields. */
bool policy_eval_rule_matches(const struct policy *pol,
			      const struct policy_tenant *tenant,
			      const struct policy_rule *rule,
			      const struct policy_packet *pkt);

/*
 * Judge @pkt as the first packet of a new flow (checks 1-4, 6, 7 above).
 * A later fragment is judged by its layer 4 fields when the caller filled
 * them in (pkt->l4), and dropped with reason FRAGMENT otherwise: without
 * state, its first fragment counts as not seen.
 */
void policy_eval_packet(const struct policy *pol,
			const struct policy_packet *pkt,
			struct policy_eval_result *res);

/* ---- connection tracking model ----------------------------------------- */

/*
 * Flows are keyed like pw_ct (shared.h): tenant and the normalised 5-tuple,
 * the endpoint (address, port) that compares lower being "a". Ports are
 * the TCP/UDP ports, the identifier on both sides for ICMP echo, zero for
 * other protocols (tracked by address pair). ICMP other than echo is never
 * tracked: each such packet is judged by the rules (and, audited, logged),
 * except an ICMP error (policy_packet_is_icmp_error()) quoting a packet of
 * a live flow of the current generation, the quoted packet's source being
 * the error's destination: that passes as part of the flow (res.related,
 * reason REPLY / ESTABLISHED by direction) without touching it.
 * The datapath (bpf/pw_ct.h, bpf/pw_datapath.h) follows the same rules.
 *
 * A flow starts when a packet judged as new is allowed (or audited): any
 * TCP segment but a RST (a SYN without ACK starts in TCP_SYN, anything
 * else is picked up mid-stream as ESTABLISHED), any UDP or other packet,
 * an ICMP echo request; never a later fragment. Then:
 * - packets from the initiator pass as ESTABLISHED, the others as REPLY;
 *   a SYN+ACK reply moves a TCP flow from TCP_SYN to ESTABLISHED, any
 *   reply moves a UDP/ICMP/other flow from NEW to ESTABLISHED;
 * - TCP: a FIN moves the flow to TCP_CLOSING; FIN from both sides, or a
 *   RST, ends it (end reason FIN / RST; the packet itself passes) and
 *   leaves it in TCP_CLOSED for tcp_closing seconds so that the last ACKs
 *   and retransmissions pass; a SYN (without ACK) in TCP_CLOSED starts a
 *   new flow;
 * - a flow has ended (TIMEOUT) when strictly more than its timeout passed
 *   since its last packet: tcp_syn in TCP_SYN, tcp_established in
 *   ESTABLISHED, tcp_closing in TCP_CLOSING / TCP_CLOSED, udp, icmp (ICMP
 *   and ICMPv6 echo), other. The packet that finds it so is judged as new;
 * - a flow allowed under an older generation is judged again, in its
 *   original direction, on its next packet: still allowed, it passes and
 *   takes the current generation; audited, it passes (verdict AUDIT, one
 *   audit event, the first time only); denied or rejected, the packet is
 *   dropped (verdict DENY, reason POLICY_REVOKED) and the flow ends
 *   (POLICY_REVOKED, always reported).
 * Audited flows are tracked like allowed ones (PW_CT_AUDIT): only their
 * first packet is logged. Flow start/end events (PW_CT_LOG) are due when
 * the tenant has flow_logs, or the rule (default: log_default) that
 * allowed the flow logs, audit excepted. When max_entries flows are
 * tracked, the least recently seen is evicted silently, like the
 * datapath's LRU map.
 *
 * Fragments: a first fragment's layer 4 fields are remembered by (tenant,
 * family, proto, id, addresses) for POLICY_CT_FRAG_TIMEOUT_NS; a later
 * fragment takes them and is then handled like its first fragment (it
 * belongs to the same flow, or is judged by the same rules). Without them
 * it is dropped (reason FRAGMENT). Later fragments carry no TCP flags.
 */
#define POLICY_CT_FRAG_TIMEOUT_NS (30ULL * 1000000000ULL)

struct policy_ct_model;

/* A flow as the datapath would hold it; val.ifindex is 0 (names only). */
struct policy_ct_flow {
	struct pw_ct_key key;
	struct pw_ct_val val;
	char ifname[POLICY_IFNAME_MAX + 1]; /* ingress of the first packet */
};

/* Called for every flow that ends (FIN, RST, TIMEOUT, POLICY_REVOKED),
 * whether or not it is logged (val.flags & PW_CT_LOG says so). */
typedef void (*policy_ct_end_fn)(const struct policy_ct_flow *flow,
				 enum pw_end_reason why, void *ctx);

/* A model judging by @pol (kept by pointer: it must outlive its use) as
 * policy generation @generation. Returns 0 or -ENOMEM. */
int policy_ct_model_new(const struct policy *pol, uint32_t generation,
			struct policy_ct_model **out);
void policy_ct_model_free(struct policy_ct_model *m);

void policy_ct_model_on_end(struct policy_ct_model *m, policy_ct_end_fn fn,
			    void *ctx);

/* Replace the policy (section 7.2): flows stay, and are judged again on
 * their next packet. @generation must differ from the current one. The
 * previous policy is no longer used. Returns 0 or -EINVAL. */
int policy_ct_model_set_policy(struct policy_ct_model *m,
			       const struct policy *pol, uint32_t generation);

/* Judge @pkt arriving at @now_ns (any monotonic clock; must not go
 * backwards). Returns 0 or -ENOMEM (then @res says deny). */
int policy_ct_model_packet(struct policy_ct_model *m,
			   const struct policy_packet *pkt, uint64_t now_ns,
			   struct policy_eval_result *res);

/* End every flow whose timeout has passed at @now_ns (as the datapath's
 * garbage collection would). Returns how many ended. */
uint32_t policy_ct_model_expire(struct policy_ct_model *m, uint64_t now_ns);

/* The flow of @key, without touching it. Returns 0 or -ENOENT. */
int policy_ct_model_lookup_key(const struct policy_ct_model *m,
			       const struct pw_ct_key *key,
			       struct policy_ct_flow *flow);

/* Call @fn for every tracked flow (any order) with the timeout its state
 * has now; a nonzero return stops the walk and is returned. */
typedef int (*policy_ct_flow_fn)(const struct policy_ct_flow *flow,
				 uint64_t timeout_ns, void *ctx);
int policy_ct_model_foreach(const struct policy_ct_model *m,
			    policy_ct_flow_fn fn, void *ctx);

/* Tracked flows (including TCP_CLOSED ones still lingering). */
uint32_t policy_ct_model_count(const struct policy_ct_model *m);

/* The flow @pkt belongs to, without touching it. Returns 0 or -ENOENT. */
int policy_ct_model_lookup(const struct policy_ct_model *m,
			   const struct policy_packet *pkt,
			   struct policy_ct_flow *flow);

const char *policy_reason_name(enum pw_reason reason);
const char *policy_verdict_name(enum pw_verdict verdict);

#endif /* PLUMWALL_POLICY_EVAL_H */
