// SPDX-License-Identifier: GPL-2.0
/*
 * plumwall trace (fw/trace.h): the PACKET text forms, capture files
 * (pcap, pcapng built here by hand, Linux cooked SLL and SLL2, cut and
 * oversized frames, unsupported link types, broken files) and both
 * engines on one stateful sequence: a TCP handshake and teardown, UDP and
 * its reply, ICMP, IPv6, VLANs (owned, audited, unowned), truncated and
 * non-IP frames. Every answer is checked field by field, the two engines
 * must agree on every frame, and the sequence is also read back from
 * every capture format. The BPF engine needs root; without it those
 * tests only check that the model's answers stand alone.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "fw/trace.h"
#include "policy/analyze.h"
#include "policy/eval.h"
#include "policy/packet.h"
#include "policy/policy.h"
#include "dp_pkt.h"
#include "fixtures.h"

#define SYN 0x02
#define FIN 0x01
#define RST 0x04
#define ACK 0x10

static const char trace_policy[] =
	"version: 1\n"
	"segments:\n"
	"  dns: [10.0.0.53]\n"
	"rules:\n"
	"  - {name: dns, from: any, to: dns, proto: udp, ports: [53], action: allow}\n"
	"tenants:\n"
	"  - name: acme\n"
	"    interfaces: [acme0]\n"
	"    segments:\n"
	"      web: [10.1.1.0/24, \"fd00:1:1::/64\"]\n"
	"      db: [10.1.2.0/24]\n"
	"    rules:\n"
	"      - {name: web-to-db, from: web, to: db, proto: tcp, ports: [5432], action: allow}\n"
	"      - {name: web-out, from: web, to: external, proto: tcp, ports: [80, 443], action: allow, log: true}\n"
	"      - {name: no-ping, from: any, to: db, proto: icmp, action: reject}\n"
	"  - name: beta\n"
	"    interfaces: [acme0]\n"
	"    vlans: [100]\n"
	"    default: allow\n"
	"  - name: aud\n"
	"    interfaces: [acme0, other0]\n"
	"    vlans: [200]\n"
	"    mode: audit\n"
	"  - name: gamma\n"
	"    interfaces: [gamma0]\n"
	"    default: allow\n";

/* ---- the sequence ------------------------------------------------------- */

struct expect {
	const char *verdict, *rule, *tenant, *src, *dst, *flow, *reason;
};

struct step {
	struct tpkt pkt;
	int cut; /* frame cut to this many bytes */
	struct expect e;
};

#define WEB "10.1.1.5"
#define DB "10.1.2.7"
#define DNS "10.0.0.53"
#define WEB6 "fd00:1:1::5"
#define EXT6 "2001:db8::1"

#define T4(s, d, sp, dp, f)                                                    \
	.family = 4, .src = s, .dst = d, .proto = 6, .sport = sp, .dport = dp, \
	.flags = f
#define T6(s, d, sp, dp, f)                                                    \
	.family = 6, .src = s, .dst = d, .proto = 6, .sport = sp, .dport = dp, \
	.flags = f
#define U4(s, d, sp, dp) \
	.family = 4, .src = s, .dst = d, .proto = 17, .sport = sp, .dport = dp

/* the packet an ICMP error below quotes */
static const struct tpkt quoted = { T4(WEB, DB, 40010, 5432, SYN) };

static const struct step steps[] = {
	/* TCP handshake and teardown, web -> db */
	{ { T4(WEB, DB, 40000, 5432, SYN) },
	  0,
	  { "allow", "web-to-db", "acme", "web", "db", "new", "policy" } },
	{ { T4(DB, WEB, 5432, 40000, SYN | ACK) },
	  0,
	  { "allow", "web-to-db", "acme", "db", "web", "reply", "policy" } },
	{ { T4(WEB, DB, 40000, 5432, ACK), .payload = 100 },
	  0,
	  { "allow", "web-to-db", "acme", "web", "db", "established",
	    "policy" } },
	{ { T4(WEB, DB, 40000, 5432, FIN | ACK) },
	  0,
	  { "allow", "web-to-db", "acme", "web", "db", "established",
	    "policy" } },
	{ { T4(DB, WEB, 5432, 40000, FIN | ACK) },
	  0,
	  { "allow", "web-to-db", "acme", "db", "web", "reply", "policy" } },
	{ { T4(WEB, DB, 40000, 5432, ACK) },
	  0,
	  { "allow", "web-to-db", "acme", "web", "db", "established",
	    "policy" } },
	/* the other way: the tenant default */
	{ { T4(DB, WEB, 40001, 22, SYN) },
	  0,
	  { "deny", NULL, "acme", "db", "web", "new", "default" } },
	/* a SYN-ACK of no flow is judged as new */
	{ { T4(DB, WEB, 5432, 40009, SYN | ACK) },
	  0,
	  { "deny", NULL, "acme", "db", "web", "new", "default" } },
	/* UDP through a global rule, and its reply */
	{ { U4(WEB, DNS, 5353, 53) },
	  0,
	  { "allow", "dns", "acme", "web", "dns", "new", "policy" } },
	{ { U4(DNS, WEB, 53, 5353) },
	  0,
	  { "allow", "dns", "acme", "dns", "web", "reply", "policy" } },
	/* ICMP */
	{ { .family = 4, .src = WEB, .dst = DB, .proto = 1, .type = 8, .id = 7 },
	  0,
	  { "reject", "no-ping", "acme", "web", "db", "new", "policy" } },
	/* IPv6 */
	{ { T6(WEB6, EXT6, 40002, 443, SYN) },
	  0,
	  { "allow", "web-out", "acme", "web", "external", "new", "policy" } },
	{ { T6(EXT6, WEB6, 443, 40002, SYN | ACK) },
	  0,
	  { "allow", "web-out", "acme", "external", "web", "reply",
	    "policy" } },
	{ { T6(EXT6, WEB6, 443, 40003, SYN) },
	  0,
	  { "deny", NULL, "acme", "external", "web", "new", "default" } },
	/* VLANs: owned (default allow), audited, not owned */
	{ { T4("10.9.9.9", "10.9.9.8", 1000, 2000, SYN), .vlan = 100,
	    .tagged = 1 },
	  0,
	  { "allow", NULL, "beta", "external", "external", "new", "default" } },
	{ { U4("10.9.9.9", "10.9.9.8", 1000, 2000), .vlan = 200, .tagged = 1 },
	  0,
	  { "audit", NULL, "aud", "external", "external", "new", "default" } },
	{ { U4("10.9.9.8", "10.9.9.9", 2000, 1000), .vlan = 200, .tagged = 1 },
	  0,
	  { "allow", NULL, "aud", "external", "external", "reply",
	    "default" } },
	{ { U4("10.9.9.9", "10.9.9.8", 1000, 2000), .vlan = 300, .tagged = 1 },
	  0,
	  { "deny", NULL, NULL, NULL, NULL, "new", "unmatched" } },
	/* truncated inside the TCP header, and below an Ethernet header:
	 * malformed, on the tenant of the (untagged) wire, as its drop
	 * event says */
	{ { T4(WEB, DB, 40004, 5432, SYN) },
	  14 + 20 + 10,
	  { "deny", NULL, "acme", NULL, NULL, "new", "malformed" } },
	{ { T4(WEB, DB, 40004, 5432, SYN) },
	  10,
	  { "deny", NULL, "acme", NULL, NULL, "new", "malformed" } },
	/* non-IP (ARP): settings.non_ip, allow */
	{ { .family = 0, .ethertype = 0x0806, .payload = 28 },
	  0,
	  { "allow", NULL, NULL, NULL, NULL, "new", "non-ip" } },
	/* the closed flow is reopened by a new SYN */
	{ { T4(WEB, DB, 40000, 5432, SYN) },
	  0,
	  { "allow", "web-to-db", "acme", "web", "db", "new", "policy" } },
	{ { T4(WEB, DB, 40000, 5432, RST) },
	  0,
	  { "allow", "web-to-db", "acme", "web", "db", "established",
	    "policy" } },
	/* an ICMP error about a live flow passes with it, against it */
	{ { T4(WEB, DB, 40010, 5432, SYN) },
	  0,
	  { "allow", "web-to-db", "acme", "web", "db", "new", "policy" } },
	{ { .family = 4,
	    .src = DB,
	    .dst = WEB,
	    .proto = 1,
	    .type = 3,
	    .code = 4,
	    .inner = &quoted },
	  0,
	  { "allow", "web-to-db", "acme", "db", "web", "reply", "policy" } },
	/* fragments: a later one without its first, then a first and its
	 * later one (which belongs to the flow the first started) */
	{ { U4(WEB, DNS, 7000, 53), .frag = 1, .frag_off = 2, .frag_id = 9,
	    .payload = 16 },
	  0,
	  { "deny", NULL, "acme", "web", "dns", "new", "fragment" } },
	{ { U4(WEB, DNS, 7000, 53), .frag = 1, .mf = 1, .frag_id = 10,
	    .payload = 16 },
	  0,
	  { "allow", "dns", "acme", "web", "dns", "new", "policy" } },
	{ { U4(WEB, DNS, 7000, 53), .frag = 1, .frag_off = 3, .frag_id = 10,
	    .payload = 16 },
	  0,
	  { "allow", "dns", "acme", "web", "dns", "established", "policy" } },
	/* more than one VLAN tag: malformed, on the tenant of the outer
	 * 802.1Q tag's wire (untagged behind a service tag, which is no
	 * 802.1Q VLAN), as its drop event says; no segments */
	{ { T4(WEB, DB, 40020, 5432, SYN), .vlan = 100, .tagged = 1,
	    .tag_proto = 0x88a8, .double_tag = 1 },
	  0,
	  { "deny", NULL, "acme", NULL, NULL, "new", "malformed" } },
	{ { T4(WEB, DB, 40020, 5432, SYN), .vlan = 100, .tagged = 1,
	    .double_tag = 1 },
	  0,
	  { "deny", NULL, "beta", NULL, NULL, "new", "malformed" } },
	{ { T4(WEB, DB, 40020, 5432, SYN), .vlan = 300, .tagged = 1,
	    .double_tag = 1 },
	  0,
	  { "deny", NULL, NULL, NULL, NULL, "new", "malformed" } },
	/* multicast listener discovery: settings.non_ip, not the default */
	{ { .family = 6,
	    .src = "::",
	    .dst = "ff02::16",
	    .proto = 58,
	    .type = 143,
	    .hop_limit = 1,
	    .ext = { TPKT_HBH },
	    .n_ext = 1,
	    .hbh = TPKT_HBH_RA_MLD,
	    .hbh_set = 1,
	    .payload = 20 },
	  0,
	  { "allow", NULL, "acme", "external", "external", "new", "non-ip" } },
};

#define N_STEPS (sizeof(steps) / sizeof(steps[0]))

struct frame {
	uint8_t b[TPKT_MAX];
	size_t len;
};

static struct frame frames[N_STEPS];

static void build_frames(void)
{
	size_t i;

	for (i = 0; i < N_STEPS; i++) {
		frames[i].len = tpkt_build(&steps[i].pkt, frames[i].b,
					   sizeof(frames[i].b));
		ck_assert_uint_gt(frames[i].len, 0);
		if (steps[i].cut)
			frames[i].len = (size_t)steps[i].cut;
	}
}

struct loaded {
	struct policy *pol;
	struct policy_analysis *an;
};

static void load(struct loaded *l, const char *yaml)
{
	l->pol = fixture_load_ok(yaml);
	ck_assert_int_eq(policy_analyze(l->pol, &l->an), 0);
}

static void unload(struct loaded *l)
{
	policy_analysis_free(l->an);
	policy_free(l->pol);
}

static void check_str(const char *what, size_t i, const char *got,
		      const char *want)
{
	ck_assert_msg((!got && !want) || (got && want && !strcmp(got, want)),
		      "step %zu: %s is %s, expected %s", i + 1, what,
		      got ? got : "null", want ? want : "null");
}

static void check_answer(size_t i, const struct fw_trace_answer *a,
			 const struct expect *e)
{
	check_str("verdict", i, policy_verdict_name(a->verdict), e->verdict);
	check_str("rule", i, a->rule, e->rule);
	check_str("tenant", i, a->tenant, e->tenant);
	check_str("src_segment", i, a->src_segment, e->src);
	check_str("dst_segment", i, a->dst_segment, e->dst);
	check_str("flow", i, a->flow, e->flow);
	check_str("reason", i, policy_reason_name(a->why), e->reason);
}

static bool have_root(void)
{
	return geteuid() == 0;
}

static void run_sequence(enum fw_trace_engine engine)
{
	struct fw_trace_answer a;
	struct fw_tracer *t;
	struct loaded l;
	size_t i;
	int ret;

	build_frames();
	load(&l, trace_policy);
	ret = fw_tracer_open(&t, engine, l.pol, l.an, "acme0");
	ck_assert_msg(ret == 0, "open: %s", strerror(-ret));
	for (i = 0; i < N_STEPS; i++) {
		ret = fw_tracer_run(t, frames[i].b, frames[i].len,
				    1000000 * (uint64_t)i, &a);
		ck_assert_msg(ret == 0, "step %zu: %s", i + 1, strerror(-ret));
		check_answer(i, &a, &steps[i].e);
	}
	fw_tracer_close(t);
	unload(&l);
}

START_TEST(tc_model_sequence)
{
	run_sequence(FW_TRACE_MODEL);
}
END_TEST

START_TEST(tc_bpf_sequence)
{
	if (!have_root())
		return;
	run_sequence(FW_TRACE_BPF);
}
END_TEST

START_TEST(tc_unknown_iface)
{
	struct fw_tracer *t = (void *)1;
	struct loaded l;

	load(&l, trace_policy);
	ck_assert_int_eq(fw_tracer_open(&t, FW_TRACE_MODEL, l.pol, l.an,
					"eth9"),
			 -ENODEV);
	ck_assert_ptr_null(t);
	ck_assert(fw_trace_policy_has_iface(l.pol, "other0"));
	ck_assert(!fw_trace_policy_has_iface(l.pol, "acme"));
	unload(&l);
}
END_TEST

/* The other interfaces of the policy must not catch the traced one's
 * frames: gamma0 (default allow) traced, then acme0's tenant absent. */
START_TEST(tc_other_iface)
{
	struct fw_trace_answer a;
	struct fw_tracer *t;
	struct loaded l;
	int e;

	build_frames();
	load(&l, trace_policy);
	for (e = 0; e < 2; e++) {
		if (e == FW_TRACE_BPF && !have_root())
			continue;
		ck_assert_int_eq(fw_tracer_open(&t, e, l.pol, l.an, "gamma0"),
				 0);
		ck_assert_int_eq(
			fw_tracer_run(t, frames[6].b, frames[6].len, 0, &a), 0);
		check_str("verdict", 6, policy_verdict_name(a.verdict),
			  "allow");
		check_str("tenant", 6, a.tenant, "gamma");
		check_str("src", 6, a.src_segment, "external");
		/* VLAN 200 belongs to aud on acme0 and other0, not gamma0 */
		ck_assert_int_eq(fw_tracer_run(t, frames[15].b, frames[15].len,
					       0, &a),
				 0);
		check_str("tenant", 15, a.tenant, NULL);
		fw_tracer_close(t);
	}
	unload(&l);
}
END_TEST

/* What the answer says about the packet itself, both engines: the
 * headers' fields, nothing where the frame has none. */
static void check_pkt(size_t i, const struct fw_trace_pkt *p, const char *src,
		      const char *dst, int proto, int sport, int dport,
		      int type, int code)
{
	ck_assert_msg(p->ip == (src != NULL), "step %zu: ip %d", i + 1, p->ip);
	if (!src)
		return;
	ck_assert_str_eq(p->src, src);
	ck_assert_str_eq(p->dst, dst);
	ck_assert_int_eq(p->proto, proto);
	ck_assert_msg(p->ports == (sport >= 0), "step %zu: ports", i + 1);
	if (sport >= 0) {
		ck_assert_int_eq(p->sport, sport);
		ck_assert_int_eq(p->dport, dport);
	}
	ck_assert_msg(p->icmp == (type >= 0), "step %zu: icmp", i + 1);
	if (type >= 0) {
		ck_assert_int_eq(p->icmp_type, type);
		ck_assert_int_eq(p->icmp_code, code);
	}
}

START_TEST(tc_packet_fields)
{
	struct fw_trace_answer a[N_STEPS];
	struct fw_tracer *t;
	struct loaded l;
	size_t i;

	if (_i == FW_TRACE_BPF && !have_root())
		return;
	build_frames();
	load(&l, trace_policy);
	ck_assert_int_eq(fw_tracer_open(&t, _i, l.pol, l.an, "acme0"), 0);
	for (i = 0; i < N_STEPS; i++)
		ck_assert_int_eq(fw_tracer_run(t, frames[i].b, frames[i].len,
					       1000000 * (uint64_t)i, &a[i]),
				 0);
	check_pkt(0, &a[0].pkt, WEB, DB, 6, 40000, 5432, -1, 0);
	check_pkt(1, &a[1].pkt, DB, WEB, 6, 5432, 40000, -1, 0);
	check_pkt(8, &a[8].pkt, WEB, DNS, 17, 5353, 53, -1, 0);
	check_pkt(10, &a[10].pkt, WEB, DB, 1, -1, 0, 8, 0);
	check_pkt(11, &a[11].pkt, WEB6, EXT6, 6, 40002, 443, -1, 0);
	check_pkt(18, &a[18].pkt, NULL, NULL, 0, -1, 0, -1, 0); /* cut */
	check_pkt(19, &a[19].pkt, NULL, NULL, 0, -1, 0, -1, 0);
	check_pkt(20, &a[20].pkt, NULL, NULL, 0, -1, 0, -1, 0); /* ARP */
	check_pkt(24, &a[24].pkt, DB, WEB, 1, -1, 0, 3, 4); /* error */
	/* a later fragment carries no layer 4 header */
	check_pkt(25, &a[25].pkt, WEB, DNS, 17, -1, 0, -1, 0);
	check_pkt(26, &a[26].pkt, WEB, DNS, 17, 7000, 53, -1, 0);
	check_pkt(28, &a[28].pkt, NULL, NULL, 0, -1, 0, -1, 0); /* QinQ */
	check_pkt(31, &a[31].pkt, "::", "ff02::16", 58, -1, 0, 143, 0);
	fw_tracer_close(t);
	unload(&l);
}
END_TEST

/* ---- PACKET forms ------------------------------------------------------- */

static int build(const char *line, uint16_t vlan, uint8_t *buf, size_t cap,
		 char *err, size_t errlen)
{
	char copy[512], *argv[16], *save = NULL, *w;
	int argc = 0;

	snprintf(copy, sizeof(copy), "%s", line);
	for (w = strtok_r(copy, " ", &save); w && argc < 16;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	return fw_trace_packet_build(argc, argv, vlan, buf, cap, err, errlen);
}

static void parse_form(const char *line, uint16_t vlan,
		       struct policy_packet *pkt)
{
	uint8_t buf[256];
	char err[256] = "";
	int len;

	len = build(line, vlan, buf, sizeof(buf), err, sizeof(err));
	ck_assert_msg(len > 0, "%s: %s", line, err);
	ck_assert_int_eq(policy_packet_parse(buf, (size_t)len, "acme0", pkt),
			 0);
	ck_assert_msg(pkt->kind == POLICY_PKT_IP, "%s: %s", line,
		      pkt->malformed ? pkt->malformed : "not IP");
	ck_assert_uint_eq(pkt->vlan, vlan);
	/* MLD: the checksum without the hop-by-hop header (it covers the
	 * ICMPv6 message and the pseudo header only) */
	if (pkt->mld_alert) {
		ck_assert_uint_eq(buf[14 + 6], 0);
		ck_assert_uint_eq(buf[14 + 40], 58);
		buf[14 + 6] = 58;
		buf[14 + 5] = (uint8_t)(buf[14 + 5] - 8);
		memmove(buf + 14 + 40, buf + 14 + 48, (size_t)len - 14 - 48);
		len -= 8;
	}
	/* every checksum right (other protocols have no layer 4 header) */
	if (pkt->proto == 1 || pkt->proto == 6 || pkt->proto == 17 ||
	    pkt->proto == 58)
		ck_assert_int_eq(
			tpkt_verify_csums(buf + (vlan ? 18 : 14),
					  (size_t)len - (vlan ? 18 : 14)),
			0);
}

static void check_addr(const uint8_t *got, int family, const char *want)
{
	uint8_t a[16] = { 0 };

	ck_assert_int_eq(inet_pton(family, want, a), 1);
	ck_assert_mem_eq(got, a, 16);
}

START_TEST(tc_forms_ok)
{
	struct policy_packet p;

	parse_form("tcp 10.0.0.1:1234 10.0.0.2:80 syn", 0, &p);
	ck_assert_uint_eq(p.proto, 6);
	ck_assert_uint_eq(p.sport, 1234);
	ck_assert_uint_eq(p.dport, 80);
	ck_assert_uint_eq(p.tcp_flags, SYN);
	check_addr(p.saddr, AF_INET, "10.0.0.1");
	check_addr(p.daddr, AF_INET, "10.0.0.2");

	parse_form("tcp 10.0.0.1:1 10.0.0.2:2", 0, &p); /* default: syn */
	ck_assert_uint_eq(p.tcp_flags, SYN);
	parse_form("tcp 10.0.0.1:1 10.0.0.2:2 syn ack", 0, &p);
	ck_assert_uint_eq(p.tcp_flags, SYN | ACK);
	parse_form("tcp 10.0.0.1:1 10.0.0.2:2 fin ack fin", 0, &p);
	ck_assert_uint_eq(p.tcp_flags, FIN | ACK);
	parse_form("tcp 10.0.0.1:0 10.0.0.2:65535 rst", 0, &p);
	ck_assert_uint_eq(p.tcp_flags, RST);
	ck_assert_uint_eq(p.dport, 65535);

	parse_form("udp [2001:db8::1]:53 [fd00::2]:5353", 7, &p);
	ck_assert_uint_eq(p.family, PW_FAMILY_IPV6);
	ck_assert_uint_eq(p.proto, 17);
	ck_assert_uint_eq(p.sport, 53);
	ck_assert_uint_eq(p.dport, 5353);
	check_addr(p.saddr, AF_INET6, "2001:db8::1");
	check_addr(p.daddr, AF_INET6, "fd00::2");
	/* unambiguous without brackets: nine groups are no address */
	parse_form("udp 2001:db8:0:0:0:0:0:1:53 [::1]:9", 0, &p);
	ck_assert_uint_eq(p.sport, 53);
	check_addr(p.saddr, AF_INET6, "2001:db8::1");

	parse_form("icmp 10.0.0.1 10.0.0.2 echo-request", 0, &p);
	ck_assert_uint_eq(p.proto, 1);
	ck_assert_uint_eq(p.icmp_type, 8);
	parse_form("icmp 10.0.0.1 10.0.0.2 3", 4094, &p);
	ck_assert_uint_eq(p.icmp_type, 3);
	parse_form("icmpv6 fd00::1 fd00::2 neighbor-solicitation", 0, &p);
	ck_assert_uint_eq(p.proto, 58);
	ck_assert_uint_eq(p.icmp_type, 135);
	ck_assert_uint_eq(p.hop_limit, 255); /* so it is ND */
	parse_form("icmpv6 fd00::1 fd00::2 128", 0, &p);
	ck_assert_uint_eq(p.hop_limit, 64);
	/* multicast listener discovery as sent: hop limit 1, Router Alert */
	parse_form("icmpv6 fe80::1 ff02::16 143", 0, &p);
	ck_assert_uint_eq(p.icmp_type, 143);
	ck_assert_uint_eq(p.hop_limit, 1);
	ck_assert(p.mld_alert);
	ck_assert(policy_packet_is_mld(&p));
	parse_form("icmpv6 fe80::1 ff02::1 130", 0, &p);
	ck_assert(policy_packet_is_mld(&p));
	parse_form("icmpv6 fd00::1 ff02::1 130", 0, &p);
	ck_assert(p.mld_alert &&
		  !policy_packet_is_mld(&p)); /* not link-local */

	parse_form("47 10.0.0.1 10.0.0.2", 0, &p);
	ck_assert_uint_eq(p.proto, 47);
	parse_form("0 10.0.0.1 10.0.0.2", 0, &p);
	ck_assert_uint_eq(p.proto, 0);
	parse_form("132 fd00::1 fd00::2", 0, &p);
	ck_assert_uint_eq(p.proto, 132);
	/* IPv6 extension header numbers are protocols in IPv4 */
	parse_form("44 10.0.0.1 10.0.0.2", 0, &p);
	ck_assert_uint_eq(p.proto, 44);
	parse_form("59 fd00::1 fd00::2", 0, &p); /* no next header */
	ck_assert_uint_eq(p.proto, 59);
}
END_TEST

static const char *const bad_forms[] = {
	"",
	"tcp",
	"tcp 10.0.0.1:1",
	"tcp 10.0.0.1 10.0.0.2:80",
	"tcp 10.0.0.1:1 10.0.0.2",
	"tcp 10.0.0.1:1 10.0.0.2:65536",
	"tcp 10.0.0.1:-1 10.0.0.2:80",
	"tcp 10.0.0.1:x 10.0.0.2:80",
	"tcp 10.0.0.1: 10.0.0.2:80",
	"tcp 10.0.0.256:1 10.0.0.2:80",
	"tcp 10.0.0.1:1 10.0.0.2:80 push",
	"tcp 10.0.0.1:1 10.0.0.2:80 SYN",
	"tcp 10.0.0.1:1 [fd00::1]:80",
	"tcp 2001:db8::1:80 10.0.0.2:80", /* ambiguous */
	"tcp [2001:db8::1:80 [fd00::1]:80",
	"tcp [10.0.0.1]:80 10.0.0.2:80",
	"udp 10.0.0.1:1 10.0.0.2:80 syn",
	"TCP 10.0.0.1:1 10.0.0.2:80",
	"icmp 10.0.0.1 10.0.0.2",
	"icmp 10.0.0.1 10.0.0.2 ping",
	"icmp 10.0.0.1 10.0.0.2 256",
	"icmp 10.0.0.1 10.0.0.2 8 extra",
	"icmp fd00::1 fd00::2 8",
	"icmpv6 10.0.0.1 10.0.0.2 128",
	"icmpv6 fd00::1 fd00::2 timestamp",
	"icmp 10.0.0.1:5 10.0.0.2 8",
	"6 10.0.0.1 10.0.0.2",
	"17 10.0.0.1 10.0.0.2",
	"1 10.0.0.1 10.0.0.2",
	"58 fd00::1 fd00::2",
	"256 10.0.0.1 10.0.0.2",
	"-1 10.0.0.1 10.0.0.2",
	"47 10.0.0.1",
	"47 10.0.0.1 10.0.0.2 10.0.0.3",
	"47 10.0.0.1 fd00::1",
	/* IPv6 extension headers: the frame would be malformed */
	"0 fd00::1 fd00::2",
	"43 fd00::1 fd00::2",
	"44 fd00::1 fd00::2",
	"51 fd00::1 fd00::2",
	"60 fd00::1 fd00::2",
	"135 fd00::1 fd00::2",
	"gre 10.0.0.1 10.0.0.2",
	"sctp 10.0.0.1:1 10.0.0.2:2",
};

START_TEST(tc_forms_bad)
{
	uint8_t buf[256];
	char err[256] = "";
	const char *line = bad_forms[_i];

	ck_assert_msg(build(line, 0, buf, sizeof(buf), err, sizeof(err)) ==
			      -EINVAL,
		      "'%s' accepted", line);
	ck_assert_msg(strlen(err) > 10, "'%s': no message", line);
}
END_TEST

START_TEST(tc_vlan_tag)
{
	uint8_t buf[TPKT_MAX + 8], ref[TPKT_MAX];
	struct tpkt t = { U4(WEB, DNS, 1, 53) };
	struct policy_packet p;
	size_t len, rlen;

	len = tpkt_build(&t, buf, sizeof(buf));
	len = fw_trace_vlan_tag(buf, len, sizeof(buf), 123);
	t.vlan = 123;
	t.tagged = 1;
	rlen = tpkt_build(&t, ref, sizeof(ref));
	ck_assert_uint_eq(len, rlen);
	ck_assert_mem_eq(buf, ref, len);
	/* tagged frames keep their tag */
	ck_assert_uint_eq(fw_trace_vlan_tag(buf, len, sizeof(buf), 7), len);
	ck_assert_int_eq(policy_packet_parse(buf, len, "x", &p), 0);
	ck_assert_uint_eq(p.vlan, 123);
	/* no room: unchanged */
	ck_assert_uint_eq(fw_trace_vlan_tag(ref, rlen, rlen, 7), rlen);
}
END_TEST

/* ---- capture files ------------------------------------------------------ */

static char tmpdir[] = "/tmp/pw-trace-XXXXXX";

static void tmp_setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	fixture_remove_tree(tmpdir);
	strcpy(tmpdir, "/tmp/pw-trace-XXXXXX");
}

static char *tmp_path(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/* Cooked headers for a frame: its EtherType and what follows. */
static size_t cooked(int dlt, const struct frame *f, uint8_t *out)
{
	size_t hl = dlt == DLT_LINUX_SLL ? 16 : 20;

	memset(out, 0, hl);
	if (dlt == DLT_LINUX_SLL) {
		out[3] = 1; /* ARPHRD_ETHER */
		out[5] = 6;
		memcpy(out + 6, f->b + 6, 6);
		memcpy(out + 14, f->b + 12, 2);
	} else {
		memcpy(out, f->b + 12, 2);
		out[7] = 2; /* ifindex */
		out[9] = 1;
		out[11] = 6;
		memcpy(out + 12, f->b + 6, 6);
	}
	memcpy(out + hl, f->b + 14, f->len - 14);
	return hl + f->len - 14;
}

/* The sequence as a capture of link type @dlt; frames below an Ethernet
 * header are left out (a cooked capture cannot hold them). */
static void write_pcap(const char *path, int dlt)
{
	struct pcap_pkthdr h;
	uint8_t buf[TPKT_MAX + 32];
	pcap_dumper_t *d;
	pcap_t *p;
	size_t i;

	p = pcap_open_dead(dlt, 65535);
	ck_assert_ptr_nonnull(p);
	d = pcap_dump_open(p, path);
	ck_assert_ptr_nonnull(d);
	for (i = 0; i < N_STEPS; i++) {
		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = 1700000000 + (time_t)i;
		if (dlt == DLT_EN10MB) {
			h.caplen = h.len = (bpf_u_int32)frames[i].len;
			pcap_dump((u_char *)d, &h, frames[i].b);
		} else if (frames[i].len >= 14) {
			h.caplen = h.len =
				(bpf_u_int32)cooked(dlt, &frames[i], buf);
			pcap_dump((u_char *)d, &h, buf);
		}
	}
	pcap_dump_close(d);
	pcap_close(p);
}

static void put32le(FILE *f, uint32_t v)
{
	ck_assert_int_eq(fwrite(&v, 4, 1, f), 1); /* host order: x86 LE */
}

/* pcapng by hand (libpcap writes pcap only): SHB, IDB, one EPB each. */
static void write_pcapng(const char *path)
{
	static const uint8_t zero[4];
	FILE *f = fopen(path, "wb");
	uint64_t ts;
	size_t i, pad;

	ck_assert_ptr_nonnull(f);
	put32le(f, 0x0a0d0d0a); /* SHB */
	put32le(f, 28);
	put32le(f, 0x1a2b3c4d);
	put32le(f, 1); /* major 1, minor 0 */
	put32le(f, 0xffffffff); /* section length unknown */
	put32le(f, 0xffffffff);
	put32le(f, 28);
	put32le(f, 1); /* IDB */
	put32le(f, 20);
	put32le(f, DLT_EN10MB); /* link type, reserved */
	put32le(f, 65535);
	put32le(f, 20);
	for (i = 0; i < N_STEPS; i++) {
		pad = (4 - frames[i].len % 4) % 4;
		ts = (1700000000ULL + i) * 1000000ULL; /* microseconds */
		put32le(f, 6); /* EPB */
		put32le(f, (uint32_t)(32 + frames[i].len + pad));
		put32le(f, 0);
		put32le(f, (uint32_t)(ts >> 32));
		put32le(f, (uint32_t)ts);
		put32le(f, (uint32_t)frames[i].len);
		put32le(f, (uint32_t)frames[i].len);
		ck_assert_uint_eq(fwrite(frames[i].b, 1, frames[i].len, f),
				  frames[i].len);
		if (pad)
			ck_assert_uint_eq(fwrite(zero, 1, pad, f), pad);
		put32le(f, (uint32_t)(32 + frames[i].len + pad));
	}
	ck_assert_int_eq(fclose(f), 0);
}

/* Read @path back (by name, or from an open stream with @stream):
 * every frame as written (cooked ones with a rebuilt Ethernet header),
 * then traced by @engine with the expected answers. */
static void read_and_trace(const char *path, int dlt, int engine, bool stream)
{
	struct fw_trace_answer a;
	struct fw_tracer *tr;
	struct fw_pcap *pc;
	struct loaded l;
	char err[512] = "";
	uint8_t *frame;
	uint64_t ts, last = 0;
	size_t len, i;
	int ret;

	load(&l, trace_policy);
	ck_assert_int_eq(fw_tracer_open(&tr, engine, l.pol, l.an, "acme0"), 0);
	if (stream) {
		FILE *f = fopen(path, "rb");

		ck_assert_ptr_nonnull(f);
		ret = fw_pcap_open_stream(f, path, &pc, err, sizeof(err));
	} else {
		ret = fw_pcap_open(path, &pc, err, sizeof(err));
	}
	ck_assert_msg(ret == 0, "%s", err);
	for (i = 0; i < N_STEPS; i++) {
		if (dlt != DLT_EN10MB && frames[i].len < 14)
			continue;
		ret = fw_pcap_next(pc, &frame, &len, &ts, err, sizeof(err));
		ck_assert_msg(ret == 1, "frame %zu: %d %s", i + 1, ret, err);
		ck_assert_uint_eq(len, frames[i].len);
		if (dlt == DLT_EN10MB)
			ck_assert_mem_eq(frame, frames[i].b, len);
		else
			ck_assert_mem_eq(frame + 12, frames[i].b + 12,
					 len - 12);
		ck_assert_uint_eq(ts, (1700000000ULL + i) * 1000000000ULL);
		ck_assert_uint_ge(ts, last);
		last = ts;
		ck_assert_int_eq(fw_tracer_run(tr, frame, len, ts, &a), 0);
		check_answer(i, &a, &steps[i].e);
	}
	ck_assert_int_eq(fw_pcap_next(pc, &frame, &len, &ts, err, sizeof(err)),
			 0);
	fw_pcap_close(pc);
	fw_tracer_close(tr);
	unload(&l);
}

static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, -1 };

START_TEST(tc_pcap_formats)
{
	int dlt = dlts[_i], e;
	const char *path;

	build_frames();
	if (dlt < 0) {
		path = tmp_path("seq.pcapng");
		write_pcapng(path);
		dlt = DLT_EN10MB;
	} else {
		path = tmp_path("seq.pcap");
		write_pcap(path, dlt);
	}
	for (e = 0; e < 2; e++) {
		if (e == FW_TRACE_BPF && !have_root())
			continue;
		read_and_trace(path, dlt, e, false);
	}
	read_and_trace(path, dlt, FW_TRACE_MODEL, true);
}
END_TEST

/* A snap length shorter than the frames, and a frame longer than a test
 * run takes: padded / cut so the headers still say what the wire had. */
START_TEST(tc_pcap_cut_and_long)
{
	struct tpkt big = { U4(WEB, DNS, 1, 53), .payload = 5000 };
	struct tpkt big6 = { .family = 6,
			     .src = WEB6,
			     .dst = EXT6,
			     .proto = 6,
			     .sport = 5,
			     .dport = 443,
			     .flags = SYN,
			     .payload = 4000 };
	struct fw_trace_answer a;
	struct pcap_pkthdr h = { 0 };
	struct policy_packet pkt;
	struct fw_tracer *tr;
	struct fw_pcap *pc;
	struct loaded l;
	static uint8_t buf[8192];
	char err[512] = "";
	const char *path = tmp_path("cut.pcap");
	pcap_dumper_t *d;
	pcap_t *p;
	uint8_t *frame;
	size_t len, blen;
	uint64_t ts;
	int e, i;

	p = pcap_open_dead(DLT_EN10MB, 96);
	d = pcap_dump_open(p, path);
	ck_assert_ptr_nonnull(d);
	blen = tpkt_build(&big, buf, sizeof(buf));
	h.len = (bpf_u_int32)blen;
	h.caplen = 96; /* snap length */
	pcap_dump((u_char *)d, &h, buf);
	h.caplen = (bpf_u_int32)blen; /* long, whole */
	pcap_dump((u_char *)d, &h, buf);
	blen = tpkt_build(&big6, buf, sizeof(buf));
	h.len = h.caplen = (bpf_u_int32)blen;
	pcap_dump((u_char *)d, &h, buf);
	pcap_dump_close(d);
	pcap_close(p);

	load(&l, trace_policy);
	for (e = 0; e < 2; e++) {
		if (e == FW_TRACE_BPF && !have_root())
			continue;
		ck_assert_int_eq(fw_pcap_open(path, &pc, err, sizeof(err)), 0);
		ck_assert_int_eq(fw_tracer_open(&tr, e, l.pol, l.an, "acme0"),
				 0);
		for (i = 0; i < 3; i++) {
			ck_assert_int_eq(fw_pcap_next(pc, &frame, &len, &ts,
						      err, sizeof(err)),
					 1);
			ck_assert_uint_eq(
				len, i ? FW_TRACE_FRAME_MAX :
				     14 + 20 + 8 + 5000 < FW_TRACE_FRAME_MAX ?
					 14 + 20 + 8 + 5000 :
					 FW_TRACE_FRAME_MAX);
			ck_assert_int_eq(policy_packet_parse(frame, len,
							     "acme0", &pkt),
					 0);
			ck_assert_msg(pkt.kind == POLICY_PKT_IP, "%d: %s", i,
				      pkt.malformed);
			ck_assert_int_eq(fw_tracer_run(tr, frame, len, ts, &a),
					 0);
			check_str("verdict", i, policy_verdict_name(a.verdict),
				  "allow");
			check_str("rule", i, a.rule, i < 2 ? "dns" : "web-out");
		}
		fw_tracer_close(tr);
		fw_pcap_close(pc);
	}
	unload(&l);
}
END_TEST

/* --vlan on frames the capture already fills to FW_TRACE_FRAME_MAX (and
 * one 2 bytes short of it): the tag must not take them past what a test
 * run takes. They are cut like any long frame and still judged (trace
 * said "Message too long" and gave up). */
START_TEST(tc_pcap_long_vlan)
{
	struct tpkt big = { U4(WEB, DNS, 1, 53), .payload = 5000 };
	struct fw_trace_answer a;
	struct pcap_pkthdr h = { 0 };
	struct policy_packet pkt;
	struct fw_tracer *tr;
	struct fw_pcap *pc;
	struct loaded l;
	static uint8_t buf[8192];
	char err[512] = "";
	const char *path = tmp_path("long.pcap");
	pcap_dumper_t *d;
	pcap_t *p;
	uint8_t *frame;
	size_t len, blen;
	uint64_t ts;
	int e, i;

	p = pcap_open_dead(DLT_EN10MB, 65535);
	d = pcap_dump_open(p, path);
	ck_assert_ptr_nonnull(d);
	blen = tpkt_build(&big, buf, sizeof(buf));
	h.len = h.caplen = (bpf_u_int32)blen; /* cut to the maximum */
	pcap_dump((u_char *)d, &h, buf);
	big.payload = FW_TRACE_FRAME_MAX - 2 - (14 + 20 + 8);
	blen = tpkt_build(&big, buf, sizeof(buf));
	ck_assert_uint_eq(blen, FW_TRACE_FRAME_MAX - 2); /* not cut */
	h.len = h.caplen = (bpf_u_int32)blen;
	pcap_dump((u_char *)d, &h, buf);
	pcap_dump_close(d);
	pcap_close(p);

	load(&l, trace_policy);
	for (e = 0; e < 2; e++) {
		if (e == FW_TRACE_BPF && !have_root())
			continue;
		ck_assert_int_eq(fw_pcap_open(path, &pc, err, sizeof(err)), 0);
		ck_assert_int_eq(fw_tracer_open(&tr, e, l.pol, l.an, "acme0"),
				 0);
		for (i = 0; i < 2; i++) {
			ck_assert_int_eq(fw_pcap_next(pc, &frame, &len, &ts,
						      err, sizeof(err)),
					 1);
			len = fw_trace_vlan_tag(frame, len,
						FW_TRACE_FRAME_MAX + 4, 100);
			ck_assert_uint_eq(len, FW_TRACE_FRAME_MAX);
			ck_assert_int_eq(policy_packet_parse(frame, len,
							     "acme0", &pkt),
					 0);
			ck_assert_msg(pkt.kind == POLICY_PKT_IP, "%d: %s", i,
				      pkt.malformed);
			ck_assert_uint_eq(pkt.vlan, 100);
			ck_assert_uint_eq(pkt.dport, 53);
			ck_assert_int_eq(fw_tracer_run(tr, frame, len, ts, &a),
					 0);
		}
		fw_tracer_close(tr);
		fw_pcap_close(pc);
	}
	unload(&l);
}
END_TEST

START_TEST(tc_pcap_bad)
{
	struct pcap_pkthdr h = { 0 };
	struct fw_pcap *pc = (void *)1;
	char err[512] = "";
	uint8_t ip[40] = { 0x45 }, *frame;
	pcap_dumper_t *d;
	pcap_t *p;
	FILE *f;
	size_t len, n = 0;
	uint64_t ts;
	long size;
	int ret;

	/* missing */
	ck_assert_int_eq(fw_pcap_open(tmp_path("none.pcap"), &pc, err,
				      sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_null(pc);
	ck_assert_ptr_nonnull(strstr(err, "none.pcap"));
	/* named once: "PATH: No such file or directory" */
	ck_assert_ptr_null(strstr(strstr(err, "none.pcap") + 1, "none.pcap"));
	ck_assert_ptr_nonnull(strstr(err, strerror(ENOENT)));
	/* not a capture */
	f = fopen(tmp_path("junk.pcap"), "w");
	fputs("this is not a capture file, not at all\n", f);
	fclose(f);
	err[0] = 0;
	ck_assert_int_eq(fw_pcap_open(tmp_path("junk.pcap"), &pc, err,
				      sizeof(err)),
			 -EINVAL);
	ck_assert_uint_gt(strlen(err), 10);
	/* raw IP: not supported */
	p = pcap_open_dead(DLT_RAW, 65535);
	d = pcap_dump_open(p, tmp_path("raw.pcap"));
	h.len = h.caplen = sizeof(ip);
	pcap_dump((u_char *)d, &h, ip);
	pcap_dump_close(d);
	pcap_close(p);
	err[0] = 0;
	ck_assert_int_eq(fw_pcap_open(tmp_path("raw.pcap"), &pc, err,
				      sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "link type"));
	ck_assert_ptr_nonnull(strstr(err, "not supported"));
	/* a file cut inside its last record */
	build_frames();
	write_pcap(tmp_path("cut.pcap"), DLT_EN10MB);
	f = fopen(tmp_path("cut.pcap"), "r+");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	ck_assert_int_eq(ftruncate(fileno(f), size - 5), 0);
	fclose(f);
	ck_assert_int_eq(
		fw_pcap_open(tmp_path("cut.pcap"), &pc, err, sizeof(err)), 0);
	err[0] = 0;
	while ((ret = fw_pcap_next(pc, &frame, &len, &ts, err, sizeof(err))) ==
	       1)
		n++;
	ck_assert_int_eq(ret, -EINVAL);
	ck_assert_uint_eq(n, N_STEPS - 1);
	ck_assert_uint_gt(strlen(err), 5);
	fw_pcap_close(pc);
}
END_TEST

/* Both engines, frame by frame, on a longer mixed stream: they agree. */
START_TEST(tc_engines_agree)
{
	struct fw_trace_answer a[2];
	struct fw_tracer *t[2];
	struct loaded l;
	size_t i, n;
	int e;

	if (!have_root())
		return;
	build_frames();
	load(&l, trace_policy);
	for (e = 0; e < 2; e++)
		ck_assert_int_eq(fw_tracer_open(&t[e], e, l.pol, l.an, "acme0"),
				 0);
	/* the sequence three times, in changing order, times far apart */
	for (n = 0; n < 3 * N_STEPS; n++) {
		i = (n * 7) % N_STEPS;
		for (e = 0; e < 2; e++)
			ck_assert_int_eq(
				fw_tracer_run(t[e], frames[i].b, frames[i].len,
					      n * 20000000000ULL, &a[e]),
				0);
		ck_assert_uint_eq(a[0].verdict, a[1].verdict);
		ck_assert_uint_eq(a[0].reason, a[1].reason);
		check_str("rule", i, a[0].rule, a[1].rule);
		check_str("tenant", i, a[0].tenant, a[1].tenant);
		check_str("src", i, a[0].src_segment, a[1].src_segment);
		check_str("dst", i, a[0].dst_segment, a[1].dst_segment);
		check_str("flow", i, a[0].flow, a[1].flow);
		ck_assert_uint_eq(a[0].why, a[1].why);
		ck_assert_mem_eq(&a[0].pkt, &a[1].pkt, sizeof(a[0].pkt));
	}
	for (e = 0; e < 2; e++)
		fw_tracer_close(t[e]);
	unload(&l);
}
END_TEST

static Suite *trace_suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tc;

	tc = tcase_create("forms");
	tcase_add_test(tc, tc_forms_ok);
	tcase_add_loop_test(tc, tc_forms_bad, 0,
			    sizeof(bad_forms) / sizeof(bad_forms[0]));
	tcase_add_test(tc, tc_vlan_tag);
	suite_add_tcase(s, tc);

	tc = tcase_create("engines");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, tc_model_sequence);
	tcase_add_test(tc, tc_bpf_sequence);
	tcase_add_test(tc, tc_unknown_iface);
	tcase_add_test(tc, tc_other_iface);
	tcase_add_test(tc, tc_engines_agree);
	tcase_add_loop_test(tc, tc_packet_fields, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("captures");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_loop_test(tc, tc_pcap_formats, 0,
			    sizeof(dlts) / sizeof(dlts[0]));
	tcase_add_test(tc, tc_pcap_cut_and_long);
	tcase_add_test(tc, tc_pcap_long_vlan);
	tcase_add_test(tc, tc_pcap_bad);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (geteuid() != 0)
		printf("test_trace: not root: the BPF engine is not tested\n");
	return fixture_run_suite(trace_suite());
}
