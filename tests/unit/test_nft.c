// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the nftables plan (fw/nft.[ch]): the address and service
 * intervals, the meets that make first-hit evaluation equal to the
 * datapath's smallest rule id, what nft mode refuses, and a differential
 * test holding the plan, evaluated as the kernel evaluates the table
 * (fw_nft_plan_decide()), equal to the compiled maps looked up as the BPF
 * datapath does (policy_compiled_decide()) on random and generated
 * policies and packets. And the table in the running kernel, in a network
 * namespace of each test's own (Check forks every test): loads,
 * replacements that leave one generation, counters carried over, the
 * objects of an older layout deleted, removal.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>

#include "fw/nft.h"
#include "policy/benchgen.h"
#include "policy/compile.h"
#include "policy/eval.h"
#include "fixtures.h"
#include "gen.h"

struct fixture {
	struct policy *pol;
	struct policy_analysis *an;
	struct policy_compiled *c; /* as apply compiles for the datapath */
	struct policy_compiled *cn; /* as apply compiles for nft */
	struct fw_nft_plan *plan;
};

static void build(struct fixture *f, const char *yaml)
{
	struct policy_compile_opts o = { .ext_min_classes = UINT32_MAX };

	memset(f, 0, sizeof(*f));
	f->pol = fixture_load_ok(yaml);
	ck_assert_int_eq(policy_analyze(f->pol, &f->an), 0);
	ck_assert_int_eq(policy_compile(f->an, 7, &f->c), 0);
	ck_assert_int_eq(policy_compile_opts(f->an, 7, &o, &f->cn), 0);
	ck_assert_int_eq(fw_nft_plan_build(f->cn, &f->plan), 0);
}

static void release(struct fixture *f)
{
	fw_nft_plan_free(f->plan);
	policy_compiled_free(f->cn);
	policy_compiled_free(f->c);
	policy_analysis_free(f->an);
	policy_free(f->pol);
}

static const struct fw_nft_tenant *tenant(const struct fixture *f, uint16_t id)
{
	uint32_t i;

	for (i = 0; i < f->plan->n_tenants; i++)
		if (f->plan->tenants[i].id == id)
			return &f->plan->tenants[i];
	ck_abort_msg("no tenant %u in the plan", id);
	return NULL;
}

/* Intervals cover the address space without gap or overlap. */
static void check_cover(const struct fw_nft_ival *v, uint32_t n,
			unsigned int len)
{
	uint8_t next[16] = {}, ones[16];
	unsigned int b;
	uint32_t i;

	memset(ones, 0xff, sizeof(ones));
	ck_assert_uint_gt(n, 0);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(memcmp(v[i].lo, next, len), 0);
		ck_assert_int_le(memcmp(v[i].lo, v[i].hi, len), 0);
		memcpy(next, v[i].hi, len);
		for (b = len; b-- > 0;)
			if (++next[b])
				break;
	}
	ck_assert_int_eq(memcmp(v[n - 1].hi, ones, len), 0);
}

static const char *const policy_small =
	"version: 1\n"
	"tenants:\n"
	"  - name: acme\n"
	"    interfaces: [eth0]\n"
	"    default: deny\n"
	"    segments:\n"
	"      web: [10.1.1.0/24, \"fd00:1::/64\"]\n"
	"      db: [10.1.2.0/24]\n"
	"      host: [10.1.2.7/32]\n"
	"    rules:\n"
	"      - {name: to-db, from: any, to: db, proto: tcp, ports: [5432], action: allow}\n"
	"      - {name: from-web, from: web, to: any, proto: any, action: deny}\n"
	"      - {name: host, from: web, to: host, proto: udp, ports: [53, 100-200], action: reject}\n"
	"      - {name: icmp, from: any, to: any, proto: icmp, icmp: [echo-request], action: allow}\n";

START_TEST(test_plan_small)
{
	const struct fw_nft_tenant *t;
	struct fixture f;
	unsigned int s, n = 0;
	uint32_t i;

	build(&f, policy_small);
	ck_assert_uint_eq(f.plan->n_tenants, 1);
	ck_assert_uint_eq(f.plan->n_ifaces, 1);
	ck_assert_str_eq(f.plan->ifaces[0].ifname, "eth0");
	t = tenant(&f, 1);
	check_cover(t->a4, t->n_a4, 4);
	check_cover(t->a6, t->n_a6, 16);
	/* 10.1.2.7 splits 10.1.2.0/24: three intervals around it */
	for (i = 0; i < t->n_a4; i++)
		n += t->a4[i].lo[0] == 10 && t->a4[i].lo[1] == 1 &&
		     t->a4[i].lo[2] == 2;
	ck_assert_uint_eq(n, 3);
	/* services: tcp 5432, udp 53 and 100-200, icmp echo-request (type 8,
	 * every code), each its own interval */
	for (i = 0, n = 0; i < t->n_svc; i++) {
		if (t->svc[i].proto == 6)
			ck_assert(t->svc[i].lo[0] == 5432 >> 8 &&
				  t->svc[i].lo[1] == (5432 & 0xff));
		if (t->svc[i].proto == 1) {
			ck_assert_uint_eq(t->svc[i].lo[0], 8);
			ck_assert_uint_eq(t->svc[i].lo[1], 0);
			ck_assert_uint_eq(t->svc[i].hi[0], 8);
			ck_assert_uint_eq(t->svc[i].hi[1], 255);
		}
		n++;
	}
	ck_assert_uint_eq(n, 4);
	/* "from any to db tcp 5432" (ANY, dst, svc: rule 0) and "from web to
	 * any" (src, ANY, ANY: rule 1) both match web -> db tcp 5432. Shapes
	 * with a source are looked up first, so the second would win with
	 * the larger id: their meet (src, dst, svc) carries rule 0. */
	ck_assert_uint_gt(t->n_meets, 0);
	for (s = 0, n = 0; s < FW_NFT_SHAPES; s++)
		n += t->n_keys[s];
	ck_assert_uint_gt(n, t->n_meets);
	release(&f);
}
END_TEST

/* Evaluate a few packets of policy_small against the compiled maps. */
static void expect(const struct fixture *f, const char *src, const char *dst,
		   uint8_t proto, uint16_t dport, enum pw_verdict verdict,
		   uint32_t rule)
{
	struct policy_packet p;
	struct fw_nft_verdict v;
	struct policy_compiled_verdict cv;
	struct pw_prefix a;

	memset(&p, 0, sizeof(p));
	strcpy(p.ifname, "eth0");
	p.kind = POLICY_PKT_IP;
	ck_assert_int_eq(pw_prefix_parse(src, &a), 0);
	p.family = a.family;
	memcpy(p.saddr, a.addr, 16);
	ck_assert_int_eq(pw_prefix_parse(dst, &a), 0);
	memcpy(p.daddr, a.addr, 16);
	p.proto = proto;
	p.l4 = true;
	p.sport = 40000;
	p.dport = dport;
	p.icmp_type = (uint8_t)dport;
	p.hop_limit = 64;
	fw_nft_plan_decide(f->plan, &p, &v);
	policy_compiled_decide(f->c, &p, &cv);
	ck_assert(v.judged);
	ck_assert_uint_eq(v.verdict, verdict);
	ck_assert_uint_eq(v.rule_id, rule);
	ck_assert_uint_eq(cv.verdict, verdict);
	ck_assert_uint_eq(cv.rule_id, rule);
}

START_TEST(test_plan_decide)
{
	struct fixture f;

	build(&f, policy_small);
	expect(&f, "10.1.1.5", "10.1.2.9", 6, 5432, PW_VERDICT_ALLOW, 0);
	expect(&f, "10.9.9.9", "10.1.2.9", 6, 5432, PW_VERDICT_ALLOW, 0);
	expect(&f, "10.9.9.9", "10.1.2.9", 6, 5433, PW_VERDICT_DENY,
	       PW_RULE_NONE);
	expect(&f, "10.1.1.5", "10.1.2.9", 6, 5433, PW_VERDICT_DENY, 1);
	expect(&f, "10.1.1.5", "10.1.2.7", 17, 150, PW_VERDICT_DENY, 1);
	expect(&f, "10.9.9.9", "8.8.8.8", 1, 8, PW_VERDICT_ALLOW, 3);
	expect(&f, "fd00:1::5", "fd00:2::1", 58, 128, PW_VERDICT_DENY, 1);
	release(&f);
}
END_TEST

START_TEST(test_plan_refused)
{
	struct fixture f;
	char why[256];

	build(&f, "version: 1\n"
		  "tenants:\n"
		  "  - name: acme\n"
		  "    interfaces: [eth0]\n"
		  "    vlans: [100]\n"
		  "    default: deny\n");
	ck_assert_int_eq(fw_nft_plan_supported(f.plan, why, sizeof(why)),
			 -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(why, "VLAN"));
	release(&f);
	build(&f, "version: 1\n"
		  "settings:\n"
		  "  non_ip: deny\n"
		  "tenants:\n"
		  "  - name: acme\n"
		  "    interfaces: [eth0]\n"
		  "    default: deny\n");
	ck_assert_int_eq(fw_nft_plan_supported(f.plan, why, sizeof(why)),
			 -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(why, "non_ip"));
	release(&f);
	build(&f, policy_small);
	ck_assert_int_eq(fw_nft_plan_supported(f.plan, why, sizeof(why)), 0);
	release(&f);
}
END_TEST

/* The plan must not change what the compiled maps decide: same verdict,
 * rule and reason for every IP packet the table judges (interfaces the
 * policy names). MLD is the one known difference: nft does not look
 * for the Router Alert option. */
static int compare_one(const struct fixture *f, const struct policy_packet *p)
{
	struct policy_compiled_verdict cv;
	struct fw_nft_verdict v;

	if (p->kind != POLICY_PKT_IP || !p->l4 || p->frag)
		return 0;
	fw_nft_plan_decide(f->plan, p, &v);
	if (!v.judged)
		return 0;
	policy_compiled_decide(f->c, p, &cv);
	if (cv.reason == PW_REASON_NON_IP || v.reason == PW_REASON_NON_IP)
		if (p->proto == POLICY_PROTO_ICMPV6 && p->hop_limit == 1)
			return 0;
	if (cv.verdict == v.verdict && cv.rule_id == v.rule_id &&
	    cv.reason == v.reason && cv.tenant == v.tenant)
		return 0;
	gen_print_packet(p);
	fprintf(stderr,
		"compiled: verdict %u reason %u rule %u tenant %u classes %u/%u/%u\n"
		"nft:      verdict %u reason %u rule %u tenant %u\n",
		cv.verdict, cv.reason, cv.rule_id, cv.tenant, cv.src_class,
		cv.dst_class, cv.svc_class, v.verdict, v.reason, v.rule_id,
		v.tenant);
	return -1;
}

#define DIFF_POLICIES 150
#define DIFF_PACKETS 1500

START_TEST(test_differential)
{
	unsigned long packets = 0, meets = 0, by_rule = 0;
	unsigned int i, j, t;

	gen_seed(0x4f7e0000ULL + (uint64_t)_i * 7919);
	for (i = 0; i < DIFF_POLICIES; i++) {
		char *yaml = gen_policy(NULL);
		struct fixture f;

		build(&f, yaml);
		for (t = 0; t < f.plan->n_tenants; t++)
			meets += f.plan->tenants[t].n_meets;
		gen_collect(f.pol);
		for (j = 0; j < DIFF_PACKETS; j++) {
			struct policy_packet p;
			struct fw_nft_verdict v;

			gen_pick_packet(f.pol, &p);
			packets++;
			if (compare_one(&f, &p)) {
				fprintf(stderr, "policy %u:\n%s\n", i, yaml);
				ck_abort_msg(
					"nft plan and compiled maps disagree");
			}
			if (p.kind == POLICY_PKT_IP) {
				fw_nft_plan_decide(f.plan, &p, &v);
				by_rule += v.reason == PW_REASON_POLICY;
			}
		}
		release(&f);
		free(yaml);
	}
	/* the generator must exercise rules and the meets */
	ck_assert_uint_gt(by_rule, packets / 10);
	ck_assert_uint_gt(meets, 0);
	fprintf(stderr,
		"nft differential run %d: %lu packets, %lu by rule, %lu meets\n",
		_i, packets, by_rule, meets);
}
END_TEST

/* Policies of make bench's generator, every shape (tenants by VLAN
 * included: the plan handles them, only loading refuses them). */
START_TEST(test_differential_bench)
{
	struct policy_bench_opts o = { .shape = (enum policy_bench_shape)_i,
				       .seed = 1 };
	struct fixture f;
	unsigned int j;
	char *yaml;

	gen_seed(0xbe7c5ULL + (uint64_t)_i);
	ck_assert_int_eq(policy_generate_bench(300, &o, &yaml, NULL), 0);
	build(&f, yaml);
	gen_collect(f.pol);
	for (j = 0; j < 5000; j++) {
		struct policy_packet p;

		gen_pick_packet(f.pol, &p);
		if (compare_one(&f, &p)) {
			fprintf(stderr, "%s", yaml);
			ck_abort_msg("nft plan and compiled maps disagree");
		}
	}
	release(&f);
	free(yaml);
}
END_TEST

/* A network namespace of the test's own; false (and a line saying so)
 * where there cannot be one. */
static bool own_netns(const char *test)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET)) {
		printf("%s: needs root and a network namespace, skipped\n",
		       test);
		return false;
	}
	return true;
}

struct counter_seen {
	uint32_t rules, tenants, wrong;
	const struct fw_nft_count *want; /* by rule id, NULL: all zero */
	uint32_t n_want;
};

static int counter_one(char kind, uint32_t id, uint64_t packets, uint64_t bytes,
		       void *ctx)
{
	struct counter_seen *c = ctx;
	uint64_t want_p = 0, want_b = 0;

	if (kind == 'd') {
		c->tenants++;
		c->wrong += packets != 0 || bytes != 0;
		return 0;
	}
	c->rules++;
	if (c->want && id < c->n_want) {
		want_p = c->want[id].packets;
		want_b = c->want[id].bytes;
	}
	c->wrong += packets != want_p || bytes != want_b;
	return 0;
}

static const char *const policy_other =
	"version: 1\n"
	"tenants:\n"
	"  - name: acme\n"
	"    interfaces: [eth0, eth1]\n"
	"    default: allow\n"
	"    segments:\n"
	"      web: [10.1.1.0/24]\n"
	"    rules:\n"
	"      - {name: ssh, from: any, to: web, proto: tcp, ports: [22], action: deny}\n"
	"      - {name: dns, from: web, to: any, proto: udp, ports: [53], action: allow}\n";

START_TEST(test_kernel_replace)
{
	struct fw_nft_census cs;
	struct counter_seen seen;
	struct fw_nft_count *counts;
	struct fixture a, b;
	uint32_t i;

	if (!own_netns("test_kernel_replace"))
		return;
	build(&a, policy_small);
	build(&b, policy_other);
	ck_assert_int_eq(fw_nft_present(), 0);
	ck_assert_int_eq(fw_nft_census(&cs), 0);
	ck_assert_int_eq(cs.live, -1);
	ck_assert_uint_eq(cs.objects, 0);
	ck_assert_int_eq(fw_nft_remove(), -ENOENT);

	/* first load */
	ck_assert_int_eq(fw_nft_load(a.plan, NULL), 0);
	ck_assert_int_eq(fw_nft_present(), 1);
	ck_assert_int_eq(fw_nft_census(&cs), 0);
	ck_assert_int_eq(cs.live, 1);
	ck_assert_uint_gt(cs.objects, 0);
	ck_assert_uint_eq(cs.stale, 0);
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(fw_nft_counters(counter_one, &seen), 0);
	ck_assert_uint_eq(seen.rules, a.plan->n_rules);
	ck_assert_uint_eq(seen.tenants, 1);
	ck_assert_uint_eq(seen.wrong, 0);

	/* a replacement with counts carried: the next generation alone */
	counts = calloc(a.plan->n_rules, sizeof(*counts));
	ck_assert_ptr_nonnull(counts);
	for (i = 0; i < a.plan->n_rules; i++) {
		counts[i].packets = 100 + i;
		counts[i].bytes = 1000 * (i + 1);
	}
	ck_assert_int_eq(fw_nft_load(a.plan, counts), 0);
	ck_assert_int_eq(fw_nft_census(&cs), 0);
	ck_assert_int_eq(cs.live, 2);
	ck_assert_uint_eq(cs.stale, 0);
	memset(&seen, 0, sizeof(seen));
	seen.want = counts;
	seen.n_want = a.plan->n_rules;
	ck_assert_int_eq(fw_nft_counters(counter_one, &seen), 0);
	ck_assert_uint_eq(seen.rules, a.plan->n_rules);
	ck_assert_uint_eq(seen.wrong, 0);
	free(counts);

	/* another policy: other chains, maps and counters */
	ck_assert_int_eq(fw_nft_load(b.plan, NULL), 0);
	ck_assert_int_eq(fw_nft_census(&cs), 0);
	ck_assert_int_eq(cs.live, 3);
	ck_assert_uint_eq(cs.stale, 0);
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(fw_nft_counters(counter_one, &seen), 0);
	ck_assert_uint_eq(seen.rules, b.plan->n_rules);
	ck_assert_uint_eq(seen.tenants, 1);

	/* objects of another layout or an interrupted replacement go with
	 * the next one (made with nft(8) where it is installed) */
	if (system("command -v nft >/dev/null 2>&1") == 0) {
		ck_assert_int_eq(
			system("nft add counter inet plumwall r0 && "
			       "nft add chain inet plumwall t1 && "
			       "nft add set inet plumwall ifaces '{ type ifname; }' && "
			       "nft add chain inet plumwall g7_t1"),
			0);
		ck_assert_int_eq(fw_nft_census(&cs), 0);
		ck_assert_int_eq(cs.live, 3);
		ck_assert_uint_eq(cs.stale, 4);
		ck_assert_int_eq(fw_nft_load(a.plan, NULL), 0);
		ck_assert_int_eq(fw_nft_census(&cs), 0);
		ck_assert_int_eq(cs.live, 8); /* above every generation */
		ck_assert_uint_eq(cs.stale, 0);
	}

	ck_assert_int_eq(fw_nft_remove(), 0);
	ck_assert_int_eq(fw_nft_present(), 0);
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(fw_nft_counters(counter_one, &seen), 0);
	ck_assert_uint_eq(seen.rules, 0);
	release(&a);
	release(&b);
}
END_TEST

static int listed_calls;

/* The first time: another table, so that the ruleset moves under the
 * listing. */
static void listed_then_change(void)
{
	if (listed_calls++ == 0)
		ck_assert_int_eq(system("nft add table inet pwtest"), 0);
}

/* A batch built from a listing goes onto the ruleset it lists: when the
 * ruleset changed in between, the kernel refuses it for its generation
 * id and the load lists again. */
START_TEST(test_kernel_genid)
{
	struct fw_nft_census cs;
	struct fixture a;

	if (!own_netns("test_kernel_genid"))
		return;
	if (system("command -v nft >/dev/null 2>&1") != 0) {
		printf("test_kernel_genid: nft(8) not installed, skipped\n");
		return;
	}
	build(&a, policy_small);
	fw_nft_test_listed = listed_then_change;
	listed_calls = 0;
	ck_assert_int_eq(fw_nft_load(a.plan, NULL), 0);
	ck_assert_int_eq(listed_calls, 2);
	listed_calls = 1; /* no more changes: one listing */
	ck_assert_int_eq(fw_nft_load(a.plan, NULL), 0);
	ck_assert_int_eq(listed_calls, 2);
	fw_nft_test_listed = NULL;
	ck_assert_int_eq(fw_nft_census(&cs), 0);
	ck_assert_int_eq(cs.live, 2);
	ck_assert_uint_eq(cs.stale, 0);
	ck_assert_int_eq(system("nft list table inet pwtest >/dev/null"), 0);
	release(&a);
}
END_TEST

static Suite *nft_suite(void)
{
	Suite *s = suite_create("nft");
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, test_plan_small);
	tcase_add_test(tc, test_plan_decide);
	tcase_add_test(tc, test_plan_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("kernel");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_kernel_replace);
	tcase_add_test(tc, test_kernel_genid);
	suite_add_tcase(s, tc);

	tc = tcase_create("differential");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_differential, 0, 2);
	tcase_add_loop_test(tc, test_differential_bench, 0,
			    POLICY_BENCH_SHAPE_COUNT);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int ret = fixture_run_suite(nft_suite());

	gen_release();
	return ret;
}
