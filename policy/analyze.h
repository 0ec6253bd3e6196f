/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the compiler derives from a validated policy, per tenant:
 *
 * - Address classes. The tenant's address space (each family apart) is cut
 *   into classes: sets of addresses that every rule selector of the tenant's
 *   evaluation list (global rules, then its own) treats alike. The datapath
 *   finds an address's class with one LPM lookup keyed by (tenant, family,
 *   address); rules are then sets of classes, never prefix lists, so the
 *   per-packet cost does not depend on the number of prefixes or rules.
 *   An address that matches no LPM entry is in its family's default class.
 * - For every LPM entry also the address's display segment (the most
 *   specific segment, policy.md section 4), which is not a function of the
 *   class and so travels beside it.
 * - Each rule's source and destination class sets and its service set (the
 *   (protocol, port or ICMP type) points it matches).
 * - Warnings (policy.md section 8): shadowed rules, computed exactly over
 *   classes x classes x services; rules after an any-to-any rule; unused
 *   segments.
 */
#ifndef PLUMWALL_POLICY_ANALYZE_H
#define PLUMWALL_POLICY_ANALYZE_H

#include <plumwall/arena.h>

#include "policy.h"

/*
 * A service set: which (protocol, port/type) points a rule matches, as
 * sorted, disjoint, non-adjacent closed intervals over the key
 * proto << 16 | point. The point is the destination port for TCP and UDP
 * (0..65535), the ICMP type for ICMP and ICMPv6 (0..255), and 0 for every
 * other protocol, so "all of protocol P" is exactly one interval.
 */
struct policy_svc_range {
	uint32_t lo;
	uint32_t hi;
};

struct policy_svc_set {
	struct policy_svc_range *ranges;
	uint32_t count;
};

#define POLICY_SVC_KEY(proto, point) (((uint32_t)(proto) << 16) | (point))

/* Number of points of protocol @proto in the service key space. */
uint32_t policy_svc_span(unsigned int proto);

struct policy_addr_class {
	uint32_t id; /* index in policy_tenant_view.classes */
	uint8_t family; /* PW_AF_INET or PW_AF_INET6 */
	bool is_default; /* matched by no LPM entry */
	bool external; /* in none of the tenant's own segments */
	/* Rule-relevant segments containing the class (tenant's and global) */
	const struct policy_segment **segments;
	uint32_t n_segments;
	/* Literal prefixes of rules containing the class */
	struct pw_prefix *literals;
	uint32_t n_literals;
	uint32_t n_lpm; /* LPM entries leading to this class */
};

struct policy_lpm_entry {
	struct pw_prefix prefix;
	uint32_t class_id;
	const struct policy_segment
		*segment; /* display segment; NULL: external */
};

/*
 * A set of address classes of one tenant, kept sparse: the non-zero 64-bit
 * words of its bitset (bit id % 64 of word id / 64 stands for class id),
 * in increasing word order. A tenant with N classes and R rules would
 * otherwise hold R x N bits per dimension (gigabytes at 100,000 rules
 * that each name an address of their own); this way a rule costs what its
 * selectors select, and rules that select the same classes (`any`, one
 * segment) share one set.
 */
struct policy_class_set {
	uint32_t n_words; /* entries of word[] and bits[] */
	uint32_t n_classes; /* classes in the set */
	const uint32_t *word; /* word indices, ascending */
	const uint64_t *bits; /* never 0 */
};

/* Class @id is in @set (binary search over the words). */
bool policy_class_set_has(const struct policy_class_set *set, uint32_t id);
/* Every class of @sub is in @set. */
bool policy_class_set_covers(const struct policy_class_set *set,
			     const struct policy_class_set *sub);
/* Position of the first word of @set with index >= @w, or set->n_words. */
uint32_t policy_class_set_lower(const struct policy_class_set *set, uint32_t w);

/* A rule as seen from one tenant. */
struct policy_rule_view {
	const struct policy_rule *rule;
	const struct policy_class_set *src; /* owned by the tenant view */
	const struct policy_class_set *dst;
	struct policy_svc_set svc;
};

struct policy_tenant_view {
	const struct policy_tenant *tenant;
	uint32_t index; /* in policy.tenants */
	struct policy_addr_class
		*classes; /* [0] IPv4 default, [1] IPv6 default */
	uint32_t n_classes;
	uint32_t class_words; /* uint64_t words of a dense class bitset */
	/* Every class, and the external ones (in none of the tenant's own
	 * segments, the two defaults included) */
	const struct policy_class_set *all;
	const struct policy_class_set *ext;
	struct policy_lpm_entry *lpm; /* sorted by pw_prefix_cmp */
	uint32_t n_lpm;
	/* Evaluation order: global rules, then the tenant's (section 7.3) */
	struct policy_rule_view *rules;
	uint32_t n_rules;
	struct pw_arena *arena; /* the class sets and the classes' arrays */
};

struct policy_analysis {
	const struct policy *policy;
	struct policy_tenant_view *tenants;
	uint32_t n_tenants;
};

/* Derive classes and rule views. Returns 0 or a negative errno (-ENOMEM). */
int policy_analyze(const struct policy *pol, struct policy_analysis **out);
void policy_analysis_free(struct policy_analysis *an);

/* Add the warnings of policy.md section 8 to @diags. Returns 0 or a
 * negative errno. */
int policy_warn(const struct policy_analysis *an, struct pw_diags *diags);

#endif /* PLUMWALL_POLICY_ANALYZE_H */
