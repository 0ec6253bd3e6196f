// SPDX-License-Identifier: GPL-2.0
/*
 * Reference evaluator and connection-tracking model (eval.h).
 *
 * Written for obviousness, not speed: every packet walks the rules and
 * every selector walks its prefixes. Nothing here may use analyze.h or
 * compile.h, or the differential tests would compare the compiler with
 * itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

#define NS_PER_SEC 1000000000ULL

/* The model and the datapath must agree on these. */
_Static_assert(POLICY_CT_FRAG_TIMEOUT_NS == PW_FRAG_TIMEOUT_NS,
	       "fragment timeout as the datapath's");
_Static_assert(POLICY_PKT_MAX_EXT_HDRS == PW_MAX_EXT_HDRS,
	       "IPv6 extension header limit as the datapath's");

/* ---- stateless ---------------------------------------------------------- */

const char *policy_reason_name(enum pw_reason reason)
{
	static const char *const names[PW_REASON_COUNT] = {
		[PW_REASON_POLICY] = "policy",
		[PW_REASON_DEFAULT] = "default",
		[PW_REASON_UNMATCHED] = "unmatched",
		[PW_REASON_MALFORMED] = "malformed",
		[PW_REASON_FRAGMENT] = "fragment",
		[PW_REASON_POLICY_REVOKED] = "policy-revoked",
		[PW_REASON_NON_IP] = "non-ip",
		[PW_REASON_ESTABLISHED] = "established",
		[PW_REASON_REPLY] = "reply",
	};

	if ((unsigned int)reason >= PW_REASON_COUNT)
		return "?";
	return names[reason];
}

const char *policy_verdict_name(enum pw_verdict verdict)
{
	static const char *const names[PW_VERDICT_COUNT] = {
		[PW_VERDICT_ALLOW] = "allow",
		[PW_VERDICT_DENY] = "deny",
		[PW_VERDICT_REJECT] = "reject",
		[PW_VERDICT_AUDIT] = "audit",
	};

	if ((unsigned int)verdict >= PW_VERDICT_COUNT)
		return "?";
	return names[verdict];
}

static enum pw_action to_action(enum policy_action a)
{
	switch (a) {
	case POLICY_ACTION_ALLOW:
		return PW_ACTION_ALLOW;
	case POLICY_ACTION_REJECT:
		return PW_ACTION_REJECT;
	default:
		return PW_ACTION_DENY;
	}
}

const struct policy_tenant *
policy_eval_tenant(const struct policy *pol, const char *ifname, uint16_t vlan)
{
	uint32_t t, i, v;

	for (t = 0; t < pol->n_tenants; t++) {
		const struct policy_tenant *ten = &pol->tenants[t];

		for (i = 0; i < ten->n_interfaces; i++) {
			if (strcmp(ten->interfaces[i].name, ifname))
				continue;
			/* Without vlans a tenant owns the untagged frames */
			if (!ten->n_vlans && vlan == 0)
				return ten;
			for (v = 0; v < ten->n_vlans; v++)
				if (ten->vlans[v].id == vlan)
					return ten;
		}
	}
	return NULL;
}

static bool prefix_has(const struct pw_prefix *p, uint8_t family,
		       const uint8_t addr[16])
{
	struct pw_prefix host = { .family = family };

	host.len = (uint8_t)pw_family_bits(family);
	memcpy(host.addr, addr, family == PW_AF_INET ? 4 : 16);
	return pw_prefix_contains(p, &host);
}

static bool segment_has(const struct policy_segment *seg, uint8_t family,
			const uint8_t addr[16])
{
	uint32_t i;

	for (i = 0; i < seg->n_prefixes; i++)
		if (prefix_has(&seg->prefixes[i], family, addr))
			return true;
	return false;
}

/* In one of the tenant's own segments (policy.md: `external` is the
 * opposite; global segments do not count). */
static bool own_segment_has(const struct policy_tenant *ten, uint8_t family,
			    const uint8_t addr[16])
{
	uint32_t i;

	for (i = 0; i < ten->n_segments; i++)
		if (segment_has(&ten->segments[i], family, addr))
			return true;
	return false;
}

/* Longest prefix of @seg holding @addr, -1 when none. */
static int segment_match_len(const struct policy_segment *seg, uint8_t family,
			     const uint8_t addr[16])
{
	int best = -1;
	uint32_t i;

	for (i = 0; i < seg->n_prefixes; i++)
		if (prefix_has(&seg->prefixes[i], family, addr) &&
		    seg->prefixes[i].len > best)
			best = seg->prefixes[i].len;
	return best;
}

static void consider_segment(const struct policy_segment *seg, uint8_t family,
			     const uint8_t addr[16],
			     const struct policy_segment **best, int *best_len)
{
	int len = segment_match_len(seg, family, addr);

	if (len < 0)
		return;
	if (len > *best_len ||
	    (len == *best_len && seg->order < (*best)->order)) {
		*best = seg;
		*best_len = len;
	}
}

const struct policy_segment *
policy_eval_segment(const struct policy *pol,
		    const struct policy_tenant *tenant, uint8_t family,
		    const uint8_t addr[16])
{
	const struct policy_segment *best = NULL;
	int best_len = -1;
	uint32_t i;

	for (i = 0; i < pol->n_segments; i++)
		consider_segment(&pol->segments[i], family, addr, &best,
				 &best_len);
	for (i = 0; tenant && i < tenant->n_segments; i++)
		consider_segment(&tenant->segments[i], family, addr, &best,
				 &best_len);
	return best;
}

static bool selector_matches(const struct policy_tenant *ten,
			     const struct policy_selector *sel, uint8_t family,
			     const uint8_t addr[16])
{
	switch (sel->kind) {
	case POLICY_SEL_SEGMENT:
		return segment_has(sel->segment, family, addr);
	case POLICY_SEL_PREFIX:
		return prefix_has(&sel->prefix, family, addr);
	case POLICY_SEL_ANY:
		return true;
	case POLICY_SEL_EXTERNAL:
		return !own_segment_has(ten, family, addr);
	}
	return false;
}

static bool selectors_match(const struct policy_tenant *ten,
			    const struct policy_selector *sels, uint32_t n,
			    uint8_t family, const uint8_t addr[16])
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (selector_matches(ten, &sels[i], family, addr))
			return true;
	return false;
}

static bool service_matches(const struct policy_rule *r,
			    const struct policy_packet *pkt)
{
	uint32_t i;

	if (r->proto != POLICY_PROTO_ANY && r->proto != pkt->proto)
		return false;
	if (r->n_ports) {
		/* the loader allows ports only with tcp or udp */
		for (i = 0; i < r->n_ports; i++)
			if (pkt->dport >= r->ports[i].lo &&
			    pkt->dport <= r->ports[i].hi)
				return true;
		return false;
	}
	if (r->n_icmp) {
		for (i = 0; i < r->n_icmp; i++)
			if (pkt->icmp_type == r->icmp[i].type)
				return true;
		return false;
	}
	return true;
}

bool policy_eval_rule_matches(const struct policy *pol,
			      const struct policy_tenant *tenant,
			      const struct policy_rule *rule,
			      const struct policy_packet *pkt)
{
	(void)pol;
	return service_matches(rule, pkt) &&
	       selectors_match(tenant, rule->from, rule->n_from, pkt->family,
			       pkt->saddr) &&
	       selectors_match(tenant, rule->to, rule->n_to, pkt->family,
			       pkt->daddr);
}

static void result_init(struct policy_eval_result *res)
{
	memset(res, 0, sizeof(*res));
	res->rule_id = PW_RULE_NONE;
}

/* Checks 1-4 of eval.h (4 only with @frag_check: the model has state for
 * fragments). True when they decided; *@ten is the tenant. */
static bool eval_pre(const struct policy *pol, const struct policy_packet *pkt,
		     bool frag_check, struct policy_eval_result *res,
		     const struct policy_tenant **ten)
{
	*ten = NULL;
	if (pkt->kind == POLICY_PKT_MALFORMED) {
		res->action = PW_ACTION_DENY;
		res->reason = PW_REASON_MALFORMED;
		res->log = true;
		/* Reported on the tenant of the wire it came from (the
		 * outer 802.1Q tag, else untagged), as the datapath's drop
		 * event is; its addresses are not to be trusted: no
		 * segments. */
		res->tenant = policy_eval_tenant(pol, pkt->ifname, pkt->vlan);
		goto decided;
	}
	if (pkt->kind == POLICY_PKT_NON_IP) {
		res->action = to_action(pol->settings.non_ip);
		res->reason = PW_REASON_NON_IP;
		goto decided;
	}
	*ten = policy_eval_tenant(pol, pkt->ifname, pkt->vlan);
	if (!*ten) {
		res->action = to_action(pol->settings.unmatched);
		res->reason = PW_REASON_UNMATCHED;
		/* a drop is logged (rate-limited), a pass is not */
		res->log = res->action != PW_ACTION_ALLOW;
		goto decided;
	}
	res->tenant = *ten;
	res->src_segment =
		policy_eval_segment(pol, *ten, pkt->family, pkt->saddr);
	res->dst_segment =
		policy_eval_segment(pol, *ten, pkt->family, pkt->daddr);
	if (frag_check && policy_packet_later_fragment(pkt) && !pkt->l4) {
		res->action = PW_ACTION_DENY;
		res->reason = PW_REASON_FRAGMENT;
		res->log = true;
		goto decided;
	}
	return false;
decided:
	res->verdict = (enum pw_verdict)res->action;
	return true;
}

/* Step 3 and audit mode, for a packet of tenant @ten. */
static void eval_rules(const struct policy *pol,
		       const struct policy_tenant *ten,
		       const struct policy_packet *pkt,
		       struct policy_eval_result *res)
{
	const struct policy_rule *rule = NULL;
	uint32_t i;

	for (i = 0; i < pol->n_rules && !rule; i++)
		if (policy_eval_rule_matches(pol, ten, &pol->rules[i], pkt))
			rule = &pol->rules[i];
	for (i = 0; i < ten->n_rules && !rule; i++)
		if (policy_eval_rule_matches(pol, ten, &ten->rules[i], pkt))
			rule = &ten->rules[i];

	res->tenant = ten;
	if (rule) {
		res->rule = rule;
		res->rule_id = rule->id;
		res->action = to_action(rule->action);
		res->reason = PW_REASON_POLICY;
		res->log = rule->log;
	} else if (policy_packet_is_link_control(pkt)) {
		/*
		 * Neighbour or multicast listener discovery that no rule names
		 * gets settings.non_ip, not the tenant default: it is IPv6's
		 * ARP, and a default-deny tenant must not lose address
		 * resolution or multicast over it. Like ARP: never logged, not
		 * subject to audit mode. (README: where the specification is
		 * silent; the datapath: bpf/pw_datapath.h.)
		 */
		res->rule = NULL;
		res->rule_id = PW_RULE_NONE;
		res->action = to_action(pol->settings.non_ip);
		res->reason = PW_REASON_NON_IP;
		res->log = false;
		res->verdict = (enum pw_verdict)res->action;
		return;
	} else {
		res->rule = NULL;
		res->rule_id = PW_RULE_NONE;
		res->action = to_action(ten->default_action);
		res->reason = PW_REASON_DEFAULT;
		res->log = ten->log_default;
	}
	res->verdict = (enum pw_verdict)res->action;
	if (ten->mode == POLICY_MODE_AUDIT && res->action != PW_ACTION_ALLOW) {
		res->verdict = PW_VERDICT_AUDIT;
		res->log = true;
	}
}

void policy_eval_packet(const struct policy *pol,
			const struct policy_packet *pkt,
			struct policy_eval_result *res)
{
	const struct policy_tenant *ten;

	result_init(res);
	if (eval_pre(pol, pkt, true, res, &ten))
		return;
	eval_rules(pol, ten, pkt, res);
}

/* ---- hash tables for the model ------------------------------------------ */

#define HKEY_SIZE 40
_Static_assert(sizeof(struct pw_ct_key) == HKEY_SIZE, "ct key size");
_Static_assert(sizeof(struct pw_frag_key) == HKEY_SIZE, "frag key size");

struct hnode {
	struct hnode *next;
	uint8_t key[HKEY_SIZE];
};

struct htab {
	struct hnode **b;
	uint32_t nb; /* power of two */
	uint32_t count;
};

static uint32_t hkey_hash(const uint8_t *key)
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < HKEY_SIZE; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

/* The link pointing at @key's node, or at the NULL ending its chain. */
static struct hnode **htab_link(const struct htab *t, const void *key)
{
	struct hnode **l;

	for (l = &t->b[hkey_hash(key) & (t->nb - 1)]; *l; l = &(*l)->next)
		if (!memcmp((*l)->key, key, HKEY_SIZE))
			break;
	return l;
}

static int htab_init(struct htab *t)
{
	t->nb = 64;
	t->count = 0;
	t->b = calloc(t->nb, sizeof(*t->b));
	return t->b ? 0 : -ENOMEM;
}

static int htab_insert(struct htab *t, struct hnode *n)
{
	struct hnode **l;

	if (t->count >= t->nb) {
		uint32_t nb = t->nb * 2, i;
		struct hnode **b = calloc(nb, sizeof(*b));

		if (!b)
			return -ENOMEM;
		for (i = 0; i < t->nb; i++) {
			while (t->b[i]) {
				struct hnode *x = t->b[i];

				t->b[i] = x->next;
				l = &b[hkey_hash(x->key) & (nb - 1)];
				x->next = *l;
				*l = x;
			}
		}
		free(t->b);
		t->b = b;
		t->nb = nb;
	}
	l = &t->b[hkey_hash(n->key) & (t->nb - 1)];
	n->next = *l;
	*l = n;
	t->count++;
	return 0;
}

static void htab_unlink(struct htab *t, struct hnode **link)
{
	struct hnode *n = *link;

	*link = n->next;
	t->count--;
	free(n);
}

static void htab_release(struct htab *t)
{
	uint32_t i;

	for (i = 0; t->b && i < t->nb; i++) {
		while (t->b[i]) {
			struct hnode *x = t->b[i];

			t->b[i] = x->next;
			free(x);
		}
	}
	free(t->b);
	t->b = NULL;
}

/* ---- connection tracking model ------------------------------------------ */

struct flow_node {
	struct hnode h; /* key = flow.key */
	struct policy_ct_flow flow;
};

/* Layer 4 fields of a first fragment */
struct frag_node {
	struct hnode h; /* key = struct pw_frag_key */
	uint64_t seen_ns;
	uint16_t sport;
	uint16_t dport;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t icmp_id;
};

struct policy_ct_model {
	const struct policy *pol;
	uint32_t generation;
	struct htab flows;
	struct htab frags;
	policy_ct_end_fn end_fn;
	void *end_ctx;
};

int policy_ct_model_new(const struct policy *pol, uint32_t generation,
			struct policy_ct_model **out)
{
	struct policy_ct_model *m;
	int ret = 0;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		ret = -ENOMEM;
		goto out;
	}
	m->pol = pol;
	m->generation = generation;
	ret = htab_init(&m->flows);
	if (!ret)
		ret = htab_init(&m->frags);
	if (ret)
		goto out;
	*out = m;
	m = NULL;
out:
	policy_ct_model_free(m);
	return ret;
}

void policy_ct_model_free(struct policy_ct_model *m)
{
	if (!m)
		return;
	htab_release(&m->flows);
	htab_release(&m->frags);
	free(m);
}

void policy_ct_model_on_end(struct policy_ct_model *m, policy_ct_end_fn fn,
			    void *ctx)
{
	m->end_fn = fn;
	m->end_ctx = ctx;
}

int policy_ct_model_set_policy(struct policy_ct_model *m,
			       const struct policy *pol, uint32_t generation)
{
	if (generation == m->generation)
		return -EINVAL;
	m->pol = pol;
	m->generation = generation;
	return 0;
}

uint32_t policy_ct_model_count(const struct policy_ct_model *m)
{
	return m->flows.count;
}

static bool is_tcp(uint8_t proto)
{
	return proto == POLICY_PROTO_TCP;
}

static bool is_icmp(uint8_t proto)
{
	return proto == POLICY_PROTO_ICMP || proto == POLICY_PROTO_ICMPV6;
}

static uint64_t flow_timeout(const struct policy_ct_model *m,
			     const struct policy_ct_flow *f)
{
	const uint32_t *to = m->pol->settings.timeouts;
	enum policy_timeout which;

	if (is_tcp(f->key.proto)) {
		switch (f->val.state) {
		case PW_CT_ESTABLISHED:
			which = POLICY_TIMEOUT_TCP_ESTABLISHED;
			break;
		case PW_CT_TCP_CLOSING:
		case PW_CT_TCP_CLOSED:
			which = POLICY_TIMEOUT_TCP_CLOSING;
			break;
		default:
			which = POLICY_TIMEOUT_TCP_SYN;
		}
	} else if (f->key.proto == POLICY_PROTO_UDP) {
		which = POLICY_TIMEOUT_UDP;
	} else if (is_icmp(f->key.proto)) {
		which = POLICY_TIMEOUT_ICMP;
	} else {
		which = POLICY_TIMEOUT_OTHER;
	}
	return (uint64_t)to[which] * NS_PER_SEC;
}

/* Strictly more than the timeout since the last packet, as the datapath
 * counts (bpf/pw_ct.h); a clock that stepped back never expires. */
static bool flow_expired(const struct policy_ct_model *m,
			 const struct policy_ct_flow *f, uint64_t now)
{
	return now > f->val.last_seen_ns &&
	       now - f->val.last_seen_ns > flow_timeout(m, f);
}

static bool frag_expired(const struct frag_node *n, uint64_t now)
{
	return now > n->seen_ns && now - n->seen_ns > POLICY_CT_FRAG_TIMEOUT_NS;
}

/* Forget the flow at @link, telling the end callback why, unless it had
 * already ended (TCP_CLOSED lingering for the last ACKs). */
static void flow_end(struct policy_ct_model *m, struct hnode **link,
		     enum pw_end_reason why)
{
	struct flow_node *n = (struct flow_node *)*link;

	if (m->end_fn && n->flow.val.state != PW_CT_TCP_CLOSED)
		m->end_fn(&n->flow, why, m->end_ctx);
	htab_unlink(&m->flows, link);
}

/* Only ICMP echo among the ICMP messages is a flow (eval.h). */
static bool trackable(const struct policy_packet *p)
{
	return !is_icmp(p->proto) || policy_packet_is_echo(p);
}

static bool starts_flow(const struct policy_packet *p)
{
	if (policy_packet_later_fragment(p))
		return false;
	if (is_tcp(p->proto))
		return !(p->tcp_flags & POLICY_TCP_RST);
	if (is_icmp(p->proto))
		return policy_packet_is_echo_request(p);
	return true;
}

static void endpoint_ports(const struct policy_packet *p, uint16_t *sport,
			   uint16_t *dport)
{
	if (is_tcp(p->proto) || p->proto == POLICY_PROTO_UDP) {
		*sport = p->sport;
		*dport = p->dport;
	} else if (is_icmp(p->proto)) {
		*sport = p->icmp_id;
		*dport = p->icmp_id;
	} else {
		*sport = 0;
		*dport = 0;
	}
}

/* The normalised key of @p; *@from_a: the sender is endpoint a. */
static void flow_key(uint16_t tenant, const struct policy_packet *p,
		     struct pw_ct_key *k, bool *from_a)
{
	uint16_t sport, dport;
	int cmp;

	memset(k, 0, sizeof(*k));
	endpoint_ports(p, &sport, &dport);
	cmp = memcmp(p->saddr, p->daddr, 16);
	if (!cmp)
		cmp = sport < dport ? -1 : sport > dport;
	*from_a = cmp <= 0;
	k->tenant = tenant;
	k->family = p->family;
	k->proto = p->proto;
	memcpy(k->addr_a, *from_a ? p->saddr : p->daddr, 16);
	memcpy(k->addr_b, *from_a ? p->daddr : p->saddr, 16);
	k->port_a = *from_a ? sport : dport;
	k->port_b = *from_a ? dport : sport;
}

/* The flow's first packet as it was: initiator -> responder. */
static void flow_original(const struct policy_ct_flow *f,
			  const struct policy_packet *now_pkt,
			  struct policy_packet *o)
{
	bool a = f->val.flags & PW_CT_INIT_IS_A;

	memset(o, 0, sizeof(*o));
	memcpy(o->ifname, now_pkt->ifname, sizeof(o->ifname));
	o->vlan = now_pkt->vlan;
	o->kind = POLICY_PKT_IP;
	o->family = f->key.family;
	o->proto = f->key.proto;
	memcpy(o->saddr, a ? f->key.addr_a : f->key.addr_b, 16);
	memcpy(o->daddr, a ? f->key.addr_b : f->key.addr_a, 16);
	o->l4 = true;
	if (is_icmp(o->proto)) {
		o->icmp_type = o->proto == POLICY_PROTO_ICMP ?
				       POLICY_ICMP_ECHO_REQUEST :
				       POLICY_ICMPV6_ECHO_REQUEST;
		o->icmp_id = f->key.port_a;
	} else {
		o->sport = a ? f->key.port_a : f->key.port_b;
		o->dport = a ? f->key.port_b : f->key.port_a;
	}
}

/* Flow start/end events: flow_logs, or a logged decision that allowed
 * it (an audited flow has its audit event instead). */
static bool flow_logged(const struct policy_tenant *ten,
			const struct policy_eval_result *r)
{
	if (ten->flow_logs)
		return true;
	if (r->verdict == PW_VERDICT_AUDIT)
		return false;
	return r->rule ? r->rule->log : ten->log_default;
}

static const struct policy_rule *rule_or_null(const struct policy *pol,
					      uint32_t id)
{
	return id == PW_RULE_NONE ? NULL : policy_rule_by_id(pol, id);
}

/* Least recently seen flow, for eviction when the table is full. */
static struct hnode **flow_lru(struct policy_ct_model *m)
{
	struct hnode **best = NULL, **l;
	uint64_t oldest = UINT64_MAX;
	uint32_t i;

	for (i = 0; i < m->flows.nb; i++) {
		for (l = &m->flows.b[i]; *l; l = &(*l)->next) {
			const struct flow_node *n = (const void *)*l;

			if (n->flow.val.last_seen_ns < oldest) {
				oldest = n->flow.val.last_seen_ns;
				best = l;
			}
		}
	}
	return best;
}

/* The TCP state machine of eval.h; the flow stays in the table. */
static void tcp_update(struct policy_ct_model *m, struct policy_ct_flow *f,
		       bool from_a, unsigned int dir, uint8_t flags,
		       struct policy_eval_result *res)
{
	enum pw_end_reason end = PW_END_NONE;

	if (f->val.state == PW_CT_TCP_CLOSED)
		goto out;
	if (flags & POLICY_TCP_RST) {
		f->val.state = PW_CT_TCP_CLOSED;
		end = PW_END_RST;
	} else if (flags & POLICY_TCP_FIN) {
		f->val.flags |= from_a ? PW_CT_FIN_A : PW_CT_FIN_B;
		if ((f->val.flags & PW_CT_FIN_A) &&
		    (f->val.flags & PW_CT_FIN_B)) {
			f->val.state = PW_CT_TCP_CLOSED;
			end = PW_END_FIN;
		} else {
			f->val.state = PW_CT_TCP_CLOSING;
		}
	} else if (dir == 1 && f->val.state == PW_CT_TCP_SYN &&
		   (flags & (POLICY_TCP_SYN | POLICY_TCP_ACK)) ==
			   (POLICY_TCP_SYN | POLICY_TCP_ACK)) {
		f->val.state = PW_CT_ESTABLISHED;
	}
	if (end != PW_END_NONE) {
		res->flow_end = end;
		if (m->end_fn)
			m->end_fn(f, end, m->end_ctx);
	}
out:
	res->ct_state = (enum pw_ct_state)f->val.state;
}

/* A packet of a tracked flow (step 2). */
static void flow_packet(struct policy_ct_model *m, struct hnode **link,
			const struct policy_tenant *ten,
			const struct policy_packet *pkt, bool from_a,
			uint64_t now, struct policy_eval_result *res)
{
	struct policy_ct_flow *f = &((struct flow_node *)*link)->flow;
	unsigned int dir = from_a == !!(f->val.flags & PW_CT_INIT_IS_A) ? 0 : 1;
	bool audit_event = false;

	if (f->val.generation != m->generation) {
		struct policy_eval_result again;
		struct policy_packet orig;

		result_init(&again);
		flow_original(f, pkt, &orig);
		eval_rules(m->pol, ten, &orig, &again);
		res->revalidated = true;
		if (again.verdict == PW_VERDICT_DENY ||
		    again.verdict == PW_VERDICT_REJECT) {
			res->verdict = PW_VERDICT_DENY;
			res->action = PW_ACTION_DENY;
			res->reason = PW_REASON_POLICY_REVOKED;
			res->rule = again.rule;
			res->rule_id = again.rule_id;
			res->log = true;
			res->ct_state = (enum pw_ct_state)f->val.state;
			res->flow_end = PW_END_POLICY_REVOKED;
			res->flow_logged = true; /* revocation always says so */
			flow_end(m, link, PW_END_POLICY_REVOKED);
			return;
		}
		audit_event = again.verdict == PW_VERDICT_AUDIT &&
			      !(f->val.flags & PW_CT_AUDIT);
		/* PW_CT_LOG stays: a flow whose start was logged logs its
		 * end, whatever the new policy says about logging. */
		f->val.generation = m->generation;
		f->val.rule_id = again.rule_id;
		f->val.flags &= (uint8_t)~PW_CT_AUDIT;
		if (again.verdict == PW_VERDICT_AUDIT)
			f->val.flags |= PW_CT_AUDIT;
	}

	res->verdict = audit_event ? PW_VERDICT_AUDIT : PW_VERDICT_ALLOW;
	res->action = PW_ACTION_ALLOW;
	res->reason = dir ? PW_REASON_REPLY : PW_REASON_ESTABLISHED;
	res->rule_id = f->val.rule_id;
	res->rule = rule_or_null(m->pol, f->val.rule_id);
	res->log = audit_event;
	res->tracked = true;
	res->flow_logged = f->val.flags & PW_CT_LOG;
	res->flow_audit = f->val.flags & PW_CT_AUDIT;

	f->val.last_seen_ns = now;
	f->val.packets[dir]++;
	f->val.bytes[dir] += pkt->len;
	if (is_tcp(f->key.proto)) {
		tcp_update(m, f, from_a, dir, pkt->tcp_flags, res);
		return;
	}
	if (dir == 1 && f->val.state == PW_CT_NEW)
		f->val.state = PW_CT_ESTABLISHED;
	res->ct_state = (enum pw_ct_state)f->val.state;
}

static int flow_create(struct policy_ct_model *m,
		       const struct policy_tenant *ten,
		       const struct policy_packet *pkt,
		       const struct pw_ct_key *key, bool from_a, uint64_t now,
		       struct policy_eval_result *res)
{
	struct flow_node *n;
	struct policy_ct_flow *f;
	struct hnode **link;
	int ret = 0;

	if (m->flows.count >= m->pol->settings.ct_max_entries) {
		link = flow_lru(m);
		if (link)
			htab_unlink(&m->flows, link);
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		ret = -ENOMEM;
		goto out;
	}
	f = &n->flow;
	f->key = *key;
	memcpy(n->h.key, key, HKEY_SIZE);
	memcpy(f->ifname, pkt->ifname, sizeof(f->ifname));
	f->val.created_ns = now;
	f->val.last_seen_ns = now;
	f->val.packets[0] = 1;
	f->val.bytes[0] = pkt->len;
	f->val.generation = m->generation;
	f->val.rule_id = res->rule_id;
	f->val.vlan = pkt->vlan;
	f->val.flags = (from_a ? PW_CT_INIT_IS_A : 0) |
		       (flow_logged(ten, res) ? PW_CT_LOG : 0) |
		       (res->verdict == PW_VERDICT_AUDIT ? PW_CT_AUDIT : 0);
	f->val.src_segment = res->src_segment ? res->src_segment->order :
						PW_SEGMENT_NONE;
	f->val.dst_segment = res->dst_segment ? res->dst_segment->order :
						PW_SEGMENT_NONE;
	if (is_tcp(key->proto)) {
		/* Only a SYN is a handshake; anything else is picked up
		 * mid-stream (its flags are not looked at further). */
		f->val.state =
			(pkt->tcp_flags & (POLICY_TCP_SYN | POLICY_TCP_ACK)) ==
					POLICY_TCP_SYN ?
				PW_CT_TCP_SYN :
				PW_CT_ESTABLISHED;
	} else {
		f->val.state = PW_CT_NEW;
	}
	ret = htab_insert(&m->flows, &n->h);
	if (ret) {
		free(n);
		goto out;
	}
	res->tracked = true;
	res->flow_new = true;
	res->flow_logged = f->val.flags & PW_CT_LOG;
	res->flow_audit = f->val.flags & PW_CT_AUDIT;
	res->ct_state = (enum pw_ct_state)f->val.state;
out:
	return ret;
}

static void frag_key(uint16_t tenant, const struct policy_packet *p,
		     struct pw_frag_key *k)
{
	memset(k, 0, sizeof(*k));
	k->tenant = tenant;
	k->family = p->family;
	k->proto = p->proto;
	k->id = p->frag_id;
	memcpy(k->saddr, p->saddr, 16);
	memcpy(k->daddr, p->daddr, 16);
}

/*
 * Fragments: remember a first fragment's layer 4 fields, give them to a
 * later one. Returns 0, -ENOENT when a later fragment has no first, or
 * -ENOMEM.
 */
static int frag_handle(struct policy_ct_model *m, uint16_t tenant,
		       struct policy_packet *p, uint64_t now)
{
	struct pw_frag_key k;
	struct frag_node *n;
	struct hnode **link;
	int ret = 0;

	frag_key(tenant, p, &k);
	link = htab_link(&m->frags, &k);
	n = (struct frag_node *)*link;
	if (n && frag_expired(n, now)) {
		htab_unlink(&m->frags, link);
		n = NULL;
	}
	if (p->frag_first) {
		if (!n) {
			n = calloc(1, sizeof(*n));
			if (!n) {
				ret = -ENOMEM;
				goto out;
			}
			memcpy(n->h.key, &k, HKEY_SIZE);
			ret = htab_insert(&m->frags, &n->h);
			if (ret) {
				free(n);
				goto out;
			}
		}
		n->seen_ns = now;
		n->sport = p->sport;
		n->dport = p->dport;
		n->icmp_type = p->icmp_type;
		n->icmp_code = p->icmp_code;
		n->icmp_id = p->icmp_id;
		goto out;
	}
	if (!n) {
		ret = -ENOENT;
		goto out;
	}
	p->l4 = true;
	p->sport = n->sport;
	p->dport = n->dport;
	p->icmp_type = n->icmp_type;
	p->icmp_code = n->icmp_code;
	p->icmp_id = n->icmp_id;
	p->tcp_flags = 0;
out:
	return ret;
}

/* The tracked flow of @key, NULL when none; a timed-out one ends here. */
static struct hnode **flow_find(struct policy_ct_model *m,
				const struct pw_ct_key *key, uint64_t now)
{
	struct hnode **link = htab_link(&m->flows, key);

	if (!*link)
		return NULL;
	if (flow_expired(m, &((struct flow_node *)*link)->flow, now)) {
		flow_end(m, link, PW_END_TIMEOUT);
		return NULL;
	}
	return link;
}

/*
 * An ICMP error about a packet of a tracked flow belongs to that flow,
 * like a reply (path MTU discovery needs "fragmentation needed" / "packet
 * too big" to get through). The same conditions as the datapath
 * (bpf/pw_datapath.h): the quoted packet went the other way, so its
 * source is the error's destination; the flow is live (not timed out,
 * not closed) and of the current policy generation. The flow is not
 * touched: no counters, no time, no state. Returns true when it decided.
 */
static bool flow_related(struct policy_ct_model *m,
			 const struct policy_tenant *ten,
			 const struct policy_packet *pkt, uint64_t now,
			 struct policy_eval_result *res)
{
	const struct policy_ct_flow *f;
	struct policy_packet q;
	struct pw_ct_key key;
	struct hnode **link;
	bool from_a;

	if (!policy_packet_is_icmp_error(pkt) || !pkt->quote ||
	    memcmp(pkt->quote_saddr, pkt->daddr, 16))
		return false;
	memset(&q, 0, sizeof(q));
	q.family = pkt->family;
	q.proto = pkt->quote_proto;
	memcpy(q.saddr, pkt->quote_saddr, 16);
	memcpy(q.daddr, pkt->quote_daddr, 16);
	q.sport = pkt->quote_sport;
	q.dport = pkt->quote_dport;
	q.icmp_id = pkt->quote_sport;
	flow_key(ten->id, &q, &key, &from_a);
	link = htab_link(&m->flows, &key);
	if (!*link)
		return false;
	f = &((const struct flow_node *)*link)->flow;
	if (f->val.generation != m->generation ||
	    f->val.state == PW_CT_TCP_CLOSED || flow_expired(m, f, now))
		return false;
	res->verdict = PW_VERDICT_ALLOW;
	res->action = PW_ACTION_ALLOW;
	/* the error travels against the packet it quotes */
	res->reason = from_a == !!(f->val.flags & PW_CT_INIT_IS_A) ?
			      PW_REASON_REPLY :
			      PW_REASON_ESTABLISHED;
	res->rule_id = f->val.rule_id;
	res->rule = rule_or_null(m->pol, f->val.rule_id);
	res->related = true;
	res->ct_state = (enum pw_ct_state)f->val.state;
	return true;
}

int policy_ct_model_packet(struct policy_ct_model *m,
			   const struct policy_packet *in, uint64_t now,
			   struct policy_eval_result *res)
{
	const struct policy_tenant *ten;
	struct policy_packet pkt = *in;
	struct hnode **link;
	struct pw_ct_key key;
	bool from_a;
	int ret = 0;

	result_init(res);
	if (eval_pre(m->pol, &pkt, false, res, &ten))
		goto out;
	if (pkt.frag) {
		ret = frag_handle(m, ten->id, &pkt, now);
		if (ret == -ENOENT) {
			ret = 0;
			res->action = PW_ACTION_DENY;
			res->verdict = PW_VERDICT_DENY;
			res->reason = PW_REASON_FRAGMENT;
			res->log = true;
			goto out;
		}
		if (ret)
			goto fail;
	}
	if (!trackable(&pkt)) {
		if (!flow_related(m, ten, &pkt, now, res))
			eval_rules(m->pol, ten, &pkt, res);
		goto out;
	}
	flow_key(ten->id, &pkt, &key, &from_a);
	link = flow_find(m, &key, now);
	if (link &&
	    ((struct flow_node *)*link)->flow.val.state == PW_CT_TCP_CLOSED &&
	    (pkt.tcp_flags & (POLICY_TCP_SYN | POLICY_TCP_ACK)) ==
		    POLICY_TCP_SYN) {
		flow_end(m, link, PW_END_NONE); /* already ended: silent */
		link = NULL;
	}
	if (link) {
		flow_packet(m, link, ten, &pkt, from_a, now, res);
		goto out;
	}
	eval_rules(m->pol, ten, &pkt, res);
	if ((res->verdict == PW_VERDICT_ALLOW ||
	     res->verdict == PW_VERDICT_AUDIT) &&
	    starts_flow(&pkt)) {
		ret = flow_create(m, ten, &pkt, &key, from_a, now, res);
		if (ret)
			goto fail;
	}
out:
	return ret;
fail:
	res->verdict = PW_VERDICT_DENY;
	res->action = PW_ACTION_DENY;
	return ret;
}

uint32_t policy_ct_model_expire(struct policy_ct_model *m, uint64_t now)
{
	uint32_t n = 0, i;
	struct hnode **l;

	for (i = 0; i < m->flows.nb; i++) {
		l = &m->flows.b[i];
		while (*l) {
			if (flow_expired(m, &((struct flow_node *)*l)->flow,
					 now)) {
				flow_end(m, l, PW_END_TIMEOUT);
				n++;
			} else {
				l = &(*l)->next;
			}
		}
	}
	for (i = 0; i < m->frags.nb; i++) {
		l = &m->frags.b[i];
		while (*l) {
			if (frag_expired((struct frag_node *)*l, now))
				htab_unlink(&m->frags, l);
			else
				l = &(*l)->next;
		}
	}
	return n;
}

int policy_ct_model_lookup_key(const struct policy_ct_model *m,
			       const struct pw_ct_key *key,
			       struct policy_ct_flow *flow)
{
	struct hnode **link = htab_link(&m->flows, key);

	if (!*link)
		return -ENOENT;
	*flow = ((struct flow_node *)*link)->flow;
	return 0;
}

int policy_ct_model_foreach(const struct policy_ct_model *m,
			    policy_ct_flow_fn fn, void *ctx)
{
	const struct hnode *n;
	uint32_t i;
	int ret = 0;

	for (i = 0; i < m->flows.nb && !ret; i++)
		for (n = m->flows.b[i]; n && !ret; n = n->next) {
			const struct flow_node *f = (const void *)n;

			ret = fn(&f->flow, flow_timeout(m, &f->flow), ctx);
		}
	return ret;
}

int policy_ct_model_lookup(const struct policy_ct_model *m,
			   const struct policy_packet *pkt,
			   struct policy_ct_flow *flow)
{
	const struct policy_tenant *ten;
	struct pw_ct_key key;
	struct hnode **link;
	bool from_a;

	if (pkt->kind != POLICY_PKT_IP)
		return -ENOENT;
	ten = policy_eval_tenant(m->pol, pkt->ifname, pkt->vlan);
	if (!ten)
		return -ENOENT;
	flow_key(ten->id, pkt, &key, &from_a);
	link = htab_link(&m->flows, &key);
	if (!*link)
		return -ENOENT;
	*flow = ((struct flow_node *)*link)->flow;
	return 0;
}
