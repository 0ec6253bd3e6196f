// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of policy/analyze.c and policy/analyze_warn.c: address classes, LPM
 * entries and display segments, rule views, and the warnings of policy.md
 * section 8 (shadowed rules, rules after an any-to-any rule, rules without
 * a common address family, unused segments).
 *
 * Each warning case is a small policy and the exact, sorted warnings
 * `plumwall check` would print for it, positions included. Rules are written
 * as flow mappings, one per line, so a rule's position is LINE:9.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/analyze.h"
#include "fixtures.h"
#include "gen.h"

/* The warnings for @yaml, sorted and printed as `plumwall check` does. */
static char *warnings(const char *yaml)
{
	struct policy_analysis *an = NULL;
	struct pw_diags diags;
	struct policy *pol;
	char *text;

	pol = fixture_load_ok(yaml);
	pw_diags_init(&diags);
	ck_assert_int_eq(policy_analyze(pol, &an), 0);
	ck_assert_int_eq(policy_warn(an, &diags), 0);
	ck_assert_uint_eq(diags.n_errors, 0);
	text = fixture_diags_text(&diags);
	pw_diags_free(&diags);
	policy_analysis_free(an);
	policy_free(pol);
	return text;
}

#define ck_assert_warnings(yaml, expect)        \
	do {                                    \
		char *_got = warnings(yaml);    \
		ck_assert_str_eq(_got, expect); \
		free(_got);                     \
	} while (0)

#define W(line_col, msg) "test.yaml:" line_col ": warning: " msg "\n"

/* A single tenant "acme" with segments web and db; rules follow. */
#define ACME                         \
	"version: 1\n"               \
	"tenants:\n"                 \
	"  - name: acme\n"           \
	"    interfaces: [acme0]\n"  \
	"    segments:\n"            \
	"      web: [10.0.1.0/24]\n" \
	"      db: [10.0.2.0/24]\n"  \
	"    rules:\n" /* line 8; rules from line 9 */

START_TEST(test_ports_partial_overlap)
{
	ck_assert_warnings(
		ACME
		"      - {name: a, from: web, to: db, proto: tcp, ports: [\"80-85\"], action: allow}\n"
		"      - {name: b, from: web, to: db, proto: tcp, ports: [\"80-90\"], action: allow}\n",
		"");
}
END_TEST

START_TEST(test_ports_split_coverage)
{
	/* e meets d but d is already covered when e comes: not named. */
	ck_assert_warnings(
		ACME
		"      - {name: a, from: web, to: db, proto: tcp, ports: [\"80-85\"], action: allow}\n"
		"      - {name: c, from: web, to: db, proto: tcp, ports: [\"86-90\"], action: allow}\n"
		"      - {name: e, from: web, to: db, proto: tcp, ports: [\"80-91\"], action: allow}\n"
		"      - {name: d, from: web, to: db, proto: tcp, ports: [\"80-90\"], action: allow}\n"
		"      - {name: f, from: web, to: db, proto: tcp, ports: [91, 85, 80], action: allow}\n"
		"      - {name: g, from: web, to: db, proto: udp, ports: [\"80-85\"], action: allow}\n",
		W("12:9", "rule 'd' is shadowed by earlier rules and can never "
			  "match (covered by 'a', 'c')")
			W("13:9",
			  "rule 'f' is shadowed by earlier rules and can never "
			  "match (covered by 'a', 'e')"));
}
END_TEST

START_TEST(test_more_than_three_names)
{
	ck_assert_warnings(
		ACME
		"      - {name: p1, from: web, to: db, proto: tcp, ports: [1], action: allow}\n"
		"      - {name: p2, from: web, to: db, proto: tcp, ports: [2], action: allow}\n"
		"      - {name: p3, from: web, to: db, proto: tcp, ports: [3], action: allow}\n"
		"      - {name: p4, from: web, to: db, proto: tcp, ports: [4], action: allow}\n"
		"      - {name: all, from: web, to: db, proto: tcp, ports: [\"1-4\"], action: allow}\n"
		"      - {name: three, from: web, to: db, proto: tcp, ports: [\"1-3\"], action: allow}\n",
		W("13:9",
		  "rule 'all' is shadowed by earlier rules and can never "
		  "match (covered by 'p1', 'p2', 'p3', ...)")
			W("14:9",
			  "rule 'three' is shadowed by earlier rules and can "
			  "never match (covered by 'p1', 'p2', 'p3')"));
}
END_TEST

START_TEST(test_address_split)
{
	ck_assert_warnings(
		"version: 1\n"
		"tenants:\n"
		"  - name: acme\n"
		"    interfaces: [acme0]\n"
		"    segments:\n"
		"      lan: [10.0.0.0/24]\n"
		"      low: [10.0.0.0/25]\n"
		"      high: [10.0.0.128/25]\n"
		"      srv: [10.9.0.0/24]\n"
		"    rules:\n"
		"      - {name: a, from: low, to: srv, action: allow}\n"
		"      - {name: b, from: high, to: srv, action: allow}\n"
		"      - {name: c, from: lan, to: srv, proto: tcp, action: allow}\n"
		"      - {name: d, from: 10.0.0.0/23, to: srv, action: allow}\n"
		"      - {name: e, from: [low, high], to: 10.9.0.7, action: allow}\n",
		W("13:9", "rule 'c' is shadowed by earlier rules and can never "
			  "match (covered by 'a', 'b')")
			W("15:9",
			  "rule 'e' is shadowed by earlier rules and can never "
			  "match (covered by 'a', 'b')"));
}
END_TEST

START_TEST(test_ipv4_ipv6)
{
	/*
	 * t1: a covers only IPv4 sources, so the IPv6 rule b and the `any`
	 * rule c stay reachable; d is covered by b and then c.
	 * t2: a destination of IPv4 only makes `any` an IPv4 source, which
	 * 0.0.0.0/0 covers. t3: 10.0.0.0/8 does not.
	 */
	ck_assert_warnings(
		"version: 1\n"
		"segments:\n"
		"  web: [10.0.1.0/24, \"fd00:1::/64\"]\n"
		"  v4: [10.0.2.0/24]\n"
		"tenants:\n"
		"  - name: t1\n"
		"    interfaces: [t1]\n"
		"    rules:\n"
		"      - {name: a, from: 0.0.0.0/0, to: web, proto: tcp, action: allow}\n"
		"      - {name: b, from: \"fd00:2::/64\", to: web, proto: tcp, action: allow}\n"
		"      - {name: c, from: any, to: web, proto: tcp, action: allow}\n"
		"      - {name: d, from: \"::/0\", to: web, proto: tcp, action: allow}\n"
		"  - name: t2\n"
		"    interfaces: [t2]\n"
		"    rules:\n"
		"      - {name: a, from: 0.0.0.0/0, to: v4, proto: tcp, action: allow}\n"
		"      - {name: b, from: any, to: v4, proto: tcp, action: allow}\n"
		"  - name: t3\n"
		"    interfaces: [t3]\n"
		"    rules:\n"
		"      - {name: a, from: 10.0.0.0/8, to: v4, proto: tcp, action: allow}\n"
		"      - {name: b, from: any, to: v4, proto: tcp, action: allow}\n",
		W("12:9", "rule 'd' is shadowed by earlier rules and can never "
			  "match (covered by 'b', 'c')")
			W("17:9",
			  "rule 'b' is shadowed by earlier rules and can never "
			  "match (covered by 'a')"));
}
END_TEST

START_TEST(test_external)
{
	/*
	 * b: external is part of any. d: db is not external. e: the global
	 * segment dns is outside every segment of acme, so it is external
	 * there. f: corp also holds web and db, which are not external.
	 */
	ck_assert_warnings(
		"version: 1\n"
		"segments:\n"
		"  dns: [10.0.0.53]\n"
		"  corp: [10.0.0.0/16]\n"
		"tenants:\n"
		"  - name: acme\n"
		"    interfaces: [acme0]\n"
		"    segments:\n"
		"      web: [10.0.1.0/24]\n"
		"      db: [10.0.2.0/24]\n"
		"    rules:\n"
		"      - {name: a, from: web, to: any, proto: tcp, ports: [443], action: allow}\n"
		"      - {name: b, from: web, to: external, proto: tcp, ports: [443], action: allow}\n"
		"      - {name: c, from: web, to: external, proto: tcp, ports: [80], action: allow}\n"
		"      - {name: d, from: web, to: db, proto: tcp, ports: [80], action: allow}\n"
		"      - {name: e, from: web, to: dns, proto: tcp, ports: [80], action: allow}\n"
		"      - {name: f, from: web, to: corp, proto: tcp, ports: [80], action: allow}\n"
		"      - {name: g, from: db, to: corp, proto: tcp, ports: [80], action: allow}\n",
		W("13:9", "rule 'b' is shadowed by earlier rules and can never "
			  "match (covered by 'a')")
			W("16:9",
			  "rule 'e' is shadowed by earlier rules and can never "
			  "match (covered by 'c')"));
}
END_TEST

START_TEST(test_external_not_covering_segment)
{
	/* An earlier rule to external never covers a rule to a segment of
	 * the tenant, in either direction. */
	ck_assert_warnings(
		ACME
		"      - {name: a, from: external, to: external, action: allow}\n"
		"      - {name: b, from: external, to: web, action: allow}\n"
		"      - {name: c, from: db, to: external, action: allow}\n"
		"      - {name: e, from: db, to: web, action: allow}\n"
		"      - {name: d, from: [external, db], to: [external, web], action: allow}\n",
		W("13:9", "rule 'd' is shadowed by earlier rules and can never "
			  "match (covered by 'a', 'b', 'c', ...)"));
}
END_TEST

START_TEST(test_global_shadows_tenant)
{
	ck_assert_warnings(
		"version: 1\n"
		"segments:\n"
		"  dns: [10.0.0.53]\n"
		"rules:\n"
		"  - {name: g-dns, from: any, to: dns, proto: udp, ports: [53], action: allow}\n"
		"tenants:\n"
		"  - name: acme\n"
		"    interfaces: [acme0]\n"
		"    segments:\n"
		"      web: [10.0.1.0/24]\n"
		"    rules:\n"
		"      - {name: r-dns, from: web, to: dns, proto: udp, ports: [53], action: allow}\n"
		"      - {name: r-tcp, from: web, to: dns, proto: tcp, ports: [53], action: allow}\n"
		"      - {name: r-both, from: web, to: dns, proto: udp, ports: [\"53-54\"], action: deny}\n"
		"      - {name: r-54, from: web, to: 10.0.0.53, proto: udp, ports: [54], action: deny}\n",
		W("12:9", "rule 'r-dns' is shadowed by earlier rules and can "
			  "never match (covered by global rule 'g-dns')")
			W("15:9",
			  "rule 'r-54' is shadowed by earlier rules and can "
			  "never match (covered by 'r-both')"));
}
END_TEST

START_TEST(test_global_shadowed_per_tenant)
{
	/*
	 * g1: 10.1.0.0/16 is external in tenant a (so g0 covers it) but not
	 * in b, which owns 10.1.0.0/24: reachable in b, no warning. g2 is
	 * external in both tenants: shadowed everywhere. g3 is shadowed in
	 * a by g0 and in b by g1, so both are named.
	 */
	ck_assert_warnings(
		"version: 1\n"
		"rules:\n"
		"  - {name: g0, from: any, to: external, proto: tcp, ports: [443], action: allow}\n"
		"  - {name: g1, from: any, to: 10.1.0.0/16, proto: tcp, ports: [443], action: allow}\n"
		"  - {name: g2, from: any, to: 10.2.0.0/16, proto: tcp, ports: [443], action: allow}\n"
		"  - {name: g3, from: any, to: 10.1.0.0/24, proto: tcp, ports: [443], action: allow}\n"
		"tenants:\n"
		"  - name: a\n"
		"    interfaces: [a0]\n"
		"  - name: b\n"
		"    interfaces: [b0]\n"
		"    segments:\n"
		"      lan: [10.1.0.0/24]\n"
		"    rules:\n"
		"      - {name: ssh, from: lan, to: any, proto: tcp, ports: [22], action: allow}\n",
		W("5:5", "global rule 'g2' is shadowed by earlier global rules "
			 "in every tenant and can never match (covered by "
			 "'g0')")
			W("6:5",
			  "global rule 'g3' is shadowed by earlier global rules "
			  "in every tenant and can never match (covered by "
			  "'g0', 'g1')"));
}
END_TEST

START_TEST(test_icmp)
{
	ck_assert_warnings(
		ACME
		"      - {name: a, from: web, to: db, proto: icmp, action: allow}\n"
		"      - {name: b, from: web, to: db, proto: icmp, icmp: [echo-request], action: allow}\n"
		"      - {name: c, from: web, to: db, proto: icmpv6, icmp: [echo-request], action: allow}\n"
		"      - {name: d, from: db, to: web, proto: any, action: allow}\n"
		"      - {name: e, from: db, to: web, proto: icmp, icmp: [3, echo-reply], action: allow}\n"
		"      - {name: f, from: db, to: web, proto: icmpv6, action: allow}\n"
		"      - {name: g, from: web, to: db, proto: icmpv6, action: allow}\n"
		"      - {name: h, from: web, to: db, proto: 1, action: allow}\n",
		W("10:9", "rule 'b' is shadowed by earlier rules and can never "
			  "match (covered by 'a')")
			W("13:9",
			  "rule 'e' is shadowed by earlier rules and can never "
			  "match (covered by 'd')")
				W("14:9",
				  "rule 'f' is shadowed by earlier rules and can never "
				  "match (covered by 'd')")
					W("16:9",
					  "rule 'h' is shadowed by earlier rules and can never "
					  "match (covered by 'a')"));
}
END_TEST

START_TEST(test_proto_number)
{
	ck_assert_warnings(
		ACME
		"      - {name: gre, from: web, to: db, proto: 47, action: allow}\n"
		"      - {name: any, from: db, to: web, action: allow}\n"
		"      - {name: gre2, from: db, to: web, proto: 47, action: allow}\n"
		"      - {name: esp, from: web, to: db, proto: 50, action: allow}\n"
		"      - {name: tcp6, from: web, to: db, proto: 6, ports: [80], action: allow}\n"
		"      - {name: tcp, from: web, to: db, proto: tcp, ports: [80], action: allow}\n",
		W("11:9", "rule 'gre2' is shadowed by earlier rules and can "
			  "never match (covered by 'any')")
			W("14:9",
			  "rule 'tcp' is shadowed by earlier rules and can "
			  "never match (covered by 'tcp6')"));
}
END_TEST

START_TEST(test_family_mismatch)
{
	ck_assert_warnings(
		"version: 1\n"
		"segments:\n"
		"  v6: [\"fd00:9::/64\"]\n"
		"rules:\n"
		"  - {name: g, from: 10.0.0.0/8, to: v6, action: allow}\n"
		"tenants:\n"
		"  - name: acme\n"
		"    interfaces: [acme0]\n"
		"    segments:\n"
		"      web: [10.0.1.0/24]\n"
		"    rules:\n"
		"      - {name: a, from: web, to: \"fd00::/64\", action: allow}\n"
		"      - {name: b, from: [web, \"fd00::1\"], to: v6, action: allow}\n"
		"      - {name: c, from: v6, to: [web, 10.0.0.1], proto: tcp, action: allow}\n",
		W("5:5", "global rule 'g' can never match: its source and "
			 "destination have no address family in common")
			W("12:9",
			  "rule 'a' can never match: its source and "
			  "destination have no address family in common")
				W("14:9",
				  "rule 'c' can never match: its source and "
				  "destination have no address family in common"));
}
END_TEST

START_TEST(test_after_any_to_any)
{
	/* One warning per rule: c would be shadowed by a as well, and d has
	 * no common family, but coming after b says it all. */
	ck_assert_warnings(
		ACME
		"      - {name: a, from: web, to: db, proto: tcp, action: allow}\n"
		"      - {name: b, from: any, to: any, action: deny}\n"
		"      - {name: c, from: web, to: db, proto: tcp, ports: [22], action: allow}\n"
		"      - {name: d, from: web, to: \"fd00::1\", action: allow}\n"
		"      - {name: e, from: any, to: any, action: allow}\n",
		W("11:9",
		  "rule 'c' comes after the any-to-any rule 'b' and can "
		  "never match")
			W("12:9",
			  "rule 'd' comes after the any-to-any rule 'b' and can "
			  "never match")
				W("13:9",
				  "rule 'e' comes after the any-to-any rule 'b' and can "
				  "never match"));
}
END_TEST

START_TEST(test_after_any_to_any_by_cover)
{
	/* external plus every own segment is every address: b matches every
	 * packet without saying `any`. */
	ck_assert_warnings(
		ACME
		"      - {name: a, from: web, to: db, proto: tcp, ports: [1, 2, 3], action: allow}\n"
		"      - {name: b, from: [external, web, db], to: [db, any], action: allow}\n"
		"      - {name: c, from: web, to: db, action: allow}\n",
		W("11:9",
		  "rule 'c' comes after the any-to-any rule 'b' and can "
		  "never match"));
}
END_TEST

START_TEST(test_after_global_any_to_any)
{
	/* Each tenant rule once, the global rule after g0 once (not once per
	 * tenant). */
	ck_assert_warnings(
		"version: 1\n"
		"rules:\n"
		"  - {name: g0, from: any, to: any, proto: any, action: allow}\n"
		"  - {name: g1, from: any, to: 10.0.0.1, proto: tcp, action: deny}\n"
		"tenants:\n"
		"  - name: a\n"
		"    interfaces: [a0]\n"
		"    rules:\n"
		"      - {name: r1, from: any, to: any, action: deny}\n"
		"  - name: b\n"
		"    interfaces: [b0]\n"
		"    rules:\n"
		"      - {name: r1, from: 10.0.0.0/8, to: any, action: deny}\n"
		"      - {name: r2, from: \"fd00::/8\", to: any, action: deny}\n",
		W("4:5", "global rule 'g1' comes after the any-to-any global "
			 "rule 'g0' and can never match")
			W("9:9",
			  "rule 'r1' comes after the any-to-any global rule 'g0' "
			  "and can never match")
				W("13:9",
				  "rule 'r1' comes after the any-to-any global rule "
				  "'g0' and can never match")
					W("14:9",
					  "rule 'r2' comes after the any-to-any global rule "
					  "'g0' and can never match"));
}
END_TEST

START_TEST(test_unused_segments)
{
	/* used-g is used by a tenant rule only, which counts. */
	ck_assert_warnings(
		"version: 1\n"
		"segments:\n"
		"  used-g: [10.0.0.1]\n"
		"  idle-g: [10.0.0.2]\n"
		"tenants:\n"
		"  - name: a\n"
		"    interfaces: [a0]\n"
		"    segments:\n"
		"      web: [10.0.1.0/24]\n"
		"      idle: [10.0.2.0/24]\n"
		"    rules:\n"
		"      - {name: r, from: web, to: used-g, action: allow}\n"
		"  - name: b\n"
		"    interfaces: [b0]\n"
		"    segments:\n"
		"      idle: [10.0.2.0/24]\n",
		W("4:3", "global segment 'idle-g' is not used by any rule") W(
			"10:7", "segment 'idle' is not used by any rule")
			W("16:7", "segment 'idle' is not used by any rule"));
}
END_TEST

START_TEST(test_empty_classes)
{
	/*
	 * all holds every address, so `external` matches none and `all` is
	 * `any`: the default classes are empty and must not count as
	 * packets that b could still match.
	 */
	ck_assert_warnings(
		"version: 1\n"
		"tenants:\n"
		"  - name: acme\n"
		"    interfaces: [acme0]\n"
		"    segments:\n"
		"      all: [0.0.0.0/0, \"::/0\"]\n"
		"      half: [0.0.0.0/1]\n"
		"    rules:\n"
		"      - {name: x, from: external, to: any, action: allow}\n"
		"      - {name: a, from: all, to: all, proto: tcp, action: allow}\n"
		"      - {name: b, from: any, to: any, proto: tcp, action: allow}\n"
		"      - {name: c, from: half, to: 128.0.0.0/1, proto: udp, action: allow}\n"
		"      - {name: d, from: 0.0.0.0/1, to: [128.0.0.0/2, 192.0.0.0/2], proto: udp, action: allow}\n",
		W("9:9",
		  "rule 'x' can never match: its source matches no "
		  "address") W("11:9",
			       "rule 'b' is shadowed by earlier rules and can never "
			       "match (covered by 'a')")
			W("13:9",
			  "rule 'd' is shadowed by earlier rules and can never "
			  "match (covered by 'c')"));
}
END_TEST

START_TEST(test_no_warnings)
{
	/* The example of policy.md section 9 is clean. */
	ck_assert_warnings(fixture_spec_example, "");
}
END_TEST

/* Classes of the policy below (see the comments of test_classes). */
static const char classes_yaml[] =
	"version: 1\n"
	"segments:\n"
	"  g1: [10.0.0.0/8]\n"
	"  g2: [10.1.0.0/16]\n"
	"  g3: [172.16.0.0/12]\n"
	"rules:\n"
	"  - {name: gr, from: g1, to: any, proto: tcp, ports: [22], action: allow}\n"
	"tenants:\n"
	"  - name: acme\n"
	"    interfaces: [acme0]\n"
	"    segments:\n"
	"      lan: [10.1.0.0/16]\n"
	"      web: [10.1.1.0/24, \"fd00:1::/64\"]\n"
	"      dup: [10.1.1.0/24]\n"
	"      host: [10.1.1.7]\n"
	"      db: [10.1.2.0/24]\n"
	"    rules:\n"
	"      - {name: r1, from: web, to: db, action: allow}\n"
	"      - {name: r2, from: 10.1.1.0/25, to: host, action: allow}\n"
	"      - {name: r3, from: 192.168.1.0/24, to: host, action: allow}\n";

static void assert_prefix(const struct pw_prefix *p, const char *text)
{
	char buf[PW_PREFIX_STRLEN];

	ck_assert_str_eq(pw_prefix_str(p, false, buf, sizeof(buf)), text);
}

static void assert_set(const struct policy_tenant_view *tv,
		       const struct policy_class_set *set, const char *expect)
{
	char buf[256] = "";
	size_t len = 0;
	uint32_t i, n = 0;

	for (i = 0; i < tv->n_classes; i++)
		if (policy_class_set_has(set, i)) {
			len += snprintf(buf + len, sizeof(buf) - len, "%s%u",
					len ? "," : "", i);
			n++;
		}
	/* No bit beyond the last class, no word without a bit, words in
	 * order, and the count right. */
	for (i = tv->n_classes; i < tv->class_words * 64; i++)
		ck_assert(!policy_class_set_has(set, i));
	for (i = 0; i < set->n_words; i++) {
		ck_assert(set->bits[i]);
		ck_assert(!i || set->word[i - 1] < set->word[i]);
	}
	ck_assert_uint_eq(set->n_classes, n);
	ck_assert_str_eq(buf, expect);
}

START_TEST(test_classes)
{
	/*
	 * Atoms: g1, web, host, db (rules name them) and the literals
	 * 10.1.1.0/25, 192.168.1.0/24; g2, g3, lan and dup only decide
	 * display segments and (lan, dup) what is external.
	 *
	 *   entry            atoms                  own  class  display
	 *   10.0.0.0/8       g1                     no   2      g1
	 *   10.1.0.0/16      g1                     yes  3      g2 (tie: global first)
	 *   10.1.1.0/24      g1 web                 yes  4      web (tie: web before dup)
	 *   10.1.1.0/25      g1 web /25             yes  5      web (longest segment prefix)
	 *   10.1.1.7/32      g1 web /25 host        yes  6      host
	 *   10.1.2.0/24      g1 db                  yes  7      db
	 *   172.16.0.0/12    -                      no   0      g3 (the IPv4 default)
	 *   192.168.1.0/24   /24                    no   8      none
	 *   fd00:1::/64      web                    yes  9      web
	 */
	static const struct {
		const char *prefix;
		uint32_t class_id;
		const char *segment;
	} lpm[] = {
		{ "10.0.0.0/8", 2, "g1" },    { "10.1.0.0/16", 3, "g2" },
		{ "10.1.1.0/24", 4, "web" },  { "10.1.1.0/25", 5, "web" },
		{ "10.1.1.7/32", 6, "host" }, { "10.1.2.0/24", 7, "db" },
		{ "172.16.0.0/12", 0, "g3" }, { "192.168.1.0/24", 8, NULL },
		{ "fd00:1::/64", 9, "web" },
	};
	static const struct {
		uint8_t family;
		bool external;
		uint32_t n_lpm;
		const char *segments;
		const char *literals;
	} cls[] = {
		{ PW_AF_INET, true, 1, "", "" },
		{ PW_AF_INET6, true, 0, "", "" },
		{ PW_AF_INET, true, 1, "g1", "" },
		{ PW_AF_INET, false, 1, "g1", "" },
		{ PW_AF_INET, false, 1, "g1 web", "" },
		{ PW_AF_INET, false, 1, "g1 web", "10.1.1.0/25" },
		{ PW_AF_INET, false, 1, "g1 web host", "10.1.1.0/25" },
		{ PW_AF_INET, false, 1, "g1 db", "" },
		{ PW_AF_INET, true, 1, "", "192.168.1.0/24" },
		{ PW_AF_INET6, false, 1, "web", "" },
	};
	struct policy_analysis *an = NULL;
	const struct policy_tenant_view *tv;
	struct policy *pol = fixture_load_ok(classes_yaml);
	char buf[128], pbuf[PW_PREFIX_STRLEN];
	uint32_t i, j;
	size_t len;

	ck_assert_int_eq(policy_analyze(pol, &an), 0);
	ck_assert_ptr_eq(an->policy, pol);
	ck_assert_uint_eq(an->n_tenants, 1);
	tv = &an->tenants[0];
	ck_assert_ptr_eq(tv->tenant, &pol->tenants[0]);
	ck_assert_uint_eq(tv->index, 0);

	ck_assert_uint_eq(tv->n_lpm, sizeof(lpm) / sizeof(lpm[0]));
	for (i = 0; i < tv->n_lpm; i++) {
		assert_prefix(&tv->lpm[i].prefix, lpm[i].prefix);
		ck_assert_uint_eq(tv->lpm[i].class_id, lpm[i].class_id);
		if (lpm[i].segment)
			ck_assert_str_eq(tv->lpm[i].segment->name,
					 lpm[i].segment);
		else
			ck_assert_ptr_null(tv->lpm[i].segment);
	}

	ck_assert_uint_eq(tv->n_classes, sizeof(cls) / sizeof(cls[0]));
	ck_assert_uint_eq(tv->class_words, 1);
	for (i = 0; i < tv->n_classes; i++) {
		const struct policy_addr_class *c = &tv->classes[i];

		ck_assert_uint_eq(c->id, i);
		ck_assert_uint_eq(c->family, cls[i].family);
		ck_assert(c->is_default == (i < 2));
		ck_assert(c->external == cls[i].external);
		ck_assert_uint_eq(c->n_lpm, cls[i].n_lpm);
		buf[0] = '\0';
		for (j = 0, len = 0; j < c->n_segments; j++)
			len += snprintf(buf + len, sizeof(buf) - len, "%s%s",
					j ? " " : "", c->segments[j]->name);
		ck_assert_str_eq(buf, cls[i].segments);
		buf[0] = '\0';
		for (j = 0, len = 0; j < c->n_literals; j++)
			len += snprintf(buf + len, sizeof(buf) - len, "%s%s",
					j ? " " : "",
					pw_prefix_str(&c->literals[j], false,
						      pbuf, sizeof(pbuf)));
		ck_assert_str_eq(buf, cls[i].literals);
	}

	/* Rule views: global rules first. */
	ck_assert_uint_eq(tv->n_rules, 4);
	ck_assert_str_eq(tv->rules[0].rule->name, "gr");
	assert_set(tv, tv->rules[0].src, "2,3,4,5,6,7");
	assert_set(tv, tv->rules[0].dst, "0,1,2,3,4,5,6,7,8,9");
	ck_assert_str_eq(tv->rules[1].rule->name, "r1");
	assert_set(tv, tv->rules[1].src, "4,5,6,9");
	assert_set(tv, tv->rules[1].dst, "7");
	assert_set(tv, tv->rules[2].src, "5,6");
	assert_set(tv, tv->rules[2].dst, "6");
	assert_set(tv, tv->rules[3].src, "8");
	assert_set(tv, tv->rules[3].dst, "6");

	policy_analysis_free(an);
	policy_free(pol);
}
END_TEST

START_TEST(test_external_views)
{
	/* `external` in a global rule is per tenant: a has no segments, so
	 * its only class per family is the default one. */
	struct policy_analysis *an = NULL;
	struct policy *pol = fixture_load_ok(
		"version: 1\n"
		"segments:\n"
		"  g: [10.9.0.0/16]\n"
		"rules:\n"
		"  - {name: gr, from: g, to: external, action: allow}\n"
		"tenants:\n"
		"  - name: a\n"
		"    interfaces: [a0]\n"
		"  - name: b\n"
		"    interfaces: [b0]\n"
		"    segments:\n"
		"      in-g: [10.9.1.0/24]\n"
		"      v6: [\"fd00::/64\"]\n"
		"    rules:\n"
		"      - {name: r, from: in-g, to: v6, action: allow}\n");
	const struct policy_tenant_view *tv;

	ck_assert_int_eq(policy_analyze(pol, &an), 0);
	ck_assert_uint_eq(an->n_tenants, 2);

	/* a: 0/1 defaults, 2 = g (external) */
	tv = &an->tenants[0];
	ck_assert_uint_eq(tv->n_classes, 3);
	ck_assert(tv->classes[2].external);
	assert_set(tv, tv->rules[0].src, "2");
	assert_set(tv, tv->rules[0].dst, "0,1,2");

	/* b: 2 = g only (external), 3 = g and in-g (own), 4 = v6 */
	tv = &an->tenants[1];
	ck_assert_uint_eq(tv->n_classes, 5);
	ck_assert(tv->classes[2].external);
	ck_assert(!tv->classes[3].external);
	ck_assert(!tv->classes[4].external);
	assert_set(tv, tv->rules[0].src, "2,3");
	assert_set(tv, tv->rules[0].dst, "0,1,2");
	assert_set(tv, tv->rules[1].src, "3");
	assert_set(tv, tv->rules[1].dst, "4");

	policy_analysis_free(an);
	policy_free(pol);
}
END_TEST

static void assert_svc(const struct policy_svc_set *svc, const char *expect)
{
	char buf[512] = "";
	size_t len = 0;
	uint32_t i;

	for (i = 0; i < svc->count && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%x-%x",
				i ? " " : "", svc->ranges[i].lo,
				svc->ranges[i].hi);
	ck_assert_str_eq(buf, expect);
}

START_TEST(test_services)
{
	struct policy_analysis *an = NULL;
	struct policy *pol = fixture_load_ok(
		ACME
		"      - {name: a, from: web, to: db, proto: tcp, ports: [443, \"80-85\", \"86-90\", 88], action: allow}\n"
		"      - {name: b, from: web, to: db, proto: udp, action: allow}\n"
		"      - {name: c, from: web, to: db, proto: icmp, icmp: [echo-request, 0, 8], action: allow}\n"
		"      - {name: d, from: web, to: db, proto: icmpv6, action: allow}\n"
		"      - {name: e, from: web, to: db, proto: 47, action: allow}\n"
		"      - {name: f, from: web, to: db, action: allow}\n");
	const struct policy_tenant_view *tv;
	const struct policy_svc_set *any;
	uint32_t p, i;

	ck_assert_int_eq(policy_analyze(pol, &an), 0);
	tv = &an->tenants[0];
	ck_assert_uint_eq(tv->n_rules, 6);
	assert_svc(&tv->rules[0].svc, "60050-6005a 601bb-601bb");
	assert_svc(&tv->rules[1].svc, "110000-11ffff");
	assert_svc(&tv->rules[2].svc, "10000-10000 10008-10008");
	assert_svc(&tv->rules[3].svc, "3a0000-3a00ff");
	assert_svc(&tv->rules[4].svc, "2f0000-2f0000");

	/* proto any: every protocol's full span; TCP and UDP run into the
	 * next protocol's only point, which merges them. */
	any = &tv->rules[5].svc;
	ck_assert_uint_eq(any->count, 254);
	for (p = 0, i = 0; p < 256; p++, i++) {
		uint32_t hi = POLICY_SVC_KEY(p, 0) + policy_svc_span(p) - 1;

		ck_assert_uint_eq(any->ranges[i].lo, POLICY_SVC_KEY(p, 0));
		if (p == POLICY_PROTO_TCP || p == POLICY_PROTO_UDP)
			hi = POLICY_SVC_KEY(++p, 0);
		ck_assert_uint_eq(any->ranges[i].hi, hi);
	}
	ck_assert_uint_eq(policy_svc_span(POLICY_PROTO_TCP), 65536);
	ck_assert_uint_eq(policy_svc_span(POLICY_PROTO_UDP), 65536);
	ck_assert_uint_eq(policy_svc_span(POLICY_PROTO_ICMP), 256);
	ck_assert_uint_eq(policy_svc_span(POLICY_PROTO_ICMPV6), 256);
	ck_assert_uint_eq(policy_svc_span(47), 1);

	policy_analysis_free(an);
	policy_free(pol);
}
END_TEST

/*
 * The scale tests' policy: one tenant 'big' on big0, whose segments and
 * rules a test writes to @f after big_open(). big_analyze() loads it,
 * analyses it and collects its warnings, and prints the time taken.
 */
struct big {
	char *yaml;
	size_t len;
	FILE *f;
	struct policy *pol;
	struct policy_analysis *an;
	struct pw_diags diags;
};

static void big_open(struct big *b)
{
	memset(b, 0, sizeof(*b));
	b->f = open_memstream(&b->yaml, &b->len);
	ck_assert_ptr_nonnull(b->f);
	fprintf(b->f, "version: 1\ntenants:\n  - name: big\n"
		      "    interfaces: [big0]\n    segments:\n");
}

static void big_analyze(struct big *b, const char *test, int n_rules)
{
	struct timespec t0, t1;

	ck_assert_int_eq(fclose(b->f), 0);
	b->pol = fixture_load_ok(b->yaml);
	free(b->yaml);

	pw_diags_init(&b->diags);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(policy_analyze(b->pol, &b->an), 0);
	ck_assert_int_eq(policy_warn(b->an, &b->diags), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "%s: %d rules analysed in %.3f s\n", test, n_rules,
		(double)(t1.tv_sec - t0.tv_sec) +
			(double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

static void big_free(struct big *b)
{
	pw_diags_free(&b->diags);
	policy_analysis_free(b->an);
	policy_free(b->pol);
}

/*
 * 10,000 rules between distinct /32 segments and external, a rule from
 * external, a catch-all that stays reachable and one shadowed rule. Guards
 * against quadratic blow-ups turning seconds into minutes; the time taken
 * is printed.
 */
START_TEST(test_scale)
{
	enum { N = 10000 };
	struct big b;
	FILE *f;
	int i;

	big_open(&b);
	f = b.f;
	for (i = 0; i < N; i++)
		fprintf(f, "      s%d: [10.%d.%d.%d]\n", i, i >> 16,
			(i >> 8) & 255, i & 255);
	fprintf(f, "    rules:\n");
	for (i = 0; i < N; i++)
		fprintf(f,
			"      - {name: r%d, from: s%d, to: [s%d, external], "
			"proto: tcp, ports: [%d], action: allow}\n",
			i, i, (i * 7 + 1) % N, 1 + i % 1000);
	fprintf(f, "      - {name: ext, from: external, to: any, proto: tcp, "
		   "action: allow}\n");
	fprintf(f, "      - {name: all, from: any, to: any, proto: tcp, "
		   "ports: [1], action: deny}\n");
	fprintf(f, "      - {name: dup, from: s5, to: external, proto: tcp, "
		   "ports: [6], action: deny}\n");
	big_analyze(&b, "test_scale", N + 3);
	ck_assert_uint_eq(b.an->tenants[0].n_classes, N + 2);

	ck_assert_uint_eq(b.diags.count, 1);
	ck_assert_uint_eq(b.diags.items[0].loc.line, 2 * N + 9);
	ck_assert_uint_eq(b.diags.items[0].loc.col, 9);
	ck_assert_str_eq(b.diags.items[0].message,
			 "rule 'dup' is shadowed by earlier rules and "
			 "can never match (covered by 'r5')");
	big_free(&b);
}
END_TEST

/*
 * A catch-all covered through both dimensions: every segment may reach
 * external, anyone may reach every segment, external may reach external.
 * Proving it shadowed means covering every (source, destination) pair.
 */
START_TEST(test_scale_shadowed)
{
	enum { N = 5000 };
	struct big b;
	FILE *f;
	int i;

	big_open(&b);
	f = b.f;
	for (i = 0; i < N; i++)
		fprintf(f, "      s%d: [10.%d.%d.%d, \"fd00::%x\"]\n", i,
			i >> 16, (i >> 8) & 255, i & 255, i);
	fprintf(f, "    rules:\n");
	for (i = 0; i < N; i++)
		fprintf(f,
			"      - {name: a%d, from: s%d, to: external, "
			"action: allow}\n",
			i, i);
	for (i = 0; i < N; i++)
		fprintf(f,
			"      - {name: b%d, from: any, to: s%d, "
			"action: allow}\n",
			i, i);
	fprintf(f, "      - {name: ext, from: external, to: external, "
		   "action: allow}\n");
	fprintf(f, "      - {name: last, from: any, to: any, proto: tcp, "
		   "action: deny}\n");
	big_analyze(&b, "test_scale_shadowed", 2 * N + 2);

	ck_assert_uint_eq(b.diags.count, 1);
	ck_assert_uint_eq(b.diags.items[0].loc.line, 3 * N + 8);
	ck_assert_str_eq(b.diags.items[0].message,
			 "rule 'last' is shadowed by earlier rules and can "
			 "never match (covered by 'a0', 'a1', 'a2', ...)");
	big_free(&b);
}
END_TEST

/*
 * Brute force, on random policies with a few hundred address classes (so
 * that class sets span several 64-bit words) and up to 64 rules per
 * tenant: every packet class (inhabited source class, inhabited
 * destination class of the same family, service interval) is matched
 * against every rule, and the warnings must be exactly what that says.
 * The rules' class sets are rebuilt from the classes' own descriptions
 * (segments, literals, external), and inhabited classes from the LPM
 * entries by interval coverage, independently of analyze.c.
 */
#define BF_PREFIXES 48

static void bf_prefix(char *buf, size_t size)
{
	static const unsigned int lens4[] = { 16, 20, 24, 24, 28, 30, 32, 32 };
	static const unsigned int lens6[] = { 48, 64, 120, 128 };
	unsigned int len, a, b;

	if (gen_chance(15)) {
		len = lens6[gen_below(4)];
		a = gen_below(4);
		b = gen_below(8);
		if (len <= 48)
			snprintf(buf, size, "\"fd00:%x::/%u\"", a, len);
		else if (len <= 64)
			snprintf(buf, size, "\"fd00:%x:%x::/%u\"", a, b, len);
		else
			snprintf(buf, size, "\"fd00:%x:%x::%x/%u\"", a, b,
				 len == 128 ? gen_below(8) : 0, len);
		return;
	}
	len = lens4[gen_below(8)];
	/* 10.0.0.0/16 and a neighbour: prefixes nest and overlap often */
	a = gen_below(4) * 16 + (len > 20 ? gen_below(2) : 0);
	b = gen_below(256);
	if (len <= 16)
		snprintf(buf, size, "10.%u.0.0/16", gen_below(2));
	else if (len <= 20)
		snprintf(buf, size, "10.0.%u.0/20", a & 0xf0);
	else if (len <= 24)
		snprintf(buf, size, "10.0.%u.0/24", a);
	else
		snprintf(buf, size, "10.0.%u.%u/%u", a,
			 b & ~((1U << (32 - len)) - 1), len);
}

static void bf_selectors(FILE *f, const char (*pool)[64], unsigned int n_segs,
			 unsigned int n_gsegs)
{
	unsigned int n = 1 + gen_below(3), i, k;

	fprintf(f, "[");
	for (i = 0; i < n; i++) {
		k = gen_below(100);
		if (i)
			fprintf(f, ", ");
		if (k < 4)
			fprintf(f, "any");
		else if (k < 10)
			fprintf(f, "external");
		else if (k < 20)
			fprintf(f, "%s", pool[gen_below(BF_PREFIXES)]);
		else if (k < 28 && n_gsegs)
			fprintf(f, "g%u", gen_below(n_gsegs));
		else if (n_segs)
			fprintf(f, "s%u", gen_below(n_segs));
		else
			fprintf(f, "any");
	}
	fprintf(f, "]");
}

static void bf_rule(FILE *f, const char *indent, const char *name,
		    unsigned int i, const char (*pool)[64], unsigned int n_segs,
		    unsigned int n_gsegs)
{
	static const char *const ports[] = { "22",	  "80",	       "443",
					     "8000-8100", "1000-2000", "53",
					     "0-1023",	  "1024-65535" };
	unsigned int k = gen_below(100), n, j;

	fprintf(f, "%s- {name: %s%u, from: ", indent, name, i);
	bf_selectors(f, pool, n_segs, n_gsegs);
	fprintf(f, ", to: ");
	bf_selectors(f, pool, n_segs, n_gsegs);
	if (k < 55) {
		fprintf(f, ", proto: %s, ports: [",
			gen_chance(70) ? "tcp" : "udp");
		n = 1 + gen_below(2);
		for (j = 0; j < n; j++)
			fprintf(f, "%s\"%s\"", j ? ", " : "",
				ports[gen_below(8)]);
		fprintf(f, "]");
	} else if (k < 65) {
		fprintf(f, ", proto: tcp");
	} else if (k < 75) {
		fprintf(f, ", proto: icmp, icmp: [%s]",
			gen_chance(50) ? "echo-request" : "3");
	} else if (k < 80) {
		fprintf(f, ", proto: icmpv6");
	}
	fprintf(f, ", action: %s}\n", gen_chance(70) ? "allow" : "deny");
}

static char *bf_policy(void)
{
	char pool[BF_PREFIXES][64];
	unsigned int n_gsegs = gen_below(4), n_grules = gen_below(4);
	unsigned int n_tenants = 1 + gen_below(2), t, i, j, n;
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);

	ck_assert_ptr_nonnull(f);
	for (i = 0; i < BF_PREFIXES; i++)
		bf_prefix(pool[i], sizeof(pool[i]));
	fprintf(f, "version: 1\n");
	if (n_gsegs) {
		fprintf(f, "segments:\n");
		for (i = 0; i < n_gsegs; i++)
			fprintf(f, "  g%u: [%s]\n", i, pool[gen_below(8)]);
	}
	if (n_grules) {
		fprintf(f, "rules:\n");
		for (i = 0; i < n_grules; i++)
			bf_rule(f, "  ", "g", i, pool, 0, n_gsegs);
	}
	fprintf(f, "tenants:\n");
	for (t = 0; t < n_tenants; t++) {
		unsigned int n_segs = 60 + gen_below(120);

		fprintf(f, "  - name: t%u\n    interfaces: [eth%u]\n", t, t);
		fprintf(f, "    segments:\n");
		for (i = 0; i < n_segs; i++) {
			char own[64];

			/* Mostly a segment of its own: many classes */
			bf_prefix(own, sizeof(own));
			fprintf(f, "      s%u: [%s", i, own);
			n = gen_below(3);
			for (j = 0; j < n; j++)
				fprintf(f, ", %s",
					pool[gen_below(BF_PREFIXES)]);
			fprintf(f, "]\n");
		}
		fprintf(f, "    rules:\n");
		n = 20 + gen_below(60 - n_grules - 20);
		for (i = 0; i < n; i++)
			bf_rule(f, "      ", "r", i, pool, n_segs, n_gsegs);
	}
	ck_assert_int_eq(fclose(f), 0);
	return yaml;
}

typedef unsigned __int128 bf_u128;

static void bf_range(const struct pw_prefix *p, bf_u128 *lo, bf_u128 *hi)
{
	unsigned int bits = pw_family_bits(p->family), i;
	bf_u128 v = 0, size;

	for (i = 0; i < bits / 8; i++)
		v = v << 8 | p->addr[i];
	size = p->len == 0 && bits == 128 ? ~(bf_u128)0 :
					    ((bf_u128)1 << (bits - p->len)) - 1;
	*lo = v;
	*hi = v + size;
}

/* [lo, hi] is covered by the prefixes of @tv's LPM table of @family that
 * lie strictly inside it (all of them: @lo == 0 and @hi the family's
 * end, with @outer NULL). */
static bool bf_covered(const struct policy_tenant_view *tv, uint8_t family,
		       const struct pw_prefix *outer, bf_u128 lo, bf_u128 hi)
{
	bf_u128 cur = lo, a, b;
	bool progress = true;
	uint32_t i;

	/* Repeated passes instead of a sort: the tables are small. */
	while (progress) {
		progress = false;
		for (i = 0; i < tv->n_lpm; i++) {
			const struct pw_prefix *p = &tv->lpm[i].prefix;

			if (p->family != family ||
			    (outer && (p->len <= outer->len ||
				       !pw_prefix_contains(outer, p))))
				continue;
			bf_range(p, &a, &b);
			if (a <= cur && b >= cur) {
				if (b >= hi)
					return true;
				cur = b + 1;
				progress = true;
			}
		}
	}
	return false;
}

static bool bf_inhabited(const struct policy_tenant_view *tv, uint32_t c)
{
	const struct policy_addr_class *cls = &tv->classes[c];
	bf_u128 lo, hi;
	uint32_t i;

	if (cls->is_default)
		return !bf_covered(tv, cls->family, NULL, 0,
				   cls->family == PW_AF_INET ? 0xffffffffU :
							       ~(bf_u128)0);
	for (i = 0; i < tv->n_lpm; i++) {
		if (tv->lpm[i].class_id != c)
			continue;
		bf_range(&tv->lpm[i].prefix, &lo, &hi);
		if (!bf_covered(tv, cls->family, &tv->lpm[i].prefix, lo, hi))
			return true;
	}
	return false;
}

static bool bf_selects(const struct policy_selector *sels, uint32_t n,
		       const struct policy_addr_class *cls)
{
	uint32_t i, j;

	for (i = 0; i < n; i++) {
		switch (sels[i].kind) {
		case POLICY_SEL_ANY:
			return true;
		case POLICY_SEL_EXTERNAL:
			if (cls->external)
				return true;
			break;
		case POLICY_SEL_SEGMENT:
			for (j = 0; j < cls->n_segments; j++)
				if (cls->segments[j] == sels[i].segment)
					return true;
			break;
		case POLICY_SEL_PREFIX:
			for (j = 0; j < cls->n_literals; j++)
				if (!pw_prefix_cmp(&cls->literals[j],
						   &sels[i].prefix))
					return true;
			break;
		}
	}
	return false;
}

static int bf_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Per rule of @tv: reachable, and the rules that first match a packet of
 * it (a mask of positions); *@never_ok and the any-to-any position as
 * analyze_warn.c's judge() orders its verdicts. Returns the expected
 * warning of rule @k as text ("" for none). */
struct bf_tenant {
	uint64_t reach;
	uint64_t covered[64];
	char msg[64][512];
};

static void bf_judge(const struct policy_tenant_view *tv, struct bf_tenant *o)
{
	uint32_t n = tv->n_rules, nc = tv->n_classes, c, d, k, i, j;
	uint64_t *smask = calloc(nc, sizeof(uint64_t));
	uint64_t *dmask = calloc(nc, sizeof(uint64_t));
	bool *inh = calloc(nc, sizeof(bool));
	uint32_t *bp = NULL, n_bp = 0;
	uint64_t *vm = NULL, all_valid = ~0ULL;
	uint32_t n_vm = 0, any_pos = UINT32_MAX;

	ck_assert_uint_le(n, 64);
	ck_assert(smask && dmask && inh);
	memset(o, 0, sizeof(*o));
	for (c = 0; c < nc; c++) {
		const struct policy_addr_class *cls = &tv->classes[c];

		inh[c] = bf_inhabited(tv, c);
		for (k = 0; k < n; k++) {
			const struct policy_rule_view *rv = &tv->rules[k];
			bool s = bf_selects(rv->rule->from, rv->rule->n_from,
					    cls);
			bool t = bf_selects(rv->rule->to, rv->rule->n_to, cls);

			/* The analysis' sparse sets say the same */
			ck_assert_int_eq(policy_class_set_has(rv->src, c), s);
			ck_assert_int_eq(policy_class_set_has(rv->dst, c), t);
			smask[c] |= (uint64_t)s << k;
			dmask[c] |= (uint64_t)t << k;
		}
	}
	/* Service breakpoints: every rule range's ends and every protocol's
	 * span, so each interval is valid or not as a whole and matches
	 * the same rules throughout. */
	bp = malloc((2 * 256 + 2 * 256 * (size_t)n + 1) * sizeof(*bp));
	ck_assert_ptr_nonnull(bp);
	for (i = 0; i < 256; i++) {
		bp[n_bp++] = POLICY_SVC_KEY(i, 0);
		bp[n_bp++] = POLICY_SVC_KEY(i, 0) + policy_svc_span(i);
	}
	for (k = 0; k < n; k++) {
		const struct policy_svc_set *v = &tv->rules[k].svc;

		for (i = 0; i < v->count; i++) {
			bp[n_bp++] = v->ranges[i].lo;
			bp[n_bp++] = v->ranges[i].hi + 1;
		}
	}
	qsort(bp, n_bp, sizeof(*bp), bf_u32_cmp);
	vm = calloc(n_bp + 1, sizeof(*vm));
	ck_assert_ptr_nonnull(vm);
	for (i = 0; i < n_bp; i++) {
		uint32_t key = bp[i];
		uint64_t m = 0;

		if ((i && bp[i - 1] == key) ||
		    (key & 0xffff) >= policy_svc_span(key >> 16) ||
		    key >> 16 > 255)
			continue;
		for (k = 0; k < n; k++) {
			const struct policy_svc_set *v = &tv->rules[k].svc;

			for (j = 0; j < v->count; j++)
				if (v->ranges[j].lo <= key &&
				    key <= v->ranges[j].hi)
					m |= 1ULL << k;
		}
		all_valid &= m;
		for (j = 0; j < n_vm && vm[j] != m; j++)
			;
		if (j == n_vm)
			vm[n_vm++] = m;
	}
	for (c = 0; c < nc; c++) {
		for (d = 0; d < nc; d++) {
			if (!inh[c] || !inh[d] ||
			    tv->classes[c].family != tv->classes[d].family)
				continue;
			for (j = 0; j < n_vm; j++) {
				uint64_t m = smask[c] & dmask[d] & vm[j];
				uint32_t f;

				if (!m)
					continue;
				f = (uint32_t)__builtin_ctzll(m);
				o->reach |= 1ULL << f;
				for (m &= m - 1; m; m &= m - 1)
					o->covered[__builtin_ctzll(m)] |= 1ULL
									  << f;
			}
		}
	}
	for (k = 0; k < n; k++) {
		const struct policy_rule *r = tv->rules[k].rule;
		bool s_any = false, d_any = false, pair = false, s_all = true,
		     d_all = true;
		char *m = o->msg[k];
		size_t len;

		for (c = 0; c < nc; c++) {
			bool s = (smask[c] >> k) & 1, t = (dmask[c] >> k) & 1;

			if (!inh[c])
				continue;
			s_any |= s;
			d_any |= t;
			s_all &= s;
			d_all &= t;
			for (d = 0; s && d < nc && !pair; d++)
				pair = inh[d] && ((dmask[d] >> k) & 1) &&
				       tv->classes[d].family ==
					       tv->classes[c].family;
		}
		if (any_pos != UINT32_MAX) {
			snprintf(m, sizeof(o->msg[k]),
				 "rule '%s' comes after the any-to-any %srule "
				 "'%s' and can never match",
				 r->name,
				 tv->rules[any_pos].rule->tenant < 0 ?
					 "global " :
					 "",
				 tv->rules[any_pos].rule->name);
		} else if (!s_any) {
			snprintf(m, sizeof(o->msg[k]),
				 "rule '%s' can never match: its source "
				 "matches no address",
				 r->name);
		} else if (!d_any) {
			snprintf(m, sizeof(o->msg[k]),
				 "rule '%s' can never match: its destination "
				 "matches no address",
				 r->name);
		} else if (!pair) {
			snprintf(m, sizeof(o->msg[k]),
				 "rule '%s' can never match: its source and "
				 "destination have no address family in "
				 "common",
				 r->name);
		} else if (!((o->reach >> k) & 1)) {
			uint64_t cov = o->covered[k];

			ck_assert(cov);
			len = (size_t)snprintf(m, sizeof(o->msg[k]),
					       "rule '%s' is shadowed by "
					       "earlier rules and can never "
					       "match (covered by ",
					       r->name);
			for (i = 0; cov && i < 3; i++, cov &= cov - 1) {
				const struct policy_rule *e =
					tv->rules[__builtin_ctzll(cov)].rule;

				len += (size_t)snprintf(
					m + len, sizeof(o->msg[k]) - len,
					"%s%s'%s'", i ? ", " : "",
					e->tenant < 0 ? "global rule " : "",
					e->name);
			}
			snprintf(m + len, sizeof(o->msg[k]) - len, "%s)",
				 cov ? ", ..." : "");
		}
		if (any_pos == UINT32_MAX && s_all && d_all &&
		    ((all_valid >> k) & 1))
			any_pos = k;
	}
	free(smask);
	free(dmask);
	free(inh);
	free(bp);
	free(vm);
}

/* The warning at line @line, "" for none. */
static const char *bf_warning_at(const struct pw_diags *diags, uint32_t line)
{
	size_t i;

	for (i = 0; i < diags->count; i++)
		if (diags->items[i].loc.line == line)
			return diags->items[i].message;
	return "";
}

START_TEST(test_shadow_brute_force)
{
	uint32_t seed, t, k, n_shadowed = 0, n_wide = 0;
	struct bf_tenant *o = malloc(sizeof(*o));

	ck_assert_ptr_nonnull(o);
	for (seed = 1; seed <= 60; seed++) {
		struct policy_analysis *an = NULL;
		struct pw_diags diags;
		struct policy *pol;
		uint64_t global_live = 0;
		char *yaml;

		gen_seed(seed);
		yaml = bf_policy();
		pol = fixture_load_ok(yaml);
		pw_diags_init(&diags);
		ck_assert_int_eq(policy_analyze(pol, &an), 0);
		ck_assert_int_eq(policy_warn(an, &diags), 0);
		for (t = 0; t < an->n_tenants; t++) {
			const struct policy_tenant_view *tv = &an->tenants[t];

			n_wide += tv->class_words > 1;
			bf_judge(tv, o);
			for (k = 0; k < tv->n_rules; k++) {
				const struct policy_rule *r = tv->rules[k].rule;

				if (r->tenant < 0) {
					if (!o->msg[k][0])
						global_live |= 1ULL << k;
					continue;
				}
				n_shadowed += !!strstr(o->msg[k], "shadowed");
				if (strcmp(bf_warning_at(&diags, r->loc.line),
					   o->msg[k]))
					ck_abort_msg("seed %u, tenant %u: got "
						     "'%s', brute force says "
						     "'%s'",
						     seed, t,
						     bf_warning_at(&diags,
								   r->loc.line),
						     o->msg[k]);
			}
		}
		/* A global rule is warned about when no tenant reaches it */
		for (k = 0; k < pol->n_rules; k++)
			ck_assert_msg(!*bf_warning_at(&diags,
						      pol->rules[k].loc.line) ==
					      !!((global_live >> k) & 1),
				      "seed %u, global rule %u", seed, k);
		pw_diags_free(&diags);
		policy_analysis_free(an);
		policy_free(pol);
		free(yaml);
	}
	fprintf(stderr, "brute force: %u shadowed, %u wide tenants\n",
		n_shadowed, n_wide);
	/* The policies exercise what they are meant to */
	ck_assert_uint_gt(n_shadowed, 20);
	ck_assert_uint_gt(n_wide, 30);
	free(o);
}
END_TEST

static Suite *analyze_suite(void)
{
	Suite *s = suite_create("analyze");
	TCase *tc = tcase_create("shadow");

	tcase_add_test(tc, test_ports_partial_overlap);
	tcase_add_test(tc, test_ports_split_coverage);
	tcase_add_test(tc, test_more_than_three_names);
	tcase_add_test(tc, test_address_split);
	tcase_add_test(tc, test_ipv4_ipv6);
	tcase_add_test(tc, test_external);
	tcase_add_test(tc, test_external_not_covering_segment);
	tcase_add_test(tc, test_global_shadows_tenant);
	tcase_add_test(tc, test_global_shadowed_per_tenant);
	tcase_add_test(tc, test_icmp);
	tcase_add_test(tc, test_proto_number);
	tcase_add_test(tc, test_family_mismatch);
	tcase_add_test(tc, test_empty_classes);
	suite_add_tcase(s, tc);

	tc = tcase_create("any-to-any");
	tcase_add_test(tc, test_after_any_to_any);
	tcase_add_test(tc, test_after_any_to_any_by_cover);
	tcase_add_test(tc, test_after_global_any_to_any);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, test_unused_segments);
	tcase_add_test(tc, test_no_warnings);
	suite_add_tcase(s, tc);

	tc = tcase_create("classes");
	tcase_add_test(tc, test_classes);
	tcase_add_test(tc, test_external_views);
	tcase_add_test(tc, test_services);
	suite_add_tcase(s, tc);

	tc = tcase_create("scale");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_scale);
	tcase_add_test(tc, test_scale_shadowed);
	suite_add_tcase(s, tc);

	tc = tcase_create("brute-force");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_shadow_brute_force);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fixture_run_suite(analyze_suite());
}
