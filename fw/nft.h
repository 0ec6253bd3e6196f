/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fw_nft: the nftables engine (apply --mode nft). The compiled policy
 * (policy/compile.h) becomes one table of plumwall's own, inet plumwall,
 * loaded through libnftnl and libmnl. Every object but the base chain
 * belongs to a generation and carries its prefix gN_ (left out below): a
 * replacement loads the new generation beside the running one, then
 * switches the base chain's rules to it in one transaction (atomic for
 * packets), then deletes the old one (fw_nft_load()).
 *
 * Per packet, the base chain (prerouting, after conntrack) accepts the
 * packets of tracked flows, and a verdict map finds the tenant chain by
 * input interface. The lookups that follow do not grow with the number
 * of rules: each is one lookup in a map keyed by packet fields, and a
 * chain has at most a few dozen rules however big the policy is:
 *
 *   tT_src4 / _6     ip saddr -> jump tT_sC, the chain of the source's
 *                    class C (an interval map: the pw_addr LPM entries
 *                    flattened into disjoint intervals)
 *   tT_sC_kS         in tT_sC, the keys of shape S (0, 2, 4) whose source
 *                    is C: (daddr . l4proto . point) -> goto rN, with the
 *                    fields of the shape only; shape 6 (src, any, any) is
 *                    a goto rule of its own
 *   tT_kS[_4|_6]     back in tT, the shapes without a source (1, 3, 5);
 *                    shape 7 (any, any, any) is a goto rule
 *
 * Maps over a concatenation are interval maps (the kernel's pipapo sets);
 * a layout with a single field adds l4proto 0-255, as pipapo needs two.
 * The point is the destination port for TCP and UDP, type << 8 | code for
 * ICMP and ICMPv6 (every code of a type), and for other protocols any
 * value (nft reads the ethertype there). Each key of the compiled
 * pw_decision becomes one element per combination of its destination's
 * and service's intervals. The chain rN (rNa for an audit tenant's deny
 * or reject) counts with the named counter rN and gives the rule's
 * verdict (accept, drop, or the chain refuse: reject with tcp reset /
 * icmpx admin-prohibited). Only packet fields feed a lookup, so nft(8)
 * lists the table.
 *
 * Events (logd reads them, shared.h "events of nft mode"): a chain whose
 * packets are logged starts with a rule `limit name lX log group
 * PW_NFLOG_GROUP prefix "pw1:..."` without a verdict, so the verdict
 * rule after it runs whether or not the limit let the log through:
 * the chain rN (rNa) of a rule that denies or rejects with `log: true`
 * or in an audit tenant (audit logs always), and before the default
 * rule of tT, the tenant default when it denies or rejects with
 * log_default or in audit mode. The limits are named objects, one per
 * rule (lrN) and one per tenant default (ldT), the datapath's token
 * buckets (settings.log_rate a second, burst as many; none when
 * log_rate is 0), so every chain of a rule shares its rule's bucket.
 * The prefix names the tenant, and a chain of a global rule is reached
 * from every tenant: a logged global rule gets a chain per tenant,
 * rN_tT (rNa_tT).
 *
 * The datapath takes the smallest rule id over up to eight lookups; a
 * chain takes the first rule that matches. fw_nft_plan_build() turns one
 * into the other: the shapes are looked up from the most specific to the
 * least, and wherever two keys of incomparable shapes can both match a
 * packet and the one looked up first holds the larger rule id, their meet
 * (the key specific in both's dimensions) is added with the smallest rule
 * id of the keys that match it. The first hit is then always the
 * datapath's minimum (fw_nft_plan_decide() evaluates a plan as the
 * kernel does; the unit tests hold it equal to policy_compiled_decide()).
 *
 * Functions return 0 or a negative errno.
 */
#ifndef PLUMWALL_FW_NFT_H
#define PLUMWALL_FW_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include <plumwall/shared.h>

#include "policy/compile.h"
#include "policy/packet.h"

#define FW_NFT_TABLE "plumwall"
/* The base chain: prerouting, after conntrack (-200) and defragmentation,
 * the packets that arrive on an interface, forwarded or local. */
#define FW_NFT_CHAIN "ingress"
#define FW_NFT_PRIORITY 0

/* Where in a flow's 16 bytes of conntrack labels the table puts the index
 * of the interface its first packet came in on (host byte order): bytes
 * 12-15, bits 96-127. 0 there: a flow the table did not judge. */
#define FW_NFT_LABEL_IIF_OFF 12

/* Keys (all shapes, meets included) above which a policy is refused. */
#define FW_NFT_MAX_KEYS (1U << 22)
/* Map elements (a key is one per combination of its classes' intervals)
 * above which a policy is refused: loading takes too long beyond. */
#define FW_NFT_MAX_ELEMENTS (1U << 21)

/* Key shapes in lookup order: the most specific first. */
#define FW_NFT_SHAPES 8
extern const uint8_t fw_nft_shape_order[FW_NFT_SHAPES];

/* One interval of an address or service map, bounds inclusive. For
 * addresses lo/hi are the address (IPv4: the first 4 bytes); for
 * services proto and the 16-bit point as nft reads it (TCP/UDP: the
 * destination port; ICMP/ICMPv6: type << 8 | code; other protocols: 0). */
struct fw_nft_ival {
	uint8_t lo[16];
	uint8_t hi[16];
	uint8_t proto;
	uint32_t val;
};

struct fw_nft_key {
	uint32_t cls[3]; /* src, dst, svc; PW_CLASS_ANY where the shape has
			  * a wildcard */
	uint32_t rule;
};

struct fw_nft_tenant {
	uint16_t id;
	uint8_t default_action; /* enum pw_action */
	bool audit;
	bool log_default; /* PW_TENANT_LOG_DEFAULT */
	struct fw_nft_ival *a4, *a6, *svc;
	uint32_t n_a4, n_a6, n_svc;
	struct fw_nft_key *keys[FW_NFT_SHAPES]; /* by PW_TUPLE bits */
	uint32_t n_keys[FW_NFT_SHAPES];
	uint32_t n_meets; /* keys added by the plan */
	uint32_t *rules; /* rule ids the keys name, sorted */
	uint32_t n_rules;
	/* The intervals of each address class (indexes into a4, then a6
	 * plus n_a4) and of each service class (into svc), by class id:
	 * class c has idx[start[c]] .. idx[start[c + 1] - 1]. */
	uint32_t *addr_start, *addr_idx, n_addr_cls;
	uint32_t *svc_start, *svc_idx, n_svc_cls;
	uint64_t n_map_elements; /* elements of its shape maps */
};

struct fw_nft_iface {
	char ifname[POLICY_IFNAME_MAX + 1];
	uint16_t vlan;
	uint16_t tenant;
};

struct fw_nft_plan {
	struct fw_nft_tenant *tenants;
	uint32_t n_tenants;
	struct fw_nft_iface *ifaces;
	uint32_t n_ifaces;
	struct pw_rule_val *rules; /* index = rule id */
	uint32_t n_rules;
	uint8_t unmatched, non_ip; /* enum pw_action */
	uint32_t generation; /* policy generation, for the log prefixes */
	uint32_t log_rate; /* settings.log_rate, 0: unlimited */
	uint64_t n_elements; /* set elements of the table, for the record */
};

/*
 * The plan of @c, which must have been compiled without the external
 * wildcard (policy_compile_opts.ext_min_classes = UINT32_MAX): nft has no
 * use for it. -E2BIG beyond FW_NFT_MAX_KEYS, -EINVAL for a compiled
 * policy the plan cannot express (a wildcard key).
 */
int fw_nft_plan_build(const struct policy_compiled *c,
		      struct fw_nft_plan **out);
void fw_nft_plan_free(struct fw_nft_plan *p);

/*
 * What the plan cannot enforce in the kernel, as one sentence in @why:
 * -EOPNOTSUPP then, else 0. Tenants by VLAN (nft sees the frame on the
 * VLAN device, not the tag on the interface the policy names) and
 * settings non_ip: deny (an inet table never sees non-IP frames).
 */
int fw_nft_plan_supported(const struct fw_nft_plan *p, char *why, size_t size);

/* The verdict the table gives a packet (an IP packet whose layer 4 is
 * there, as conntrack's defragmentation hands it to the table), as the
 * kernel evaluates it. */
struct fw_nft_verdict {
	enum pw_verdict verdict;
	enum pw_reason reason;
	uint32_t rule_id; /* PW_RULE_NONE for a default or a setting */
	uint16_t tenant; /* PW_TENANT_NONE: unmatched */
	bool judged; /* false: an interface the policy does not name */
};
void fw_nft_plan_decide(const struct fw_nft_plan *p,
			const struct policy_packet *pkt,
			struct fw_nft_verdict *out);

/* Counter values carried over from the running table, by rule id. */
struct fw_nft_count {
	uint64_t packets;
	uint64_t bytes;
};

/*
 * Load @p as the table's next generation and switch to it: three batches
 * (the new generation beside the running one, the base chain's switch,
 * the old generation's deletion; fw_nft_load() in nft.c says why one
 * batch is not enough). Until the switch nothing changes for packets;
 * a failure before it leaves the running generation as it was. @counts
 * (may be NULL) has p->n_rules starting values for the rules' counters.
 * Needs CAP_NET_ADMIN in the current network namespace.
 */
int fw_nft_load(const struct fw_nft_plan *p, const struct fw_nft_count *counts);

/* Tests only: called by fw_nft_load() after it listed the table, before
 * the batch built from the listing (which the kernel refuses when the
 * ruleset changed in between: the load lists again). */
extern void (*fw_nft_test_listed)(void);

/* A request to netfilter's netlink that is not a batch (a GET, a
 * conntrack delete): @fn (may be NULL) for each answer, until the kernel's
 * last. Its own socket; at most 30 s for each answer. */
struct nlmsghdr;
int fw_nft_request(const struct nlmsghdr *nlh,
		   int (*fn)(const struct nlmsghdr *nlh, void *ctx), void *ctx);

/* Delete the table: -ENOENT when there is none. */
int fw_nft_remove(void);

/* 1 when the table exists, 0 when it does not. */
int fw_nft_present(void);

/* What the table holds: the generation its base chain reaches (-1: none;
 * every object but the base chain is named gN_...: fw_nft_load() says
 * why), its chains, sets and objects, and how many of those belong to
 * another generation (0 once a replacement is complete). */
struct fw_nft_census {
	int64_t live;
	uint32_t objects;
	uint32_t stale;
};
int fw_nft_census(struct fw_nft_census *out);

/* Read the running generation's named counters: @fn per counter, @kind
 * 'r' for a rule's (gG_rN, @id the rule id), 'd' for a tenant's default
 * drops (gG_dN, @id the tenant id). */
typedef int (*fw_nft_counter_fn)(char kind, uint32_t id, uint64_t packets,
				 uint64_t bytes, void *ctx);
int fw_nft_counters(fw_nft_counter_fn fn, void *ctx);

#endif /* PLUMWALL_FW_NFT_H */
