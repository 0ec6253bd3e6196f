// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the reference evaluator, the connection-tracking model
 * (policy/eval.[ch]) and the frame parser (policy/packet.[ch]): every
 * branch of policy.md section 7, stateless and stateful, with an injected
 * clock.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/eval.h"
#include "fixtures.h"

#define S(x) ((uint64_t)(x)*1000000000ULL)

static struct policy_packet pkt(const char *ifname, uint16_t vlan,
				const char *src, const char *dst, int proto)
{
	struct policy_packet p;

	memset(&p, 0, sizeof(p));
	strcpy(p.ifname, ifname);
	p.vlan = vlan;
	ck_assert_int_eq(policy_packet_set_addrs(&p, src, dst), 0);
	p.proto = (uint8_t)proto;
	p.l4 = true;
	p.len = 100;
	return p;
}

static struct policy_packet tcp(const char *src, uint16_t sport,
				const char *dst, uint16_t dport, uint8_t flags)
{
	struct policy_packet p = pkt("eth0", 0, src, dst, POLICY_PROTO_TCP);

	p.sport = sport;
	p.dport = dport;
	p.tcp_flags = flags;
	return p;
}

static struct policy_packet udp(const char *src, uint16_t sport,
				const char *dst, uint16_t dport)
{
	struct policy_packet p = pkt("eth0", 0, src, dst, POLICY_PROTO_UDP);

	p.sport = sport;
	p.dport = dport;
	return p;
}

static struct policy_packet icmp(const char *src, const char *dst, uint8_t type,
				 uint16_t id)
{
	struct policy_packet p = pkt("eth0", 0, src, dst, POLICY_PROTO_ICMP);

	p.icmp_type = type;
	p.icmp_id = id;
	return p;
}

static void eval(const struct policy *pol, const struct policy_packet *p,
		 struct policy_eval_result *r)
{
	policy_eval_packet(pol, p, r);
}

static void expect(const struct policy_eval_result *r, enum pw_verdict v,
		   enum pw_reason reason, const char *rule)
{
	ck_assert_msg(r->verdict == v && r->reason == reason,
		      "got %s/%s, want %s/%s", policy_verdict_name(r->verdict),
		      policy_reason_name(r->reason), policy_verdict_name(v),
		      policy_reason_name(reason));
	if (rule) {
		ck_assert_ptr_nonnull(r->rule);
		ck_assert_str_eq(r->rule->name, rule);
		ck_assert_uint_eq(r->rule_id, r->rule->id);
	} else {
		ck_assert_ptr_null(r->rule);
		ck_assert_uint_eq(r->rule_id, PW_RULE_NONE);
	}
}

/* ---- stateless --------------------------------------------------------- */

static const char basic_yaml[] =
	"version: 1\n"
	"settings: {unmatched: deny, non_ip: deny}\n"
	"segments:\n"
	"  g16: [10.1.0.0/16]\n"
	"  dns: [10.0.0.53]\n"
	"rules:\n"
	"  - {name: g-ssh, from: any, to: any, proto: tcp, ports: [22],\n"
	"     action: deny, log: true}\n"
	"  - {name: g-dns, from: external, to: dns, proto: udp, ports: [53],\n"
	"     action: allow}\n"
	"tenants:\n"
	"  - name: acme\n"
	"    interfaces: [eth0, eth1]\n"
	"    default: reject\n"
	"    segments:\n"
	"      t16: [10.1.0.0/16]\n"
	"      web: [10.1.1.0/24, \"fd00:1::/64\"]\n"
	"      db: [10.1.2.0/24]\n"
	"    rules:\n"
	"      - {name: ssh, from: web, to: db, proto: tcp, ports: [22],\n"
	"         action: allow}\n"
	"      - {name: range, from: web, to: db, proto: tcp,\n"
	"         ports: [\"8000-8100\", 5432], action: allow}\n"
	"      - {name: ping, from: [web, 10.9.0.0/16], to: db, proto: icmp,\n"
	"         icmp: [echo-request, 13], action: allow}\n"
	"      - {name: gre, from: web, to: db, proto: 47, action: allow}\n"
	"      - {name: v6, from: web, to: \"fd00:2::/64\", action: allow}\n"
	"      - {name: out, from: web, to: external, action: deny}\n"
	"  - name: lab\n"
	"    interfaces: [eth0]\n"
	"    vlans: [10, 11]\n"
	"    log_default: false\n"
	"    mode: audit\n"
	"    rules:\n"
	"      - {name: lab-ok, from: any, to: any, proto: udp, action: allow}\n";

START_TEST(test_tenant_and_settings)
{
	struct policy *pol = fixture_load_ok(basic_yaml);
	struct policy_eval_result r;
	struct policy_packet p;

	ck_assert_str_eq(policy_eval_tenant(pol, "eth1", 0)->name, "acme");
	ck_assert_str_eq(policy_eval_tenant(pol, "eth0", 11)->name, "lab");
	ck_assert_ptr_null(policy_eval_tenant(pol, "eth1", 10));
	ck_assert_ptr_null(policy_eval_tenant(pol, "eth9", 0));

	p = pkt("eth1", 10, "10.1.1.1", "10.1.2.1", 6);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_UNMATCHED, NULL);
	ck_assert_ptr_null(r.tenant);
	ck_assert(r.log);

	p.kind = POLICY_PKT_NON_IP;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_NON_IP, NULL);
	ck_assert(!r.log);

	p.kind = POLICY_PKT_MALFORMED;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_MALFORMED, NULL);
	ck_assert(r.log);
	/* reported on the tenant of its wire, as the datapath's event;
	 * never with segments */
	ck_assert_ptr_null(r.tenant); /* (eth1, 10): nobody's */
	p.vlan = 11;
	p.ifname[3] = '0';
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_MALFORMED, NULL);
	ck_assert_str_eq(r.tenant->name, "lab");
	ck_assert_ptr_null(r.src_segment);
	ck_assert_ptr_null(r.dst_segment);
	p.vlan = 0;
	eval(pol, &p, &r);
	ck_assert_str_eq(r.tenant->name, "acme");
	ck_assert_ptr_null(r.src_segment);
	policy_free(pol);

	pol = fixture_load_ok("version: 1\n"
			      "tenants: [{name: a, interfaces: [eth0]}]\n"
			      "settings: {unmatched: allow}\n");
	p = pkt("eth1", 0, "10.1.1.1", "10.1.2.1", 6);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_UNMATCHED, NULL);
	ck_assert(!r.log);
	p.kind = POLICY_PKT_NON_IP; /* non_ip defaults to allow */
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_NON_IP, NULL);
	policy_free(pol);
}
END_TEST

START_TEST(test_rules_first_match)
{
	struct policy *pol = fixture_load_ok(basic_yaml);
	struct policy_eval_result r;
	struct policy_packet p;

	/* the global deny comes before the tenant's allow */
	p = tcp("10.1.1.1", 1000, "10.1.2.1", 22, POLICY_TCP_SYN);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_POLICY, "g-ssh");
	ck_assert(r.log);
	ck_assert_uint_eq(r.rule_id, 0);
	ck_assert_str_eq(r.tenant->name, "acme");

	/* port ranges and their edges */
	p.dport = 8000;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "range");
	ck_assert(!r.log);
	p.dport = 8100;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "range");
	p.dport = 5432;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "range");
	p.dport = 8101;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_REJECT, PW_REASON_DEFAULT, NULL);
	ck_assert(r.log); /* log_default follows default: reject */
	p.dport = 7999;
	p.proto = POLICY_PROTO_UDP; /* tcp rules do not match udp */
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_REJECT, PW_REASON_DEFAULT, NULL);

	/* ICMP types, a literal in a selector list */
	p = icmp("10.9.3.3", "10.1.2.1", 8, 1);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "ping");
	p.icmp_type = 13;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "ping");
	p.icmp_type = 0;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_REJECT, PW_REASON_DEFAULT, NULL);

	/* protocol by number */
	p = pkt("eth0", 0, "10.1.1.1", "10.1.2.1", 47);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "gre");
	p.proto = 48;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_REJECT, PW_REASON_DEFAULT, NULL);

	/* IPv6 and proto any */
	p = pkt("eth0", 0, "fd00:1::1", "fd00:2::9", 132);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "v6");
	policy_free(pol);
}
END_TEST

START_TEST(test_external_and_segments)
{
	struct policy *pol = fixture_load_ok(basic_yaml);
	struct policy_eval_result r;
	struct policy_packet p;

	/* 10.0.0.53 is in a global segment only: external for acme */
	p = tcp("10.1.1.1", 1000, "10.0.0.53", 80, 0);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_POLICY, "out");
	ck_assert_str_eq(r.dst_segment->name, "dns");
	/* 10.1.9.9 is in acme's t16: not external */
	p = tcp("10.1.1.1", 1000, "10.1.9.9", 80, 0);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_REJECT, PW_REASON_DEFAULT, NULL);
	/* g-dns: from external (10.7.0.1 is in no acme segment) */
	p = udp("10.7.0.1", 1000, "10.0.0.53", 53);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "g-dns");
	ck_assert_ptr_null(r.src_segment);
	p = udp("10.1.3.1", 1000, "10.0.0.53", 53);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_REJECT, PW_REASON_DEFAULT, NULL);

	/* display segment: longest prefix; equal ones: first defined,
	 * global before tenant (g16 before t16) */
	ck_assert_str_eq(r.src_segment->name, "g16");
	p = udp("10.1.1.7", 1000, "192.0.2.1", 53);
	eval(pol, &p, &r);
	ck_assert_str_eq(r.src_segment->name, "web");
	ck_assert_ptr_null(r.dst_segment);
	/* in lab, acme's segments do not exist */
	p.vlan = 10;
	eval(pol, &p, &r);
	ck_assert_str_eq(r.tenant->name, "lab");
	ck_assert_str_eq(r.src_segment->name, "g16");
	policy_free(pol);
}
END_TEST

START_TEST(test_audit_mode)
{
	struct policy *pol = fixture_load_ok(basic_yaml);
	struct policy_eval_result r;
	struct policy_packet p;

	p = tcp("10.1.1.1", 1000, "10.1.2.1", 80, POLICY_TCP_SYN);
	p.vlan = 10;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_AUDIT, PW_REASON_DEFAULT, NULL);
	ck_assert_int_eq(r.action, PW_ACTION_DENY);
	ck_assert(r.log); /* audit logs even with log_default: false */
	/* the global deny is audited too */
	p.dport = 22;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_AUDIT, PW_REASON_POLICY, "g-ssh");
	/* allowed stays allowed, not logged */
	p = udp("10.1.1.1", 1000, "10.1.2.1", 99);
	p.vlan = 11;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "lab-ok");
	ck_assert(!r.log);
	policy_free(pol);
}
END_TEST

/* ---- connection tracking ---------------------------------------------- */

static const char ct_yaml[] =
	"version: 1\n"
	"settings:\n"
	"  conntrack:\n"
	"    max_entries: 1024\n"
	"    timeouts: {tcp_syn: 5, tcp_established: 100, tcp_closing: 10,\n"
	"               udp: 20, icmp: 7, other: 30}\n"
	"tenants:\n"
	"  - name: acme\n"
	"    interfaces: [eth0]\n"
	"    segments:\n"
	"      web: [10.1.1.0/24]\n"
	"      db: [10.1.2.0/24]\n"
	"    rules:\n"
	"      - {name: web-db, from: web, to: db, proto: tcp, ports: [5432],\n"
	"         action: allow, log: true}\n"
	"      - {name: dns, from: web, to: any, proto: udp, ports: [53],\n"
	"         action: allow}\n"
	"      - {name: ping, from: web, to: db, proto: icmp,\n"
	"         icmp: [echo-request], action: allow}\n"
	"      - {name: gre, from: web, to: db, proto: 47, action: allow}\n"
	"  - name: lab\n"
	"    interfaces: [eth1]\n"
	"    mode: audit\n";

struct ends {
	unsigned int n;
	enum pw_end_reason last;
	uint64_t packets0, packets1;
};

static void on_end(const struct policy_ct_flow *f, enum pw_end_reason why,
		   void *ctx)
{
	struct ends *e = ctx;

	e->n++;
	e->last = why;
	e->packets0 = f->val.packets[0];
	e->packets1 = f->val.packets[1];
}

struct ct {
	struct policy *pol;
	struct policy_ct_model *m;
	struct ends ends;
};

static void ct_open(struct ct *c, const char *yaml)
{
	memset(c, 0, sizeof(*c));
	c->pol = fixture_load_ok(yaml);
	ck_assert_int_eq(policy_ct_model_new(c->pol, 1, &c->m), 0);
	policy_ct_model_on_end(c->m, on_end, &c->ends);
}

static void ct_close(struct ct *c)
{
	policy_ct_model_free(c->m);
	policy_free(c->pol);
}

static void step(struct ct *c, struct policy_packet p, uint64_t now,
		 struct policy_eval_result *r)
{
	ck_assert_int_eq(policy_ct_model_packet(c->m, &p, now, r), 0);
}

#define WEB "10.1.1.5"
#define DB "10.1.2.7"
#define SYN POLICY_TCP_SYN
#define ACK POLICY_TCP_ACK
#define FIN POLICY_TCP_FIN
#define RST POLICY_TCP_RST

START_TEST(test_tcp_handshake)
{
	struct policy_eval_result r;
	struct policy_ct_flow f;
	struct ct c;

	ct_open(&c, ct_yaml);
	step(&c, tcp(WEB, 40000, DB, 5432, SYN), S(1), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "web-db");
	ck_assert(r.flow_new && r.tracked && r.flow_logged && r.log);
	ck_assert_int_eq(r.ct_state, PW_CT_TCP_SYN);

	step(&c, tcp(DB, 5432, WEB, 40000, SYN | ACK), S(2), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, "web-db");
	ck_assert(!r.flow_new && r.tracked && !r.log);
	ck_assert_int_eq(r.ct_state, PW_CT_ESTABLISHED);

	step(&c, tcp(WEB, 40000, DB, 5432, ACK), S(3), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_ESTABLISHED, "web-db");
	step(&c, tcp(DB, 5432, WEB, 40000, ACK), S(4), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, "web-db");

	ck_assert_int_eq(
		policy_ct_model_lookup(c.m, &(struct policy_packet){ 0 }, &f),
		-ENOENT);
	ck_assert_int_eq(policy_ct_model_lookup(c.m,
						&(struct policy_packet){
							.kind = POLICY_PKT_IP },
						&f),
			 -ENOENT);
	{
		struct policy_packet p = tcp(DB, 5432, WEB, 40000, 0);

		ck_assert_int_eq(policy_ct_model_lookup(c.m, &p, &f), 0);
	}
	ck_assert_uint_eq(f.val.packets[0], 2);
	ck_assert_uint_eq(f.val.packets[1], 2);
	ck_assert_uint_eq(f.val.bytes[1], 200);
	ck_assert_uint_eq(f.val.created_ns, S(1));
	ck_assert_uint_eq(f.val.last_seen_ns, S(4));
	ck_assert_uint_eq(f.val.generation, 1);
	ck_assert(f.val.flags & PW_CT_LOG);
	ck_assert_str_eq(f.ifname, "eth0");

	/* the other direction is not allowed by itself */
	step(&c, tcp(DB, 5432, WEB, 40001, SYN), S(5), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	ck_assert(!r.tracked);
	/* a stray reply of no flow is judged, and denied */
	step(&c, tcp(DB, 5432, WEB, 40002, SYN | ACK), S(5), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	ck_assert_uint_eq(policy_ct_model_count(c.m), 1);
	ck_assert_uint_eq(c.ends.n, 0);
	ct_close(&c);
}
END_TEST

START_TEST(test_tcp_fin_both_ways)
{
	struct policy_eval_result r;
	struct ct c;

	ct_open(&c, ct_yaml);
	step(&c, tcp(WEB, 40000, DB, 5432, SYN), S(1), &r);
	step(&c, tcp(DB, 5432, WEB, 40000, SYN | ACK), S(1), &r);
	step(&c, tcp(WEB, 40000, DB, 5432, FIN | ACK), S(2), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_ESTABLISHED, "web-db");
	ck_assert_int_eq(r.ct_state, PW_CT_TCP_CLOSING);
	ck_assert_int_eq(r.flow_end, PW_END_NONE);
	/* a FIN again from the same side does not close */
	step(&c, tcp(WEB, 40000, DB, 5432, FIN | ACK), S(2), &r);
	ck_assert_int_eq(r.ct_state, PW_CT_TCP_CLOSING);
	step(&c, tcp(DB, 5432, WEB, 40000, FIN | ACK), S(3), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, "web-db");
	ck_assert_int_eq(r.ct_state, PW_CT_TCP_CLOSED);
	ck_assert_int_eq(r.flow_end, PW_END_FIN);
	ck_assert_uint_eq(c.ends.n, 1);
	ck_assert_int_eq(c.ends.last, PW_END_FIN);
	ck_assert_uint_eq(c.ends.packets0, 3);
	ck_assert_uint_eq(c.ends.packets1, 2);

	/* the last ACK passes: the entry lingers */
	step(&c, tcp(WEB, 40000, DB, 5432, ACK), S(4), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_ESTABLISHED, "web-db");
	ck_assert_int_eq(r.flow_end, PW_END_NONE);
	ck_assert_uint_eq(policy_ct_model_count(c.m), 1);

	/* tcp_closing (10 s) after the last packet it is gone, silently */
	ck_assert_uint_eq(policy_ct_model_expire(c.m, S(14)), 0);
	ck_assert_uint_eq(policy_ct_model_count(c.m), 1);
	ck_assert_uint_eq(policy_ct_model_expire(c.m, S(14) + 1), 1);
	ck_assert_uint_eq(c.ends.n, 1);
	step(&c, tcp(DB, 5432, WEB, 40000, ACK), S(15), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	ct_close(&c);
}
END_TEST

START_TEST(test_tcp_closed_then_syn)
{
	struct policy_eval_result r;
	struct ct c;

	ct_open(&c, ct_yaml);
	step(&c, tcp(WEB, 40000, DB, 5432, SYN), S(1), &r);
	step(&c, tcp(DB, 5432, WEB, 40000, FIN), S(1), &r);
	step(&c, tcp(WEB, 40000, DB, 5432, FIN), S(1), &r);
	ck_assert_int_eq(r.flow_end, PW_END_FIN);
	/* a new SYN on the same ports starts a new flow at once */
	step(&c, tcp(WEB, 40000, DB, 5432, SYN), S(2), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "web-db");
	ck_assert(r.flow_new);
	ck_assert_int_eq(r.ct_state, PW_CT_TCP_SYN);
	ck_assert_uint_eq(c.ends.n, 1);
	ct_close(&c);
}
END_TEST

START_TEST(test_tcp_rst)
{
	struct policy_eval_result r;
	struct ct c;

	ct_open(&c, ct_yaml);
	step(&c, tcp(WEB, 40000, DB, 5432, SYN), S(1), &r);
	step(&c, tcp(DB, 5432, WEB, 40000, RST | ACK), S(2), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, "web-db");
	ck_assert_int_eq(r.flow_end, PW_END_RST);
	ck_assert_int_eq(r.ct_state, PW_CT_TCP_CLOSED);
	ck_assert_uint_eq(c.ends.n, 1);
	ck_assert_int_eq(c.ends.last, PW_END_RST);
	/* ended: further packets change nothing, end nothing */
	step(&c, tcp(DB, 5432, WEB, 40000, RST), S(2), &r);
	ck_assert_int_eq(r.flow_end, PW_END_NONE);
	ck_assert_uint_eq(c.ends.n, 1);

	/* a RST is never the start of a flow */
	step(&c, tcp(WEB, 40001, DB, 5432, RST), S(3), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "web-db");
	ck_assert(!r.tracked);
	/* mid-stream pick-up: an allowed ACK starts an ESTABLISHED flow */
	step(&c, tcp(WEB, 40002, DB, 5432, ACK), S(3), &r);
	ck_assert(r.flow_new);
	ck_assert_int_eq(r.ct_state, PW_CT_ESTABLISHED);
	ct_close(&c);
}
END_TEST

START_TEST(test_timeouts)
{
	struct policy_eval_result r;
	struct ct c;

	ct_open(&c, ct_yaml);
	/* UDP: 20 s since the last packet */
	step(&c, udp(WEB, 5000, "192.0.2.53", 53), S(100), &r);
	ck_assert(r.flow_new);
	ck_assert_int_eq(r.ct_state, PW_CT_NEW);
	step(&c, udp("192.0.2.53", 53, WEB, 5000), S(120), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, "dns");
	ck_assert_int_eq(r.ct_state, PW_CT_ESTABLISHED);
	step(&c, udp("192.0.2.53", 53, WEB, 5000), S(140) + 1, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	ck_assert_uint_eq(c.ends.n, 1);
	ck_assert_int_eq(c.ends.last, PW_END_TIMEOUT);
	ck_assert_uint_eq(policy_ct_model_count(c.m), 0);

	/* TCP: tcp_syn (5 s) until the SYN+ACK, then tcp_established */
	step(&c, tcp(WEB, 40000, DB, 5432, SYN), S(200), &r);
	step(&c, tcp(DB, 5432, WEB, 40000, SYN | ACK), S(205) + 1, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	ck_assert_uint_eq(c.ends.n, 2);
	step(&c, tcp(WEB, 40000, DB, 5432, SYN), S(300), &r);
	step(&c, tcp(DB, 5432, WEB, 40000, SYN | ACK), S(305), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, "web-db");
	step(&c, tcp(DB, 5432, WEB, 40000, ACK), S(405), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, "web-db");
	ck_assert_uint_eq(policy_ct_model_expire(c.m, S(505)), 0);
	ck_assert_uint_eq(policy_ct_model_expire(c.m, S(505) + 1), 1);
	ck_assert_uint_eq(c.ends.n, 3);

	/* ICMP echo: 7 s; other protocols: 30 s */
	step(&c, icmp(WEB, DB, 8, 77), S(600), &r);
	ck_assert(r.flow_new);
	step(&c, pkt("eth0", 0, WEB, DB, 47), S(600), &r);
	ck_assert(r.flow_new);
	ck_assert_uint_eq(policy_ct_model_expire(c.m, S(607) + 1), 1);
	ck_assert_uint_eq(policy_ct_model_expire(c.m, S(630)), 0);
	ck_assert_uint_eq(policy_ct_model_expire(c.m, S(630) + 1), 1);
	ct_close(&c);
}
END_TEST

START_TEST(test_icmp_and_other)
{
	struct policy_eval_result r;
	struct ct c;

	ct_open(&c, ct_yaml);
	step(&c, icmp(WEB, DB, POLICY_ICMP_ECHO_REQUEST, 9), S(1), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "ping");
	ck_assert(r.flow_new);
	step(&c, icmp(DB, WEB, POLICY_ICMP_ECHO_REPLY, 9), S(1), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, "ping");
	/* another identifier is another flow */
	step(&c, icmp(DB, WEB, POLICY_ICMP_ECHO_REPLY, 10), S(1), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	/* ICMP errors are not flows: judged each time */
	step(&c, icmp(DB, WEB, 3, 0), S(1), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	ck_assert(!r.tracked);

	/* other protocols: by address pair */
	step(&c, pkt("eth0", 0, WEB, DB, 47), S(2), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "gre");
	ck_assert(r.flow_new);
	step(&c, pkt("eth0", 0, DB, WEB, 47), S(2), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, "gre");
	ck_assert_int_eq(r.ct_state, PW_CT_ESTABLISHED);
	ck_assert_uint_eq(policy_ct_model_count(c.m), 2);
	ct_close(&c);
}
END_TEST

START_TEST(test_audit_once_per_flow)
{
	struct policy_eval_result r;
	struct policy_packet p;
	struct ct c;

	ct_open(&c, ct_yaml);
	p = tcp("10.5.5.5", 1234, "10.6.6.6", 80, SYN);
	strcpy(p.ifname, "eth1");
	step(&c, p, S(1), &r);
	expect(&r, PW_VERDICT_AUDIT, PW_REASON_DEFAULT, NULL);
	ck_assert(r.log && r.flow_new && r.flow_audit);
	ck_assert(!r.flow_logged);

	p.tcp_flags = ACK;
	step(&c, p, S(2), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_ESTABLISHED, NULL);
	ck_assert(!r.log && r.flow_audit);

	p = tcp("10.6.6.6", 80, "10.5.5.5", 1234, SYN | ACK);
	strcpy(p.ifname, "eth1");
	step(&c, p, S(2), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, NULL);
	ck_assert(!r.log);
	ct_close(&c);
}
END_TEST

static const char ct_yaml_revoked[] =
	"version: 1\n"
	"tenants:\n"
	"  - name: acme\n"
	"    interfaces: [eth0]\n"
	"    segments:\n"
	"      web: [10.1.1.0/24]\n"
	"      db: [10.1.2.0/24]\n"
	"    rules:\n"
	"      - {name: no-db, from: any, to: db, proto: tcp, action: reject}\n"
	"      - {name: dns2, from: web, to: any, proto: udp, ports: [53],\n"
	"         action: allow}\n";

START_TEST(test_revalidation)
{
	struct policy_eval_result r;
	struct policy_ct_flow f;
	struct policy *pol2;
	struct policy_packet p;
	struct ct c;

	ct_open(&c, ct_yaml);
	step(&c, tcp(WEB, 40000, DB, 5432, SYN), S(1), &r);
	step(&c, tcp(DB, 5432, WEB, 40000, SYN | ACK), S(1), &r);
	step(&c, udp(WEB, 5000, "192.0.2.53", 53), S(1), &r);
	ck_assert_uint_eq(policy_ct_model_count(c.m), 2);

	pol2 = fixture_load_ok(ct_yaml_revoked);
	ck_assert_int_eq(policy_ct_model_set_policy(c.m, pol2, 1), -EINVAL);
	ck_assert_int_eq(policy_ct_model_set_policy(c.m, pol2, 2), 0);

	/* judged again in the original direction, from a reply */
	step(&c, tcp(DB, 5432, WEB, 40000, ACK), S(2), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_POLICY_REVOKED, "no-db");
	ck_assert_int_eq(r.flow_end, PW_END_POLICY_REVOKED);
	ck_assert(r.log);
	ck_assert_uint_eq(c.ends.n, 1);
	ck_assert_int_eq(c.ends.last, PW_END_POLICY_REVOKED);
	/* forgotten: the next packet is new, and rejected */
	step(&c, tcp(WEB, 40000, DB, 5432, ACK), S(3), &r);
	expect(&r, PW_VERDICT_REJECT, PW_REASON_POLICY, "no-db");

	/* still allowed (by another rule now): passes, takes generation 2 */
	p = udp("192.0.2.53", 53, WEB, 5000);
	step(&c, p, S(4), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, "dns2");
	ck_assert_int_eq(policy_ct_model_lookup(c.m, &p, &f), 0);
	ck_assert_uint_eq(f.val.generation, 2);
	ck_assert_uint_eq(c.ends.n, 1);

	policy_ct_model_free(c.m);
	c.m = NULL;
	policy_free(pol2);
	policy_free(c.pol);
}
END_TEST

START_TEST(test_revalidation_audit)
{
	static const char audit_yaml[] = "version: 1\n"
					 "tenants:\n"
					 "  - name: acme\n"
					 "    interfaces: [eth0]\n"
					 "    mode: audit\n";
	struct policy_eval_result r;
	struct policy *pol2;
	struct ct c;

	ct_open(&c, ct_yaml);
	step(&c, tcp(WEB, 40000, DB, 5432, SYN), S(1), &r);
	pol2 = fixture_load_ok(audit_yaml);
	ck_assert_int_eq(policy_ct_model_set_policy(c.m, pol2, 9), 0);
	step(&c, tcp(DB, 5432, WEB, 40000, SYN | ACK), S(2), &r);
	expect(&r, PW_VERDICT_AUDIT, PW_REASON_REPLY, NULL);
	ck_assert(r.log && r.flow_audit);
	step(&c, tcp(WEB, 40000, DB, 5432, ACK), S(3), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_ESTABLISHED, NULL);
	ck_assert(!r.log && r.flow_audit);
	ck_assert_uint_eq(c.ends.n, 0);
	policy_ct_model_free(c.m);
	c.m = NULL;
	policy_free(pol2);
	policy_free(c.pol);
}
END_TEST

START_TEST(test_fragments)
{
	struct policy_eval_result r;
	struct policy_packet first, later;
	struct ct c;

	ct_open(&c, ct_yaml);
	first = udp(WEB, 5000, "192.0.2.53", 53);
	first.frag = true;
	first.frag_first = true;
	first.frag_id = 4242;
	later = first;
	later.frag_first = false;
	later.l4 = false;
	later.sport = 0;
	later.dport = 0;

	/* without state a later fragment has no first */
	eval(c.pol, &later, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_FRAGMENT, NULL);
	ck_assert(r.log);

	step(&c, later, S(1), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_FRAGMENT, NULL);
	step(&c, first, S(1), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "dns");
	ck_assert(r.flow_new);
	step(&c, later, S(2), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_ESTABLISHED, "dns");

	/* another datagram id, or after 30 s: no first */
	later.frag_id = 4243;
	step(&c, later, S(2), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_FRAGMENT, NULL);
	later.frag_id = 4242;
	step(&c, later, S(31) + 1, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_FRAGMENT, NULL);

	/* a denied first fragment: its later fragments are judged (and
	 * denied) by the same rules, never create flows */
	first.dport = 54;
	first.frag_id = 7;
	later.frag_id = 7;
	step(&c, first, S(40), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	step(&c, later, S(40), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);

	/* an allowed datagram whose flow timed out: judged, no new flow */
	first.dport = 53;
	first.frag_id = 8;
	later.frag_id = 8;
	step(&c, first, S(100), &r);
	ck_assert(r.tracked);
	ck_assert_uint_eq(policy_ct_model_expire(c.m, S(125)), 1);
	step(&c, later, S(125), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "dns");
	ck_assert(!r.tracked && !r.flow_new);
	ct_close(&c);
}
END_TEST

START_TEST(test_lru_eviction)
{
	struct policy_eval_result r;
	struct policy_ct_flow f;
	struct policy_packet p;
	unsigned int i;
	struct ct c;

	ct_open(&c, ct_yaml);
	for (i = 0; i < 1025; i++) {
		p = udp(WEB, (uint16_t)(1000 + i), "192.0.2.53", 53);
		step(&c, p, S(1) + i, &r);
		ck_assert(r.flow_new);
	}
	ck_assert_uint_eq(policy_ct_model_count(c.m), 1024);
	p = udp(WEB, 1000, "192.0.2.53", 53);
	ck_assert_int_eq(policy_ct_model_lookup(c.m, &p, &f), -ENOENT);
	p.sport = 1001;
	ck_assert_int_eq(policy_ct_model_lookup(c.m, &p, &f), 0);
	ck_assert_uint_eq(c.ends.n, 0); /* evictions are silent */
	ct_close(&c);
}
END_TEST

START_TEST(test_stateful_prechecks)
{
	struct policy_eval_result r;
	struct policy_packet p;
	struct ct c;

	ct_open(&c, ct_yaml);
	p = tcp(WEB, 1, DB, 5432, SYN);
	p.kind = POLICY_PKT_MALFORMED;
	step(&c, p, S(1), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_MALFORMED, NULL);
	p.kind = POLICY_PKT_NON_IP;
	step(&c, p, S(1), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_NON_IP, NULL);
	p.kind = POLICY_PKT_IP;
	p.vlan = 3;
	step(&c, p, S(1), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_UNMATCHED, NULL);
	ck_assert_uint_eq(policy_ct_model_count(c.m), 0);
	ct_close(&c);
}
END_TEST

/* ---- frame parser ------------------------------------------------------- */

struct frame {
	uint8_t b[256];
	size_t len;
};

static void put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void put8(struct frame *f, uint8_t v)
{
	put(f, &v, 1);
}

static void put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void eth(struct frame *f, int vlan, uint16_t type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	f->len = 0;
	put(f, macs, sizeof(macs));
	if (vlan >= 0) {
		put16(f, POLICY_ETH_P_8021Q);
		put16(f, (uint16_t)(0x2000 | vlan)); /* PCP 1 */
	}
	put16(f, type);
}

/* IPv4 header of @ihl words with total length @tot */
static void ipv4(struct frame *f, unsigned int ihl, uint16_t tot, uint8_t proto,
		 uint16_t frag)
{
	unsigned int i;

	put8(f, (uint8_t)(0x40 | ihl));
	put8(f, 0);
	put16(f, tot);
	put16(f, 0x1234); /* id */
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put32(f, 0x0a010105); /* 10.1.1.5 */
	put32(f, 0x0a010207); /* 10.1.2.7 */
	for (i = 5; i < ihl; i++)
		put32(f, 0x01010101); /* NOP options */
}

static void tcphdr(struct frame *f, uint16_t sport, uint16_t dport,
		   unsigned int doff, uint8_t flags)
{
	unsigned int i;

	put16(f, sport);
	put16(f, dport);
	put32(f, 1);
	put32(f, 0);
	put8(f, (uint8_t)(doff << 4));
	put8(f, flags);
	put16(f, 1024);
	put32(f, 0);
	for (i = 5; i < doff; i++)
		put32(f, 0x01010101);
}

static void parse(const struct frame *f, struct policy_packet *p)
{
	ck_assert_int_eq(policy_packet_parse(f->b, f->len, "eth0", p), 0);
}

START_TEST(test_parse_ipv4)
{
	struct policy_packet p;
	struct frame f;
	uint8_t want[16] = { 10, 1, 1, 5 };

	/* tagged, IPv4 with one option word, TCP with options, padding */
	eth(&f, 100, POLICY_ETH_P_IP);
	ipv4(&f, 6, 24 + 24, POLICY_PROTO_TCP, 0x4000 /* DF */);
	tcphdr(&f, 40000, 5432, 6, SYN);
	put32(&f, 0); /* Ethernet padding after the IP packet */
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_IP);
	ck_assert_uint_eq(p.vlan, 100);
	ck_assert_uint_eq(p.family, PW_AF_INET);
	ck_assert_mem_eq(p.saddr, want, 16);
	ck_assert_uint_eq(p.daddr[3], 7);
	ck_assert_uint_eq(p.proto, POLICY_PROTO_TCP);
	ck_assert(p.l4 && !p.frag);
	ck_assert_uint_eq(p.sport, 40000);
	ck_assert_uint_eq(p.dport, 5432);
	ck_assert_uint_eq(p.tcp_flags, SYN);
	ck_assert_uint_eq(p.len, f.len);
	ck_assert_uint_eq(policy_packet_point(&p), 5432);

	/* IPv4 total length beyond the frame */
	eth(&f, -1, POLICY_ETH_P_IP);
	ipv4(&f, 5, 60, POLICY_PROTO_TCP, 0);
	tcphdr(&f, 1, 2, 5, 0);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);
	ck_assert_uint_eq(p.vlan, 0);

	/* TCP data offset beyond the segment */
	eth(&f, -1, POLICY_ETH_P_IP);
	ipv4(&f, 5, 40, POLICY_PROTO_TCP, 0);
	tcphdr(&f, 1, 2, 5, 0);
	f.b[14 + 20 + 12] = 0xf0;
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);

	/* header length below 5 words */
	eth(&f, -1, POLICY_ETH_P_IP);
	ipv4(&f, 5, 40, POLICY_PROTO_TCP, 0);
	tcphdr(&f, 1, 2, 5, 0);
	f.b[14] = 0x44;
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);

	/* UDP length larger than the datagram */
	eth(&f, -1, POLICY_ETH_P_IP);
	ipv4(&f, 5, 28, POLICY_PROTO_UDP, 0);
	put16(&f, 53);
	put16(&f, 53);
	put16(&f, 9);
	put16(&f, 0);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);
	f.b[14 + 20 + 5] = 8;
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_IP);
	ck_assert_uint_eq(p.dport, 53);

	/* ICMP echo: the identifier */
	eth(&f, 0, POLICY_ETH_P_IP); /* priority tag: untagged */
	ipv4(&f, 5, 28, POLICY_PROTO_ICMP, 0);
	put8(&f, 8);
	put8(&f, 0);
	put16(&f, 0);
	put16(&f, 0xbeef);
	put16(&f, 1);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_IP);
	ck_assert_uint_eq(p.vlan, 0);
	ck_assert_uint_eq(p.icmp_type, 8);
	ck_assert_uint_eq(p.icmp_id, 0xbeef);
	ck_assert(policy_packet_is_echo_request(&p));
	f.len -= 1; /* ICMP header cut short (IP starts at 18: tagged) */
	f.b[18 + 3] = 27;
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);

	/* fragments: first (MF), later (offset) */
	eth(&f, -1, POLICY_ETH_P_IP);
	ipv4(&f, 5, 28, POLICY_PROTO_UDP, 0x2000);
	put16(&f, 5000);
	put16(&f, 53);
	put16(&f, 1000); /* the whole datagram's length */
	put16(&f, 0);
	parse(&f, &p);
	ck_assert(p.frag && p.frag_first && p.l4);
	ck_assert_uint_eq(p.frag_id, 0x1234);
	ck_assert_uint_eq(p.dport, 53);
	eth(&f, -1, POLICY_ETH_P_IP);
	ipv4(&f, 5, 28, POLICY_PROTO_UDP, 100);
	put32(&f, 0);
	put32(&f, 0);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_IP);
	ck_assert(p.frag && !p.frag_first && !p.l4);
	ck_assert(policy_packet_later_fragment(&p));
	/* a fragment reaching beyond 64 KiB */
	eth(&f, -1, POLICY_ETH_P_IP);
	ipv4(&f, 5, 28, POLICY_PROTO_UDP, 0x1fff);
	put32(&f, 0);
	put32(&f, 0);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);
}
END_TEST

static void ipv6(struct frame *f, uint16_t payload, uint8_t next)
{
	static const uint8_t src[16] = { 0xfd, 0, 0, 1, [15] = 5 };
	static const uint8_t dst[16] = { 0xfd, 0, 0, 2, [15] = 7 };

	put32(f, 0x60000000);
	put16(f, payload);
	put8(f, next);
	put8(f, 64);
	put(f, src, 16);
	put(f, dst, 16);
}

START_TEST(test_parse_ipv6)
{
	struct policy_packet p;
	struct frame f;
	unsigned int i;

	/* hop-by-hop, then a first fragment, then UDP */
	eth(&f, -1, POLICY_ETH_P_IPV6);
	ipv6(&f, 8 + 8 + 8, 0);
	put8(&f, 44); /* hop-by-hop: next = fragment, 8 bytes */
	put8(&f, 0);
	put(&f, "\x01\x04\0\0\0\0", 6);
	put8(&f, POLICY_PROTO_UDP); /* fragment header, offset 0, M */
	put8(&f, 0);
	put16(&f, 0x0001);
	put32(&f, 0xcafe0001);
	put16(&f, 5000);
	put16(&f, 53);
	put16(&f, 500);
	put16(&f, 0);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_IP);
	ck_assert_uint_eq(p.family, PW_AF_INET6);
	ck_assert_uint_eq(p.saddr[0], 0xfd);
	ck_assert_uint_eq(p.daddr[15], 7);
	ck_assert_uint_eq(p.proto, POLICY_PROTO_UDP);
	ck_assert(p.frag && p.frag_first && p.l4);
	ck_assert_uint_eq(p.frag_id, 0xcafe0001);
	ck_assert_uint_eq(p.dport, 53);

	/* the same as a later fragment */
	f.b[14 + 40 + 8 + 2] = 0x01;
	f.b[14 + 40 + 8 + 3] = 0x00; /* offset 32 * 8, M clear */
	parse(&f, &p);
	ck_assert(p.frag && !p.frag_first && !p.l4);
	ck_assert_uint_eq(p.proto, POLICY_PROTO_UDP);

	/* an atomic fragment is a whole packet: its UDP length must fit */
	f.b[14 + 40 + 8 + 2] = 0;
	f.b[14 + 40 + 8 + 3] = 0;
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);
	f.b[14 + 40 + 16 + 4] = 0;
	f.b[14 + 40 + 16 + 5] = 8;
	parse(&f, &p);
	ck_assert(!p.frag && p.l4);
	ck_assert_uint_eq(p.dport, 53);

	/* extension header longer than the payload */
	f.b[14 + 40 + 1] = 9;
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);

	/* eight destination options headers pass, nine do not */
	for (i = 8; i <= 9; i++) {
		unsigned int k;

		eth(&f, -1, POLICY_ETH_P_IPV6);
		ipv6(&f, (uint16_t)(8 * i + 8), 60);
		for (k = 0; k < i; k++) {
			put8(&f, k + 1 < i ? 60 : 58);
			put8(&f, 0);
			put(&f, "\x01\x04\0\0\0\0", 6);
		}
		put8(&f, 128); /* ICMPv6 echo request */
		put8(&f, 0);
		put16(&f, 0);
		put16(&f, 42);
		put16(&f, 1);
		parse(&f, &p);
		ck_assert_int_eq(p.kind,
				 i == 8 ? POLICY_PKT_IP : POLICY_PKT_MALFORMED);
	}

	/* payload length beyond the frame; truncated header */
	eth(&f, -1, POLICY_ETH_P_IPV6);
	ipv6(&f, 100, 59);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);
	eth(&f, -1, POLICY_ETH_P_IPV6);
	ipv6(&f, 0, 59); /* no next header: fine */
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_IP);
	ck_assert_uint_eq(p.proto, 59);
	f.len = 14 + 39;
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);
}
END_TEST

/* MLD as sent: hop limit 1, hop-by-hop options @opts (6 bytes), ICMPv6
 * @type from @src; @dst_first: a destination options header comes first. */
static void mld_frame(struct frame *f, const char *src, const uint8_t *opts,
		      uint8_t type, bool dst_first)
{
	uint8_t a[16];

	eth(f, -1, POLICY_ETH_P_IPV6);
	ipv6(f, (uint16_t)((dst_first ? 16 : 8) + 8), dst_first ? 60 : 0);
	f->b[14 + 7] = 1;
	ck_assert_int_eq(inet_pton(AF_INET6, src, a), 1);
	memcpy(f->b + 14 + 8, a, 16);
	if (dst_first) {
		put8(f, 0); /* destination options, then hop-by-hop */
		put8(f, 0);
		put(f, "\x01\x04\0\0\0\0", 6);
	}
	put8(f, POLICY_PROTO_ICMPV6);
	put8(f, 0);
	put(f, opts, 6);
	put8(f, type);
	put8(f, 0);
	put16(f, 0);
	put32(f, 0);
}

START_TEST(test_parse_mld)
{
	/* the first Router Alert in the header's first 8 bytes decides */
	static const struct {
		uint8_t opts[6];
		bool alert;
	} cases[] = {
		{ { 5, 2, 0, 0, 1, 0 }, true }, /* Linux: RA, PadN */
		{ { 1, 0, 5, 2, 0, 0 }, true }, /* BSD: empty PadN, RA */
		{ { 0, 5, 2, 0, 0, 0 }, true }, /* Pad1, RA */
		{ { 0, 0, 5, 2, 0, 0 }, true }, /* Pad1 Pad1, RA */
		{ { 0x3e, 0, 5, 2, 0, 0 }, true }, /* unknown empty option */
		{ { 5, 2, 0, 1, 1, 0 }, false }, /* RA value 1 (RSVP) */
		{ { 5, 3, 0, 0, 0, 0 }, false }, /* RA of length 3 */
		{ { 1, 4, 0, 0, 0, 0 }, false }, /* PadN only */
		{ { 1, 1, 0, 5, 2, 0 }, false }, /* RA past 8 bytes */
		{ { 0, 1, 0, 5, 2, 0 }, false }, /* likewise */
		{ { 5, 2, 0, 1, 5, 2 }, false }, /* the first RA decides */
	};
	struct policy_packet p;
	struct frame f;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mld_frame(&f, "fe80::1", cases[i].opts, 143, false);
		parse(&f, &p);
		ck_assert_int_eq(p.kind, POLICY_PKT_IP);
		ck_assert_uint_eq(p.hop_limit, 1);
		ck_assert_uint_eq(p.icmp_type, 143);
		ck_assert_msg(p.mld_alert == cases[i].alert, "case %zu", i);
		ck_assert(policy_packet_is_mld(&p) == cases[i].alert);
	}
	/* from ::, and no hop-by-hop header first: no alert */
	mld_frame(&f, "::", cases[0].opts, 131, false);
	parse(&f, &p);
	ck_assert(policy_packet_is_mld(&p));
	mld_frame(&f, "fe80::1", cases[0].opts, 143, true);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_IP);
	ck_assert(!p.mld_alert);
	ck_assert(!policy_packet_is_mld(&p));
	/* no hop-by-hop header at all */
	eth(&f, -1, POLICY_ETH_P_IPV6);
	ipv6(&f, 8, POLICY_PROTO_ICMPV6);
	f.b[14 + 7] = 1;
	put32(&f, 143u << 24);
	put32(&f, 0);
	parse(&f, &p);
	ck_assert(!p.mld_alert);
}
END_TEST

START_TEST(test_parse_l2)
{
	struct policy_packet p;
	struct frame f;

	eth(&f, -1, 0x0806); /* ARP */
	put32(&f, 0);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_NON_IP);
	ck_assert_uint_eq(p.ethertype, 0x0806);

	/* More than one tag is malformed, never non-IP (non_ip allow would
	 * let double-tagged IP past every rule); the outer 802.1Q id says
	 * where it came from. */
	eth(&f, 5, POLICY_ETH_P_8021Q); /* two tags */
	put16(&f, 7);
	put16(&f, POLICY_ETH_P_IP);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);
	ck_assert_uint_eq(p.vlan, 5);
	eth(&f, 5, POLICY_ETH_P_8021AD); /* 802.1Q, then 802.1ad */
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);
	eth(&f, 5, POLICY_ETH_P_QINQ1);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);

	eth(&f, -1, POLICY_ETH_P_8021AD); /* outer service tags */
	put16(&f, 7);
	put16(&f, POLICY_ETH_P_IP);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);
	ck_assert_uint_eq(p.vlan, 0); /* no 802.1Q VLAN: the untagged wire */
	eth(&f, -1, POLICY_ETH_P_QINQ1);
	put16(&f, 7);
	put16(&f, POLICY_ETH_P_8021Q);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);

	/* one tag, then ARP: non-IP */
	eth(&f, 5, 0x0806);
	put32(&f, 0);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_NON_IP);
	ck_assert_uint_eq(p.vlan, 5);
	ck_assert_uint_eq(p.ethertype, 0x0806);

	f.len = 13;
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);
	eth(&f, 3, POLICY_ETH_P_IP);
	f.len = 16;
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);

	eth(&f, -1, POLICY_ETH_P_IP);
	ipv4(&f, 5, 20, 47, 0);
	f.b[14] = 0x65; /* version 6 in an IPv4 frame */
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_MALFORMED);

	ck_assert_int_eq(policy_packet_parse(f.b, f.len,
					     "a-very-long-interface-name", &p),
			 -EINVAL);
}
END_TEST

/* The quote of ICMP errors, read as the datapath reads it; hop limit. */
START_TEST(test_parse_quote)
{
	struct policy_packet p;
	struct frame f;
	uint8_t web[16] = { 10, 1, 1, 5 }, db[16] = { 10, 1, 2, 7 };

	/* IPv4 unreachable quoting a TCP segment with 4 bytes of options */
	eth(&f, -1, POLICY_ETH_P_IP);
	ipv4(&f, 5, 20 + 8 + 24 + 8, POLICY_PROTO_ICMP, 0);
	put8(&f, 3);
	put8(&f, 4);
	put16(&f, 0);
	put32(&f, 1400); /* next-hop MTU */
	ipv4(&f, 6, 64, POLICY_PROTO_TCP, 0);
	put16(&f, 40000);
	put16(&f, 5432);
	put32(&f, 1);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_IP);
	ck_assert(policy_packet_is_icmp_error(&p));
	ck_assert(p.quote);
	ck_assert_uint_eq(p.quote_proto, POLICY_PROTO_TCP);
	ck_assert_mem_eq(p.quote_saddr, web, 16);
	ck_assert_mem_eq(p.quote_daddr, db, 16);
	ck_assert_uint_eq(p.quote_sport, 40000);
	ck_assert_uint_eq(p.quote_dport, 5432);
	/* one byte short of the 8 bytes after the quoted header */
	f.b[14 + 3] = 20 + 8 + 24 + 7;
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_IP);
	ck_assert(!p.quote);
	f.b[14 + 3] = 20 + 8 + 24 + 8;
	/* a quoted later fragment names no ports */
	f.b[14 + 28 + 7] = 1;
	parse(&f, &p);
	ck_assert(!p.quote);
	f.b[14 + 28 + 7] = 0;
	/* a quoted IPv6 header in an IPv4 error */
	f.b[14 + 28] = 0x66;
	parse(&f, &p);
	ck_assert(!p.quote);
	f.b[14 + 28] = 0x46;
	/* a quoted ICMP other than echo names no flow; echo its id */
	f.b[14 + 28 + 9] = POLICY_PROTO_ICMP;
	f.b[14 + 28 + 24] = 13;
	parse(&f, &p);
	ck_assert(!p.quote);
	f.b[14 + 28 + 24] = 8;
	f.b[14 + 28 + 24 + 4] = 0x12;
	f.b[14 + 28 + 24 + 5] = 0x34;
	parse(&f, &p);
	ck_assert(p.quote);
	ck_assert_uint_eq(p.quote_sport, 0x1234);
	ck_assert_uint_eq(p.quote_dport, 0x1234);
	/* echo is no error: nothing quoted */
	f.b[14 + 20] = 0;
	parse(&f, &p);
	ck_assert(!policy_packet_is_icmp_error(&p) && !p.quote);

	/* ICMPv6 packet too big quoting UDP; hop limit read */
	eth(&f, -1, POLICY_ETH_P_IPV6);
	ipv6(&f, 8 + 40 + 8, POLICY_PROTO_ICMPV6);
	put8(&f, 2);
	put8(&f, 0);
	put16(&f, 0);
	put32(&f, 1280);
	ipv6(&f, 8, POLICY_PROTO_UDP);
	put16(&f, 5353);
	put16(&f, 53);
	put16(&f, 8);
	put16(&f, 0);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_IP);
	ck_assert_uint_eq(p.hop_limit, 64);
	ck_assert(p.quote);
	ck_assert_uint_eq(p.quote_proto, POLICY_PROTO_UDP);
	ck_assert_uint_eq(p.quote_saddr[0], 0xfd);
	ck_assert_uint_eq(p.quote_sport, 5353);
	/* a quoted header cut short */
	f.b[14 + 5] = 8 + 40 + 7;
	parse(&f, &p);
	ck_assert(!p.quote);

	/* neighbour solicitation with hop limit 255 */
	eth(&f, -1, POLICY_ETH_P_IPV6);
	ipv6(&f, 24, POLICY_PROTO_ICMPV6);
	f.b[14 + 7] = 255;
	put8(&f, 135);
	put8(&f, 0);
	put16(&f, 0);
	put32(&f, 0);
	put32(&f, 0xfd000002);
	put32(&f, 0);
	put32(&f, 0);
	put32(&f, 7);
	parse(&f, &p);
	ck_assert_int_eq(p.kind, POLICY_PKT_IP);
	ck_assert_uint_eq(p.hop_limit, 255);
	ck_assert(policy_packet_is_ndp(&p));
	ck_assert(!policy_packet_is_icmp_error(&p));
	f.b[14 + 7] = 1;
	parse(&f, &p);
	ck_assert(!policy_packet_is_ndp(&p));
}
END_TEST

/* A parsed frame through the model, end to end. */
START_TEST(test_parse_then_judge)
{
	struct policy_eval_result r;
	struct policy_packet p;
	struct frame f;
	struct ct c;

	ct_open(&c, ct_yaml);
	eth(&f, -1, POLICY_ETH_P_IP);
	ipv4(&f, 5, 40, POLICY_PROTO_TCP, 0);
	tcphdr(&f, 40000, 5432, 5, SYN);
	parse(&f, &p);
	step(&c, p, S(1), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_POLICY, "web-db");
	ck_assert(r.flow_new);
	ct_close(&c);
}
END_TEST

/* ---- neighbour discovery ------------------------------------------------ */

static const char ndp_yaml[] =
	"version: 1\n"
	"settings: {non_ip: allow}\n"
	"tenants:\n"
	"  - name: acme\n"
	"    interfaces: [eth0]\n"
	"    default: deny\n"
	"    segments:\n"
	"      web: [\"fd00:1::/64\"]\n"
	"      db: [\"fd00:2::/64\"]\n"
	"    rules:\n"
	"      - {name: no-ns-db, from: any, to: db, proto: icmpv6,\n"
	"         icmp: [neighbor-solicitation], action: deny, log: true}\n"
	"  - name: lab\n"
	"    interfaces: [eth1]\n"
	"    default: reject\n"
	"    mode: audit\n";

static struct policy_packet nd(const char *ifname, const char *src,
			       const char *dst, uint8_t type, uint8_t hops)
{
	struct policy_packet p = pkt(ifname, 0, src, dst, POLICY_PROTO_ICMPV6);

	p.icmp_type = type;
	p.hop_limit = hops;
	return p;
}

START_TEST(test_ndp)
{
	struct policy *pol = fixture_load_ok(ndp_yaml), *deny;
	struct policy_eval_result r;
	struct policy_packet p;
	unsigned int t;

	/* no rule: settings.non_ip, not the tenant's default deny */
	for (t = 133; t <= 137; t++) {
		p = nd("eth0", "fd00:1::5", "ff02::1:ff00:7", (uint8_t)t, 255);
		ck_assert(policy_packet_is_ndp(&p));
		eval(pol, &p, &r);
		expect(&r, PW_VERDICT_ALLOW, PW_REASON_NON_IP, NULL);
		ck_assert(!r.log);
		ck_assert_str_eq(r.tenant->name, "acme");
	}
	/* neighbours: no ND */
	p = nd("eth0", "fd00:1::5", "ff02::2", 132, 255);
	ck_assert(!policy_packet_is_ndp(&p));
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	p.icmp_type = 138;
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	/* another hop limit: may come from off-link, judged normally */
	p = nd("eth0", "fd00:1::5", "ff02::1:ff00:7", 135, 254);
	ck_assert(!policy_packet_is_ndp(&p));
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	/* fragmented ND is no ND (RFC 6980) */
	p = nd("eth0", "fd00:1::5", "ff02::1:ff00:7", 135, 255);
	p.frag = p.frag_first = true;
	ck_assert(!policy_packet_is_ndp(&p));
	/* ICMP (v4 numbering) over IPv4 with the same type: no ND */
	p = pkt("eth0", 0, "10.0.0.1", "10.0.0.2", POLICY_PROTO_ICMPV6);
	p.icmp_type = 135;
	p.hop_limit = 255;
	ck_assert(!policy_packet_is_ndp(&p));

	/* a rule that matches decides, as for any packet */
	p = nd("eth0", "fd00:1::5", "fd00:2::7", 135, 255);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_POLICY, "no-ns-db");
	ck_assert(r.log);
	p.icmp_type = 136; /* NA to db: no rule */
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_NON_IP, NULL);

	/* audit mode does not apply to it; default reject neither */
	p = nd("eth1", "fd00:1::5", "ff02::1:ff00:7", 135, 255);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_NON_IP, NULL);
	ck_assert(!r.log);
	/* unmatched comes first */
	p = nd("eth9", "fd00:1::5", "ff02::1:ff00:7", 135, 255);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_UNMATCHED, NULL);
	policy_free(pol);

	/* non_ip deny: dropped as non-IP, unlogged, even in audit mode */
	deny = fixture_load_ok(
		"version: 1\n"
		"settings: {non_ip: deny}\n"
		"tenants:\n"
		"  - {name: a, interfaces: [eth0], default: allow}\n"
		"  - {name: b, interfaces: [eth1], mode: audit}\n");
	p = nd("eth0", "fd00:1::5", "ff02::1:ff00:7", 135, 255);
	eval(deny, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_NON_IP, NULL);
	ck_assert(!r.log);
	p = nd("eth1", "fd00:1::5", "ff02::1:ff00:7", 135, 255);
	eval(deny, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_NON_IP, NULL);
	ck_assert(!r.log);

	/* the model: not a flow, judged each time the same way */
	{
		struct policy_ct_model *m;

		ck_assert_int_eq(policy_ct_model_new(deny, 1, &m), 0);
		ck_assert_int_eq(policy_ct_model_packet(m, &p, S(1), &r), 0);
		expect(&r, PW_VERDICT_DENY, PW_REASON_NON_IP, NULL);
		ck_assert(!r.tracked);
		ck_assert_uint_eq(policy_ct_model_count(m), 0);
		policy_ct_model_free(m);
	}
	policy_free(deny);
}
END_TEST

/* ---- multicast listener discovery --------------------------------------- */

static struct policy_packet mld(const char *ifname, const char *src,
				const char *dst, uint8_t type)
{
	struct policy_packet p = nd(ifname, src, dst, type, 1);

	p.mld_alert = true;
	return p;
}

START_TEST(test_mld)
{
	static const uint8_t types[] = { 130, 131, 132, 143 };
	struct policy *pol = fixture_load_ok(ndp_yaml), *deny;
	struct policy_eval_result r;
	struct policy_packet p;
	unsigned int i;

	/* no rule: settings.non_ip, not the tenant's default deny; from a
	 * link-local address or from :: */
	for (i = 0; i < sizeof(types); i++) {
		p = mld("eth0", i % 2 ? "::" : "fe80::1", "ff02::16", types[i]);
		ck_assert(policy_packet_is_mld(&p));
		ck_assert(policy_packet_is_link_control(&p));
		ck_assert(!policy_packet_is_ndp(&p));
		eval(pol, &p, &r);
		expect(&r, PW_VERDICT_ALLOW, PW_REASON_NON_IP, NULL);
		ck_assert(!r.log);
		ck_assert_str_eq(r.tenant->name, "acme");
	}
	p = mld("eth0", "febf:ffff::1", "ff02::1", 130);
	ck_assert(policy_packet_is_mld(&p));

	/* each condition missing: judged by the tenant default */
	p = mld("eth0", "fe80::1", "ff02::16", 143);
	p.hop_limit = 2;
	ck_assert(!policy_packet_is_mld(&p));
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	p = mld("eth0", "fe80::1", "ff02::16", 143);
	p.mld_alert = false;
	ck_assert(!policy_packet_is_mld(&p));
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	p = mld("eth0", "fd00:1::5", "ff02::16", 143); /* not link-local */
	ck_assert(!policy_packet_is_mld(&p));
	p = mld("eth0", "fec0::1", "ff02::16", 143); /* site-local */
	ck_assert(!policy_packet_is_mld(&p));
	p = mld("eth0", "fe80::1", "ff02::16", 141); /* not an MLD type */
	ck_assert(!policy_packet_is_mld(&p));
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	p = mld("eth0", "fe80::1", "ff02::16", 143);
	p.frag = p.frag_first = true;
	ck_assert(!policy_packet_is_mld(&p));
	p = pkt("eth0", 0, "10.0.0.1", "224.0.0.22", POLICY_PROTO_ICMPV6);
	p.icmp_type = 143;
	p.hop_limit = 1;
	p.mld_alert = true;
	ck_assert(!policy_packet_is_mld(&p));

	/* a rule that matches decides; audit mode and default reject do
	 * not apply to it; unmatched comes first */
	p = mld("eth0", "fe80::1", "fd00:2::7", 130);
	/* (no-ns-db names neighbour solicitation only) */
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_NON_IP, NULL);
	p = mld("eth1", "::", "ff02::16", 143);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_NON_IP, NULL);
	ck_assert(!r.log);
	p = mld("eth9", "::", "ff02::16", 143);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_UNMATCHED, NULL);
	policy_free(pol);

	pol = fixture_load_ok(
		"version: 1\n"
		"tenants:\n"
		"  - name: a\n"
		"    interfaces: [eth0]\n"
		"    rules:\n"
		"      - {name: no-mld, from: any, to: any, proto: icmpv6,\n"
		"         icmp: [143], action: deny, log: true}\n");
	p = mld("eth0", "::", "ff02::16", 143);
	eval(pol, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_POLICY, "no-mld");
	ck_assert(r.log);
	policy_free(pol);

	/* non_ip deny: dropped as non-IP, unlogged */
	deny = fixture_load_ok("version: 1\n"
			       "settings: {non_ip: deny}\n"
			       "tenants:\n"
			       "  - {name: a, interfaces: [eth0]}\n");
	p = mld("eth0", "fe80::1", "ff02::16", 143);
	eval(deny, &p, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_NON_IP, NULL);
	ck_assert(!r.log);
	policy_free(deny);
}
END_TEST

/* ---- ICMP errors related to tracked flows ------------------------------- */

/* An ICMP error @src -> @dst of @type quoting the packet @q_src:@q_sport
 * -> @q_dst:@q_dport of @q_proto (the parse fills these in from frames). */
static struct policy_packet icmp_err(const char *src, const char *dst,
				     uint8_t type, uint8_t q_proto,
				     const char *q_src, uint16_t q_sport,
				     const char *q_dst, uint16_t q_dport)
{
	struct policy_packet p = icmp(src, dst, type, 0), q;

	q = pkt("eth0", 0, q_src, q_dst, q_proto);
	p.quote = true;
	p.quote_proto = q_proto;
	memcpy(p.quote_saddr, q.saddr, 16);
	memcpy(p.quote_daddr, q.daddr, 16);
	p.quote_sport = q_sport;
	p.quote_dport = q_dport;
	return p;
}

START_TEST(test_related_icmp)
{
	struct policy_eval_result r;
	struct policy_ct_flow f, g;
	struct policy_packet p, syn;
	struct policy *pol2;
	struct ct c;

	ct_open(&c, ct_yaml);
	syn = tcp(WEB, 40000, DB, 5432, SYN);
	step(&c, syn, S(1), &r);
	ck_assert_int_eq(policy_ct_model_lookup(c.m, &syn, &f), 0);

	/* fragmentation needed from a router on the way back to web */
	p = icmp_err("10.1.2.1", WEB, 3, POLICY_PROTO_TCP, WEB, 40000, DB,
		     5432);
	ck_assert(policy_packet_is_icmp_error(&p));
	step(&c, p, S(2), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, "web-db");
	ck_assert(r.related && !r.tracked && !r.log);
	/* the flow is untouched */
	ck_assert_int_eq(policy_ct_model_lookup(c.m, &syn, &g), 0);
	ck_assert_mem_eq(&f.val, &g.val, sizeof(f.val));

	/* time exceeded, parameter problem */
	p.icmp_type = 11;
	step(&c, p, S(2), &r);
	ck_assert(r.related);
	p.icmp_type = 12;
	step(&c, p, S(2), &r);
	ck_assert(r.related);
	/* not an error: echo reply, source quench, redirect */
	p.icmp_type = 4;
	step(&c, p, S(2), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	ck_assert(!r.related);
	p.icmp_type = 3;

	/* about the reply direction: travels like the initiator's packets */
	p = icmp_err("10.1.1.1", DB, 3, POLICY_PROTO_TCP, DB, 5432, WEB, 40000);
	step(&c, p, S(2), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_ESTABLISHED, "web-db");

	/* the quoted source must be the error's destination */
	p = icmp_err("10.1.2.1", "10.1.1.9", 3, POLICY_PROTO_TCP, WEB, 40000,
		     DB, 5432);
	step(&c, p, S(2), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	/* another port: another flow, not tracked */
	p = icmp_err("10.1.2.1", WEB, 3, POLICY_PROTO_TCP, WEB, 40001, DB,
		     5432);
	step(&c, p, S(2), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	/* no quote */
	p = icmp_err("10.1.2.1", WEB, 3, POLICY_PROTO_TCP, WEB, 40000, DB,
		     5432);
	p.quote = false;
	step(&c, p, S(2), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	/* an ICMPv6 type over IPv4 is no error */
	p.quote = true;
	p.proto = POLICY_PROTO_ICMPV6;
	p.icmp_type = 2;
	ck_assert(!policy_packet_is_icmp_error(&p));

	/* timed out (tcp_syn 5 s): judged; the flow is not ended by it */
	p = icmp_err("10.1.2.1", WEB, 3, POLICY_PROTO_TCP, WEB, 40000, DB,
		     5432);
	step(&c, p, S(6) + 1, &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	ck_assert_uint_eq(policy_ct_model_count(c.m), 1);
	ck_assert_uint_eq(c.ends.n, 0);

	/* closed (RST): judged */
	step(&c, syn, S(7), &r);
	ck_assert(r.flow_new);
	step(&c, tcp(DB, 5432, WEB, 40000, RST | ACK), S(7), &r);
	ck_assert_int_eq(r.ct_state, PW_CT_TCP_CLOSED);
	step(&c, p, S(7), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);

	/* a ping: the quote holds the echo request; errors about other
	 * ICMP quote no flow */
	step(&c, icmp(WEB, DB, POLICY_ICMP_ECHO_REQUEST, 9), S(8), &r);
	ck_assert(r.flow_new);
	p = icmp_err("10.1.2.1", WEB, 3, POLICY_PROTO_ICMP, WEB, 9, DB, 9);
	step(&c, p, S(8), &r);
	expect(&r, PW_VERDICT_ALLOW, PW_REASON_REPLY, "ping");

	/* a flow of the previous policy generation: judged */
	pol2 = fixture_load_ok(ct_yaml);
	ck_assert_int_eq(policy_ct_model_set_policy(c.m, pol2, 2), 0);
	step(&c, p, S(8), &r);
	expect(&r, PW_VERDICT_DENY, PW_REASON_DEFAULT, NULL);
	ck_assert(!r.related);
	policy_ct_model_free(c.m);
	c.m = NULL;
	policy_free(pol2);
	policy_free(c.pol);
}
END_TEST

static Suite *eval_suite(void)
{
	Suite *s = suite_create("eval");
	TCase *tc = tcase_create("stateless");

	tcase_add_test(tc, test_tenant_and_settings);
	tcase_add_test(tc, test_rules_first_match);
	tcase_add_test(tc, test_external_and_segments);
	tcase_add_test(tc, test_audit_mode);
	suite_add_tcase(s, tc);

	tc = tcase_create("conntrack");
	tcase_add_test(tc, test_tcp_handshake);
	tcase_add_test(tc, test_tcp_fin_both_ways);
	tcase_add_test(tc, test_tcp_closed_then_syn);
	tcase_add_test(tc, test_tcp_rst);
	tcase_add_test(tc, test_timeouts);
	tcase_add_test(tc, test_icmp_and_other);
	tcase_add_test(tc, test_audit_once_per_flow);
	tcase_add_test(tc, test_revalidation);
	tcase_add_test(tc, test_revalidation_audit);
	tcase_add_test(tc, test_fragments);
	tcase_add_test(tc, test_lru_eviction);
	tcase_add_test(tc, test_stateful_prechecks);
	tcase_add_test(tc, test_ndp);
	tcase_add_test(tc, test_mld);
	tcase_add_test(tc, test_related_icmp);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_ipv4);
	tcase_add_test(tc, test_parse_ipv6);
	tcase_add_test(tc, test_parse_mld);
	tcase_add_test(tc, test_parse_l2);
	tcase_add_test(tc, test_parse_quote);
	tcase_add_test(tc, test_parse_then_judge);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fixture_run_suite(eval_suite());
}
