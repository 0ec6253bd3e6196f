/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Random policies and packets for the differential tests (test_compile:
 * compiled maps vs the evaluator; test_differential: the BPF datapath vs
 * the connection-tracking model). Deterministic for a seed, so a failure
 * names the seed that reproduces it.
 *
 * Policies use the interfaces eth0, eth1 and eth2: tenant t owns
 * gen_ifnames[t] untagged, or VLANs 10+t and 20+t on eth0 and eth2.
 * Nobody owns eth3.
 */
#ifndef PLUMWALL_TESTS_GEN_H
#define PLUMWALL_TESTS_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include <plumwall/addr.h>

#include "policy/packet.h"
#include "policy/policy.h"

#define GEN_N_IFNAMES 4
extern const char *const gen_ifnames[GEN_N_IFNAMES];

/* xorshift64*; the state is global so that helpers share one stream. */
void gen_seed(uint64_t seed);
uint64_t gen_state(void);
uint32_t gen_rnd(void);
uint32_t gen_below(uint32_t n); /* 0..n-1, 0 for n == 0 */
bool gen_chance(uint32_t percent);

struct gen_opts {
	/* Always write settings with log_rate: 0 (the datapath's rate
	 * limit would otherwise hide events the model expects). */
	bool log_rate_zero;
	/* Short random conntrack timeouts (1..120 s), so that a test
	 * sequence reaches them. */
	bool short_timeouts;
	/* Tenants get flow_logs: true now and then. */
	bool flow_logs;
	/*
	 * Percent of rule actions and tenant defaults to change. The
	 * changes come from a second random stream: with the main stream
	 * reset to the same state (gen_seed()), a policy generated with
	 * mutate > 0 has the same structure (tenants, segments, selectors,
	 * services) as one generated without, only other actions.
	 */
	uint32_t mutate;
	uint64_t mutate_seed;
};

/* A random valid policy as YAML (malloc'd). @o NULL: defaults. */
char *gen_policy(const struct gen_opts *o);

/* Interesting values of the policy under test, for gen_pick_*():
 * prefixes of segments and literals, ports at the edges of every rule's
 * ranges (one below, first, last, one above), ICMP types rules name. */
void gen_collect(const struct policy *pol);
void gen_release(void);

/* An address of @family (4 or 6): at or around a prefix edge, or random. */
void gen_pick_addr(uint8_t family, uint8_t *addr);
/* A destination port: a rule edge, a pool port +-1, or random. */
uint16_t gen_pick_port(void);
/* An ICMP type for @proto (1 or 58): rule types, echo, errors, ND. */
uint8_t gen_pick_icmp_type(uint8_t proto);
/* An (interface, VLAN) pair, mostly one that a tenant owns. */
void gen_pick_iface(const struct policy *pol, char *ifname, uint16_t *vlan);

/* A random packet description (not a frame) for stateless tests. */
void gen_pick_packet(const struct policy *pol, struct policy_packet *p);
void gen_print_packet(const struct policy_packet *p);

#endif /* PLUMWALL_TESTS_GEN_H */
