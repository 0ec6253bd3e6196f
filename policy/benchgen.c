// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark policy generator (benchgen.h). The output goes through the
 * real loader, so it must be valid: names are unique by construction
 * (t<i>, s<j>, g<j>, r<k>), every (interface, VLAN) has one owner, every
 * prefix is a network address.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "benchgen.h"

/* Tenants sharing one interface, told apart by VLAN */
#define TENANTS_PER_IFACE 4000
#define MAX_TENANTS 65535

struct bgen {
	FILE *f;
	uint64_t rng;
	enum policy_bench_shape shape;
	uint32_t n_tenants;
	uint32_t n_segs; /* per tenant */
	uint32_t n_gsegs;
};

static uint32_t bg_rand(struct bgen *g)
{
	/* xorshift64*: small, fast, and the same everywhere */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return (uint32_t)((g->rng * 0x2545f4914f6cdd1dULL) >> 32);
}

static uint32_t bg_below(struct bgen *g, uint32_t n)
{
	return n ? bg_rand(g) % n : 0;
}

const char *policy_bench_shape_name(enum policy_bench_shape shape)
{
	static const char *const names[POLICY_BENCH_SHAPE_COUNT] = {
		[POLICY_BENCH_TYPICAL] = "typical",
		[POLICY_BENCH_ONE_TENANT] = "one-tenant",
		[POLICY_BENCH_PORT_RANGES] = "port-ranges",
		[POLICY_BENCH_LITERALS] = "literals",
	};

	if ((unsigned int)shape >= POLICY_BENCH_SHAPE_COUNT)
		return NULL;
	return names[shape];
}

/* Segment j of every tenant: the same space in each (tenants overlap). */
static void bg_segment(struct bgen *g, const char *indent, const char *name,
		       uint32_t j)
{
	fprintf(g->f, "%s%s%u: [10.%u.%u.0/24, \"fd00:%x:%x::/64\"", indent,
		name, j, (j >> 8) & 0xff, j & 0xff, j >> 8, j & 0xff);
	/* every fourth segment also holds a host of its neighbour, so
	 * segments overlap */
	if (j % 4 == 3)
		fprintf(g->f, ", 10.%u.%u.9", ((j - 1) >> 8) & 0xff,
			(j - 1) & 0xff);
	fprintf(g->f, "]\n");
}

static void bg_selector(struct bgen *g, bool global)
{
	uint32_t k = bg_below(g, 100);

	if (g->shape == POLICY_BENCH_LITERALS) {
		fprintf(g->f, "10.%u.%u.%u", 100 + bg_below(g, 100),
			bg_below(g, 256), bg_below(g, 256));
		return;
	}
	if (k < 70 && !global && g->n_segs)
		fprintf(g->f, "s%u", bg_below(g, g->n_segs));
	else if (k < 80 && g->n_gsegs)
		fprintf(g->f, "g%u", bg_below(g, g->n_gsegs));
	else if (k < 88)
		fprintf(g->f, "192.168.%u.0/24", bg_below(g, 256));
	else if (k < 95)
		fprintf(g->f, "any");
	else
		fprintf(g->f, "external");
}

static const uint16_t common_ports[] = { 22,   53,   80,   443,	 3306, 5432,
					 6379, 8080, 8443, 9090, 9200, 27017 };
#define N_COMMON (sizeof(common_ports) / sizeof(common_ports[0]))

static void bg_service(struct bgen *g)
{
	uint32_t k = bg_below(g, 100), n, i, lo, hi;

	if (g->shape == POLICY_BENCH_PORT_RANGES) {
		lo = bg_below(g, 65536);
		hi = lo + bg_below(g, 2000);
		fprintf(g->f, ", proto: tcp, ports: [\"%u-%u\"]", lo,
			hi < 65535 ? hi : 65535);
		return;
	}
	if (k < 60) {
		n = 1 + bg_below(g, 3);
		fprintf(g->f, ", proto: tcp, ports: [");
		for (i = 0; i < n; i++) {
			if (i)
				fprintf(g->f, ", ");
			if (bg_below(g, 10) == 0) {
				lo = 1024 + bg_below(g, 60000);
				fprintf(g->f, "\"%u-%u\"", lo,
					lo + bg_below(g, 100));
			} else {
				fprintf(g->f, "%u",
					common_ports[bg_below(g, N_COMMON)]);
			}
		}
		fprintf(g->f, "]");
	} else if (k < 80) {
		fprintf(g->f, ", proto: udp, ports: [%d]",
			bg_below(g, 2) ? 53 : 123);
	} else if (k < 85) {
		fprintf(g->f, ", proto: icmp, icmp: [echo-request]");
	} else if (k < 88) {
		fprintf(g->f, ", proto: icmpv6");
	}
	/* else proto any */
}

static void bg_rule(struct bgen *g, const char *indent, uint32_t id,
		    bool global)
{
	fprintf(g->f, "%s- {name: r%u, from: ", indent, id);
	bg_selector(g, global);
	fprintf(g->f, ", to: ");
	bg_selector(g, global);
	bg_service(g);
	fprintf(g->f, ", action: %s}\n",
		bg_below(g, 10) < 8 ? "allow" : "deny");
}

int policy_generate_bench(uint32_t n_rules,
			  const struct policy_bench_opts *opts, char **out,
			  size_t *len)
{
	struct policy_bench_opts def = { .shape = POLICY_BENCH_TYPICAL };
	struct bgen g = { 0 };
	uint32_t n_global, per, extra, t, i, j;
	char *buf = NULL;
	size_t size = 0;
	int ret = 0;

	*out = NULL;
	if (!opts)
		opts = &def;
	if (!n_rules || (unsigned int)opts->shape >= POLICY_BENCH_SHAPE_COUNT) {
		ret = -EINVAL;
		goto out;
	}
	g.shape = opts->shape;
	g.rng = opts->seed ? opts->seed : 0x62656e6368ULL;
	if (opts->shape == POLICY_BENCH_TYPICAL) {
		g.n_tenants = opts->n_tenants ? opts->n_tenants :
						(n_rules + 499) / 500;
		g.n_segs = opts->segments_per_tenant ?
				   opts->segments_per_tenant :
				   20;
		n_global = n_rules / 100 < 10 ? n_rules / 100 : 10;
		g.n_gsegs = 4;
	} else {
		g.n_tenants = opts->n_tenants ? opts->n_tenants : 1;
		g.n_segs = opts->segments_per_tenant ?
				   opts->segments_per_tenant :
				   (n_rules + 9) / 10;
		n_global = 0;
		g.n_gsegs = 0;
	}
	if (g.n_tenants > MAX_TENANTS || g.n_segs > 65536) {
		ret = -EINVAL;
		goto out;
	}

	g.f = open_memstream(&buf, &size);
	if (!g.f) {
		ret = -ENOMEM;
		goto out;
	}
	fprintf(g.f, "version: 1\n");
	if (g.n_gsegs) {
		fprintf(g.f, "segments:\n");
		for (j = 0; j < g.n_gsegs; j++)
			fprintf(g.f, "  g%u: [172.16.%u.0/24]\n", j, j);
	}
	if (n_global) {
		fprintf(g.f, "rules:\n");
		for (i = 0; i < n_global; i++)
			bg_rule(&g, "  ", i, true);
	}
	per = (n_rules - n_global) / g.n_tenants;
	extra = (n_rules - n_global) % g.n_tenants;
	fprintf(g.f, "tenants:\n");
	for (t = 0; t < g.n_tenants; t++) {
		uint32_t n = per + (t < extra);

		fprintf(g.f,
			"  - name: t%u\n"
			"    interfaces: [bench%u]\n"
			"    vlans: [%u]\n",
			t, t / TENANTS_PER_IFACE, t % TENANTS_PER_IFACE + 1);
		if (g.n_segs) {
			fprintf(g.f, "    segments:\n");
			for (j = 0; j < g.n_segs; j++)
				bg_segment(&g, "      ", "s", j);
		}
		if (n)
			fprintf(g.f, "    rules:\n");
		for (i = 0; i < n; i++)
			bg_rule(&g, "      ", i, false);
	}
	if (fclose(g.f)) {
		g.f = NULL;
		ret = -ENOMEM;
		goto out;
	}
	g.f = NULL;
	*out = buf;
	if (len)
		*len = size;
	buf = NULL;
out:
	free(buf);
	return ret;
}
