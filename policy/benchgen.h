/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generated policies of a given size, for benchmarks (make bench) and for
 * measuring the compiler: YAML text, so that the whole pipeline (load,
 * analyze, compile) is measured, deterministic for a given seed.
 */
#ifndef PLUMWALL_POLICY_BENCHGEN_H
#define PLUMWALL_POLICY_BENCHGEN_H

#include <stddef.h>
#include <stdint.h>

enum policy_bench_shape {
	/*
	 * Many tenants (one per 500 rules) on shared interfaces with VLANs,
	 * reusing the same address space, ~20 segments each (IPv4 + IPv6
	 * prefixes), a few global rules; rules name segments mostly, some
	 * literals, any and external; services mostly single TCP ports from
	 * a small set, some ranges, UDP, ICMP types, proto any.
	 */
	POLICY_BENCH_TYPICAL,
	/* Like TYPICAL but one tenant holds every rule, with one segment
	 * per 10 rules: classes and rules grow together. */
	POLICY_BENCH_ONE_TENANT,
	/* One tenant, rules from segment to segment on random, overlapping
	 * TCP port ranges (up to 2000 ports wide): the worst case for
	 * service classes. */
	POLICY_BENCH_PORT_RANGES,
	/* One tenant, every rule between two host literals: one address
	 * class per literal. */
	POLICY_BENCH_LITERALS,
	POLICY_BENCH_SHAPE_COUNT,
};

struct policy_bench_opts {
	enum policy_bench_shape shape;
	uint64_t seed; /* 0: a fixed default */
	uint32_t n_tenants; /* 0: by shape */
	uint32_t segments_per_tenant; /* 0: by shape */
};

/* "typical", "one-tenant", "port-ranges", "literals"; NULL if unknown. */
const char *policy_bench_shape_name(enum policy_bench_shape shape);

/*
 * Generate a valid policy with @n_rules rules in total (global and
 * tenants'), as YAML in a malloc'd string *@out of *@len bytes (@len may
 * be NULL). @opts NULL: TYPICAL with defaults. Returns 0 or a negative
 * errno (-EINVAL for n_rules == 0 or more tenants than ids, -ENOMEM).
 */
int policy_generate_bench(uint32_t n_rules,
			  const struct policy_bench_opts *opts, char **out,
			  size_t *len);

#endif /* PLUMWALL_POLICY_BENCHGEN_H */
