// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the compiler back end (policy/compile.[ch]): exact map
 * contents for small policies, service classes and prefix decomposition,
 * tuple placement, and a differential test holding the compiled maps,
 * looked up as the datapath does (policy_compiled_decide()), equal to the
 * reference evaluator (policy_eval_packet()) on random policies and
 * packets.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/benchgen.h"
#include "policy/compile.h"
#include "policy/eval.h"
#include "fixtures.h"
#include "gen.h"

struct fixture {
	struct policy *pol;
	struct policy_analysis *an;
	struct policy_compiled *c;
};

/* Load, analyse and compile @yaml; any failure fails the test with the
 * diagnostics. */
static void build(struct fixture *f, const char *yaml)
{
	memset(f, 0, sizeof(*f));
	f->pol = fixture_load_ok(yaml);
	ck_assert_int_eq(policy_analyze(f->pol, &f->an), 0);
	ck_assert_int_eq(policy_compile(f->an, 7, &f->c), 0);
}

/* build() with compiler options */
static void build_opts(struct fixture *f, const char *yaml,
		       const struct policy_compile_opts *o)
{
	memset(f, 0, sizeof(*f));
	f->pol = fixture_load_ok(yaml);
	ck_assert_int_eq(policy_analyze(f->pol, &f->an), 0);
	ck_assert_int_eq(policy_compile_opts(f->an, 7, o, &f->c), 0);
}

static void release(struct fixture *f)
{
	policy_compiled_free(f->c);
	policy_analysis_free(f->an);
	policy_free(f->pol);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static struct policy_packet mkpkt(const char *ifname, uint16_t vlan,
				  const char *src, const char *dst, int proto,
				  uint16_t dport)
{
	struct policy_packet p;

	memset(&p, 0, sizeof(p));
	strcpy(p.ifname, ifname);
	p.vlan = vlan;
	ck_assert_int_eq(policy_packet_set_addrs(&p, src, dst), 0);
	p.proto = (uint8_t)proto;
	p.l4 = true;
	p.sport = 40000;
	p.dport = dport;
	p.icmp_type = (uint8_t)dport;
	p.len = 100;
	return p;
}

static const struct policy_svc_entry *svc_at(const struct policy_compiled *c,
					     uint32_t i)
{
	ck_assert_uint_lt(i, c->n_svcs);
	return &c->svcs[i];
}

static void check_svc(const struct policy_svc_entry *e, uint16_t tenant,
		      uint8_t proto, uint16_t point, uint32_t prefixlen,
		      uint32_t cls)
{
	ck_assert_uint_eq(be16(e->key.tenant_be), tenant);
	ck_assert_uint_eq(e->key.proto, proto);
	ck_assert_uint_eq(be16(e->key.point_be), point);
	ck_assert_uint_eq(e->key.prefixlen, prefixlen);
	ck_assert_uint_eq(e->val.svc_class, cls);
}

/* ---- exact contents ---------------------------------------------------- */

static const char small_yaml[] = "version: 1\n"
				 "settings:\n"
				 "  unmatched: allow\n"
				 "  log_rate: 5\n"
				 "  conntrack:\n"
				 "    timeouts: {udp: 10}\n"
				 "tenants:\n"
				 "  - name: acme\n"
				 "    id: 3\n"
				 "    interfaces: [acme0, acme1]\n"
				 "    vlans: [100, 7]\n"
				 "    mode: audit\n"
				 "    segments:\n"
				 "      web: [10.1.1.0/24]\n"
				 "      db:  [10.1.2.0/24]\n"
				 "    rules:\n"
				 "      - name: web-to-db\n"
				 "        from: web\n"
				 "        to: db\n"
				 "        proto: tcp\n"
				 "        ports: [5432]\n"
				 "        action: allow\n"
				 "        log: true\n";

START_TEST(test_small_exact)
{
	struct fixture f;
	const struct policy_decision_entry *d;
	const struct policy_addr_entry *a;
	static const uint8_t net1[16] = { 10, 1, 1, 0 };
	static const uint8_t net2[16] = { 10, 1, 2, 0 };

	build(&f, small_yaml);

	/* pw_iface: by name, vlan */
	ck_assert_uint_eq(f.c->n_ifaces, 4);
	ck_assert_str_eq(f.c->ifaces[0].ifname, "acme0");
	ck_assert_uint_eq(f.c->ifaces[0].vlan, 7);
	ck_assert_uint_eq(f.c->ifaces[0].tenant, 3);
	ck_assert_str_eq(f.c->ifaces[1].ifname, "acme0");
	ck_assert_uint_eq(f.c->ifaces[1].vlan, 100);
	ck_assert_str_eq(f.c->ifaces[3].ifname, "acme1");
	ck_assert_uint_eq(f.c->ifaces[3].vlan, 100);

	/* pw_tenant */
	ck_assert_uint_eq(f.c->n_tenants, 1);
	ck_assert_uint_eq(f.c->tenants[0].id, 3);
	ck_assert_uint_eq(f.c->tenants[0].val.present, 1);
	ck_assert_uint_eq(f.c->tenants[0].val.default_action, PW_ACTION_DENY);
	ck_assert_uint_eq(f.c->tenants[0].val.flags,
			  PW_TENANT_AUDIT | PW_TENANT_LOG_DEFAULT |
				  PW_TENANT_TUPLES);
	ck_assert_uint_eq(f.c->tenants[0].val.tuples, PW_TUPLE_BIT(0, 0, 0));

	/* pw_addr: one entry per prefix, classes after the two defaults */
	ck_assert_uint_eq(f.c->n_addrs, 2);
	a = &f.c->addrs[0];
	ck_assert_uint_eq(a->key.prefixlen, 32 + 24);
	ck_assert_uint_eq(be16(a->key.tenant_be), 3);
	ck_assert_uint_eq(a->key.family, PW_FAMILY_IPV4);
	ck_assert_mem_eq(a->key.addr, net1, 16);
	ck_assert_uint_eq(a->val.class_id, 2);
	ck_assert_uint_eq(a->val.segment_id, 0);
	a = &f.c->addrs[1];
	ck_assert_mem_eq(a->key.addr, net2, 16);
	ck_assert_uint_eq(a->val.class_id, 3);
	ck_assert_uint_eq(a->val.segment_id, 1);
	ck_assert_uint_eq(f.c->n_segments, 2);
	ck_assert_str_eq(f.c->segments[0]->name, "web");
	ck_assert_str_eq(f.c->segments[1]->name, "db");

	/* pw_svc: tcp/5432, one host prefix */
	ck_assert_uint_eq(f.c->n_svcs, 1);
	check_svc(svc_at(f.c, 0), 3, 6, 5432, 40, 1);

	/* pw_decision: the single key */
	ck_assert_uint_eq(f.c->n_decisions, 1);
	d = &f.c->decisions[0];
	ck_assert_uint_eq(d->key.tenant, 3);
	ck_assert_uint_eq(d->key.src_class, 2);
	ck_assert_uint_eq(d->key.dst_class, 3);
	ck_assert_uint_eq(d->key.svc_class, 1);
	ck_assert_uint_eq(d->val.rule_id, 0);
	ck_assert_uint_eq(f.c->tenant_info[0].tuples,
			  POLICY_TUPLE_BIT(0, 0, 0));

	/* pw_rule, pw_settings */
	ck_assert_uint_eq(f.c->n_rules, 1);
	ck_assert_uint_eq(f.c->rules[0].action, PW_ACTION_ALLOW);
	ck_assert_uint_eq(f.c->rules[0].flags, PW_RULE_LOG);
	ck_assert_uint_eq(f.c->rules[0].tenant, 3);
	ck_assert_uint_eq(f.c->settings.generation, 7);
	ck_assert_uint_eq(f.c->settings.unmatched, PW_ACTION_ALLOW);
	ck_assert_uint_eq(f.c->settings.non_ip, PW_ACTION_ALLOW);
	ck_assert_uint_eq(f.c->settings.log_rate, 5);
	ck_assert_uint_eq(f.c->settings.timeout_ns[PW_TIMEOUT_UDP],
			  10ULL * 1000000000ULL);
	ck_assert_uint_eq(f.c->settings.timeout_ns[PW_TIMEOUT_TCP_ESTABLISHED],
			  7200ULL * 1000000000ULL);

	/* Sizes: key + value times entries */
	ck_assert_uint_eq(f.c->maps[POLICY_MAP_DECISION].entries, 1);
	ck_assert_uint_eq(f.c->maps[POLICY_MAP_DECISION].bytes, 20);
	ck_assert_uint_eq(f.c->maps[POLICY_MAP_ADDR].bytes, 2 * 32);
	ck_assert_uint_eq(f.c->maps[POLICY_MAP_SVC].bytes, 16);
	ck_assert_uint_eq(f.c->maps[POLICY_MAP_IFACE].bytes, 4 * (8 + 4));
	ck_assert_uint_eq(f.c->maps[POLICY_MAP_SETTINGS].bytes, 4 + 72);
	ck_assert_uint_eq(f.c->total_bytes,
			  20 + 64 + 16 + 48 + 12 + 12 + 4 + 72);
	release(&f);
}
END_TEST

START_TEST(test_small_decide)
{
	struct policy_compiled_verdict v;
	struct policy_packet p;
	struct fixture f;

	build(&f, small_yaml);
	p = mkpkt("acme1", 7, "10.1.1.9", "10.1.2.3", 6, 5432);
	policy_compiled_decide(f.c, &p, &v);
	ck_assert_int_eq(v.verdict, PW_VERDICT_ALLOW);
	ck_assert_int_eq(v.reason, PW_REASON_POLICY);
	ck_assert_uint_eq(v.rule_id, 0);
	ck_assert_uint_eq(v.tenant, 3);
	ck_assert_uint_eq(v.src_segment, 0);
	ck_assert_uint_eq(v.dst_segment, 1);
	ck_assert(v.log);

	/* wrong port: default deny, but the tenant audits */
	p.dport = 5433;
	policy_compiled_decide(f.c, &p, &v);
	ck_assert_int_eq(v.verdict, PW_VERDICT_AUDIT);
	ck_assert_int_eq(v.action, PW_ACTION_DENY);
	ck_assert_int_eq(v.reason, PW_REASON_DEFAULT);
	ck_assert_uint_eq(v.rule_id, PW_RULE_NONE);
	ck_assert_uint_eq(v.svc_class, 0);

	/* untagged on acme0: nobody owns it, unmatched: allow */
	p = mkpkt("acme0", 0, "10.1.1.9", "10.1.2.3", 6, 5432);
	policy_compiled_decide(f.c, &p, &v);
	ck_assert_int_eq(v.verdict, PW_VERDICT_ALLOW);
	ck_assert_int_eq(v.reason, PW_REASON_UNMATCHED);
	ck_assert_uint_eq(v.tenant, PW_TENANT_NONE);

	/* external addresses: default classes, no segment */
	ck_assert_int_ne(
		policy_packet_set_addrs(&p, "192.0.2.1", "2001:db8::1"), 0);
	p = mkpkt("acme0", 100, "fd00::1", "fd00::2", 6, 5432);
	policy_compiled_decide(f.c, &p, &v);
	ck_assert_uint_eq(v.src_class, PW_CLASS_DEFAULT_V6);
	ck_assert_uint_eq(v.dst_class, PW_CLASS_DEFAULT_V6);
	ck_assert_uint_eq(v.src_segment, PW_SEGMENT_NONE);
	release(&f);
}
END_TEST

static int fake_ifindex(const char *name, void *ctx, uint32_t *ifindex)
{
	(void)ctx;
	if (!strcmp(name, "acme0")) {
		*ifindex = 11;
		return 0;
	}
	if (!strcmp(name, "acme1")) {
		*ifindex = 12;
		return 0;
	}
	return -ENODEV;
}

START_TEST(test_iface_key)
{
	struct policy_iface_entry e = { .ifname = "acme1",
					.vlan = 100,
					.tenant = 3 };
	struct pw_iface_key k;

	ck_assert_int_eq(policy_iface_key(&e, fake_ifindex, NULL, &k), 0);
	ck_assert_uint_eq(k.ifindex, 12);
	ck_assert_uint_eq(k.vlan, 100);
	ck_assert_uint_eq(k.pad, 0);
	strcpy(e.ifname, "nope0");
	ck_assert_int_eq(policy_iface_key(&e, fake_ifindex, NULL, &k), -ENODEV);
}
END_TEST

/* ---- services ---------------------------------------------------------- */

START_TEST(test_port_range_prefixes)
{
	struct fixture f;

	build(&f,
	      "version: 1\n"
	      "tenants:\n"
	      "  - name: t\n"
	      "    id: 1\n"
	      "    interfaces: [e0]\n"
	      "    rules:\n"
	      "      - {name: a, from: any, to: any, proto: tcp,\n"
	      "         ports: [\"80-90\"], action: allow}\n"
	      "      - {name: b, from: any, to: any, proto: udp,\n"
	      "         ports: [\"1024-65535\"], action: allow}\n"
	      "      - {name: c, from: any, to: any, proto: icmp,\n"
	      "         action: allow}\n"
	      "      - {name: d, from: any, to: any, proto: 47,\n"
	      "         action: allow}\n"
	      "      - {name: e, from: any, to: any, proto: icmpv6,\n"
	      "         icmp: [echo-request, echo-reply], action: allow}\n");
	/* sorted by proto, point, prefixlen */
	ck_assert_uint_eq(f.c->n_svcs, 1 + 3 + 6 + 1 + 1);
	/* classes number in key order: icmp 1, tcp 2, udp 3, 47 4, v6 5 */
	check_svc(svc_at(f.c, 0), 1, 1, 0, 24, 1); /* icmp: whole proto */
	check_svc(svc_at(f.c, 1), 1, 6, 80, 24 + 13, 2); /* 80-87 */
	check_svc(svc_at(f.c, 2), 1, 6, 88, 24 + 15, 2); /* 88-89 */
	check_svc(svc_at(f.c, 3), 1, 6, 90, 24 + 16, 2); /* 90 */
	check_svc(svc_at(f.c, 4), 1, 17, 1024, 24 + 6, 3);
	check_svc(svc_at(f.c, 5), 1, 17, 2048, 24 + 5, 3);
	check_svc(svc_at(f.c, 6), 1, 17, 4096, 24 + 4, 3);
	check_svc(svc_at(f.c, 7), 1, 17, 8192, 24 + 3, 3);
	check_svc(svc_at(f.c, 8), 1, 17, 16384, 24 + 2, 3);
	check_svc(svc_at(f.c, 9), 1, 17, 32768, 24 + 1, 3);
	check_svc(svc_at(f.c, 10), 1, 47, 0, 24, 4); /* proto 47: whole */
	check_svc(svc_at(f.c, 11), 1, 58, 128, 24 + 15, 5); /* 128-129 */
	ck_assert_uint_eq(f.c->tenant_info[0].n_svc_classes, 6);

	/* Every rule is src = dst = any: only the (*, *, v) tuple */
	ck_assert_uint_eq(f.c->tenant_info[0].tuples,
			  POLICY_TUPLE_BIT(1, 1, 0));
	ck_assert_uint_eq(f.c->n_decisions, 5);

	/* Executor LPM: 91 is outside, 1023 too, 65535 inside */
	ck_assert_ptr_null(policy_compiled_svc_lookup(f.c, 1, 6, 91));
	ck_assert_ptr_null(policy_compiled_svc_lookup(f.c, 1, 6, 79));
	ck_assert_ptr_null(policy_compiled_svc_lookup(f.c, 1, 17, 1023));
	ck_assert_uint_eq(
		policy_compiled_svc_lookup(f.c, 1, 17, 65535)->val.svc_class,
		3);
	ck_assert_uint_eq(
		policy_compiled_svc_lookup(f.c, 1, 1, 255)->val.svc_class, 1);
	ck_assert_ptr_null(policy_compiled_svc_lookup(f.c, 1, 58, 130));
	ck_assert_ptr_null(policy_compiled_svc_lookup(f.c, 2, 6, 80));
	release(&f);
}
END_TEST

START_TEST(test_svc_classes_overlap)
{
	const struct policy_compiled_tenant *ti;
	struct fixture f;
	uint32_t c80, c85, c91, c53, c_udp;

	build(&f, "version: 1\n"
		  "tenants:\n"
		  "  - name: t\n"
		  "    interfaces: [e0]\n"
		  "    rules:\n"
		  "      - {name: r0, from: any, to: any, proto: tcp,\n"
		  "         ports: [\"80-90\"], action: allow}\n"
		  "      - {name: r1, from: any, to: any, proto: tcp,\n"
		  "         ports: [\"85-100\", 443], action: deny}\n"
		  "      - {name: r2, from: any, to: any, proto: udp,\n"
		  "         ports: [53], action: allow}\n"
		  "      - {name: r3, from: any, to: any, proto: udp,\n"
		  "         action: reject}\n"
		  "      - {name: r4, from: any, to: any, action: allow}\n");
	ti = &f.c->tenant_info[0];
	/* {r0} {r0,r1} {r1} ({r1} again at 443) {r2,r3} {r3} */
	ck_assert_uint_eq(ti->n_svc_classes, 6);
#define SVC(proto, point) \
	policy_compiled_svc_lookup(f.c, 1, proto, point)->val.svc_class
	c80 = SVC(6, 80);
	c85 = SVC(6, 85);
	c91 = SVC(6, 91);
	c53 = SVC(17, 53);
	c_udp = SVC(17, 54);
	ck_assert_uint_eq(SVC(6, 84), c80);
	ck_assert_uint_eq(SVC(6, 90), c85);
	ck_assert_uint_eq(SVC(6, 100), c91);
	ck_assert_uint_eq(SVC(6, 443), c91);
	ck_assert_uint_eq(SVC(17, 52), c_udp);
	ck_assert_uint_eq(SVC(17, 0), c_udp);
	ck_assert_uint_eq(SVC(17, 65535), c_udp);
#undef SVC
	ck_assert_uint_ne(c80, c85);
	ck_assert_uint_ne(c85, c91);
	ck_assert_uint_ne(c53, c_udp);
	/* classes are numbered by first occurrence in key order */
	ck_assert_uint_eq(c80, 1);
	ck_assert_uint_eq(c85, 2);
	ck_assert_uint_eq(c91, 3);
	ck_assert_uint_eq(c_udp, 4);
	ck_assert_uint_eq(c53, 5);
	ck_assert_ptr_null(policy_compiled_svc_lookup(f.c, 1, 6, 101));
	ck_assert_ptr_null(policy_compiled_svc_lookup(f.c, 1, 6, 442));

	/* r4 (proto any) is the only svc = * rule */
	ck_assert_uint_eq(
		ti->tuple_entries[POLICY_TUPLE_SRC_ANY | POLICY_TUPLE_DST_ANY |
				  POLICY_TUPLE_SVC_ANY],
		1);
	/* (*,*,c85) keeps r0, the first of r0 and r1 */
	{
		struct pw_decision_key k = { .tenant = 1,
					     .src_class = PW_CLASS_ANY,
					     .dst_class = PW_CLASS_ANY,
					     .svc_class = c85 };

		ck_assert_uint_eq(
			policy_compiled_decision(f.c, &k)->val.rule_id, 0);
		k.svc_class = c53;
		ck_assert_uint_eq(
			policy_compiled_decision(f.c, &k)->val.rule_id, 2);
	}
	release(&f);
}
END_TEST

/* ---- tuples ------------------------------------------------------------ */

static uint32_t class_of(const struct fixture *f, uint16_t tenant,
			 const char *addr)
{
	struct pw_prefix p;
	const struct policy_addr_entry *e;

	ck_assert_int_eq(pw_prefix_parse(addr, &p), PW_PREFIX_OK);
	e = policy_compiled_addr_lookup(f->c, tenant, p.family, p.addr);
	if (!e)
		return p.family == PW_AF_INET ? PW_CLASS_DEFAULT_V4 :
						PW_CLASS_DEFAULT_V6;
	return e->val.class_id;
}

START_TEST(test_tuples_any)
{
	const struct policy_compiled_tenant *ti;
	const struct policy_decision_entry *d;
	struct pw_decision_key k = { .tenant = 1 };
	struct fixture f;
	uint32_t web, db, ext;

	build(&f, "version: 1\n"
		  "segments:\n"
		  "  dns: [10.0.0.53]\n"
		  "rules:\n"
		  "  - {name: dns, from: any, to: dns, proto: udp,\n"
		  "     ports: [53], action: allow}\n"
		  "tenants:\n"
		  "  - name: a\n"
		  "    interfaces: [e0]\n"
		  "    segments:\n"
		  "      web: [10.1.1.0/24]\n"
		  "      db: [10.1.2.0/24]\n"
		  "    rules:\n"
		  "      - {name: web-any, from: web, to: any, action: allow}\n"
		  "      - {name: out, from: any, to: external, proto: tcp,\n"
		  "         action: deny}\n"
		  "  - name: b\n"
		  "    interfaces: [e1]\n"
		  "    rules:\n"
		  "      - {name: all, from: any, to: any, action: reject}\n");
	ti = &f.c->tenant_info[0];
	web = class_of(&f, 1, "10.1.1.1");
	db = class_of(&f, 1, "10.1.2.1");
	ext = class_of(&f, 1, "192.0.2.1");
	ck_assert_uint_eq(ext, PW_CLASS_DEFAULT_V4);

	/* dns: (*, dns, udp53); web-any: (web, *, *); out: (*, ext.., tcp) */
	ck_assert_uint_eq(ti->tuples, POLICY_TUPLE_BIT(1, 0, 0) |
					      POLICY_TUPLE_BIT(0, 1, 1));
	k.src_class = web;
	k.dst_class = PW_CLASS_ANY;
	k.svc_class = PW_CLASS_ANY;
	d = policy_compiled_decision(f.c, &k);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->val.rule_id, 1);
	/* `external`: every class outside a's own segments: both defaults
	 * and dns (a global segment) */
	k.src_class = PW_CLASS_ANY;
	k.dst_class = class_of(&f, 1, "10.0.0.53");
	k.svc_class = 1; /* tcp (proto 6 sorts first); udp/53 is 2 */
	ck_assert_uint_eq(policy_compiled_decision(f.c, &k)->val.rule_id, 2);
	k.dst_class = PW_CLASS_DEFAULT_V6;
	ck_assert_uint_eq(policy_compiled_decision(f.c, &k)->val.rule_id, 2);
	k.dst_class = db;
	ck_assert_ptr_null(policy_compiled_decision(f.c, &k));
	/* the global rule is in both tenants */
	k.tenant = 2;
	k.src_class = PW_CLASS_ANY;
	k.dst_class = class_of(&f, 2, "10.0.0.53");
	k.svc_class = 1;
	ck_assert_uint_eq(policy_compiled_decision(f.c, &k)->val.rule_id, 0);
	/* b's any/any/any rule: one entry */
	ck_assert_uint_eq(f.c->tenant_info[1].tuple_entries[7], 1);
	ck_assert_uint_eq(f.c->tenant_info[1].n_decisions, 2);
	ck_assert_uint_eq(f.c->rules[0].tenant, 0);
	ck_assert_uint_eq(f.c->rules[3].tenant, 2);
	release(&f);
}
END_TEST

/* The external wildcard: from the eighth external class on, a rule to
 * `external` is one entry, not one per external class. */
static char *ext_policy(unsigned int hosts)
{
	char *yaml = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&yaml, &len);

	ck_assert_ptr_nonnull(f);
	fprintf(f, "version: 1\n"
		   "tenants:\n"
		   "  - name: a\n"
		   "    interfaces: [e0]\n"
		   "    segments:\n"
		   "      web: [10.1.1.0/24]\n"
		   "    rules:\n");
	/* each host an external class of its own */
	for (i = 0; i < hosts; i++)
		fprintf(f,
			"      - {name: h%zu, from: web, to: 192.0.2.%zu, proto: tcp,\n"
			"         ports: [22], action: deny}\n",
			i, i + 1);
	fprintf(f, "      - {name: out, from: web, to: external, proto: tcp,\n"
		   "         ports: [443], action: allow}\n");
	fclose(f);
	return yaml;
}

START_TEST(test_ext_wildcard)
{
	const struct policy_compiled_tenant *ti;
	struct policy_compiled_verdict v;
	struct policy_packet p;
	struct pw_decision_key k = { .tenant = 1 };
	struct fixture f;
	uint32_t web, lit, i;
	char *yaml;

	/* 2 defaults + 5 hosts: 7 external classes, filed one by one
	 * (IPv4 only: web has no IPv6 class to pair with) */
	yaml = ext_policy(5);
	build(&f, yaml);
	ti = &f.c->tenant_info[0];
	ck_assert_uint_eq(ti->n_ext_classes, 7);
	ck_assert(!ti->ext);
	ck_assert(!(f.c->tenants[0].val.flags & PW_TENANT_EXT));
	ck_assert_uint_eq(f.c->n_decisions, 5 + 6);
	ck_assert_uint_eq(class_of(&f, 1, "192.0.2.1") & PW_CLASS_EXTERNAL, 0);
	release(&f);
	free(yaml);

	/* 8: the wildcard; 'out' is one entry (web, EXT, tcp/443) */
	yaml = ext_policy(6);
	build(&f, yaml);
	ti = &f.c->tenant_info[0];
	ck_assert_uint_eq(ti->n_ext_classes, 8);
	ck_assert(ti->ext);
	ck_assert_uint_eq(f.c->tenants[0].val.flags, PW_TENANT_LOG_DEFAULT |
							     PW_TENANT_TUPLES |
							     PW_TENANT_EXT);
	ck_assert_uint_eq(f.c->tenants[0].val.ext_tuples,
			  PW_EXT_TUPLE_BIT(PW_SEL_EXACT, PW_SEL_EXT, 0));
	ck_assert_uint_eq(f.c->tenants[0].val.tuples, PW_TUPLE_BIT(0, 0, 0));
	ck_assert_uint_eq(ti->ext_tuple_entries[3], 1);
	ck_assert_uint_eq(f.c->n_decisions, 6 + 1);
	web = class_of(&f, 1, "10.1.1.1");
	lit = class_of(&f, 1, "192.0.2.3");
	ck_assert_uint_eq(web & PW_CLASS_EXTERNAL, 0);
	ck_assert_uint_ne(lit & PW_CLASS_EXTERNAL, 0);
	ck_assert_uint_eq(class_of(&f, 1, "198.51.100.1"), PW_CLASS_DEFAULT_V4);
	k.src_class = web;
	k.dst_class = PW_CLASS_EXT;
	k.svc_class = policy_compiled_svc_lookup(f.c, 1, 6, 443)->val.svc_class;
	ck_assert_uint_eq(policy_compiled_decision(f.c, &k)->val.rule_id, 6);
	/* a host's own rule wins on 22, the wildcard's on 443, through the
	 * tagged class and through the default class alike */
	for (i = 0; i < 2; i++) {
		p = mkpkt("e0", 0, "10.1.1.9", i ? "192.0.2.3" : "203.0.113.1",
			  6, 443);
		policy_compiled_decide(f.c, &p, &v);
		ck_assert_uint_eq(v.rule_id, 6);
		ck_assert_uint_eq(v.ext_hits, PW_EXT_TUPLE_BIT(PW_SEL_EXACT,
							       PW_SEL_EXT, 0));
		ck_assert_uint_eq(v.hits, 0);
	}
	p = mkpkt("e0", 0, "10.1.1.9", "192.0.2.3", 6, 22);
	policy_compiled_decide(f.c, &p, &v);
	ck_assert_uint_eq(v.rule_id, 2);
	ck_assert_uint_eq(v.hits, PW_TUPLE_BIT(0, 0, 0));
	/* never, by option */
	policy_compiled_free(f.c);
	{
		struct policy_compile_opts o = { .ext_min_classes =
							 UINT32_MAX };

		ck_assert_int_eq(policy_compile_opts(f.an, 7, &o, &f.c), 0);
	}
	ck_assert(!f.c->tenant_info[0].ext);
	ck_assert_uint_eq(f.c->n_decisions, 6 + 7);
	release(&f);
	free(yaml);
}
END_TEST

START_TEST(test_reductions)
{
	struct fixture f;

	/* r1 is dominated by r0 on (*, *, tcp/22); v6 -> v4 pairs never
	 * occur */
	build(&f, "version: 1\n"
		  "tenants:\n"
		  "  - name: a\n"
		  "    interfaces: [e0]\n"
		  "    segments:\n"
		  "      web: [10.1.1.0/24, \"fd00:1::/64\"]\n"
		  "      db: [10.1.2.0/24, \"fd00:2::/64\"]\n"
		  "    rules:\n"
		  "      - {name: r0, from: any, to: any, proto: tcp,\n"
		  "         ports: [22], action: deny}\n"
		  "      - {name: r1, from: web, to: db, proto: tcp,\n"
		  "         ports: [22], action: allow}\n"
		  "      - {name: r2, from: web, to: db, proto: tcp,\n"
		  "         ports: [22, 80], action: allow}\n");
	/* r1: 2 src x 2 dst x 1 svc raw; r2: 2 x 2 x 2, of which the
	 * same-family pairs on tcp/80 survive */
	ck_assert_uint_eq(f.c->tenant_info[0].n_decisions_raw, 1 + 4 + 8);
	ck_assert_uint_eq(f.c->n_decisions, 1 + 2);
	release(&f);
}
END_TEST

START_TEST(test_deterministic)
{
	struct fixture f, g;

	build(&f, small_yaml);
	build(&g, small_yaml);
	ck_assert_uint_eq(f.c->n_decisions, g.c->n_decisions);
	ck_assert_mem_eq(f.c->decisions, g.c->decisions,
			 f.c->n_decisions * sizeof(*f.c->decisions));
	ck_assert_mem_eq(f.c->addrs, g.c->addrs,
			 f.c->n_addrs * sizeof(*f.c->addrs));
	ck_assert_mem_eq(f.c->svcs, g.c->svcs,
			 f.c->n_svcs * sizeof(*f.c->svcs));
	release(&f);
	release(&g);
}
END_TEST

/* ---- refusal: more decision entries than allowed -------------------------- */

static const char too_big_yaml[] =
	"version: 1\n"
	"rules:\n"
	"  - {name: g, from: any, to: 10.9.9.9, proto: udp, ports: [53],\n"
	"     action: allow}\n"
	"tenants:\n"
	"  - name: a\n"
	"    interfaces: [e0]\n"
	"    segments:\n"
	"      web: [10.1.1.0/24]\n"
	"      db: [10.1.2.0/24]\n"
	"    rules:\n"
	"      - {name: one, from: web, to: db, proto: tcp, ports: [22],\n"
	"         action: allow}\n"
	"      - {name: wide, from: [web, db], to: [web, db, 192.0.2.1],\n"
	"         proto: tcp, ports: [22, \"80-90\"], action: allow}\n"
	"  - name: b\n"
	"    interfaces: [e1]\n"
	"    segments:\n"
	"      web: [10.1.1.0/24]\n"
	"    rules:\n"
	"      - {name: out, from: web, to: external, proto: tcp,\n"
	"         ports: [22, 80, 443], action: allow}\n";

/* Compile @yaml allowing @max decision entries: -E2BIG and exactly the
 * diagnostics @want. */
static void expect_too_big(const char *yaml, uint64_t max, const char *want)
{
	struct policy_compile_opts o = { .max_decisions = max };
	struct policy_compiled *c = (struct policy_compiled *)1;
	struct pw_diags diags;
	struct fixture f;
	char *text;

	memset(&f, 0, sizeof(f));
	f.pol = fixture_load_ok(yaml);
	ck_assert_int_eq(policy_analyze(f.pol, &f.an), 0);
	pw_diags_init(&diags);
	o.diags = &diags;
	ck_assert_int_eq(policy_compile_opts(f.an, 1, &o, &c), -E2BIG);
	ck_assert_ptr_null(c);
	text = fixture_diags_text(&diags);
	ck_assert_msg(!strcmp(text, want), "--- expected:\n%s--- got:\n%s",
		      want, text);
	free(text);
	pw_diags_free(&diags);
	release(&f);
}

START_TEST(test_too_big)
{
	struct policy_compile_opts o = { .max_decisions = 16 };
	struct policy_compiled *c;
	struct pw_diags diags;
	struct fixture f;

	/* Exactly at the limit: compiles (a: g 1 + one 1 + wide 12, one of
	 * which is one's; b: g 1 + out 2, one per IPv4 external class). */
	build(&f, too_big_yaml);
	ck_assert_uint_eq(f.c->n_decisions, 16);
	pw_diags_init(&diags);
	o.diags = &diags;
	ck_assert_int_eq(policy_compile_opts(f.an, 1, &o, &c), 0);
	ck_assert_uint_eq(diags.count, 0);
	policy_compiled_set_generation(c, 9);
	ck_assert_uint_eq(c->generation, 9);
	ck_assert_uint_eq(c->settings.generation, 9);
	policy_compiled_free(c);
	pw_diags_free(&diags);
	release(&f);

	/* Tenant a alone passes 10: its rules, most costly first; 'wide'
	 * covers 2 x 3 classes of IPv4 x 2 services. */
	expect_too_big(
		too_big_yaml, 10,
		"test.yaml:3:5: error: rule 'g' needs up to 1 decision entry in tenant 'a': it covers 1 source, 1 destination and 1 service class\n"
		"test.yaml:6:5: error: tenant 'a' needs more than 10 decision entries, plumwall's limit for a datapath map; the rules that need the most: 'wide' (12), 'g' (1), 'one' (1) (a rule needs an entry per source x destination x service class it covers: overlapping port ranges make many service classes, addresses named by many rules many address classes; plumwall show lists them)\n"
		"test.yaml:12:9: error: rule 'one' needs up to 1 decision entry in tenant 'a': it covers 1 source, 1 destination and 1 service class\n"
		"test.yaml:14:9: error: rule 'wide' needs up to 12 decision entries in tenant 'a': it covers 2 source, 3 destination and 2 service classes\n");
	/* Each tenant fits 15, the policy does not: the whole policy's
	 * most costly rules, a global one once per tenant. 'out' covers
	 * both defaults and 10.9.9.9 (external in b), of which the IPv4
	 * ones pair with web. */
	expect_too_big(
		too_big_yaml, 15,
		"test.yaml: error: the policy needs 16 decision entries, more than 15, plumwall's limit for a datapath map; the rules that need the most: 'wide' in tenant 'a' (12), 'out' in tenant 'b' (2), 'g' in tenant 'a' (1), 'one' in tenant 'a' (1), 'g' in tenant 'b' (1) (a rule needs an entry per source x destination x service class it covers: overlapping port ranges make many service classes, addresses named by many rules many address classes; plumwall show lists them)\n"
		"test.yaml:3:5: error: rule 'g' needs up to 1 decision entry in tenant 'a': it covers 1 source, 1 destination and 1 service class\n"
		"test.yaml:3:5: error: rule 'g' needs up to 1 decision entry in tenant 'b': it covers 1 source, 1 destination and 1 service class\n"
		"test.yaml:12:9: error: rule 'one' needs up to 1 decision entry in tenant 'a': it covers 1 source, 1 destination and 1 service class\n"
		"test.yaml:14:9: error: rule 'wide' needs up to 12 decision entries in tenant 'a': it covers 2 source, 3 destination and 2 service classes\n"
		"test.yaml:21:9: error: rule 'out' needs up to 2 decision entries in tenant 'b': it covers 1 source, 3 destination and 1 service class\n");
}
END_TEST

/* ---- differential test --------------------------------------------------- */

static int compare_one(const struct fixture *f, const struct policy_packet *p)
{
	struct policy_compiled_verdict cv;
	struct policy_eval_result ev;
	uint32_t es, ed;

	policy_compiled_decide(f->c, p, &cv);
	policy_eval_packet(f->pol, p, &ev);
	es = ev.src_segment ? ev.src_segment->order : PW_SEGMENT_NONE;
	ed = ev.dst_segment ? ev.dst_segment->order : PW_SEGMENT_NONE;
	if (cv.verdict == ev.verdict && cv.rule_id == ev.rule_id &&
	    cv.reason == ev.reason && cv.action == ev.action &&
	    cv.log == ev.log &&
	    cv.tenant == (ev.tenant ? ev.tenant->id : PW_TENANT_NONE) &&
	    (ev.reason != PW_REASON_POLICY && ev.reason != PW_REASON_DEFAULT ?
		     true :
		     cv.src_segment == es && cv.dst_segment == ed))
		return 0;
	gen_print_packet(p);
	fprintf(stderr,
		"compiled: verdict %s reason %s rule %u tenant %u seg %u/%u "
		"classes %u/%u/%u hits %#x log %d\n",
		policy_verdict_name(cv.verdict), policy_reason_name(cv.reason),
		cv.rule_id, cv.tenant, cv.src_segment, cv.dst_segment,
		cv.src_class, cv.dst_class, cv.svc_class, cv.hits, cv.log);
	fprintf(stderr,
		"model:    verdict %s reason %s rule %u tenant %u seg %u/%u "
		"log %d\n",
		policy_verdict_name(ev.verdict), policy_reason_name(ev.reason),
		ev.rule_id, ev.tenant ? ev.tenant->id : 0, es, ed, ev.log);
	return -1;
}

#define DIFF_POLICIES 400
/* packets per policy; PLUMWALL_COMPILE_PACKETS overrides (the sanitized
 * build, tests/run-tests, takes fewer: the same code paths, slower) */
#define DIFF_PACKETS 2500

static unsigned int diff_packets(void)
{
	const char *v = getenv("PLUMWALL_COMPILE_PACKETS");
	int n = v ? atoi(v) : 0;

	return n > 0 ? (unsigned int)n : DIFF_PACKETS;
}

START_TEST(test_differential)
{
	unsigned long packets = 0, by_rule = 0, by_default = 0;
	unsigned int i, j;

	gen_seed(0x5eed0000ULL + (uint64_t)_i * 7919);
	for (i = 0; i < DIFF_POLICIES; i++) {
		char *yaml = gen_policy(NULL);
		struct fixture f;

		build(&f, yaml);
		gen_collect(f.pol);
		for (j = 0; j < diff_packets(); j++) {
			struct policy_packet p;

			gen_pick_packet(f.pol, &p);
			packets++;
			if (compare_one(&f, &p)) {
				fprintf(stderr, "policy %u:\n%s\n", i, yaml);
				ck_abort_msg(
					"compiled maps and evaluator disagree");
			}
		}
		for (j = 0; j < 200; j++) {
			struct policy_eval_result ev;
			struct policy_packet p;

			gen_pick_packet(f.pol, &p);
			policy_eval_packet(f.pol, &p, &ev);
			by_rule += ev.reason == PW_REASON_POLICY;
			by_default += ev.reason == PW_REASON_DEFAULT;
		}
		release(&f);
		free(yaml);
	}
	/* The generator must actually exercise rules */
	ck_assert_uint_gt(by_rule, by_default / 4);
	fprintf(stderr,
		"differential run %d: %lu packets, %lu by rule, %lu by default\n",
		_i, packets, by_rule, by_default);
}
END_TEST

/* Policies of make bench's generator, every shape. */
START_TEST(test_differential_bench)
{
	struct policy_bench_opts o = { .shape = (enum policy_bench_shape)_i };
	unsigned long by_rule = 0;
	unsigned int seed, j;

	gen_seed(0xbe7c4ULL + (uint64_t)_i);
	for (seed = 1; seed <= 3; seed++) {
		struct fixture f;
		char *yaml;

		o.seed = seed;
		ck_assert_int_eq(
			policy_generate_bench(seed * 150, &o, &yaml, NULL), 0);
		build(&f, yaml);
		gen_collect(f.pol);
		for (j = 0; j < 8 * diff_packets(); j++) {
			struct policy_packet p;

			gen_pick_packet(f.pol, &p);
			if (compare_one(&f, &p)) {
				fprintf(stderr, "%s", yaml);
				ck_abort_msg(
					"compiled maps and evaluator disagree");
			}
			by_rule += p.kind == POLICY_PKT_IP;
		}
		release(&f);
		free(yaml);
	}
	ck_assert_uint_gt(by_rule, 0);
}
END_TEST

/*
 * The same with the external wildcard wherever a rule could use it (two
 * external classes suffice), so that random policies exercise it.
 */
START_TEST(test_differential_ext)
{
	struct policy_compile_opts o = { .ext_min_classes = 2 };
	unsigned long packets = 0, ext_tenants = 0, ext_hits = 0;
	unsigned int i, j, t;

	gen_seed(0xe87e0000ULL + (uint64_t)_i * 104729);
	for (i = 0; i < DIFF_POLICIES; i++) {
		char *yaml = gen_policy(NULL);
		struct fixture f;

		build_opts(&f, yaml, &o);
		for (t = 0; t < f.c->n_tenant_info; t++)
			ext_tenants += f.c->tenant_info[t].ext;
		gen_collect(f.pol);
		for (j = 0; j < diff_packets(); j++) {
			struct policy_compiled_verdict cv;
			struct policy_packet p;

			gen_pick_packet(f.pol, &p);
			packets++;
			if (compare_one(&f, &p)) {
				fprintf(stderr, "policy %u:\n%s\n", i, yaml);
				ck_abort_msg(
					"compiled maps (external wildcard) and evaluator disagree");
			}
			policy_compiled_decide(f.c, &p, &cv);
			ext_hits += cv.ext_hits != 0;
		}
		release(&f);
		free(yaml);
	}
	ck_assert_uint_gt(ext_tenants, DIFF_POLICIES / 4);
	ck_assert_uint_gt(ext_hits, packets / 100);
	fprintf(stderr,
		"differential ext run %d: %lu packets, %lu tenants with the wildcard, %lu packets hit it\n",
		_i, packets, ext_tenants, ext_hits);
}
END_TEST

/* Hand-picked corner cases through the same comparison. */
START_TEST(test_differential_corners)
{
	static const char yaml[] =
		"version: 1\n"
		"segments:\n"
		"  g0: [10.0.0.0/8]\n"
		"  g1: [10.1.0.0/16]\n"
		"rules:\n"
		"  - {name: g-ext, from: external, to: g1, proto: tcp,\n"
		"     ports: [\"0-1023\"], action: reject}\n"
		"tenants:\n"
		"  - name: a\n"
		"    interfaces: [eth0]\n"
		"    segments:\n"
		"      web: [10.1.1.0/24]\n"
		"      all: [\"0.0.0.0/0\", \"::/0\"]\n"
		"    rules:\n"
		"      - {name: x, from: web, to: [g0, \"fd00::/8\"], proto: any,\n"
		"         action: allow}\n"
		"  - name: b\n"
		"    interfaces: [eth1]\n"
		"    segments:\n"
		"      web: [10.1.1.0/24]\n";
	static const char *const cases[][2] = {
		{ "10.1.1.1", "10.1.2.1" }, { "10.2.0.1", "10.1.9.9" },
		{ "10.1.1.1", "10.9.9.9" }, { "192.0.2.1", "10.1.0.0" },
		{ "fd00::1", "fd00::2" },   { "10.1.1.255", "10.0.0.0" },
	};
	struct policy_packet p;
	struct fixture f;
	unsigned int i, port;

	build(&f, yaml);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (port = 0; port < 2000; port += 37) {
			p = mkpkt(i % 2 ? "eth1" : "eth0", 0, cases[i][0],
				  cases[i][1], 6, (uint16_t)port);
			ck_assert_int_eq(compare_one(&f, &p), 0);
			p.proto = 1;
			ck_assert_int_eq(compare_one(&f, &p), 0);
		}
	}
	release(&f);
}
END_TEST

static Suite *compile_suite(void)
{
	Suite *s = suite_create("compile");
	TCase *tc = tcase_create("maps");

	tcase_add_test(tc, test_small_exact);
	tcase_add_test(tc, test_small_decide);
	tcase_add_test(tc, test_iface_key);
	tcase_add_test(tc, test_port_range_prefixes);
	tcase_add_test(tc, test_svc_classes_overlap);
	tcase_add_test(tc, test_tuples_any);
	tcase_add_test(tc, test_ext_wildcard);
	tcase_add_test(tc, test_reductions);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_too_big);
	suite_add_tcase(s, tc);

	tc = tcase_create("differential");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_differential_corners);
	tcase_add_loop_test(tc, test_differential, 0, 4);
	tcase_add_loop_test(tc, test_differential_ext, 0, 2);
	tcase_add_loop_test(tc, test_differential_bench, 0,
			    POLICY_BENCH_SHAPE_COUNT);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int ret = fixture_run_suite(compile_suite());

	gen_release();
	return ret;
}
