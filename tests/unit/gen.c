// SPDX-License-Identifier: GPL-2.0
/*
 * Random policies and packets for the differential tests, see gen.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

/* Not Check's assertions: the fuzzers (tests/fuzz/) use these helpers
 * outside any Check test, where even a passing Check assertion exits. */
#define gen_require(cond)                                                  \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                    \
			abort();                                           \
		}                                                          \
	} while (0)

const char *const gen_ifnames[GEN_N_IFNAMES] = { "eth0", "eth1", "eth2",
						 "eth3" };

static uint64_t rng_state = 1;
static uint64_t mut_state = 1;

static uint32_t xorshift(uint64_t *s)
{
	/* xorshift64*: a fixed seed gives the same run everywhere */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * 0x2545f4914f6cdd1dULL) >> 32);
}

void gen_seed(uint64_t seed)
{
	rng_state = seed ? seed : 1;
}

uint64_t gen_state(void)
{
	return rng_state;
}

uint32_t gen_rnd(void)
{
	return xorshift(&rng_state);
}

uint32_t gen_below(uint32_t n)
{
	return n ? gen_rnd() % n : 0;
}

bool gen_chance(uint32_t percent)
{
	return gen_below(100) < percent;
}

/* The mutation stream (gen_opts.mutate): never touches rng_state. */
static bool mut_chance(const struct gen_opts *o)
{
	return o && o->mutate && xorshift(&mut_state) % 100 < o->mutate;
}

/* Overlapping prefixes of both families: nested, adjacent, hosts */
static const char *const prefix_pool[] = {
	"10.0.0.0/8",
	"10.1.0.0/16",
	"10.1.1.0/24",
	"10.1.1.128/25",
	"10.1.1.5",
	"10.1.2.0/24",
	"10.1.1.0/24",
	"10.2.0.0/15",
	"192.168.0.0/16",
	"192.168.1.1",
	"172.16.0.0/12",
	"10.1.1.4/30",
	"0.0.0.0/0",
	"10.255.255.255",
	"0.0.0.0/1",
	"fd00::/8",
	"fd00:1::/32",
	"fd00:1:1::/64",
	"fd00:1:1::5",
	"2001:db8::/32",
	"2001:db8:0:1::/64",
	"::/0",
	"fd00:1:1::/48",
	"fe80::/10",
	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
};
#define N_PREFIX (sizeof(prefix_pool) / sizeof(prefix_pool[0]))

struct gen {
	char *buf;
	size_t len;
	FILE *f;
	const struct gen_opts *o;
	unsigned int n_gseg;
	unsigned int n_tenants;
	unsigned int n_tseg[4];
};

static void pick_selector(struct gen *g, int tenant)
{
	unsigned int k = gen_below(10);

	if (k < 3 && tenant >= 0 && g->n_tseg[tenant])
		fprintf(g->f, "t%ds%u", tenant, gen_below(g->n_tseg[tenant]));
	else if (k < 5 && g->n_gseg)
		fprintf(g->f, "g%u", gen_below(g->n_gseg));
	else if (k < 7)
		fprintf(g->f, "\"%s\"", prefix_pool[gen_below(N_PREFIX)]);
	else if (k < 8)
		fprintf(g->f, "any");
	else
		fprintf(g->f, "external");
}

static void pick_selectors(struct gen *g, int tenant)
{
	unsigned int n, i;

	if (gen_chance(60)) {
		pick_selector(g, tenant);
		return;
	}
	n = 1 + gen_below(3);
	fprintf(g->f, "[");
	for (i = 0; i < n; i++) {
		if (i)
			fprintf(g->f, ", ");
		pick_selector(g, tenant);
	}
	fprintf(g->f, "]");
}

static const uint16_t port_pool[] = { 0,    1,	  22,	53,    80,    443,
				      1023, 1024, 8080, 32768, 65534, 65535 };
#define N_PORT (sizeof(port_pool) / sizeof(port_pool[0]))

static void pick_ports(struct gen *g)
{
	unsigned int n = 1 + gen_below(3), i;

	fprintf(g->f, ", ports: [");
	for (i = 0; i < n; i++) {
		uint16_t a = port_pool[gen_below(N_PORT)];
		uint16_t b = gen_chance(50) ? port_pool[gen_below(N_PORT)] :
					      (uint16_t)(a + gen_below(20));

		if (i)
			fprintf(g->f, ", ");
		if (b < a) {
			uint16_t t = a;

			a = b;
			b = t;
		}
		if (a == b)
			fprintf(g->f, "%u", a);
		else
			fprintf(g->f, "\"%u-%u\"", a, b);
	}
	fprintf(g->f, "]");
}

static const char *const actions[] = { "allow", "deny", "reject" };

/* An action from the main stream, maybe changed by the mutation stream */
static const char *pick_action(struct gen *g)
{
	unsigned int a = gen_below(3);

	if (mut_chance(g->o))
		a = (a + 1 + xorshift(&mut_state) % 2) % 3;
	return actions[a];
}

static void pick_rule(struct gen *g, int tenant, unsigned int idx)
{
	unsigned int p = gen_below(12), i, n;
	const char *action;

	fprintf(g->f, "%s  - {name: r%u, from: ", tenant >= 0 ? "    " : "",
		idx);
	pick_selectors(g, tenant);
	fprintf(g->f, ", to: ");
	pick_selectors(g, tenant);
	if (p < 3) {
		fprintf(g->f, ", proto: tcp");
		if (gen_chance(70))
			pick_ports(g);
	} else if (p < 5) {
		fprintf(g->f, ", proto: udp");
		if (gen_chance(70))
			pick_ports(g);
	} else if (p < 7) {
		bool v6 = gen_chance(40);

		fprintf(g->f, ", proto: %s", v6 ? "icmpv6" : "icmp");
		if (gen_chance(60)) {
			n = 1 + gen_below(3);
			fprintf(g->f, ", icmp: [");
			for (i = 0; i < n; i++)
				fprintf(g->f, "%s%u", i ? ", " : "",
					gen_chance(50) ? (v6 ? 128 : 8) :
							 gen_below(256));
			fprintf(g->f, "]");
		}
	} else if (p < 8) {
		fprintf(g->f, ", proto: %u",
			gen_chance(50) ? 47 : gen_below(256));
	} else if (p < 9) {
		fprintf(g->f, ", proto: 6"); /* tcp by number */
	}
	action = pick_action(g);
	fprintf(g->f, ", action: %s%s}\n", action,
		gen_chance(20) ? ", log: true" : "");
}

static void pick_segments(struct gen *g, const char *prefix, int tenant,
			  unsigned int n)
{
	unsigned int i, j, k;

	fprintf(g->f, "%ssegments:\n", tenant >= 0 ? "    " : "");
	for (i = 0; i < n; i++) {
		k = 1 + gen_below(3);
		if (tenant >= 0)
			fprintf(g->f, "      t%ds%u: [", tenant, i);
		else
			fprintf(g->f, "  %s%u: [", prefix, i);
		for (j = 0; j < k; j++)
			fprintf(g->f, "%s\"%s\"", j ? ", " : "",
				prefix_pool[gen_below(N_PREFIX)]);
		fprintf(g->f, "]\n");
	}
}

static void pick_settings(struct gen *g)
{
	bool any = gen_chance(50);
	const char *unmatched = gen_chance(50) ? "allow" : "deny";
	const char *non_ip = gen_chance(50) ? "allow" : "deny";

	if (!any && !g->o->log_rate_zero && !g->o->short_timeouts)
		return;
	fprintf(g->f, "settings:\n");
	if (any)
		fprintf(g->f, "  unmatched: %s\n  non_ip: %s\n", unmatched,
			non_ip);
	if (g->o->log_rate_zero)
		fprintf(g->f, "  log_rate: 0\n");
	if (g->o->short_timeouts)
		fprintf(g->f,
			"  conntrack:\n"
			"    timeouts: {tcp_syn: %u, tcp_established: %u,\n"
			"               tcp_closing: %u, udp: %u, icmp: %u,\n"
			"               other: %u}\n",
			1 + gen_below(60), 1 + gen_below(120),
			1 + gen_below(60), 1 + gen_below(120),
			1 + gen_below(60), 1 + gen_below(120));
}

char *gen_policy(const struct gen_opts *o)
{
	static const struct gen_opts defaults;
	static const char *const defaults_[] = { "allow", "deny", "reject" };
	struct gen g = { 0 };
	unsigned int t, i, n, d;

	g.o = o ? o : &defaults;
	mut_state = g.o->mutate_seed ? g.o->mutate_seed : 7;
	g.f = open_memstream(&g.buf, &g.len);
	gen_require(g.f);
	fprintf(g.f, "version: 1\n");
	pick_settings(&g);
	g.n_gseg = gen_below(4);
	if (g.n_gseg)
		pick_segments(&g, "g", -1, g.n_gseg);
	n = gen_below(4);
	if (n) {
		fprintf(g.f, "rules:\n");
		for (i = 0; i < n; i++)
			pick_rule(&g, -1, i);
	}
	g.n_tenants = 1 + gen_below(3);
	fprintf(g.f, "tenants:\n");
	for (t = 0; t < g.n_tenants; t++) {
		/* Ownership: tenant t takes gen_ifnames[t] untagged, or VLANs
		 * 10+t and 20+t on eth0 (never clashing) */
		fprintf(g.f, "  - name: t%u\n", t);
		if (gen_chance(50))
			fprintf(g.f, "    id: %u\n", 100 + t * 7);
		if (gen_chance(50))
			fprintf(g.f, "    interfaces: [%s]\n", gen_ifnames[t]);
		else
			fprintf(g.f,
				"    interfaces: [eth0, eth2]\n"
				"    vlans: [%u, %u]\n",
				10 + t, 20 + t);
		d = gen_below(3);
		if (mut_chance(g.o))
			d = (d + 1) % 3;
		fprintf(g.f, "    default: %s\n", defaults_[d]);
		if (gen_chance(25))
			fprintf(g.f, "    mode: audit\n");
		if (gen_chance(30))
			fprintf(g.f, "    log_default: %s\n",
				gen_chance(50) ? "true" : "false");
		if (g.o->flow_logs && gen_chance(25))
			fprintf(g.f, "    flow_logs: true\n");
		g.n_tseg[t] = gen_below(5);
		if (g.n_tseg[t])
			pick_segments(&g, NULL, (int)t, g.n_tseg[t]);
		n = gen_below(9);
		if (n) {
			fprintf(g.f, "    rules:\n");
			for (i = 0; i < n; i++)
				pick_rule(&g, (int)t, i);
		}
	}
	fclose(g.f);
	return g.buf;
}

/* ---- interesting values of one policy ----------------------------------- */

static struct pw_prefix *pol_prefixes;
static unsigned int n_pol_prefixes;
static uint16_t *pol_ports;
static unsigned int n_pol_ports;
static uint8_t pol_icmp[256];
static unsigned int n_pol_icmp;

static void add_prefix(const struct pw_prefix *p)
{
	pol_prefixes = realloc(pol_prefixes,
			       (n_pol_prefixes + 1) * sizeof(*pol_prefixes));
	gen_require(pol_prefixes);
	pol_prefixes[n_pol_prefixes++] = *p;
}

static void add_port(int port)
{
	if (port < 0 || port > 65535)
		return;
	pol_ports = realloc(pol_ports, (n_pol_ports + 1) * sizeof(*pol_ports));
	gen_require(pol_ports);
	pol_ports[n_pol_ports++] = (uint16_t)port;
}

static void add_segments(const struct policy_segment *segs, uint32_t n)
{
	uint32_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < segs[i].n_prefixes; j++)
			add_prefix(&segs[i].prefixes[j]);
}

static void add_rules(const struct policy_rule *rules, uint32_t n)
{
	uint32_t i, j;

	for (i = 0; i < n; i++) {
		const struct policy_rule *r = &rules[i];

		for (j = 0; j < r->n_from; j++)
			if (r->from[j].kind == POLICY_SEL_PREFIX)
				add_prefix(&r->from[j].prefix);
		for (j = 0; j < r->n_to; j++)
			if (r->to[j].kind == POLICY_SEL_PREFIX)
				add_prefix(&r->to[j].prefix);
		for (j = 0; j < r->n_ports; j++) {
			add_port((int)r->ports[j].lo - 1);
			add_port(r->ports[j].lo);
			add_port(r->ports[j].hi);
			add_port((int)r->ports[j].hi + 1);
		}
		for (j = 0; j < r->n_icmp && n_pol_icmp < 256; j++)
			pol_icmp[n_pol_icmp++] = r->icmp[j].type;
	}
}

void gen_collect(const struct policy *pol)
{
	uint32_t t;

	n_pol_prefixes = 0;
	n_pol_ports = 0;
	n_pol_icmp = 0;
	add_segments(pol->segments, pol->n_segments);
	add_rules(pol->rules, pol->n_rules);
	for (t = 0; t < pol->n_tenants; t++) {
		add_segments(pol->tenants[t].segments,
			     pol->tenants[t].n_segments);
		add_rules(pol->tenants[t].rules, pol->tenants[t].n_rules);
	}
}

void gen_release(void)
{
	free(pol_prefixes);
	pol_prefixes = NULL;
	n_pol_prefixes = 0;
	free(pol_ports);
	pol_ports = NULL;
	n_pol_ports = 0;
}

/* Interesting addresses: the edges of every prefix in the pool, just
 * outside them, and random ones. */
static void addr_step(uint8_t *a, unsigned int bytes, int delta)
{
	int i;

	for (i = (int)bytes - 1; i >= 0; i--) {
		if (delta > 0 && a[i]++ != 0xff)
			return;
		if (delta < 0 && a[i]-- != 0)
			return;
	}
}

void gen_pick_addr(uint8_t family, uint8_t *addr)
{
	unsigned int bytes = family == PW_AF_INET ? 4 : 16, i, k, tries = 0;
	struct pw_prefix p;

	memset(addr, 0, 16);
	if (gen_chance(15)) {
		for (i = 0; i < bytes; i++)
			addr[i] = (uint8_t)gen_rnd();
		return;
	}
	do {
		if (n_pol_prefixes && gen_chance(50) && tries++ < 20) {
			p = pol_prefixes[gen_below(n_pol_prefixes)];
			continue;
		}
		gen_require(pw_prefix_parse(prefix_pool[gen_below(N_PREFIX)],
					    &p) == PW_PREFIX_OK);
	} while (p.family != family);
	memcpy(addr, p.addr, bytes);
	k = gen_below(5);
	if (k >= 1 && k <= 3) { /* last address (k 1), after it (2), inside */
		for (i = p.len; i < bytes * 8; i++)
			if (k != 3 || gen_chance(50))
				addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		if (k == 2)
			addr_step(addr, bytes, 1);
	} else if (k == 4) {
		addr_step(addr, bytes, -1); /* before the first */
	}
}

uint16_t gen_pick_port(void)
{
	unsigned int k = gen_below(10);

	if (k < 4 && n_pol_ports)
		return pol_ports[gen_below(n_pol_ports)];
	if (k < 8)
		return (uint16_t)(port_pool[gen_below(N_PORT)] +
				  (int)gen_below(3) - 1);
	return (uint16_t)gen_rnd();
}

uint8_t gen_pick_icmp_type(uint8_t proto)
{
	static const uint8_t v4[] = { 0, 3, 4, 5, 8, 11, 12, 13, 14 };
	static const uint8_t v6[] = { 1,   2,	3,   4,	  128, 129,
				      133, 134, 135, 136, 137, 138 };
	unsigned int k = gen_below(10);

	if (k < 3 && n_pol_icmp)
		return pol_icmp[gen_below(n_pol_icmp)];
	if (k < 9)
		return proto == POLICY_PROTO_ICMPV6 ?
			       v6[gen_below(sizeof(v6))] :
			       v4[gen_below(sizeof(v4))];
	return (uint8_t)gen_rnd();
}

void gen_pick_iface(const struct policy *pol, char *ifname, uint16_t *vlan)
{
	unsigned int k = gen_below(20);

	if (k == 0) {
		strcpy(ifname, "eth3"); /* nobody's */
		*vlan = 0;
	} else if (k < 3) {
		strcpy(ifname, gen_ifnames[gen_below(3)]);
		*vlan = gen_chance(50) ? 0 : (uint16_t)(10 + gen_below(14));
	} else {
		/* mostly a pair some tenant owns */
		const struct policy_tenant *t =
			&pol->tenants[gen_below(pol->n_tenants)];

		strcpy(ifname, t->interfaces[gen_below(t->n_interfaces)].name);
		*vlan = t->n_vlans ? t->vlans[gen_below(t->n_vlans)].id : 0;
	}
}

static const uint8_t proto_pool[] = { 6, 6, 6, 17, 17, 1, 58, 47, 0, 132 };

void gen_pick_packet(const struct policy *pol, struct policy_packet *p)
{
	unsigned int k;

	memset(p, 0, sizeof(*p));
	gen_pick_iface(pol, p->ifname, &p->vlan);
	k = gen_below(100);
	if (k < 2) {
		p->kind = POLICY_PKT_NON_IP;
		return;
	}
	if (k < 3) {
		p->kind = POLICY_PKT_MALFORMED;
		return;
	}
	p->kind = POLICY_PKT_IP;
	p->family = gen_chance(55) ? PW_AF_INET : PW_AF_INET6;
	gen_pick_addr(p->family, p->saddr);
	gen_pick_addr(p->family, p->daddr);
	p->proto = gen_chance(90) ? proto_pool[gen_below(sizeof(proto_pool))] :
				    (uint8_t)gen_rnd();
	p->l4 = true;
	p->sport = (uint16_t)gen_rnd();
	if (gen_chance(80)) {
		uint16_t base = port_pool[gen_below(N_PORT)];

		p->dport = (uint16_t)(base + (int)gen_below(3) - 1);
	} else {
		p->dport = (uint16_t)gen_rnd();
	}
	p->icmp_type = gen_chance(50) ? (uint8_t)(gen_chance(50) ? 8 : 128) :
					(uint8_t)gen_rnd();
	/* neighbour and multicast listener discovery now and then (IPv6,
	 * ICMPv6 133..137 with hop limit 255; 130..132 and 143 with hop
	 * limit 1, a Router Alert and a link-local or unspecified source) */
	if (p->family == PW_AF_INET6 && gen_chance(20))
		p->icmp_type = (uint8_t)(130 + gen_below(9));
	if (p->family == PW_AF_INET6 && gen_chance(5))
		p->icmp_type = 143;
	if (p->family == PW_AF_INET6) {
		k = gen_below(3);
		p->hop_limit = k == 0 ? 255 : k == 1 ? 1 : 64;
		p->mld_alert = gen_chance(50);
		if (gen_chance(15)) {
			memset(p->saddr, 0, sizeof(p->saddr));
			if (gen_chance(70)) {
				p->saddr[0] = 0xfe;
				p->saddr[1] = 0x80;
				p->saddr[15] = (uint8_t)gen_rnd();
			}
		}
	}
}

void gen_print_packet(const struct policy_packet *p)
{
	struct pw_prefix s = { .family = p->family },
			 d = { .family = p->family };
	char a[PW_PREFIX_STRLEN], b[PW_PREFIX_STRLEN];

	s.len = d.len = (uint8_t)pw_family_bits(p->family ? p->family : 4);
	memcpy(s.addr, p->saddr, 16);
	memcpy(d.addr, p->daddr, 16);
	fprintf(stderr,
		"packet: if %s vlan %u kind %d %s -> %s proto %u dport %u "
		"icmp %u hops %u\n",
		p->ifname, p->vlan, p->kind,
		p->kind == POLICY_PKT_IP ?
			pw_prefix_str(&s, true, a, sizeof(a)) :
			"-",
		p->kind == POLICY_PKT_IP ?
			pw_prefix_str(&d, true, b, sizeof(b)) :
			"-",
		p->proto, p->dport, p->icmp_type, p->hop_limit);
}
