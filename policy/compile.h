/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Compiler back end: validated policy + its analysis -> the exact contents
 * of every per-slot map of include/plumwall/shared.h.
 *
 * policy_compile() is pure: no privileges, no I/O, no ifindexes. Its output
 * is a set of sorted arrays of (key, value) records in the shared.h layout,
 * ready to be written into the idle policy slot:
 *
 *   map            array in struct policy_compiled      key -> value
 *   pw_iface       ifaces (by ifname, vlan)              see below
 *   pw_tenant      tenants (by id)                       id -> pw_tenant_val
 *   pw_addr        addrs (tenant, family, addr, len)     LPM -> pw_addr_val
 *   pw_svc         svcs (tenant, proto, point, len)      LPM -> pw_svc_val
 *   pw_decision    decisions (tenant, src, dst, svc)     -> pw_decision_val
 *   pw_rule        rules (index = rule id)               id -> pw_rule_val
 *   pw_settings    settings                              0 -> pw_settings
 *
 * pw_iface is emitted by interface NAME: the loader resolves names with
 * policy_iface_key() when it attaches, so the compiler stays pure and a
 * compiled policy can be checked on a machine without the interfaces.
 *
 * Identifiers the datapath and events carry:
 * - tenant: policy_tenant.id (1..65535).
 * - rule id: policy_rule.id, policy-wide; global rules first, so within a
 *   tenant's evaluation list a smaller id means an earlier rule.
 * - segment id: policy_segment.order, the index in segments[] below
 *   (global segments first, then each tenant's, in file order);
 *   PW_SEGMENT_NONE for an address in no segment (shown as external).
 * - address class: per tenant, the analysis' class id (analyze.h); classes
 *   PW_CLASS_DEFAULT_V4 / _V6 are the addresses no LPM entry matches.
 * - service class: per tenant. The tenant's service key space
 *   (proto << 16 | point, analyze.h) is cut into elementary intervals by
 *   the service sets of its "specific" rules (every rule whose service set
 *   is not the whole space, i.e. not proto any); a class is one distinct
 *   set of specific rules covering an interval. Class 0 = points no
 *   specific rule names: it has no pw_svc entry (an LPM miss means 0).
 *   Other classes are numbered from 1 in increasing key order of their
 *   first interval. Each interval of a nonzero class becomes LPM prefixes
 *   over (proto, 16-bit point): prefixlen = 24 + matched point bits, a
 *   whole protocol is one prefixlen-24 entry (ICMP types and "other"
 *   protocols included: their point never exceeds the span).
 *
 * Decisions (tuple-space search, top of shared.h): a rule goes under
 * src = PW_CLASS_ANY when its source class set is every class of the
 * tenant (both families), likewise dst, and svc = PW_CLASS_ANY when its
 * service set is the whole space; otherwise under each of its classes.
 * A tenant with at least POLICY_COMPILE_EXT_MIN_CLASSES external classes
 * and a rule whose source or destination set holds every external class
 * (but not every class) gets the external wildcard (PW_TENANT_EXT): such a
 * set goes under PW_CLASS_EXT plus its classes that are not external, and
 * the ids of its external classes carry PW_CLASS_EXTERNAL.
 * Every key keeps the smallest rule id filed under it (global rules are
 * filed in every tenant, and have the smallest ids). Two reductions keep
 * the map small without changing any decision:
 * - a (src, dst) pair of classes of different families never occurs in a
 *   packet and is not emitted;
 * - an entry is dropped when a more general key (some of its classes
 *   replaced by PW_CLASS_ANY) holds a smaller rule id: the datapath takes
 *   the minimum of all its hits, so the entry could never win.
 *
 * Datapath contract, implemented here by policy_compiled_decide() (the
 * tests hold it equal to the reference evaluator of eval.h):
 *   0. non-IP: settings.non_ip, reason NON_IP, not logged; malformed:
 *      deny, reason MALFORMED, logged, tenant as step 1 finds it (none
 *      when it misses), no segments.
 *   1. tenant = pw_iface[(ifindex, vlan)]; miss: settings.unmatched,
 *      reason UNMATCHED, logged when it drops. pw_tenant[tenant].present
 *      must be 1. A later fragment whose first was not seen: deny,
 *      reason FRAGMENT, logged.
 *   2. (src_class, src_seg) = pw_addr LPM (tenant, family, saddr); miss:
 *      class PW_CLASS_DEFAULT_V4/_V6 by family, segment PW_SEGMENT_NONE.
 *      Same for daddr.
 *   3. svc = pw_svc LPM (tenant, proto, policy_packet_point()); miss: 0.
 *   4. the eight keys (tenant, src|ANY, dst|ANY, svc|ANY) in pw_decision,
 *      and with PW_TENANT_EXT the ten with PW_CLASS_EXT in the place of an
 *      external class (PW_EXT_TUPLE_BIT; the defaults and the classes with
 *      PW_CLASS_EXTERNAL are external); rule = the smallest rule_id found. None: tenant default_action,
 *      reason DEFAULT, log = PW_TENANT_LOG_DEFAULT, except for IPv6
 *      neighbour and multicast listener discovery
 *      (policy_packet_is_link_control()): settings.non_ip,
 *      reason NON_IP, not logged, and step 5 does not apply; else
 *      pw_rule[rule] action, reason POLICY, log = PW_RULE_LOG.
 *   5. PW_TENANT_AUDIT and the action is deny/reject: verdict AUDIT
 *      (passes, always logged). Otherwise verdict = action.
 * pw_tenant_val.tuples (with flag PW_TENANT_TUPLES) lists the key shapes
 * the tenant has entries of, so the datapath skips the other lookups; the
 * executor does the same.
 */
#ifndef PLUMWALL_POLICY_COMPILE_H
#define PLUMWALL_POLICY_COMPILE_H

#include <stdio.h>

#include <linux/types.h>

#include <plumwall/shared.h>

#include "analyze.h"
#include "packet.h"
#include "policy.h"

/* pw_decision entries above which policy_compile() gives up with -E2BIG:
 * at 20 bytes of key and value each, 2^25 entries are 640 MiB before the
 * kernel's own overhead, more than a datapath map should hold. */
#ifndef POLICY_COMPILE_MAX_DECISIONS
#define POLICY_COMPILE_MAX_DECISIONS (1U << 25)
#endif

/* External classes (the two defaults included) from which a tenant gets
 * the external wildcard. With fewer, filing a rule under each of them
 * costs a few entries, where the wildcard would cost the datapath up to
 * ten more lookups for every packet with an external address. */
#define POLICY_COMPILE_EXT_MIN_CLASSES 8

/* pw_iface, before interface names are resolved: the key comes from
 * policy_iface_key(), the value is struct pw_iface_val { .tenant }. */
struct policy_iface_entry {
	char ifname[POLICY_IFNAME_MAX + 1];
	uint16_t vlan; /* 0 = untagged */
	uint16_t tenant; /* tenant id */
};

struct policy_tenant_entry {
	uint32_t id; /* array index */
	struct pw_tenant_val val;
};

struct policy_addr_entry {
	struct pw_addr_key key;
	struct pw_addr_val val;
};

struct policy_svc_entry {
	struct pw_svc_key key;
	struct pw_svc_val val;
};

struct policy_decision_entry {
	struct pw_decision_key key;
	struct pw_decision_val val;
};

/* Bit of policy_compiled_tenant.tuples for a key with these wildcards. */
#define POLICY_TUPLE_SRC_ANY 1U
#define POLICY_TUPLE_DST_ANY 2U
#define POLICY_TUPLE_SVC_ANY 4U
#define POLICY_TUPLE_BIT(src_any, dst_any, svc_any) \
	PW_TUPLE_BIT(src_any, dst_any, svc_any)

/* Per tenant figures, for plumwall show and for sizing. */
struct policy_compiled_tenant {
	uint16_t id;
	uint32_t index; /* in policy.tenants */
	uint32_t n_addr_classes;
	uint32_t n_svc_classes; /* including class 0 */
	uint32_t n_addr_entries;
	uint32_t n_svc_entries;
	uint32_t n_decisions;
	/* Decision entries per tuple, index = POLICY_TUPLE_*_ANY bits. */
	uint32_t tuple_entries[8];
	uint8_t tuples; /* POLICY_TUPLE_BIT()s of the tuples in use, also in
			 * pw_tenant_val.tuples */
	bool ext; /* the external wildcard (PW_TENANT_EXT) */
	uint32_t n_ext_classes; /* external address classes */
	/* The same for the keys with PW_CLASS_EXT: PW_EXT_TUPLE_BIT() */
	uint32_t ext_tuple_entries[PW_EXT_TUPLES];
	uint16_t ext_tuples;
	/* Entries before the two reductions above, for the record */
	uint64_t n_decisions_raw;
};

enum policy_map_id {
	POLICY_MAP_IFACE,
	POLICY_MAP_TENANT,
	POLICY_MAP_ADDR,
	POLICY_MAP_SVC,
	POLICY_MAP_DECISION,
	POLICY_MAP_RULE,
	POLICY_MAP_SETTINGS,
	POLICY_MAP_COUNT,
};

/*
 * Size of one map: entries filled and key + value bytes times entries.
 * The kernel adds its own overhead on top (hash buckets and element
 * headers, LPM trie nodes, whole-array preallocation: pw_tenant always
 * holds PW_MAX_TENANTS values), so bytes is a lower bound.
 */
struct policy_map_size {
	const char *name; /* "pw_decision" */
	uint32_t key_size;
	uint32_t value_size;
	uint64_t entries;
	uint64_t bytes;
};

struct policy_compiled {
	uint32_t generation;

	struct policy_iface_entry *ifaces; /* sorted: ifname, vlan */
	uint32_t n_ifaces;
	struct policy_tenant_entry *tenants; /* sorted: id */
	uint32_t n_tenants;
	/* sorted by policy_addr_key_cmp(): tenant, family, address, length */
	struct policy_addr_entry *addrs;
	uint32_t n_addrs;
	/* sorted by policy_svc_key_cmp(): tenant, proto, point, length */
	struct policy_svc_entry *svcs;
	uint32_t n_svcs;
	/* sorted by policy_decision_key_cmp(): tenant, src, dst, svc */
	struct policy_decision_entry *decisions;
	uint32_t n_decisions;
	struct pw_rule_val *rules; /* index = rule id */
	uint32_t n_rules;
	struct pw_settings settings;

	/* Segment table: index = segment id = policy_segment.order. */
	const struct policy_segment **segments;
	uint32_t n_segments;

	struct policy_compiled_tenant *tenant_info; /* policy.tenants order */
	uint32_t n_tenant_info;

	struct policy_map_size maps[POLICY_MAP_COUNT];
	uint64_t total_bytes; /* sum of maps[].bytes */

	/* Lookup acceleration for the executor: which pw_addr prefix
	 * lengths (address bits) occur, [0] IPv4, [1] IPv6. */
	uint8_t addr_lens[2][129];
};

/*
 * Compile @an (the analysis of a validated policy) under policy generation
 * @generation. Returns 0 and sets *@out, or a negative errno: -ENOMEM,
 * -E2BIG (more than POLICY_COMPILE_MAX_DECISIONS decision entries, or
 * another count beyond a map's limits), -EINVAL (inconsistent input).
 */
int policy_compile(const struct policy_analysis *an, uint32_t generation,
		   struct policy_compiled **out);

/* Rules named when the decision entries exceed the limit. */
#define POLICY_COMPILE_TOP_RULES 5

struct policy_compile_opts {
	/* Decision entries allowed; 0: POLICY_COMPILE_MAX_DECISIONS. */
	uint64_t max_decisions;
	/* External classes from which a tenant gets the external wildcard;
	 * 0: POLICY_COMPILE_EXT_MIN_CLASSES, UINT32_MAX: never. */
	uint32_t ext_min_classes;
	/* When set and the policy is refused for its size (-E2BIG), the
	 * reasons as errors: where the limit was passed, and at each of the
	 * (at most POLICY_COMPILE_TOP_RULES) rules that need the most
	 * decision entries, how many and along which dimensions. */
	struct pw_diags *diags;
};

/* policy_compile() with options (NULL: the defaults). */
int policy_compile_opts(const struct policy_analysis *an, uint32_t generation,
			const struct policy_compile_opts *opts,
			struct policy_compiled **out);
/* The generation is the settings' only field that changes from one apply
 * to the next: compile once, then set it. */
void policy_compiled_set_generation(struct policy_compiled *c,
				    uint32_t generation);
void policy_compiled_free(struct policy_compiled *c);

/* Orders of the sorted arrays (usable with qsort/bsearch). */
int policy_addr_key_cmp(const void *a, const void *b);
int policy_svc_key_cmp(const void *a, const void *b);
int policy_decision_key_cmp(const void *a, const void *b);

/*
 * Resolve an interface name to its ifindex for pw_iface. Returns 0 or a
 * negative errno (-ENODEV when there is no such interface).
 */
typedef int (*policy_ifindex_fn)(const char *ifname, void *ctx,
				 uint32_t *ifindex);

/* The pw_iface key of @e, the value being e->tenant. Returns 0, or what
 * @resolve returned. */
int policy_iface_key(const struct policy_iface_entry *e,
		     policy_ifindex_fn resolve, void *ctx,
		     struct pw_iface_key *key);

/* Fill the LPM keys the datapath looks up (prefixlen at its maximum). */
void policy_addr_lookup_key(uint16_t tenant, uint8_t family,
			    const uint8_t addr[16], struct pw_addr_key *key);
void policy_svc_lookup_key(uint16_t tenant, uint8_t proto, uint16_t point,
			   struct pw_svc_key *key);

/* Result of policy_compiled_decide(). */
struct policy_compiled_verdict {
	enum pw_verdict verdict;
	enum pw_reason reason; /* POLICY, DEFAULT, UNMATCHED, NON_IP or
				* MALFORMED */
	enum pw_action action; /* before audit mode */
	uint32_t rule_id; /* PW_RULE_NONE: default or a setting */
	uint16_t tenant; /* PW_TENANT_NONE when no tenant owns the frame */
	uint32_t src_class, dst_class, svc_class;
	uint32_t src_segment, dst_segment; /* PW_SEGMENT_NONE: external */
	bool log; /* the datapath emits an event for this packet */
	uint8_t hits; /* POLICY_TUPLE_BIT()s of the keys that hit */
	uint16_t ext_hits; /* PW_EXT_TUPLE_BIT()s of the keys that hit */
};

/*
 * Judge @pkt as the first packet of a new flow with exactly the lookups the
 * datapath makes (steps 0-5 above) over the arrays of @c; the interface
 * is matched by name. Stateless, like policy_eval_packet(): a later
 * fragment is judged by the layer 4 fields the caller filled in (pkt->l4),
 * or dropped (FRAGMENT) without them; connection tracking is
 * policy_ct_model's business.
 */
void policy_compiled_decide(const struct policy_compiled *c,
			    const struct policy_packet *pkt,
			    struct policy_compiled_verdict *out);

/* Single lookups, as the datapath makes them (bsearch over the arrays). */
const struct policy_iface_entry *
policy_compiled_iface(const struct policy_compiled *c, const char *ifname,
		      uint16_t vlan);
const struct pw_tenant_val *
policy_compiled_tenant(const struct policy_compiled *c, uint16_t tenant);
/* Longest match; NULL when no entry matches. */
const struct policy_addr_entry *
policy_compiled_addr_lookup(const struct policy_compiled *c, uint16_t tenant,
			    uint8_t family, const uint8_t addr[16]);
const struct policy_svc_entry *
policy_compiled_svc_lookup(const struct policy_compiled *c, uint16_t tenant,
			   uint8_t proto, uint16_t point);
const struct policy_decision_entry *
policy_compiled_decision(const struct policy_compiled *c,
			 const struct pw_decision_key *key);

/* Print the map sizes, one line per map, and the total. */
void policy_compiled_print_sizes(const struct policy_compiled *c, FILE *out);

#endif /* PLUMWALL_POLICY_COMPILE_H */
