// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath tests: frames through the XDP and TC programs with
 * BPF_PROG_TEST_RUN (needs root; exit 77 otherwise).
 *
 * The core is a table (Katran style): each case is a short sequence of
 * steps, each step a crafted frame plus what must come out: the program's
 * action, the exact answer bytes for rejects (compared with an
 * independent reference built here, and every checksum verified), the
 * events in the ring buffer, the conntrack state, and the counters. Every
 * case runs through the XDP program and the TC ingress and egress
 * programs, from a clean state (conntrack, fragments, rate buckets,
 * counters and clock reset), under one of the hand-built policies below.
 *
 * The maps are shared by the forked test processes; every test reloads
 * what it needs (fw_dp reads the slot state from the kernel).
 */
#include <arpa/inet.h>
#include <sched.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/types.h>

#include <plumwall/addr.h>
#include <plumwall/diag.h>
#include <plumwall/shared.h>

#include "fw/bpflog.h"
#include "fw/datapath.h"
#include "fw/runtime.h"
#include "policy/analyze.h"
#include "policy/compile.h"
#include "policy/policy.h"
#include "dp_pkt.h"
#include "fixtures.h"

#define NSEC 1000000000ULL
#define LO 1 /* loopback ifindex: where test runs take place by default */

/* Tenants of the base policy. */
#define T_ACME 1 /* untagged and VLAN 100; default deny, log_default */
#define T_BETA 2 /* VLAN 200; same addresses; default allow, flow logs */
#define T_AUDIT 3 /* VLAN 300; mode audit, default deny */
#define T_REJ 4 /* VLAN 400; default reject, no rules */
#define T_ABSENT 5 /* VLAN 500 is mapped to it, but it is not present */

/* acme address classes and segments */
#define C_EXT4 PW_CLASS_DEFAULT_V4
#define C_EXT6 PW_CLASS_DEFAULT_V6
#define C_WEB4 2
#define C_DB4 3
#define C_OPS4 4
#define C_WEB6 5
#define C_DB6 6
#define S_WEB 0
#define S_DB 1
#define S_OPS 2

#define WEB4 "10.1.1.5"
#define DB4 "10.1.2.7"
#define OPS4 "10.1.9.10"
#define EXT4 "192.0.2.1"
#define WEB6 "fd00:1:1::5"
#define DB6 "fd00:1:2::7"
#define EXT6 "2001:db8::1"

#define ANY PW_CLASS_ANY
#define NONE PW_RULE_NONE

#define SYN 0x02
#define FIN 0x01
#define RST 0x04
#define PSH 0x08
#define ACK 0x10

/* ---- policies ------------------------------------------------------------ */

enum {
	P_BASE = 1,
	P_REVOKE, /* rules 0 and 8 now deny */
	P_SAME, /* the base policy again, new generation */
	P_STRICT, /* non_ip deny, unmatched allow */
	P_RATE, /* log_rate 2 */
	P_AUDIT, /* P_REVOKE with acme in audit mode */
	P_COUNT,
};

struct tpol {
	struct fw_dp_iface ifaces[16];
	size_t n_ifaces;
	struct fw_dp_tenant tenants[8];
	size_t n_tenants;
	struct fw_dp_addr addrs[64];
	size_t n_addrs;
	struct fw_dp_svc svcs[64];
	size_t n_svcs;
	struct fw_dp_decision decs[128];
	size_t n_decs;
	struct pw_rule_val rules[40];
	size_t n_rules;
	struct pw_settings settings;
};

static void tp_iface(struct tpol *p, __u32 ifindex, __u16 vlan, __u16 tenant)
{
	struct fw_dp_iface *e = &p->ifaces[p->n_ifaces++];

	e->key.ifindex = ifindex;
	e->key.vlan = vlan;
	e->val.tenant = tenant;
}

static void tp_tenant(struct tpol *p, __u16 id, __u8 def, __u8 flags)
{
	struct fw_dp_tenant *e = &p->tenants[p->n_tenants++];

	e->id = id;
	e->val.present = 1;
	e->val.default_action = def;
	e->val.flags = flags;
}

static void tp_addr(struct tpol *p, __u16 tenant, const char *cidr, __u32 cls,
		    __u32 seg)
{
	struct fw_dp_addr *e = &p->addrs[p->n_addrs++];
	struct pw_prefix pfx;

	ck_assert_int_eq(pw_prefix_parse(cidr, &pfx), PW_PREFIX_OK);
	e->key.prefixlen = 32 + pfx.len;
	e->key.tenant_be[0] = tenant >> 8;
	e->key.tenant_be[1] = tenant & 0xff;
	e->key.family = pfx.family;
	memcpy(e->key.addr, pfx.addr, 16);
	e->val.class_id = cls;
	e->val.segment_id = seg;
}

/* Cover [lo, hi] with LPM prefixes over the 16-bit point. */
static void tp_svc(struct tpol *p, __u16 tenant, __u8 proto, __u32 lo, __u32 hi,
		   __u32 cls, int whole_proto)
{
	struct fw_dp_svc *e;

	if (whole_proto) {
		e = &p->svcs[p->n_svcs++];
		e->key.prefixlen = 24;
		e->key.tenant_be[1] = tenant & 0xff;
		e->key.proto = proto;
		e->val.svc_class = cls;
		return;
	}
	while (lo <= hi) {
		__u32 size = 1, bits = 0;

		while (bits < 16 && !(lo & (size * 2 - 1)) &&
		       lo + size * 2 - 1 <= hi) {
			size *= 2;
			bits++;
		}
		e = &p->svcs[p->n_svcs++];
		e->key.prefixlen = 24 + 16 - bits;
		e->key.tenant_be[0] = tenant >> 8;
		e->key.tenant_be[1] = tenant & 0xff;
		e->key.proto = proto;
		e->key.point_be[0] = lo >> 8;
		e->key.point_be[1] = lo & 0xff;
		e->val.svc_class = cls;
		lo += size;
	}
}

static void tp_rule(struct tpol *p, __u32 id, __u8 action, __u8 flags,
		    __u16 tenant)
{
	p->rules[id].action = action;
	p->rules[id].flags = flags;
	p->rules[id].tenant = tenant;
	if (p->n_rules <= id)
		p->n_rules = id + 1;
}

static void tp_dec(struct tpol *p, __u16 tenant, __u32 s, __u32 d, __u32 v,
		   __u32 rule)
{
	struct fw_dp_decision *e = &p->decs[p->n_decs++];
	size_t i;

	e->key.tenant = tenant;
	e->key.src_class = s;
	e->key.dst_class = d;
	e->key.svc_class = v;
	e->val.rule_id = rule;
	/* Same as the compiler: the tenant's tuple shapes in use. */
	for (i = 0; i < p->n_tenants; i++)
		if (p->tenants[i].id == tenant)
			p->tenants[i].val.tuples |=
				PW_TUPLE_BIT(s == ANY, d == ANY, v == ANY);
}

static void tp_policy(const struct tpol *tp, struct fw_dp_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->settings = tp->settings;
	p->ifaces = FW_DP_ENTRIES(tp->ifaces, tp->n_ifaces, struct fw_dp_iface,
				  key, val);
	p->tenants = FW_DP_ENTRIES(tp->tenants, tp->n_tenants,
				   struct fw_dp_tenant, id, val);
	p->addrs = FW_DP_ENTRIES(tp->addrs, tp->n_addrs, struct fw_dp_addr, key,
				 val);
	p->svcs =
		FW_DP_ENTRIES(tp->svcs, tp->n_svcs, struct fw_dp_svc, key, val);
	p->decisions = FW_DP_ENTRIES(tp->decs, tp->n_decs,
				     struct fw_dp_decision, key, val);
	p->rules = tp->rules;
	p->n_rules = tp->n_rules;
}

/*
 * The base policy, as the compiler would lay it out (classes per tenant,
 * one decision entry per class tuple of each rule, rule ids in order).
 *
 * acme (1): web 10.1.1.0/24 fd00:1:1::/64, db 10.1.2.0/24 fd00:1:2::/64,
 * ops 10.1.9.0/24.
 *   0  web -> db       tcp 5432            allow  log
 *   1  web -> db       tcp 8000-8100       allow
 *   2  web -> external tcp 80, 443         allow  log
 *   3  any -> db       tcp 23              deny   log
 *   4  any -> db       tcp 25              reject log
 *   5  any -> db       udp 9999            reject
 *   6  any -> any      icmp echo-request   allow
 *   7  any -> any      icmpv6 echo-request allow
 *   8  web -> db       udp 53              allow
 *   9  ops -> any      any                 allow
 *   10 web -> db       proto 47            allow
 *   11 web -> db       tcp 60000-65535     allow
 *   12 any -> db       any                 deny
 * beta (2): web, db as acme's addresses. 20 web -> db tcp 5432 deny log.
 * audit (3): 30 any -> any tcp 22 reject; 31 web -> db udp 53 allow.
 */
static void build_policy(int which, struct tpol *p)
{
	__u8 r0 = PW_ACTION_ALLOW, r8 = PW_ACTION_ALLOW;
	__u8 acme = PW_TENANT_LOG_DEFAULT | PW_TENANT_TUPLES;
	int i;

	memset(p, 0, sizeof(*p));
	p->settings.generation = (__u32)which;
	p->settings.unmatched = PW_ACTION_DENY;
	p->settings.non_ip = PW_ACTION_ALLOW;
	p->settings.timeout_ns[PW_TIMEOUT_TCP_SYN] = 30 * NSEC;
	p->settings.timeout_ns[PW_TIMEOUT_TCP_ESTABLISHED] = 7200 * NSEC;
	p->settings.timeout_ns[PW_TIMEOUT_TCP_CLOSING] = 30 * NSEC;
	p->settings.timeout_ns[PW_TIMEOUT_UDP] = 60 * NSEC;
	p->settings.timeout_ns[PW_TIMEOUT_ICMP] = 30 * NSEC;
	p->settings.timeout_ns[PW_TIMEOUT_OTHER] = 60 * NSEC;
	if (which == P_STRICT) {
		p->settings.non_ip = PW_ACTION_DENY;
		p->settings.unmatched = PW_ACTION_ALLOW;
	}
	if (which == P_RATE)
		p->settings.log_rate = 2;
	if (which == P_REVOKE || which == P_AUDIT) {
		r0 = PW_ACTION_DENY;
		r8 = PW_ACTION_DENY;
	}
	if (which == P_AUDIT)
		acme |= PW_TENANT_AUDIT;

	tp_iface(p, LO, 0, T_ACME);
	tp_iface(p, LO, 100, T_ACME);
	tp_iface(p, LO, 200, T_BETA);
	tp_iface(p, LO, 300, T_AUDIT);
	tp_iface(p, LO, 400, T_REJ);
	tp_iface(p, LO, 500, T_ABSENT);
	tp_tenant(p, T_ACME, PW_ACTION_DENY, acme);
	/* beta leaves PW_TENANT_TUPLES out: all eight lookups */
	tp_tenant(p, T_BETA, PW_ACTION_ALLOW, PW_TENANT_FLOW_LOGS);
	tp_tenant(p, T_AUDIT, PW_ACTION_DENY,
		  PW_TENANT_AUDIT | PW_TENANT_LOG_DEFAULT | PW_TENANT_TUPLES);
	tp_tenant(p, T_REJ, PW_ACTION_REJECT,
		  PW_TENANT_LOG_DEFAULT | PW_TENANT_TUPLES);

	tp_addr(p, T_ACME, "10.1.1.0/24", C_WEB4, S_WEB);
	tp_addr(p, T_ACME, "10.1.2.0/24", C_DB4, S_DB);
	tp_addr(p, T_ACME, "10.1.9.0/24", C_OPS4, S_OPS);
	tp_addr(p, T_ACME, "fd00:1:1::/64", C_WEB6, S_WEB);
	tp_addr(p, T_ACME, "fd00:1:2::/64", C_DB6, S_DB);
	tp_svc(p, T_ACME, 6, 5432, 5432, 1, 0);
	tp_svc(p, T_ACME, 6, 8000, 8100, 2, 0);
	tp_svc(p, T_ACME, 6, 80, 80, 3, 0);
	tp_svc(p, T_ACME, 6, 443, 443, 3, 0);
	tp_svc(p, T_ACME, 6, 23, 23, 4, 0);
	tp_svc(p, T_ACME, 6, 25, 25, 5, 0);
	tp_svc(p, T_ACME, 17, 53, 53, 6, 0);
	tp_svc(p, T_ACME, 17, 9999, 9999, 7, 0);
	tp_svc(p, T_ACME, 1, 8, 8, 8, 0);
	tp_svc(p, T_ACME, 58, 128, 128, 9, 0);
	tp_svc(p, T_ACME, 47, 0, 0, 10, 1);
	tp_svc(p, T_ACME, 6, 60000, 65535, 11, 0);

	tp_rule(p, 0, r0, PW_RULE_LOG, T_ACME);
	tp_dec(p, T_ACME, C_WEB4, C_DB4, 1, 0);
	tp_dec(p, T_ACME, C_WEB6, C_DB6, 1, 0);
	tp_rule(p, 1, PW_ACTION_ALLOW, 0, T_ACME);
	tp_dec(p, T_ACME, C_WEB4, C_DB4, 2, 1);
	tp_dec(p, T_ACME, C_WEB6, C_DB6, 2, 1);
	tp_rule(p, 2, PW_ACTION_ALLOW, PW_RULE_LOG, T_ACME);
	tp_dec(p, T_ACME, C_WEB4, C_EXT4, 3, 2);
	tp_dec(p, T_ACME, C_WEB6, C_EXT6, 3, 2);
	tp_rule(p, 3, PW_ACTION_DENY, PW_RULE_LOG, T_ACME);
	tp_dec(p, T_ACME, ANY, C_DB4, 4, 3);
	tp_dec(p, T_ACME, ANY, C_DB6, 4, 3);
	tp_rule(p, 4, PW_ACTION_REJECT, PW_RULE_LOG, T_ACME);
	tp_dec(p, T_ACME, ANY, C_DB4, 5, 4);
	tp_dec(p, T_ACME, ANY, C_DB6, 5, 4);
	tp_rule(p, 5, PW_ACTION_REJECT, 0, T_ACME);
	tp_dec(p, T_ACME, ANY, C_DB4, 7, 5);
	tp_dec(p, T_ACME, ANY, C_DB6, 7, 5);
	tp_rule(p, 6, PW_ACTION_ALLOW, 0, T_ACME);
	tp_dec(p, T_ACME, ANY, ANY, 8, 6);
	tp_rule(p, 7, PW_ACTION_ALLOW, 0, T_ACME);
	tp_dec(p, T_ACME, ANY, ANY, 9, 7);
	tp_rule(p, 8, r8, 0, T_ACME);
	tp_dec(p, T_ACME, C_WEB4, C_DB4, 6, 8);
	tp_dec(p, T_ACME, C_WEB6, C_DB6, 6, 8);
	tp_rule(p, 9, PW_ACTION_ALLOW, 0, T_ACME);
	tp_dec(p, T_ACME, C_OPS4, ANY, ANY, 9);
	tp_rule(p, 10, PW_ACTION_ALLOW, 0, T_ACME);
	tp_dec(p, T_ACME, C_WEB4, C_DB4, 10, 10);
	tp_rule(p, 11, PW_ACTION_ALLOW, 0, T_ACME);
	tp_dec(p, T_ACME, C_WEB4, C_DB4, 11, 11);
	tp_rule(p, 12, PW_ACTION_DENY, 0, T_ACME);
	tp_dec(p, T_ACME, ANY, C_DB4, ANY, 12);
	tp_dec(p, T_ACME, ANY, C_DB6, ANY, 12);

	tp_addr(p, T_BETA, "10.1.1.0/24", 2, 10);
	tp_addr(p, T_BETA, "10.1.2.0/24", 3, 11);
	tp_svc(p, T_BETA, 6, 5432, 5432, 1, 0);
	tp_rule(p, 20, PW_ACTION_DENY, PW_RULE_LOG, T_BETA);
	tp_dec(p, T_BETA, 2, 3, 1, 20);

	tp_addr(p, T_AUDIT, "10.1.1.0/24", 2, 20);
	tp_addr(p, T_AUDIT, "10.1.2.0/24", 3, 21);
	tp_svc(p, T_AUDIT, 6, 22, 22, 1, 0);
	tp_svc(p, T_AUDIT, 17, 53, 53, 2, 0);
	tp_rule(p, 30, PW_ACTION_REJECT, 0, T_AUDIT);
	tp_dec(p, T_AUDIT, ANY, ANY, 1, 30);
	tp_rule(p, 31, PW_ACTION_ALLOW, 0, T_AUDIT);
	tp_dec(p, T_AUDIT, 2, 3, 2, 31);

	/* ids 13..19, 21..29 are unused: zero rules nothing points at */
	for (i = 0; i < 32; i++)
		if (p->n_rules <= (size_t)i)
			p->n_rules = i + 1;
}

/* ---- harness ------------------------------------------------------------- */

static struct fw_dp *dp;

enum { H_XDP = 1, H_TCI = 2, H_TCE = 4, H_ALL = 7 };
enum { A_PASS = 1, A_DROP, A_TX };

static enum fw_dp_prog hook_prog(unsigned int h)
{
	return h == H_XDP ? FW_DP_XDP :
	       h == H_TCI ? FW_DP_TC_INGRESS :
			    FW_DP_TC_EGRESS;
}

/* XDP passes a reject answer up, marked in its metadata, for the TC
 * program pw_tc_answer to send out (pw_ctx.h ctx_bounce()). */
static __u32 action_code(unsigned int h, int act)
{
	if (h == H_XDP)
		return act == A_DROP ? XDP_DROP : XDP_PASS;
	return act == A_PASS ? 0 /* TC_ACT_OK */ :
	       act == A_DROP ? 2 /* TC_ACT_SHOT */ :
			       7 /* TC_ACT_REDIRECT */;
}

static __u32 loaded_policy = 0;

/* Load policy @which unless it is the one in the active slot already. */
static void use_policy(int which)
{
	struct fw_dp_policy pol;
	struct pw_settings st;
	struct tpol *tp;
	__u32 slot;

	ck_assert_int_eq(fw_dp_active_slot(dp, &slot), 0);
	if (!fw_dp_slot_settings(dp, slot, &st) &&
	    st.generation == (__u32)which) {
		loaded_policy = which;
		return;
	}
	tp = calloc(1, sizeof(*tp));
	ck_assert_ptr_nonnull(tp);
	build_policy(which, tp);
	tp_policy(tp, &pol);
	ck_assert_int_eq(fw_dp_load(dp, &pol), 0);
	free(tp);
	loaded_policy = which;
}

static void reset(void)
{
	ck_assert_int_eq(fw_dp_reset_state(dp), 0);
	ck_assert_int_eq(fw_dp_set_clock_offset(dp, 0), 0);
}

/* ---- reference answers ------------------------------------------------- */

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/*
 * What the datapath must send back for frame @in, written independently
 * of the BPF code: RST (RFC 9293 3.10.7.1) for TCP, ICMP(v6) destination
 * unreachable "administratively prohibited" otherwise.
 */
static size_t ref_answer(const uint8_t *in, size_t in_len, uint8_t *out)
{
	size_t l3 = rd16(in + 12) == 0x8100 ? 18 : 14, l4, ip_len, n, q;
	const uint8_t *ip = in + l3;
	int v6 = ip[0] >> 4 == 6;
	uint8_t proto, *o;
	uint32_t sum;

	memcpy(out, in + 6, 6);
	memcpy(out + 6, in, 6);
	memcpy(out + 12, in + 12, l3 - 12);
	o = out + l3;
	if (!v6) {
		ip_len = rd16(ip + 2);
		l4 = (ip[0] & 0xf) * 4;
		proto = ip[9];
	} else {
		uint8_t nh = ip[6];

		ip_len = 40 + rd16(ip + 4);
		l4 = 40;
		while (nh == 0 || nh == 43 || nh == 60 || nh == 51 ||
		       nh == 44) {
			size_t hl = nh == 51 ? (ip[l4 + 1] + 2) * 4 :
				    nh == 44 ? 8 :
					       (ip[l4 + 1] + 1) * 8;

			nh = ip[l4];
			l4 += hl;
		}
		proto = nh;
	}
	ck_assert_uint_le(l3 + ip_len, in_len);

	if (proto == 6) {
		const uint8_t *th = ip + l4;
		uint8_t fl = th[13], *t = o + (v6 ? 40 : 20);
		uint32_t seq = rd32(th + 4), ack = rd32(th + 8);
		size_t plen = ip_len - l4 - (th[12] >> 4) * 4;

		memset(t, 0, 20);
		memcpy(t, th + 2, 2);
		memcpy(t + 2, th, 2);
		if (fl & ACK) {
			wr32(t + 4, ack);
			t[13] = RST;
		} else {
			wr32(t + 8, seq + (uint32_t)plen + !!(fl & SYN) +
					    !!(fl & FIN));
			t[13] = RST | ACK;
		}
		t[12] = 0x50;
		n = 20;
		proto = 6;
	} else {
		size_t qmax = v6 ? 1232 : 548;
		uint8_t *ic = o + (v6 ? 40 : 20);

		q = ip_len < qmax ? ip_len : qmax;
		memset(ic, 0, 8);
		ic[0] = v6 ? 1 : 3;
		ic[1] = v6 ? 1 : 13;
		memcpy(ic + 8, ip, q);
		n = 8 + q;
		proto = v6 ? 58 : 1;
	}
	if (!v6) {
		memset(o, 0, 20);
		o[0] = 0x45;
		wr16(o + 2, (uint16_t)(20 + n));
		o[6] = 0x40;
		o[8] = 64;
		o[9] = proto;
		memcpy(o + 12, ip + 16, 4);
		memcpy(o + 16, ip + 12, 4);
		wr16(o + 10, tpkt_fold(tpkt_sum(o, 20, 0)));
		sum = proto == 6 ? tpkt_sum(o + 12, 8, 0) + 6 + (uint32_t)n : 0;
		wr16(o + 20 + (proto == 6 ? 16 : 2),
		     tpkt_fold(tpkt_sum(o + 20, n, sum)));
		return l3 + 20 + n;
	}
	memset(o, 0, 40);
	o[0] = 0x60;
	wr16(o + 4, (uint16_t)n);
	o[6] = proto;
	o[7] = 64;
	memcpy(o + 8, ip + 24, 16);
	memcpy(o + 24, ip + 8, 16);
	sum = tpkt_sum(o + 8, 32, 0) + proto + (uint32_t)n;
	wr16(o + 40 + (proto == 6 ? 16 : 2),
	     tpkt_fold(tpkt_sum(o + 40, n, sum)));
	return l3 + 40 + n;
}

/* ---- the table ----------------------------------------------------------- */

/* The table reads better aligned by hand. */
/* clang-format off */

struct evx {
	uint8_t type, verdict, reason, end;
	uint32_t rule;
	int tenant; /* 0: not checked, -1: none */
	uint32_t count; /* SUPPRESSED / LOST */
};

enum { CT_SKIP = 0, CT_NONE_ = 100 };
#define CTS(s) ((s) + 1)

struct step {
	struct tpkt pkt;
	struct {
		int off; /* 0 ends the list */
		uint8_t val;
	} mut[4];
	int trunc; /* cut the frame to this length */
	int act;
	int reply; /* compare with ref_answer() */
	int n_ev;
	struct evx ev[3];
	int load; /* load this policy first */
	int clock_s; /* advance the clock first */
	int ct; /* CT_* or CTS(state) of the packet's flow afterwards */
	int drop; /* reason + 1 whose drop counter grows by one */
	int hit; /* rule id + 1 whose counter grows by one */
};

struct tcase {
	const char *name;
	int policy; /* 0: P_BASE */
	unsigned int hooks; /* 0: all */
	int tenant; /* of the flow (conntrack key), 0: acme */
	struct step s[8];
};

#define EV(t, v, r, id)                                                  \
	{ .type = PW_EVENT_##t, .verdict = PW_VERDICT_##v,               \
	  .reason = PW_REASON_##r, .rule = (id) }
#define EVT(t, v, r, id, tn)                                             \
	{ .type = PW_EVENT_##t, .verdict = PW_VERDICT_##v,               \
	  .reason = PW_REASON_##r, .rule = (id), .tenant = (tn) }
#define EVEND(r, id, e)                                                  \
	{ .type = PW_EVENT_FLOW_END, .verdict = PW_VERDICT_ALLOW,         \
	  .reason = PW_REASON_##r, .rule = (id), .end = PW_END_##e }
#define EVREVOKED(id)                                                    \
	{ .type = PW_EVENT_FLOW_END, .verdict = PW_VERDICT_DENY,          \
	  .reason = PW_REASON_POLICY_REVOKED, .rule = (id),               \
	  .end = PW_END_POLICY_REVOKED }
#define START(id) EV(FLOW_START, ALLOW, POLICY, id)
#define MALFORMED EVT(DROP, DENY, MALFORMED, NONE, T_ACME)
#define DROPPED(reason) ((PW_REASON_##reason) + 1)

#define V4(s, d) .family = 4, .src = (s), .dst = (d)
#define V6(s, d) .family = 6, .src = (s), .dst = (d)
#define TCP(sp, dp, fl) .proto = 6, .sport = (sp), .dport = (dp), .flags = (fl)
#define UDP(sp, dp) .proto = 17, .sport = (sp), .dport = (dp)
#define ICMP(t) .proto = 1, .type = (t)
#define ICMP6(t) .proto = 58, .type = (t)
/* MLD as Linux sends it: hop limit 1, hop-by-hop header with Router Alert */
#define MLD_HDR                                                  \
	.hop_limit = 1, .ext = { TPKT_HBH }, .n_ext = 1,         \
	.hbh = TPKT_HBH_RA_MLD, .hbh_set = 1

/* The flow most cases use: web:40000 -> db:5432. */
#define WEB_DB_SYN { V4(WEB4, DB4), TCP(40000, 5432, SYN), .seq = 1000 }
#define DB_WEB_SYNACK { V4(DB4, WEB4), TCP(5432, 40000, SYN | ACK), .seq = 5000, .ack = 1001 }
#define WEB_DB_ACK { V4(WEB4, DB4), TCP(40000, 5432, ACK), .seq = 1001, .ack = 5001 }
/* A malformed-case base: web -> db tcp 5432 SYN, untagged, IPv4 at 14. */
#define M4 WEB_DB_SYN
#define M6 { V6(WEB6, DB6), TCP(40000, 5432, SYN) }
static const struct tpkt web_db_syn = WEB_DB_SYN;
static const struct tpkt web6_db6_syn = { V6(WEB6, DB6), TCP(40000, 5432, SYN) };
static const struct tpkt web_db_ping = { V4(WEB4, DB4), ICMP(8), .id = 9 };

#define MALF_STEP .act = A_DROP, .n_ev = 1, .ev = { MALFORMED }, .drop = DROPPED(MALFORMED)

static const struct tcase cases[] = {
	/* ---- rules, services, actions ---- */
	{ "tcp syn allowed by a logged rule",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1,
		   .ev = { START(0) }, .ct = CTS(PW_CT_TCP_SYN), .hit = 1 } } },
	{ "port range, low edge 8000",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 8000, SYN) },
		   .act = A_PASS, .ct = CTS(PW_CT_TCP_SYN), .hit = 2 } } },
	{ "port range, high edge 8100",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 8100, SYN) },
		   .act = A_PASS, .hit = 2 } } },
	{ "port range, one below (7999): any->db deny, unlogged",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 7999, SYN) },
		   .act = A_DROP, .ct = CT_NONE_, .drop = DROPPED(POLICY),
		   .hit = 13 } } },
	{ "port range, one above (8101)",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 8101, SYN) },
		   .act = A_DROP, .hit = 13 } } },
	{ "port 65535, top of 60000-65535",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 65535, SYN) },
		   .act = A_PASS, .hit = 12 } } },
	{ "port 59999, below 60000-65535",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 59999, SYN) },
		   .act = A_DROP, .hit = 13 } } },
	{ "deny by a logged rule",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 23, SYN) },
		   .act = A_DROP, .n_ev = 1, .ev = { EVT(DROP, DENY, POLICY, 3, T_ACME) },
		   .drop = DROPPED(POLICY), .hit = 4, .ct = CT_NONE_ } } },
	{ "reject tcp SYN: RST with ack = seq + 1",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 25, SYN), .seq = 77 },
		   .act = A_TX, .reply = 1, .n_ev = 1,
		   .ev = { EV(DROP, REJECT, POLICY, 4) }, .hit = 5,
		   .drop = DROPPED(POLICY) } } },
	{ "reject tcp ACK segment: RST with seq = ack",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 25, ACK | PSH),
			    .seq = 5000, .ack = 7777, .payload = 10 },
		   .act = A_TX, .reply = 1, .n_ev = 1,
		   .ev = { EV(DROP, REJECT, POLICY, 4) } } } },
	{ "reject tcp FIN without ACK: ack counts data and FIN",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 25, FIN), .seq = 9,
			    .payload = 5 },
		   .act = A_TX, .reply = 1, .n_ev = 1,
		   .ev = { EV(DROP, REJECT, POLICY, 4) } } } },
	{ "reject tcp over IPv6: RST",
	  .s = { { .pkt = { V6(WEB6, DB6), TCP(40000, 25, SYN), .seq = 1 },
		   .act = A_TX, .reply = 1, .n_ev = 1,
		   .ev = { EV(DROP, REJECT, POLICY, 4) } } } },
	{ "reject: no answer to a RST",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 25, RST) },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, REJECT, POLICY, 4) } } } },
	{ "reject udp: ICMP unreachable code 13, unlogged rule",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(5555, 9999), .payload = 20 },
		   .act = A_TX, .reply = 1, .hit = 6 } } },
	{ "reject udp over IPv6: ICMPv6 1/1",
	  .s = { { .pkt = { V6(WEB6, DB6), UDP(5555, 9999), .payload = 20 },
		   .act = A_TX, .reply = 1 } } },
	{ "reject keeps the VLAN tag",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(5555, 9999), .vlan = 100 },
		   .act = A_TX, .reply = 1 } } },
	{ "reject tcp with a VLAN tag and IPv4 options",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 25, SYN), .vlan = 100,
			    .ip_opts = 8 },
		   .act = A_TX, .reply = 1, .n_ev = 1,
		   .ev = { EV(DROP, REJECT, POLICY, 4) } } } },
	{ "reject IPv6 with extension headers: RST without them",
	  .s = { { .pkt = { V6(WEB6, DB6), TCP(40000, 25, SYN),
			    .ext = { TPKT_HBH, TPKT_DST }, .n_ext = 2 },
		   .act = A_TX, .reply = 1, .n_ev = 1,
		   .ev = { EV(DROP, REJECT, POLICY, 4) } } } },
	{ "reject big udp: IPv4 quote cut at 548 bytes",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(5555, 9999), .payload = 1000 },
		   .act = A_TX, .reply = 1 } } },
	{ "reject big udp: IPv6 quote cut at 1232 bytes",
	  .s = { { .pkt = { V6(WEB6, DB6), UDP(5555, 9999), .payload = 1300 },
		   .act = A_TX, .reply = 1 } } },
	{ "reject odd-sized quote (checksum padding)",
	  .s = { { .pkt = { V6(WEB6, DB6), UDP(5555, 9999), .payload = 3 },
		   .act = A_TX, .reply = 1 } } },
	{ "reject: no answer to a broadcast MAC",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(5555, 9999), .bcast_mac = 1 },
		   .act = A_DROP } } },
	{ "default reject: RST, event with reason default",
	  .tenant = T_REJ,
	  .s = { { .pkt = { V4(WEB4, EXT4), TCP(40000, 80, SYN), .vlan = 400 },
		   .act = A_TX, .reply = 1, .n_ev = 1,
		   .ev = { EVT(DROP, REJECT, DEFAULT, NONE, T_REJ) },
		   .drop = DROPPED(DEFAULT) } } },
	{ "default reject: ICMP unreachable for an echo request",
	  .s = { { .pkt = { V4(WEB4, EXT4), ICMP(8), .id = 5, .vlan = 400 },
		   .act = A_TX, .reply = 1, .n_ev = 1,
		   .ev = { EV(DROP, REJECT, DEFAULT, NONE) } } } },
	{ "default reject: no answer to an ICMP error",
	  .s = { { .pkt = { V4(WEB4, EXT4), ICMP(3), .vlan = 400 },
		   .act = A_DROP, .n_ev = 1,
		   .ev = { EV(DROP, REJECT, DEFAULT, NONE) } } } },
	{ "default reject: no answer to an ICMPv6 error",
	  .s = { { .pkt = { V6(WEB6, EXT6), ICMP6(1), .vlan = 400 },
		   .act = A_DROP, .n_ev = 1,
		   .ev = { EV(DROP, REJECT, DEFAULT, NONE) } } } },
	{ "default reject: no answer to a multicast destination",
	  .s = { { .pkt = { V4(WEB4, "224.0.0.5"), UDP(1, 2), .vlan = 400 },
		   .act = A_DROP, .n_ev = 1 } } },
	{ "default reject: no answer from the unspecified address",
	  .s = { { .pkt = { V4("0.0.0.0", EXT4), UDP(68, 67), .vlan = 400 },
		   .act = A_DROP, .n_ev = 1 } } },
	{ "default reject: no answer to an IPv6 multicast destination",
	  .s = { { .pkt = { V6(WEB6, "ff02::1"), UDP(1, 2), .vlan = 400 },
		   .act = A_DROP, .n_ev = 1 } } },
	{ "icmp echo allowed, reply passes",
	  .s = { { .pkt = { V4(WEB4, DB4), ICMP(8), .id = 77 }, .act = A_PASS,
		   .ct = CTS(PW_CT_NEW), .hit = 7 },
		 { .pkt = { V4(DB4, WEB4), ICMP(0), .id = 77 }, .act = A_PASS,
		   .ct = CTS(PW_CT_ESTABLISHED) } } },
	{ "icmpv6 echo allowed, reply passes",
	  .s = { { .pkt = { V6(WEB6, DB6), ICMP6(128), .id = 78 },
		   .act = A_PASS, .ct = CTS(PW_CT_NEW), .hit = 8 },
		 { .pkt = { V6(DB6, WEB6), ICMP6(129), .id = 78 },
		   .act = A_PASS, .ct = CTS(PW_CT_ESTABLISHED) } } },
	{ "echo reply of another identifier is judged: default deny",
	  .s = { { .pkt = { V4(WEB4, DB4), ICMP(8), .id = 77 }, .act = A_PASS },
		 { .pkt = { V4(DB4, WEB4), ICMP(0), .id = 78 }, .act = A_DROP,
		   .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },
	{ "icmp timestamp to db: any->db deny",
	  .s = { { .pkt = { V4(WEB4, DB4), ICMP(13) }, .act = A_DROP,
		   .hit = 13, .ct = CT_NONE_ } } },
	{ "icmp timestamp to external: logged default",
	  .s = { { .pkt = { V4(WEB4, EXT4), ICMP(13) }, .act = A_DROP,
		   .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) },
		   .drop = DROPPED(DEFAULT) } } },
	{ "icmpv6 neighbour solicitation, hop limit 64: default",
	  .s = { { .pkt = { V6(WEB6, "ff02::1:ff00:7"), ICMP6(135) },
		   .act = A_DROP, .n_ev = 1,
		   .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },

	/* ---- neighbour discovery: no rule -> settings.non_ip ---- */
	{ "NS (hop limit 255) no rule names: non_ip allow, not the default",
	  .s = { { .pkt = { V6(WEB6, "ff02::1:ff00:7"), ICMP6(135), .hop_limit = 255 },
		   .act = A_PASS, .ct = CT_NONE_ } } },
	{ "RS, RA, NA, redirect (133, 134, 136, 137) likewise",
	  .s = { { .pkt = { V6(WEB6, "ff02::2"), ICMP6(133), .hop_limit = 255 },
		   .act = A_PASS },
		 { .pkt = { V6("fe80::1", "ff02::1"), ICMP6(134), .hop_limit = 255 },
		   .act = A_PASS },
		 { .pkt = { V6(WEB6, EXT6), ICMP6(136), .hop_limit = 255 },
		   .act = A_PASS },
		 { .pkt = { V6("fe80::1", WEB6), ICMP6(137), .hop_limit = 255 },
		   .act = A_PASS } } },
	{ "ICMPv6 132 and 138 with hop limit 255 are no ND: default",
	  .s = { { .pkt = { V6(WEB6, "ff02::2"), ICMP6(132), .hop_limit = 255 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } },
		 { .pkt = { V6(WEB6, "ff02::2"), ICMP6(138), .hop_limit = 255 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },
	{ "NS a rule matches: the rule decides (any->db deny)",
	  .s = { { .pkt = { V6(WEB6, DB6), ICMP6(135), .hop_limit = 255 },
		   .act = A_DROP, .drop = DROPPED(POLICY), .hit = 13 } } },
	{ "NS with non_ip deny: dropped as non-IP, counted, no event",
	  .policy = P_STRICT,
	  .s = { { .pkt = { V6(WEB6, "ff02::1:ff00:7"), ICMP6(135), .hop_limit = 255 },
		   .act = A_DROP, .drop = DROPPED(NON_IP) } } },
	{ "NS in an audit tenant: non_ip allow, no audit event",
	  .s = { { .pkt = { V6(WEB6, "ff02::1:ff00:7"), ICMP6(135), .hop_limit = 255,
			    .vlan = 300 },
		   .act = A_PASS } } },
	{ "NS in an audit tenant with non_ip deny: dropped, not audited",
	  .policy = P_STRICT,
	  .s = { { .pkt = { V6(WEB6, "ff02::1:ff00:7"), ICMP6(135), .hop_limit = 255,
			    .vlan = 300 },
		   .act = A_DROP, .drop = DROPPED(NON_IP) } } },
	{ "NS in a default-reject tenant: non_ip allow",
	  .s = { { .pkt = { V6(WEB6, "ff02::1:ff00:7"), ICMP6(135), .hop_limit = 255,
			    .vlan = 400 },
		   .act = A_PASS } } },
	{ "NS in fragments is no ND: default",
	  .s = { { .pkt = { V6(WEB6, "ff02::1:ff00:7"), ICMP6(135), .hop_limit = 255,
			    .ext = { TPKT_FRAG }, .n_ext = 1, .mf = 1, .frag_id = 3,
			    .payload = 16 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },
	{ "NS on an unmatched VLAN: unmatched",
	  .s = { { .pkt = { V6(WEB6, "ff02::1:ff00:7"), ICMP6(135), .hop_limit = 255,
			    .vlan = 999 },
		   .act = A_DROP, .n_ev = 1,
		   .ev = { EVT(DROP, DENY, UNMATCHED, NONE, -1) } } } },
	/* ---- multicast listener discovery: no rule -> settings.non_ip ---- */
	{ "MLDv2 report from :: (hop limit 1, Router Alert): non_ip allow",
	  .s = { { .pkt = { V6("::", "ff02::16"), ICMP6(143), MLD_HDR },
		   .act = A_PASS, .ct = CT_NONE_ } } },
	{ "MLD query, v1 report, done from link-local (Linux and BSD layouts)",
	  .s = { { .pkt = { V6("fe80::1", "ff02::1"), ICMP6(130), MLD_HDR },
		   .act = A_PASS },
		 { .pkt = { V6("fe80::1", "ff02::1:ff00:7"), ICMP6(131),
			    .hop_limit = 1, .ext = { TPKT_HBH }, .n_ext = 1,
			    .hbh = TPKT_HBH_PADN_RA_MLD, .hbh_set = 1 },
		   .act = A_PASS },
		 { .pkt = { V6("fe80::1", "ff02::2"), ICMP6(132), .hop_limit = 1,
			    .ext = { TPKT_HBH }, .n_ext = 1,
			    .hbh = { 0, 0, 5, 2, 0, 0 }, .hbh_set = 1 },
		   .act = A_PASS },
		 { .pkt = { V6("febf::1", "ff02::16"), ICMP6(143), .hop_limit = 1,
			    .ext = { TPKT_HBH }, .n_ext = 1,
			    .hbh = { 0, 5, 2, 0, 0, 0 }, .hbh_set = 1 },
		   .act = A_PASS },
		 { .pkt = { V6("fe80::1", "ff02::16"), ICMP6(143), .hop_limit = 1,
			    .ext = { TPKT_HBH }, .n_ext = 1,
			    .hbh = { 0x3e, 0, 5, 2, 0, 0 }, .hbh_set = 1 },
		   .act = A_PASS } } },
	{ "MLD-like, but: hop limit 2, no Router Alert, RA value 1, RA too "
	  "late, RA of length 3, unicast source, MRD type 151: default",
	  .s = { { .pkt = { V6("fe80::1", "ff02::16"), ICMP6(143), .hop_limit = 2,
			    .ext = { TPKT_HBH }, .n_ext = 1,
			    .hbh = TPKT_HBH_RA_MLD, .hbh_set = 1 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } },
		 { .pkt = { V6("fe80::1", "ff02::16"), ICMP6(143), .hop_limit = 1 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } },
		 { .pkt = { V6("fe80::1", "ff02::16"), ICMP6(143), .hop_limit = 1,
			    .ext = { TPKT_HBH }, .n_ext = 1 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } },
		 { .pkt = { V6("fe80::1", "ff02::16"), ICMP6(143), .hop_limit = 1,
			    .ext = { TPKT_HBH }, .n_ext = 1,
			    .hbh = { 5, 2, 0, 1, 1, 0 }, .hbh_set = 1 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } },
		 { .pkt = { V6("fe80::1", "ff02::16"), ICMP6(143), .hop_limit = 1,
			    .ext = { TPKT_HBH }, .n_ext = 1,
			    .hbh = { 1, 1, 0, 5, 2, 0 }, .hbh_set = 1 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } },
		 { .pkt = { V6("fe80::1", "ff02::16"), ICMP6(143), .hop_limit = 1,
			    .ext = { TPKT_HBH }, .n_ext = 1,
			    .hbh = { 5, 3, 0, 0, 0, 0 }, .hbh_set = 1 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } },
		 { .pkt = { V6(WEB6, "ff02::16"), ICMP6(143), MLD_HDR },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } },
		 { .pkt = { V6("fe80::1", "ff02::6a"), ICMP6(151), MLD_HDR },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },
	{ "MLD behind a destination options header first: no MLD",
	  .s = { { .pkt = { V6("fe80::1", "ff02::16"), ICMP6(143), .hop_limit = 1,
			    .ext = { TPKT_DST, TPKT_HBH }, .n_ext = 2,
			    .hbh = TPKT_HBH_RA_MLD, .hbh_set = 1 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },
	{ "MLD in fragments is no MLD: default",
	  .s = { { .pkt = { V6("fe80::1", "ff02::16"), ICMP6(143), .hop_limit = 1,
			    .ext = { TPKT_HBH, TPKT_FRAG }, .n_ext = 2,
			    .hbh = TPKT_HBH_RA_MLD, .hbh_set = 1, .mf = 1,
			    .frag_id = 4, .payload = 16 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },
	{ "MLD a rule matches: the rule decides (any->db deny)",
	  .s = { { .pkt = { V6("fe80::1", DB6), ICMP6(130), MLD_HDR },
		   .act = A_DROP, .drop = DROPPED(POLICY), .hit = 13 } } },
	{ "MLD with non_ip deny: dropped as non-IP, counted, no event",
	  .policy = P_STRICT,
	  .s = { { .pkt = { V6("::", "ff02::16"), ICMP6(143), MLD_HDR },
		   .act = A_DROP, .drop = DROPPED(NON_IP) } } },
	{ "MLD in an audit tenant: non_ip allow, no audit event",
	  .s = { { .pkt = { V6("::", "ff02::16"), ICMP6(143), MLD_HDR,
			    .vlan = 300 },
		   .act = A_PASS } } },
	{ "MLD in a default-reject tenant: non_ip allow, no answer",
	  .s = { { .pkt = { V6("fe80::1", "ff02::16"), ICMP6(143), MLD_HDR,
			    .vlan = 400 },
		   .act = A_PASS } } },
	{ "udp to external: logged default deny",
	  .s = { { .pkt = { V4(WEB4, EXT4), UDP(5000, 5000) }, .act = A_DROP,
		   .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },
	{ "external to web: default deny",
	  .s = { { .pkt = { V4(EXT4, WEB4), TCP(1234, 22, SYN) }, .act = A_DROP,
		   .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },
	{ "ops to anything: allowed",
	  .s = { { .pkt = { V4(OPS4, EXT4), UDP(1234, 1234) }, .act = A_PASS,
		   .ct = CTS(PW_CT_NEW), .hit = 10 } } },
	{ "first match: ops->db tcp 23 is rule 3 (deny), not rule 9",
	  .s = { { .pkt = { V4(OPS4, DB4), TCP(1234, 23, SYN) }, .act = A_DROP,
		   .n_ev = 1, .ev = { EV(DROP, DENY, POLICY, 3) }, .hit = 4 } } },
	{ "first match: ops->db tcp 5432 is rule 9 (allow), not rule 12",
	  .s = { { .pkt = { V4(OPS4, DB4), TCP(1234, 5432, SYN) },
		   .act = A_PASS, .hit = 10 } } },
	{ "web to external 443 over IPv6: logged rule",
	  .s = { { .pkt = { V6(WEB6, EXT6), TCP(40000, 443, SYN) },
		   .act = A_PASS, .n_ev = 1, .ev = { START(2) }, .hit = 3 } } },
	{ "protocol 47 allowed, tracked by address pair",
	  .s = { { .pkt = { V4(WEB4, DB4), .proto = 47, .payload = 8 },
		   .act = A_PASS, .ct = CTS(PW_CT_NEW), .hit = 11 },
		 { .pkt = { V4(DB4, WEB4), .proto = 47, .payload = 8 },
		   .act = A_PASS, .ct = CTS(PW_CT_ESTABLISHED) } } },
	{ "protocol 50 to db: any->db deny",
	  .s = { { .pkt = { V4(WEB4, DB4), .proto = 50, .payload = 8 },
		   .act = A_DROP, .hit = 13 } } },

	/* ---- non-IP, unmatched, VLANs, tenants ---- */
	{ "ARP passes (non_ip allow)",
	  .s = { { .pkt = { .ethertype = 0x0806 }, .act = A_PASS } } },
	{ "ARP dropped (non_ip deny), counted, no event", .policy = P_STRICT,
	  .s = { { .pkt = { .ethertype = 0x0806 }, .act = A_DROP,
		   .drop = DROPPED(NON_IP) } } },
	/* More than one tag is malformed, not non-IP: with non_ip allow,
	 * double tagging would carry IP past every rule. */
	{ "two 802.1Q tags: malformed (tenant of the outer tag)",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(1, 23, SYN), .vlan = 100,
			    .double_tag = 1 },
		   MALF_STEP } } },
	{ "802.1ad outer tag, 802.1Q inside: malformed",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(1, 23, SYN), .vlan = 100,
			    .tag_proto = 0x88a8, .double_tag = 1 },
		   MALF_STEP } } },
	{ "802.1ad tag alone: malformed",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(1, 23, SYN), .vlan = 100,
			    .tag_proto = 0x88a8 },
		   MALF_STEP } } },
	{ "0x9100 outer tag: malformed",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(1, 23, SYN), .vlan = 100,
			    .tag_proto = 0x9100, .double_tag = 1 },
		   MALF_STEP } } },
	{ "802.1Q tag, then an 802.1ad tag: malformed",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(1, 23, SYN), .vlan = 100 },
		   .mut = { { 16, 0x88 }, { 17, 0xa8 } }, MALF_STEP } } },
	{ "double tag with non_ip deny: malformed, not non-IP",
	  .policy = P_STRICT,
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(1, 23, SYN), .vlan = 100,
			    .double_tag = 1 },
		   MALF_STEP } } },
	{ "one 802.1Q tag, then ARP: non-IP (passes)",
	  .s = { { .pkt = { .ethertype = 0x0806, .vlan = 100 }, .act = A_PASS } } },
	{ "one 802.1Q tag, then ARP, non_ip deny: non-IP drop", .policy = P_STRICT,
	  .s = { { .pkt = { .ethertype = 0x0806, .vlan = 100 }, .act = A_DROP,
		   .drop = DROPPED(NON_IP) } } },
	{ "unmatched VLAN: dropped, logged, tenant none",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 5432, SYN), .vlan = 999 },
		   .act = A_DROP, .n_ev = 1,
		   .ev = { EVT(DROP, DENY, UNMATCHED, NONE, -1) },
		   .drop = DROPPED(UNMATCHED), .ct = CT_NONE_ } } },
	{ "interface mapped to an absent tenant: unmatched",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 5432, SYN), .vlan = 500 },
		   .act = A_DROP, .n_ev = 1,
		   .ev = { EVT(DROP, DENY, UNMATCHED, NONE, -1) } } } },
	{ "unmatched allow", .policy = P_STRICT,
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 23, SYN), .vlan = 999 },
		   .act = A_PASS } } },
	{ "VLAN 100 belongs to acme as well",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 5432, SYN), .vlan = 100 },
		   .act = A_PASS, .n_ev = 1, .ev = { EVT(FLOW_START, ALLOW, POLICY, 0, T_ACME) } } } },
	{ "priority tag (VLAN 0) is untagged",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 5432, SYN), .tagged = 1 },
		   .act = A_PASS, .n_ev = 1, .ev = { START(0) } } } },
	{ "overlapping tenant: same packet denied in beta",
	  .tenant = T_BETA,
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 5432, SYN), .vlan = 200 },
		   .act = A_DROP, .n_ev = 1,
		   .ev = { EVT(DROP, DENY, POLICY, 20, T_BETA) }, .hit = 21,
		   .ct = CT_NONE_ } } },
	{ "beta: default allow with flow logs",
	  .tenant = T_BETA,
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 7000), .vlan = 200 },
		   .act = A_PASS, .n_ev = 1,
		   .ev = { EVT(FLOW_START, ALLOW, DEFAULT, NONE, T_BETA) },
		   .ct = CTS(PW_CT_NEW) } } },
	{ "flows of overlapping tenants are apart",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 7000), .vlan = 200 },
		   .act = A_PASS, .n_ev = 1 },
		 /* acme: the "reply" is no reply there */
		 { .pkt = { V4(DB4, WEB4), UDP(7000, 1000) }, .act = A_DROP,
		   .n_ev = 1, .ev = { EVT(DROP, DENY, DEFAULT, NONE, T_ACME) } } } },
	{ "audit: default deny passes, one audit event per flow",
	  .tenant = T_AUDIT,
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 1234, SYN), .vlan = 300 },
		   .act = A_PASS, .n_ev = 1,
		   .ev = { EVT(AUDIT, AUDIT, DEFAULT, NONE, T_AUDIT) },
		   .ct = CTS(PW_CT_TCP_SYN) },
		 { .pkt = { V4(DB4, WEB4), TCP(1234, 40000, SYN | ACK), .vlan = 300 },
		   .act = A_PASS, .ct = CTS(PW_CT_ESTABLISHED) },
		 { .pkt = { V4(WEB4, DB4), TCP(40000, 1234, ACK), .vlan = 300 },
		   .act = A_PASS } } },
	{ "audit: reject rule passes without a RST",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 22, SYN), .vlan = 300 },
		   .act = A_PASS, .n_ev = 1,
		   .ev = { EVT(AUDIT, AUDIT, POLICY, 30, T_AUDIT) } } } },
	{ "audit: untracked ICMP, an event per packet",
	  .s = { { .pkt = { V4(WEB4, DB4), ICMP(13), .vlan = 300 },
		   .act = A_PASS, .n_ev = 1, .ev = { EV(AUDIT, AUDIT, DEFAULT, NONE) } },
		 { .pkt = { V4(WEB4, DB4), ICMP(13), .vlan = 300 },
		   .act = A_PASS, .n_ev = 1, .ev = { EV(AUDIT, AUDIT, DEFAULT, NONE) } } } },
	{ "audit tenant: allowed by a rule, no event",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 53), .vlan = 300 },
		   .act = A_PASS, .hit = 32 } } },

	/* ---- malformed ---- */
	{ "802.1Q tag truncated",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 5432, SYN), .vlan = 100 },
		   .trunc = 16, MALF_STEP } } },
	/* The kernel's TC test run refuses a frame whose IP header is cut
	 * (it reads addresses from it): XDP only, the code path is one. */
	{ "IPv4 header truncated", .hooks = H_XDP,
	  .s = { { .pkt = M4, .trunc = 14 + 10, MALF_STEP } } },
	{ "IPv4 version 5", .s = { { .pkt = M4, .mut = { { 14, 0x55 } }, MALF_STEP } } },
	{ "IPv4 IHL 4", .s = { { .pkt = M4, .mut = { { 14, 0x44 } }, MALF_STEP } } },
	{ "IPv4 IHL beyond the frame",
	  .s = { { .pkt = M4, .mut = { { 14, 0x4f } }, MALF_STEP } } },
	{ "IPv4 total length beyond the frame",
	  .s = { { .pkt = M4, .mut = { { 16, 0x05 }, { 17, 0xdc } }, MALF_STEP } } },
	{ "IPv4 total length below the header",
	  .s = { { .pkt = M4, .mut = { { 16, 0 }, { 17, 19 } }, MALF_STEP } } },
	{ "TCP header truncated (total length)",
	  .s = { { .pkt = M4, .mut = { { 17, 30 } }, MALF_STEP } } },
	{ "TCP header truncated (frame)",
	  .s = { { .pkt = M4, .trunc = 14 + 20 + 12, .mut = { { 17, 32 } }, MALF_STEP } } },
	{ "TCP data offset 4",
	  .s = { { .pkt = M4, .mut = { { 14 + 20 + 12, 0x40 } }, MALF_STEP } } },
	{ "TCP data offset beyond the segment",
	  .s = { { .pkt = M4, .mut = { { 14 + 20 + 12, 0xf0 } }, MALF_STEP } } },
	{ "UDP header truncated",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1, 53), .payload = 8 },
		   .mut = { { 17, 24 } }, MALF_STEP } } },
	{ "UDP length below 8",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1, 53) },
		   .mut = { { 14 + 20 + 4, 0 }, { 14 + 20 + 5, 4 } }, MALF_STEP } } },
	{ "UDP length beyond the datagram",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1, 53) },
		   .mut = { { 14 + 20 + 4, 1 } }, MALF_STEP } } },
	{ "ICMP truncated",
	  .s = { { .pkt = { V4(WEB4, DB4), ICMP(8) }, .mut = { { 17, 24 } },
		   MALF_STEP } } },
	{ "IPv4 fragment reaching beyond 64 KiB",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1, 53), .frag = 1, .frag_off = 8191,
			    .payload = 100 },
		   MALF_STEP } } },
	{ "IPv6 header truncated", .hooks = H_XDP,
	  .s = { { .pkt = M6, .trunc = 14 + 30, MALF_STEP } } },
	{ "IPv6 version 4",
	  .s = { { .pkt = M6, .mut = { { 14, 0x40 } }, MALF_STEP } } },
	{ "IPv6 payload length beyond the frame",
	  .s = { { .pkt = M6, .mut = { { 18, 0x05 }, { 19, 0xdc } }, MALF_STEP } } },
	{ "IPv6 nine extension headers",
	  .s = { { .pkt = { V6(WEB6, DB6), TCP(40000, 5432, SYN),
			    .ext = { 60, 60, 60, 60, 60, 60, 60, 60, 60 }, .n_ext = 9 },
		   MALF_STEP } } },
	{ "IPv6 extension header longer than the payload",
	  .s = { { .pkt = { V6(WEB6, DB6), TCP(40000, 5432, SYN),
			    .ext = { TPKT_HBH }, .n_ext = 1 },
		   .mut = { { 14 + 40 + 1, 10 } }, MALF_STEP } } },
	{ "IPv6 payload ends inside an extension header",
	  .s = { { .pkt = { V6(WEB6, DB6), TCP(40000, 5432, SYN),
			    .ext = { TPKT_HBH }, .n_ext = 1 },
		   .mut = { { 18, 0 }, { 19, 4 } }, MALF_STEP } } },
	{ "IPv6 two fragment headers",
	  .s = { { .pkt = { V6(WEB6, DB6), UDP(1, 53), .ext = { TPKT_FRAG, TPKT_FRAG },
			    .n_ext = 2, .mf = 1 },
		   MALF_STEP } } },
	{ "IPv6 TCP data offset 3",
	  .s = { { .pkt = M6, .mut = { { 14 + 40 + 12, 0x30 } }, MALF_STEP } } },

	/* ---- valid header variants ---- */
	{ "IPv4 with options",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 5432, SYN), .ip_opts = 12 },
		   .act = A_PASS, .n_ev = 1, .ev = { START(0) } } } },
	{ "IPv6 hop-by-hop, routing, destination options, then TCP",
	  .s = { { .pkt = { V6(WEB6, DB6), TCP(40000, 5432, SYN),
			    .ext = { TPKT_HBH, TPKT_ROUTING, TPKT_DST }, .n_ext = 3 },
		   .act = A_PASS, .n_ev = 1, .ev = { START(0) } } } },
	{ "IPv6 eight extension headers (the limit)",
	  .s = { { .pkt = { V6(WEB6, DB6), TCP(40000, 5432, SYN),
			    .ext = { 60, 60, 60, 60, 60, 60, 60, 60 }, .n_ext = 8 },
		   .act = A_PASS, .n_ev = 1, .ev = { START(0) } } } },
	{ "IPv6 AH then TCP",
	  .s = { { .pkt = { V6(WEB6, DB6), TCP(40000, 5432, SYN),
			    .ext = { TPKT_AH }, .n_ext = 1 },
		   .act = A_PASS, .n_ev = 1, .ev = { START(0) } } } },
	{ "IPv6 mobility header as an extension, then TCP",
	  .s = { { .pkt = { V6(WEB6, DB6), TCP(40000, 23, SYN),
			    .ext = { TPKT_MH }, .n_ext = 1 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, POLICY, 3) } } } },
	{ "IPv6 atomic fragment is a whole packet",
	  .s = { { .pkt = { V6(WEB6, DB6), TCP(40000, 5432, SYN),
			    .ext = { TPKT_FRAG }, .n_ext = 1 },
		   .act = A_PASS, .n_ev = 1, .ev = { START(0) } } } },
	{ "Ethernet padding after a short datagram",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 53), .pad_to = 60 },
		   .act = A_PASS, .hit = 9 } } },

	/* ---- fragments ---- */
	{ "IPv4 first and later fragment of an allowed flow",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 53), .frag = 1, .mf = 1,
			    .frag_id = 0x1234, .payload = 32 },
		   .act = A_PASS, .ct = CTS(PW_CT_NEW) },
		 { .pkt = { V4(WEB4, DB4), UDP(1000, 53), .frag = 1, .frag_off = 5,
			    .frag_id = 0x1234, .payload = 20 },
		   .act = A_PASS, .ct = CTS(PW_CT_NEW) } } },
	{ "IPv4 later fragment without its first",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 53), .frag = 1, .frag_off = 5,
			    .frag_id = 0x1234, .payload = 20 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, FRAGMENT, NONE) },
		   .drop = DROPPED(FRAGMENT) } } },
	{ "IPv4 fragments of a denied flow: later judged with the first's ports",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 23, SYN), .frag = 1, .mf = 1,
			    .frag_id = 7, .payload = 16 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, POLICY, 3) } },
		 { .pkt = { V4(WEB4, DB4), .proto = 6, .frag = 1, .frag_off = 5,
			    .frag_id = 7, .payload = 16 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, POLICY, 3) } } } },
	{ "IPv4 rejected first fragment answered, the later one not",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 9999), .frag = 1, .mf = 1,
			    .frag_id = 8, .payload = 16 },
		   .act = A_TX, .reply = 1 },
		 { .pkt = { V4(WEB4, DB4), .proto = 17, .frag = 1, .frag_off = 3,
			    .frag_id = 8, .payload = 16 },
		   .act = A_DROP } } },
	{ "IPv6 first and later fragment",
	  .s = { { .pkt = { V6(WEB6, DB6), UDP(1000, 53), .ext = { TPKT_FRAG },
			    .n_ext = 1, .mf = 1, .frag_id = 99, .payload = 32 },
		   .act = A_PASS, .ct = CTS(PW_CT_NEW) },
		 { .pkt = { V6(WEB6, DB6), .proto = 17, .ext = { TPKT_FRAG },
			    .n_ext = 1, .frag_off = 5, .frag_id = 99, .payload = 8 },
		   .act = A_PASS } } },
	{ "IPv6 later fragment without its first",
	  .s = { { .pkt = { V6(WEB6, DB6), .proto = 17, .ext = { TPKT_FRAG },
			    .n_ext = 1, .frag_off = 5, .frag_id = 99, .payload = 8 },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, FRAGMENT, NONE) } } } },
	{ "fragment state expires after 30 s",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 53), .frag = 1, .mf = 1,
			    .frag_id = 5, .payload = 16 },
		   .act = A_PASS },
		 { .pkt = { V4(WEB4, DB4), .proto = 17, .frag = 1, .frag_off = 3,
			    .frag_id = 5, .payload = 16 },
		   .clock_s = 31, .act = A_DROP, .n_ev = 1,
		   .ev = { EV(DROP, DENY, FRAGMENT, NONE) } } } },
	{ "ICMP echo in fragments: the later one finds the flow",
	  .s = { { .pkt = { V4(WEB4, DB4), ICMP(8), .id = 3, .frag = 1, .mf = 1,
			    .frag_id = 6, .payload = 16 },
		   .act = A_PASS, .ct = CTS(PW_CT_NEW) },
		 { .pkt = { V4(WEB4, DB4), .proto = 1, .frag = 1, .frag_off = 3,
			    .frag_id = 6, .payload = 16 },
		   .act = A_PASS } } },

	/* ---- conntrack ---- */
	{ "TCP handshake and data",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1, .ev = { START(0) },
		   .ct = CTS(PW_CT_TCP_SYN) },
		 { .pkt = DB_WEB_SYNACK, .act = A_PASS, .ct = CTS(PW_CT_ESTABLISHED) },
		 { .pkt = WEB_DB_ACK, .act = A_PASS, .ct = CTS(PW_CT_ESTABLISHED) },
		 { .pkt = { V4(DB4, WEB4), TCP(5432, 40000, ACK | PSH), .payload = 100 },
		   .act = A_PASS } } },
	{ "TCP FIN both ways ends the logged flow; last ACK passes; SYN reopens",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = DB_WEB_SYNACK, .act = A_PASS },
		 { .pkt = { V4(WEB4, DB4), TCP(40000, 5432, FIN | ACK) },
		   .act = A_PASS, .ct = CTS(PW_CT_TCP_CLOSING) },
		 { .pkt = { V4(DB4, WEB4), TCP(5432, 40000, FIN | ACK) },
		   .act = A_PASS, .n_ev = 1, .ev = { EVEND(POLICY, 0, FIN) },
		   .ct = CTS(PW_CT_TCP_CLOSED) },
		 { .pkt = WEB_DB_ACK, .act = A_PASS, .ct = CTS(PW_CT_TCP_CLOSED) },
		 { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1, .ev = { START(0) },
		   .ct = CTS(PW_CT_TCP_SYN) } } },
	{ "TCP RST ends the logged flow",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = { V4(DB4, WEB4), TCP(5432, 40000, RST | ACK) },
		   .act = A_PASS, .n_ev = 1, .ev = { EVEND(POLICY, 0, RST) },
		   .ct = CTS(PW_CT_TCP_CLOSED) } } },
	{ "a reply without a flow is judged as new",
	  .s = { { .pkt = DB_WEB_SYNACK, .act = A_DROP, .n_ev = 1,
		   .ev = { EV(DROP, DENY, DEFAULT, NONE) }, .ct = CT_NONE_ } } },
	{ "TCP mid-stream pick-up of an allowed flow",
	  .s = { { .pkt = WEB_DB_ACK, .act = A_PASS, .n_ev = 1, .ev = { START(0) },
		   .ct = CTS(PW_CT_ESTABLISHED) },
		 { .pkt = { V4(DB4, WEB4), TCP(5432, 40000, ACK) }, .act = A_PASS } } },
	{ "TCP RST of an unknown allowed flow passes, untracked",
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(40000, 5432, RST) },
		   .act = A_PASS, .ct = CT_NONE_ } } },
	{ "UDP request and reply",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 53) }, .act = A_PASS,
		   .ct = CTS(PW_CT_NEW) },
		 { .pkt = { V4(DB4, WEB4), UDP(53, 1000) }, .act = A_PASS,
		   .ct = CTS(PW_CT_ESTABLISHED) } } },
	{ "SYN timeout: flow end (timeout), the late SYN-ACK is judged",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = DB_WEB_SYNACK, .clock_s = 31, .act = A_DROP, .n_ev = 2,
		   .ev = { EVEND(POLICY, 0, TIMEOUT), EV(DROP, DENY, DEFAULT, NONE) },
		   .ct = CT_NONE_ } } },
	{ "SYN within its timeout",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = DB_WEB_SYNACK, .clock_s = 29, .act = A_PASS } } },
	{ "established flow idle for an hour",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = DB_WEB_SYNACK, .act = A_PASS },
		 { .pkt = WEB_DB_ACK, .clock_s = 3600, .act = A_PASS,
		   .ct = CTS(PW_CT_ESTABLISHED) } } },
	{ "UDP timeout: unlogged flow, the late reply is judged",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 53) }, .act = A_PASS },
		 { .pkt = { V4(DB4, WEB4), UDP(53, 1000) }, .clock_s = 61,
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },
	{ "closed flow lingers, then expires without a second end",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = { V4(DB4, WEB4), TCP(5432, 40000, RST | ACK) },
		   .act = A_PASS, .n_ev = 1 },
		 { .pkt = WEB_DB_ACK, .clock_s = 31, .act = A_PASS, .n_ev = 1,
		   .ev = { START(0) }, .ct = CTS(PW_CT_ESTABLISHED) } } },

	/* ---- ICMP errors about tracked flows ---- */
	{ "ICMP fragmentation needed for a tracked flow passes",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = { V4("10.1.2.1", WEB4), .proto = 1, .type = 3, .code = 4,
			    .inner = &web_db_syn },
		   .act = A_PASS } } },
	{ "ICMP time exceeded quoting the whole segment passes",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = { V4(EXT4, WEB4), .proto = 1, .type = 11,
			    .inner = &web_db_syn, .inner_len = 20 },
		   .act = A_PASS } } },
	{ "ICMPv6 packet too big for a tracked flow passes",
	  .s = { { .pkt = { V6(WEB6, DB6), TCP(40000, 5432, SYN) }, .act = A_PASS,
		   .n_ev = 1 },
		 { .pkt = { V6("fd00:1:2::1", WEB6), .proto = 58, .type = 2,
			    .inner = &web6_db6_syn },
		   .act = A_PASS } } },
	{ "ICMP error about an echo request of a tracked ping passes",
	  .s = { { .pkt = { V4(WEB4, DB4), ICMP(8), .id = 9 }, .act = A_PASS },
		 { .pkt = { V4("10.1.2.1", WEB4), .proto = 1, .type = 3, .code = 1,
			    .inner = &web_db_ping },
		   .act = A_PASS } } },
	{ "ICMP error about an untracked flow is judged",
	  .s = { { .pkt = { V4("10.1.2.1", WEB4), .proto = 1, .type = 3, .code = 4,
			    .inner = &web_db_syn },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },
	{ "ICMP error whose quote is not from its destination is judged",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = { V4("10.1.2.1", OPS4), .proto = 1, .type = 3, .code = 4,
			    .inner = &web_db_syn },
		   .act = A_DROP, .n_ev = 1, .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },
	{ "ICMP error about a flow of the old policy is judged",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = { V4("10.1.2.1", WEB4), .proto = 1, .type = 3, .code = 4,
			    .inner = &web_db_syn },
		   .load = P_SAME, .act = A_DROP, .n_ev = 1 } } },

	/* ---- policy replacement ---- */
	{ "revoked by a new policy: dropped, forgotten, flow end",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = DB_WEB_SYNACK, .load = P_REVOKE, .act = A_DROP, .n_ev = 1,
		   .ev = { EVREVOKED(0) }, .ct = CT_NONE_,
		   .drop = DROPPED(POLICY_REVOKED), .hit = 1 },
		 { .pkt = DB_WEB_SYNACK, .act = A_DROP, .n_ev = 1,
		   .ev = { EV(DROP, DENY, DEFAULT, NONE) } } } },
	{ "revoked, from the initiator's side",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = WEB_DB_ACK, .load = P_REVOKE, .act = A_DROP, .n_ev = 1,
		   .ev = { EVREVOKED(0) }, .ct = CT_NONE_ } } },
	{ "revoked after FIN both ways: the last ACK dropped, no second end",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = DB_WEB_SYNACK, .act = A_PASS },
		 { .pkt = { V4(WEB4, DB4), TCP(40000, 5432, FIN | ACK) }, .act = A_PASS },
		 { .pkt = { V4(DB4, WEB4), TCP(5432, 40000, FIN | ACK) },
		   .act = A_PASS, .n_ev = 1, .ev = { EVEND(POLICY, 0, FIN) } },
		 { .pkt = WEB_DB_ACK, .load = P_REVOKE, .act = A_DROP, .n_ev = 0,
		   .ct = CT_NONE_, .drop = DROPPED(POLICY_REVOKED) } } },
	{ "revoked unlogged flow still reports its end",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 53) }, .act = A_PASS },
		 { .pkt = { V4(DB4, WEB4), UDP(53, 1000) }, .load = P_REVOKE,
		   .act = A_DROP, .n_ev = 1, .ev = { EVREVOKED(8) } } } },
	{ "still allowed by the new policy: passes",
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 53) }, .act = A_PASS },
		 { .pkt = { V4(DB4, WEB4), UDP(53, 1000) }, .load = P_SAME,
		   .act = A_PASS, .ct = CTS(PW_CT_ESTABLISHED), .hit = 9 },
		 { .pkt = { V4(WEB4, DB4), UDP(1000, 53) }, .act = A_PASS } } },
	{ "new flows follow the new policy",
	  .s = { { .pkt = WEB_DB_SYN, .load = P_REVOKE, .act = A_DROP, .n_ev = 1,
		   .ev = { EV(DROP, DENY, POLICY, 0) }, .ct = CT_NONE_ } } },
	{ "revalidated into audit mode: passes, one audit event",
	  .s = { { .pkt = WEB_DB_SYN, .act = A_PASS, .n_ev = 1 },
		 { .pkt = DB_WEB_SYNACK, .load = P_AUDIT, .act = A_PASS, .n_ev = 1,
		   .ev = { EV(AUDIT, AUDIT, POLICY, 0) } },
		 { .pkt = WEB_DB_ACK, .act = A_PASS } } },
	{ "other tenants' flows survive a revocation",
	  .tenant = T_BETA,
	  .s = { { .pkt = { V4(WEB4, DB4), UDP(1000, 53), .vlan = 200 },
		   .act = A_PASS, .n_ev = 1 },
		 { .pkt = { V4(DB4, WEB4), UDP(53, 1000), .vlan = 200 },
		   .load = P_REVOKE, .act = A_PASS, .ct = CTS(PW_CT_ESTABLISHED) } } },

	/* ---- log rate ---- */
	{ "log rate 2/s: burst of two, then a summary of the suppressed",
	  .policy = P_RATE,
	  .s = { { .pkt = { V4(WEB4, DB4), TCP(1, 23, SYN) }, .act = A_DROP, .n_ev = 1 },
		 { .pkt = { V4(WEB4, DB4), TCP(2, 23, SYN) }, .act = A_DROP, .n_ev = 1 },
		 { .pkt = { V4(WEB4, DB4), TCP(3, 23, SYN) }, .act = A_DROP, .n_ev = 0 },
		 { .pkt = { V4(WEB4, DB4), TCP(4, 23, SYN) }, .act = A_DROP, .n_ev = 0 },
		 { .pkt = { V4(WEB4, DB4), TCP(5, 23, SYN) }, .clock_s = 1,
		   .act = A_DROP, .n_ev = 2,
		   .ev = { { .type = PW_EVENT_SUPPRESSED, .reason = PW_REASON_POLICY,
			     .rule = 3, .count = 2 },
			   EV(DROP, DENY, POLICY, 3) } } } },
	{ "log rate: malformed drops have their own bucket",
	  .policy = P_RATE,
	  .s = { { .pkt = M4, .mut = { { 14, 0x44 } }, MALF_STEP },
		 { .pkt = M4, .mut = { { 14, 0x44 } }, MALF_STEP },
		 { .pkt = M4, .mut = { { 14, 0x44 } }, .act = A_DROP, .n_ev = 0 },
		 { .pkt = { V4(WEB4, DB4), TCP(1, 23, SYN) }, .act = A_DROP, .n_ev = 1 } } },
};

/* clang-format on */

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* Flattened (case, hook) list: every case on every program it names. */
static struct {
	unsigned int c;
	unsigned int hook;
} runs[N_CASES * 3];
static unsigned int n_runs;

static void ct_key_of(const struct tpkt *t, __u16 tenant, struct pw_ct_key *k)
{
	__u8 s[16] = {}, d[16] = {};
	__u16 sp = 0, dp_ = 0;
	int c;

	memset(k, 0, sizeof(*k));
	inet_pton(t->family == 4 ? AF_INET : AF_INET6, t->src, s);
	inet_pton(t->family == 4 ? AF_INET : AF_INET6, t->dst, d);
	if (t->proto == 6 || t->proto == 17) {
		sp = t->sport;
		dp_ = t->dport;
	} else if (t->proto == 1 || t->proto == 58) {
		sp = dp_ = t->id;
	}
	k->tenant = tenant;
	k->family = t->family;
	k->proto = t->proto;
	c = memcmp(s, d, 16);
	if (c < 0 || (c == 0 && sp <= dp_)) {
		memcpy(k->addr_a, s, 16);
		memcpy(k->addr_b, d, 16);
		k->port_a = sp;
		k->port_b = dp_;
	} else {
		memcpy(k->addr_a, d, 16);
		memcpy(k->addr_b, s, 16);
		k->port_a = dp_;
		k->port_b = sp;
	}
}

static void check_event(const struct tcase *tc, int si, int ei,
			const struct evx *x, const struct pw_event *ev,
			const uint8_t *frame, size_t len)
{
	const char *n = tc->name;

	if (!x->type)
		return; /* only the number of events is checked */
	ck_assert_msg(ev->type == x->type,
		      "%s step %d event %d: type %u, want %u", n, si, ei,
		      ev->type, x->type);
	ck_assert_msg(ev->rule_id == x->rule,
		      "%s step %d event %d: rule %u, want %u", n, si, ei,
		      ev->rule_id, x->rule);
	ck_assert_msg(ev->reason == x->reason,
		      "%s step %d event %d: reason %u, want %u", n, si, ei,
		      ev->reason, x->reason);
	ck_assert_uint_ne(ev->ts_ns, 0);
	if (x->tenant)
		ck_assert_msg(ev->tenant == (x->tenant < 0 ? 0 : x->tenant),
			      "%s step %d event %d: tenant %u", n, si, ei,
			      ev->tenant);
	switch (x->type) {
	case PW_EVENT_DROP:
	case PW_EVENT_AUDIT:
		ck_assert_msg(ev->verdict == x->verdict,
			      "%s step %d event %d: verdict %u, want %u", n, si,
			      ei, ev->verdict, x->verdict);
		ck_assert_uint_eq(ev->pkt_len, len);
		ck_assert_uint_eq(ev->snap_len,
				  len < PW_SNAPLEN ? len : PW_SNAPLEN);
		ck_assert_msg(!memcmp(ev->snap, frame, ev->snap_len),
			      "%s: snap differs from the frame", n);
		ck_assert_uint_eq(ev->generation, (__u32)loaded_policy);
		break;
	case PW_EVENT_FLOW_START:
	case PW_EVENT_FLOW_END:
		ck_assert_msg(ev->verdict == x->verdict,
			      "%s step %d event %d: verdict %u, want %u", n, si,
			      ei, ev->verdict, x->verdict);
		ck_assert_msg(ev->end_reason == x->end,
			      "%s step %d event %d: end %u, want %u", n, si, ei,
			      ev->end_reason, x->end);
		ck_assert_uint_ge(ev->packets[0], 1);
		break;
	case PW_EVENT_SUPPRESSED:
	case PW_EVENT_LOST:
		ck_assert_uint_eq(ev->count, x->count);
		break;
	}
}

/* Drops of every tenant together, for @reason's counter (default or
 * non_ip; zero for the others). */
static void tenant_drops(__u32 slot, int reason, struct pw_counter *sum)
{
	static struct pw_tenant_counter t[PW_MAX_TENANTS];
	size_t i;

	memset(sum, 0, sizeof(*sum));
	ck_assert_int_eq(fw_dp_tenant_counters(dp, slot, t, PW_MAX_TENANTS), 0);
	for (i = 0; i < PW_MAX_TENANTS; i++) {
		if (reason == PW_REASON_DEFAULT) {
			sum->packets += t[i].default_drops.packets;
			sum->bytes += t[i].default_drops.bytes;
		} else if (reason == PW_REASON_NON_IP) {
			sum->packets += t[i].non_ip_drops.packets;
			sum->bytes += t[i].non_ip_drops.bytes;
		}
	}
}

/*
 * @t0: 0, or the time (fixture_mono_ns()) at which the datapath clock
 * is held still for this case: the offset takes back the time that
 * passed since (u64 arithmetic wraps), so that a slow machine (a guest
 * under TCG beside other work) does not refill a log rate bucket between
 * steps.
 */
static void run_step(const struct tcase *tc, unsigned int hook, int si,
		     __u64 *clock, __u64 t0)
{
	const struct step *st = &tc->s[si];
	static uint8_t frame[TPKT_MAX], out[TPKT_MAX + 512], ref[TPKT_MAX];
	struct pw_event evs[4];
	struct fw_dp_run run = {};
	struct pw_counter before = {}, after = {};
	struct pw_rule_counter rb = {}, ra = {};
	struct pw_counter tb = {}, ta = {};
	struct pw_ct_key key;
	struct pw_ct_val val;
	__u32 slot;
	size_t len, rlen;
	int i, r;

	if (st->load)
		use_policy(st->load);
	if (st->clock_s)
		*clock += (__u64)st->clock_s * NSEC;
	if (st->clock_s || t0)
		ck_assert_int_eq(
			fw_dp_set_clock_offset(
				dp, *clock - (t0 ? fixture_mono_ns() - t0 : 0)),
			0);
	len = tpkt_build(&st->pkt, frame, sizeof(frame));
	ck_assert_uint_gt(len, 0);
	for (i = 0; i < 4 && st->mut[i].off; i++)
		frame[st->mut[i].off] = st->mut[i].val;
	if (st->trunc)
		len = (size_t)st->trunc;
	if (st->drop)
		ck_assert_int_eq(fw_dp_drop_counter(dp, st->drop - 1, &before),
				 0);
	ck_assert_int_eq(fw_dp_active_slot(dp, &slot), 0);
	if (st->hit)
		ck_assert_int_eq(fw_dp_rule_counter(dp, slot, st->hit - 1, &rb),
				 0);
	if (st->drop)
		tenant_drops(slot, st->drop - 1, &tb);

	run.prog = hook_prog(hook);
	run.in = frame;
	run.in_len = (__u32)len;
	run.out = out;
	run.out_cap = sizeof(out);
	run.events = evs;
	run.events_cap = 4;
	r = fw_dp_test_run(dp, &run);
	ck_assert_msg(r == 0, "%s step %d: test run: %s", tc->name, si,
		      strerror(-r));
	ck_assert_msg(run.retval == action_code(hook, st->act),
		      "%s step %d (hook %u): action %u, want %u", tc->name, si,
		      hook, run.retval, action_code(hook, st->act));
	if (hook == H_XDP)
		ck_assert_msg(run.meta_out ==
				      (st->act == A_TX ? PW_ANSWER_MARK : 0),
			      "%s step %d: XDP metadata %08x", tc->name, si,
			      run.meta_out);

	if (st->act == A_TX) {
		ck_assert(st->reply);
		rlen = ref_answer(frame, len, ref);
		ck_assert_msg(run.out_len == rlen,
			      "%s step %d: answer %u bytes, want %zu", tc->name,
			      si, run.out_len, rlen);
		for (i = 0; i < (int)rlen; i++)
			ck_assert_msg(
				out[i] == ref[i],
				"%s step %d: answer byte %d is %02x, want %02x",
				tc->name, si, i, out[i], ref[i]);
		i = rd16(out + 12) == 0x8100 ? 18 : 14;
		ck_assert_int_eq(tpkt_verify_csums(out + i, rlen - i), 0);
	} else if (st->act == A_PASS) {
		/* passed frames are untouched */
		ck_assert_uint_eq(run.out_len, len);
		ck_assert(!memcmp(out, frame, len));
	}

	ck_assert_msg(run.n_events == (__u32)st->n_ev,
		      "%s step %d: %u events, want %d", tc->name, si,
		      run.n_events, st->n_ev);
	for (i = 0; i < st->n_ev && i < 3; i++) {
		check_event(tc, si, i, &st->ev[i], &evs[i], frame, len);
		if (i)
			ck_assert_uint_eq(evs[i].seq, evs[i - 1].seq + 1);
	}

	if (st->ct) {
		ct_key_of(&st->pkt, tc->tenant ? tc->tenant : T_ACME, &key);
		r = fw_dp_ct_lookup(dp, &key, &val);
		if (st->ct == CT_NONE_) {
			ck_assert_msg(r == -ENOENT,
				      "%s step %d: unexpected flow", tc->name,
				      si);
		} else {
			ck_assert_msg(r == 0, "%s step %d: no flow", tc->name,
				      si);
			ck_assert_msg(val.state == st->ct - 1,
				      "%s step %d: flow state %u, want %d",
				      tc->name, si, val.state, st->ct - 1);
			ck_assert_uint_eq(val.generation, loaded_policy);
		}
	}
	if (st->drop) {
		ck_assert_int_eq(fw_dp_drop_counter(dp, st->drop - 1, &after),
				 0);
		ck_assert_uint_eq(after.packets, before.packets + 1);
		ck_assert_uint_eq(after.bytes, before.bytes + len);
		/* drops by a default or by non_ip also count for the
		 * tenant; no other reason does */
		tenant_drops(slot, st->drop - 1, &ta);
		ck_assert_msg(
			ta.packets ==
				tb.packets +
					(st->drop - 1 == PW_REASON_DEFAULT ||
					 st->drop - 1 == PW_REASON_NON_IP),
			"%s step %d: tenant drops %llu -> %llu", tc->name, si,
			(unsigned long long)tb.packets,
			(unsigned long long)ta.packets);
	}
	if (st->hit) {
		ck_assert_int_eq(fw_dp_rule_counter(dp, slot, st->hit - 1, &ra),
				 0);
		ck_assert_msg(ra.packets == rb.packets + 1,
			      "%s step %d: rule %d counted %llu -> %llu",
			      tc->name, si, st->hit - 1,
			      (unsigned long long)rb.packets,
			      (unsigned long long)ra.packets);
		/* the hit's time, on the datapath clock: first set once */
		ck_assert_uint_ge(ra.last_ns, *clock);
		ck_assert_uint_ge(ra.last_ns, rb.last_ns);
		if (rb.packets)
			ck_assert_uint_eq(ra.first_ns, rb.first_ns);
		else
			ck_assert_uint_eq(ra.first_ns, ra.last_ns);
	}
}

START_TEST(test_table)
{
	const struct tcase *tc = &cases[runs[_i].c];
	unsigned int hook = runs[_i].hook;
	__u64 clock = 0, t0;
	int si;

	use_policy(tc->policy ? tc->policy : P_BASE);
	reset();
	/* log rate cases count on time not passing between their steps */
	t0 = tc->policy == P_RATE ? fixture_mono_ns() : 0;
	for (si = 0; si < 8 && tc->s[si].act; si++)
		run_step(tc, hook, si, &clock, t0);
}
END_TEST

/* ---- standalone tests ------------------------------------------------------ */

static void run_frame(const struct tpkt *t, enum fw_dp_prog prog,
		      struct fw_dp_run *run, uint8_t *frame, size_t *len)
{
	*len = tpkt_build(t, frame, TPKT_MAX);
	ck_assert_uint_gt(*len, 0);
	run->prog = prog;
	run->in = frame;
	run->in_len = (__u32)*len;
	ck_assert_int_eq(fw_dp_test_run(dp, run), 0);
}

START_TEST(test_flow_counters)
{
	static uint8_t frame[TPKT_MAX];
	const struct tpkt syn = WEB_DB_SYN, synack = DB_WEB_SYNACK,
			  fin1 = { V4(WEB4, DB4), TCP(40000, 5432, FIN | ACK),
				   .payload = 10 },
			  fin2 = { V4(DB4, WEB4), TCP(5432, 40000, FIN | ACK) };
	struct pw_event ev[2];
	struct fw_dp_run run = { .events = ev, .events_cap = 2 };
	size_t l1, l2, l3, l4;

	use_policy(P_BASE);
	reset();
	run_frame(&syn, FW_DP_XDP, &run, frame, &l1);
	ck_assert_uint_eq(run.n_events, 1);
	ck_assert_uint_eq(ev[0].sport, 40000);
	ck_assert_uint_eq(ev[0].dport, 5432);
	ck_assert_uint_eq(ev[0].src_segment, S_WEB);
	ck_assert_uint_eq(ev[0].dst_segment, S_DB);
	ck_assert_uint_eq(ev[0].ifindex, LO);
	run_frame(&synack, FW_DP_TC_EGRESS, &run, frame, &l2);
	run_frame(&fin1, FW_DP_TC_INGRESS, &run, frame, &l3);
	run_frame(&fin2, FW_DP_TC_EGRESS, &run, frame, &l4);
	ck_assert_uint_eq(run.n_events, 1);
	ck_assert_uint_eq(ev[0].type, PW_EVENT_FLOW_END);
	ck_assert_uint_eq(ev[0].end_reason, PW_END_FIN);
	ck_assert_uint_eq(ev[0].dir, PW_DIR_EGRESS);
	/* initiator's view: web:40000 -> db:5432 */
	ck_assert_uint_eq(ev[0].sport, 40000);
	ck_assert_uint_eq(ev[0].dport, 5432);
	ck_assert_uint_eq(ev[0].saddr[3], 5);
	ck_assert_uint_eq(ev[0].daddr[3], 7);
	ck_assert_uint_eq(ev[0].packets[0], 2);
	ck_assert_uint_eq(ev[0].packets[1], 2);
	ck_assert_uint_eq(ev[0].bytes[0], l1 + l3);
	ck_assert_uint_eq(ev[0].bytes[1], l2 + l4);
	ck_assert_uint_eq(ev[0].rule_id, 0);
	ck_assert_uint_eq(ev[0].generation, P_BASE);
}
END_TEST

/* TC answers are marked so that the device's other TC program passes them
 * instead of judging them (the RST db -> web would be denied). */
START_TEST(test_answer_mark)
{
	static uint8_t frame[TPKT_MAX], out[TPKT_MAX];
	const struct tpkt rej = { V4(WEB4, DB4), TCP(40000, 25, SYN) },
			  back = { V4(DB4, WEB4), TCP(25, 40000, RST | ACK) };
	struct fw_dp_run run = { .out = out, .out_cap = sizeof(out) };
	size_t len;

	use_policy(P_BASE);
	reset();
	run_frame(&rej, FW_DP_TC_INGRESS, &run, frame, &len);
	ck_assert_uint_eq(run.retval, 7 /* TC_ACT_REDIRECT */);
	ck_assert_uint_eq(run.mark_out, PW_ANSWER_MARK);
	/* the answer comes through egress: passed once, mark cleared */
	run.mark = run.mark_out;
	run.in = out;
	run.in_len = run.out_len;
	run.prog = FW_DP_TC_EGRESS;
	ck_assert_int_eq(fw_dp_test_run(dp, &run), 0);
	ck_assert_uint_eq(run.retval, 0 /* TC_ACT_OK */);
	ck_assert_uint_eq(run.mark_out, 0);
	/* without the mark, that very frame is judged (default deny) */
	run.mark = 0;
	run_frame(&back, FW_DP_TC_EGRESS, &run, frame, &len);
	ck_assert_uint_eq(run.retval, 2 /* TC_ACT_SHOT */);
	/* another mark is no pass */
	run.mark = PW_ANSWER_MARK + 1;
	run_frame(&back, FW_DP_TC_EGRESS, &run, frame, &len);
	ck_assert_uint_eq(run.retval, 2);
	ck_assert_uint_eq(run.mark_out, PW_ANSWER_MARK + 1);
}
END_TEST

/* An audit event of a flow judged again shows the packet: for a reply,
 * the source segment is the flow's destination's. */
START_TEST(test_audit_event_segments)
{
	static uint8_t frame[TPKT_MAX];
	const struct tpkt syn = WEB_DB_SYN, synack = DB_WEB_SYNACK;
	struct pw_event ev[2];
	struct fw_dp_run run = { .events = ev, .events_cap = 2 };
	size_t len;

	use_policy(P_BASE);
	reset();
	run_frame(&syn, FW_DP_XDP, &run, frame, &len);
	ck_assert_uint_eq(run.n_events, 1);
	use_policy(P_AUDIT);
	run_frame(&synack, FW_DP_XDP, &run, frame, &len);
	ck_assert_uint_eq(run.retval, XDP_PASS);
	ck_assert_uint_eq(run.n_events, 1);
	ck_assert_uint_eq(ev[0].type, PW_EVENT_AUDIT);
	ck_assert_uint_eq(ev[0].saddr[3], 7); /* db */
	ck_assert_uint_eq(ev[0].src_segment, S_DB);
	ck_assert_uint_eq(ev[0].dst_segment, S_WEB);
}
END_TEST

START_TEST(test_seq_and_cpu)
{
	static uint8_t frame[TPKT_MAX];
	const struct tpkt deny = { V4(WEB4, DB4), TCP(40000, 23, SYN) };
	struct pw_event ev[2];
	struct fw_dp_run run = { .events = ev, .events_cap = 2 };
	__u64 seq = 0;
	size_t len;
	int i;

	use_policy(P_BASE);
	reset();
	for (i = 0; i < 5; i++) {
		run_frame(&deny, FW_DP_XDP, &run, frame, &len);
		ck_assert_uint_eq(run.n_events, 1);
		if (i)
			ck_assert_uint_eq(ev[0].seq, seq + 1);
		seq = ev[0].seq;
	}
}
END_TEST

/*
 * Rule and tenant counters live in one stripe per CPU (shared.h,
 * pw_rule_stats): frames run on each online CPU in turn (the test run
 * executes on the caller's CPU) add up to exactly the runs, on the rule
 * and the tenant they hit and nowhere else. A program and a reader that
 * disagreed on the layout (rule-major against CPU-major, another stride)
 * would put the second CPU's counts on another rule or lose them.
 */
#define STRIPE_CPUS 2
START_TEST(test_counter_stripes)
{
	static uint8_t frame[TPKT_MAX];
	static struct pw_rule_counter rb[64], ra[64];
	static struct pw_tenant_counter tb[PW_MAX_TENANTS], ta[PW_MAX_TENANTS];
	/* rule id 3 denies it; the tenant default drops the other */
	const struct tpkt deny = { V4(WEB4, DB4), TCP(40000, 23, SYN) },
			  dflt = { V4(WEB4, EXT4), ICMP(13) };
	struct pw_event ev[2];
	struct fw_dp_run run = { .events = ev, .events_cap = 2 };
	struct pw_rule_counter one;
	cpu_set_t old, pin;
	int cpus[STRIPE_CPUS], n_cpus = 0, c, k, runs = 0, druns = 0;
	__u32 slot;
	size_t len, dlen, i;

	use_policy(P_BASE);
	reset();
	dlen = tpkt_build(&deny, frame, TPKT_MAX);
	ck_assert_int_eq(fw_dp_active_slot(dp, &slot), 0);
	ck_assert_int_eq(sched_getaffinity(0, sizeof(old), &old), 0);
	for (c = 0; c < CPU_SETSIZE && n_cpus < STRIPE_CPUS; c++)
		if (CPU_ISSET(c, &old))
			cpus[n_cpus++] = c;
	if (n_cpus < 2)
		fprintf(stderr, "test_counter_stripes: one CPU, one stripe\n");
	ck_assert_int_eq(fw_dp_rule_counters(dp, slot, rb, 64), 0);
	ck_assert_int_eq(fw_dp_tenant_counters(dp, slot, tb, PW_MAX_TENANTS),
			 0);
	for (c = 0; c < n_cpus; c++) {
		CPU_ZERO(&pin);
		CPU_SET(cpus[c], &pin);
		ck_assert_int_eq(sched_setaffinity(0, sizeof(pin), &pin), 0);
		for (k = 0; k < 2 + 3 * c; k++, runs++)
			run_frame(&deny, k % 2 ? FW_DP_TC_INGRESS : FW_DP_XDP,
				  &run, frame, &len);
		for (k = 0; k < 1 + 2 * c; k++, druns++)
			run_frame(&dflt, FW_DP_XDP, &run, frame, &len);
	}
	ck_assert_int_eq(sched_setaffinity(0, sizeof(old), &old), 0);
	ck_assert_int_eq(fw_dp_rule_counters(dp, slot, ra, 64), 0);
	ck_assert_int_eq(fw_dp_tenant_counters(dp, slot, ta, PW_MAX_TENANTS),
			 0);
	for (i = 0; i < 64; i++)
		ck_assert_msg(
			ra[i].packets - rb[i].packets ==
				(i == 3 ? (__u64)runs : 0),
			"rule %zu: %llu packets more, %d runs", i,
			(unsigned long long)(ra[i].packets - rb[i].packets),
			runs);
	ck_assert_uint_eq(ra[3].bytes - rb[3].bytes, (__u64)runs * dlen);
	ck_assert_int_eq(fw_dp_rule_counter(dp, slot, 3, &one), 0);
	ck_assert_uint_eq(one.packets, ra[3].packets);
	ck_assert_uint_ne(one.last_ns, 0);
	for (i = 0; i < PW_MAX_TENANTS; i++)
		ck_assert_msg(ta[i].default_drops.packets -
					      tb[i].default_drops.packets ==
				      (i == T_ACME ? (__u64)druns : 0),
			      "tenant %zu: %llu default drops more, %d runs", i,
			      (unsigned long long)(ta[i].default_drops.packets -
						   tb[i].default_drops.packets),
			      druns);
}
END_TEST

START_TEST(test_events_lost)
{
	static uint8_t frame[TPKT_MAX];
	const struct tpkt deny = { V4(WEB4, DB4), TCP(40000, 23, SYN) };
	struct pw_event ev[4];
	struct fw_dp_run run = { .flags = FW_DP_RUN_KEEP_EVENTS };
	struct fw_dp_opts opts = { .ringbuf_bytes = 4096 };
	struct fw_dp *small, *saved = dp;
	__u64 lost = 0;
	size_t len;
	int i;

	/* A one-page ring buffer holds 15 events of 272 + 8 bytes. */
	ck_assert_int_eq(fw_dp_open(&small, &opts), 0);
	dp = small;
	use_policy(P_BASE);
	for (i = 0; i < 20; i++)
		run_frame(&deny, FW_DP_XDP, &run, frame, &len);
	ck_assert_int_eq(fw_dp_events_lost(dp, &lost), 0);
	ck_assert_uint_eq(lost, 20 - 4096 / (sizeof(struct pw_event) + 8));
	/* drain, then the next event is preceded by a LOST summary */
	run.flags = 0;
	run.events = ev;
	run.events_cap = 4;
	run_frame(&deny, FW_DP_XDP, &run, frame, &len);
	ck_assert_uint_eq(run.n_events, 2);
	ck_assert_uint_eq(ev[0].type, PW_EVENT_LOST);
	ck_assert_uint_eq(ev[0].count, lost);
	ck_assert_uint_eq(ev[1].type, PW_EVENT_DROP);
	/* the gap in sequence numbers is the loss */
	ck_assert_uint_eq(ev[0].seq, 20);
	ck_assert_uint_eq(ev[1].seq, 21);
	dp = saved;
	fw_dp_close(small);
}
END_TEST

/*
 * A reader (fw_dp_opts.read_only: status, stats, flows) opens the maps a
 * writer pinned and loads nothing: libbpf never reads the kernel's BTF,
 * which a load of the object does for its CO-RE relocations; it sees the
 * writer's policy; and it cannot write one.
 */
/* test_read_only's pin root and state directory, named by the runner's
 * pid and removed by the runner (ro_teardown()), also after a failure. */
static char ro_root[64], ro_run[64];

static void ro_setup(void)
{
	snprintf(ro_root, sizeof(ro_root), "/sys/fs/bpf/pw-test-dp-%d",
		 getpid());
	snprintf(ro_run, sizeof(ro_run), "/tmp/pw-test-dp-%d", getpid());
}

static void ro_teardown(void)
{
	fw_rt_remove_tree(ro_root);
	fw_rt_remove_tree(ro_run);
}

START_TEST(test_read_only)
{
	struct fw_dp_opts wo = { .pin_must_exist = false }, ro = {
		.pin_must_exist = true, .no_progs = true, .read_only = true
	};
	struct fw_dp *writer = NULL, *reader = NULL, *saved = dp;
	char maps[96];
	struct fw_dp_policy pol;
	struct pw_settings st;
	struct tpol *tp;
	size_t loglen;
	__u32 slot;

	snprintf(maps, sizeof(maps), "%s/maps", ro_root);
	ck_assert_int_eq(fw_rt_paths_set(ro_root, ro_run), 0);
	ck_assert_int_eq(fw_rt_bpffs(), 0);
	ck_assert_int_eq(fw_rt_mkdirs(maps), 0);
	fw_bpflog_init(false);

	/* without pinned maps to read there is no reader */
	ck_assert_int_eq(fw_dp_open(&reader, &ro), -EINVAL);

	wo.pin_dir = maps;
	ck_assert_int_eq(fw_dp_open(&writer, &wo), 0);
	ck_assert_ptr_nonnull(strstr(fw_bpflog_text(&loglen, NULL), "vmlinux"));
	dp = writer;
	use_policy(P_BASE);
	dp = saved;

	ro.pin_dir = maps;
	ck_assert_int_eq(fw_dp_open(&reader, &ro), 0);
	ck_assert_ptr_null(strstr(fw_bpflog_text(&loglen, NULL), "vmlinux"));
	ck_assert_int_eq(fw_dp_active_slot(reader, &slot), 0);
	ck_assert_int_eq(fw_dp_slot_settings(reader, slot, &st), 0);
	ck_assert_uint_eq(st.generation, P_BASE);

	/* a reader writes no policy, and the running one stays */
	tp = calloc(1, sizeof(*tp));
	ck_assert_ptr_nonnull(tp);
	build_policy(P_BASE, tp);
	tp_policy(tp, &pol);
	ck_assert_int_eq(fw_dp_load(reader, &pol), -EPERM);
	ck_assert_int_eq(fw_dp_flip(reader, slot), -EPERM);
	free(tp);
	ck_assert_int_eq(fw_dp_active_slot(writer, &slot), 0);
	ck_assert_int_eq(fw_dp_slot_settings(writer, slot, &st), 0);
	ck_assert_uint_eq(st.generation, P_BASE);

	/* The reader keeps the maps it found in a slot only while pw_config
	 * names them (slot_fill, slot_map_ids): it sees every refill of the
	 * writer's, of the slot it read last too. */
	dp = writer;
	use_policy(P_REVOKE);
	dp = saved;
	ck_assert_int_eq(fw_dp_slot_settings(reader, slot ^ 1, &st), 0);
	ck_assert_uint_eq(st.generation, P_REVOKE);
	ck_assert_int_eq(fw_dp_slot_settings(reader, slot, &st), 0);
	ck_assert_uint_eq(st.generation, P_BASE);
	dp = writer;
	use_policy(P_SAME);
	use_policy(P_STRICT);
	dp = saved;
	ck_assert_int_eq(fw_dp_slot_settings(reader, slot, &st), 0);
	ck_assert_uint_eq(st.generation, P_SAME);
	ck_assert_int_eq(fw_dp_slot_settings(reader, slot ^ 1, &st), 0);
	ck_assert_uint_eq(st.generation, P_STRICT);
	ck_assert_int_eq(fw_dp_active_slot(reader, &slot), 0);
	ck_assert_int_eq(fw_dp_running_generation(reader, &slot), 0);
	ck_assert_uint_eq(slot, P_STRICT);

	fw_dp_close(reader);
	fw_dp_close(writer);
}
END_TEST

START_TEST(test_slots)
{
	struct tpol *tp = calloc(1, sizeof(*tp));
	struct fw_dp_policy pol;
	__u32 active;

	ck_assert_ptr_nonnull(tp);
	use_policy(P_BASE);
	ck_assert_int_eq(fw_dp_active_slot(dp, &active), 0);
	build_policy(P_SAME, tp);
	tp_policy(tp, &pol);
	/* the active slot is never written */
	ck_assert_int_eq(fw_dp_slot_fill(dp, active, &pol), -EBUSY);
	ck_assert_int_eq(fw_dp_slot_fill(dp, active ^ 1, &pol), 0);
	ck_assert_int_eq(fw_dp_flip(dp, active ^ 1), 0);
	ck_assert_int_eq(fw_dp_active_slot(dp, &active), 0);
	use_policy(P_SAME); /* already active: no load */
	ck_assert_int_eq(fw_dp_slot_fill(dp, 2, &pol), -EINVAL);
	free(tp);
}
END_TEST

/*
 * pw_ifindex (shared.h): the array decides untagged frames and tagged
 * frames of interfaces without VLAN bindings; the hash decides VLANs and
 * interfaces beyond the array. Each binding shape gets a policy of its own
 * (unmatched frames are dropped in P_BASE), on lo and on a veth made with
 * an ifindex past PW_IFINDEX_SLOTS.
 */
static void load_ifaces(struct tpol *tp, __u32 gen)
{
	struct fw_dp_policy pol;

	tp->settings.generation = gen; /* no use_policy() id */
	tp_policy(tp, &pol);
	ck_assert_int_eq(fw_dp_load(dp, &pol), 0);
	reset();
}

static __u32 run_on(const struct tpkt *t, enum fw_dp_prog prog, __u32 ifindex)
{
	static uint8_t frame[TPKT_MAX];
	struct fw_dp_run run = { .ifindex = ifindex };
	size_t len;

	run_frame(t, prog, &run, frame, &len);
	return run.retval;
}

static void setup(void);
static void teardown(void);

/* Named by the fixture's process, before Check forks the test: the
 * fixture's teardown removes it also when the test failed half-way. */
static char big_if[16];

static void big_if_del(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "ip link del %s 2>/dev/null", big_if);
	if (system(cmd)) {
		/* not there: fine */
	}
}

static void ifindex_setup(void)
{
	setup();
	snprintf(big_if, sizeof(big_if), "pwtb%u", (unsigned)getpid());
	big_if_del();
}

static void ifindex_teardown(void)
{
	big_if_del();
	teardown();
}

/* One policy per shape: its bindings (on lo or on the big veth), then
 * frames (untagged or with a VLAN, on lo or the veth, through XDP or TC)
 * and whether each passes (ACME allows syn) or finds no tenant. */
struct ifx_frame {
	bool big, tc, pass;
	__u16 vlan;
};

static const struct ifx_case {
	const char *what;
	struct {
		bool big;
		__u16 vlan;
	} bind[2];
	unsigned int n_bind;
	struct ifx_frame frame[5];
	unsigned int n_frame;
} ifx_cases[] = {
	{ "lo with VLAN 100 only: untagged frames have no tenant",
	  { { false, 100 } },
	  1,
	  { { .vlan = 0 },
	    { .vlan = 100, .pass = true },
	    { .tc = true },
	    { .tc = true, .vlan = 100, .pass = true } },
	  4 },
	{ "lo untagged only: a tagged frame has no tenant",
	  { { false, 0 } },
	  1,
	  { { .pass = true }, { .vlan = 100 }, { .tc = true, .vlan = 100 } },
	  3 },
	{ "both, and a VLAN of lo that is not bound",
	  { { false, 0 }, { false, 100 } },
	  2,
	  { { .pass = true }, { .vlan = 100, .pass = true }, { .vlan = 7 } },
	  3 },
	{ "an interface past the array: the hash alone decides",
	  { { true, 0 }, { true, 100 } },
	  2,
	  { { .big = true, .pass = true },
	    { .big = true, .vlan = 100, .pass = true },
	    { .big = true, .vlan = 7 },
	    { .big = true, .tc = true, .pass = true },
	    { .vlan = 0 } },
	  5 },
};

START_TEST(test_ifindex_array)
{
	struct tpol *tp = calloc(1, sizeof(*tp));
	__u32 big = PW_IFINDEX_SLOTS + 1000 + (__u32)(getpid() % 20000);
	unsigned int c, k;
	char cmd[160];

	ck_assert_ptr_nonnull(tp);
	snprintf(cmd, sizeof(cmd),
		 "ip link add %s index %u type veth peer name %sp && "
		 "ip link set %s up",
		 big_if, big, big_if, big_if);
	ck_assert_msg(system(cmd) == 0, "cannot make a veth of ifindex %u",
		      big);
	for (c = 0; c < sizeof(ifx_cases) / sizeof(ifx_cases[0]); c++) {
		const struct ifx_case *ic = &ifx_cases[c];

		build_policy(P_BASE, tp);
		tp->n_ifaces = 0;
		for (k = 0; k < ic->n_bind; k++)
			tp_iface(tp, ic->bind[k].big ? big : LO,
				 ic->bind[k].vlan, T_ACME);
		load_ifaces(tp, 0x10000000 + c);
		for (k = 0; k < ic->n_frame; k++) {
			const struct ifx_frame *f = &ic->frame[k];
			struct tpkt syn = WEB_DB_SYN;
			__u32 want, got;

			syn.vlan = f->vlan;
			got = run_on(&syn, f->tc ? FW_DP_TC_INGRESS : FW_DP_XDP,
				     f->big ? big : 0);
			want = f->tc ? (f->pass ? 0 /* TC_ACT_OK */ :
						  2 /* TC_ACT_SHOT */) :
				       (f->pass ? XDP_PASS : XDP_DROP);
			ck_assert_msg(got == want,
				      "%s: frame %u got %u, not %u", ic->what,
				      k, got, want);
		}
	}
	free(tp);
}
END_TEST

/* A policy through the real front end and compiler, end to end. */
static const char yaml[] = "version: 1\n"
			   "settings:\n"
			   "  log_rate: 0\n"
			   "tenants:\n"
			   "  - name: acme\n"
			   "    interfaces: [lo]\n"
			   "    segments:\n"
			   "      web: [10.1.1.0/24]\n"
			   "      db: [10.1.2.0/24]\n"
			   "    rules:\n"
			   "      - name: web-to-db\n"
			   "        from: web\n"
			   "        to: db\n"
			   "        proto: tcp\n"
			   "        ports: [5432, \"8000-8100\"]\n"
			   "        action: allow\n"
			   "        log: true\n"
			   "      - name: no-telnet\n"
			   "        from: any\n"
			   "        to: db\n"
			   "        proto: tcp\n"
			   "        ports: [23]\n"
			   "        action: reject\n";

START_TEST(test_compiled_policy)
{
	static const struct {
		struct tpkt p;
		int act;
		__u8 ev_type;
		__u32 rule;
	} t[] = {
		{ WEB_DB_SYN, A_PASS, PW_EVENT_FLOW_START, 0 },
		{ { V4(WEB4, DB4), TCP(1, 8100, SYN) },
		  A_PASS,
		  PW_EVENT_FLOW_START,
		  0 },
		{ { V4(WEB4, DB4), TCP(1, 8101, SYN) },
		  A_DROP,
		  PW_EVENT_DROP,
		  NONE },
		{ { V4(DB4, WEB4), TCP(1, 5432, SYN) },
		  A_DROP,
		  PW_EVENT_DROP,
		  NONE },
		{ { V4(EXT4, DB4), TCP(1, 23, SYN) }, A_TX, 0, 1 },
		{ { V4(EXT4, DB4), UDP(1, 23) }, A_DROP, PW_EVENT_DROP, NONE },
	};
	static uint8_t frame[TPKT_MAX], out[TPKT_MAX + 64];
	struct policy_analysis *an = NULL;
	struct policy_compiled *c = NULL;
	struct pw_event ev[2];
	struct fw_dp_run run = { .events = ev,
				 .events_cap = 2,
				 .out = out,
				 .out_cap = sizeof(out) };
	struct policy *pol;
	size_t len, i;

	pol = fixture_load_ok(yaml);
	ck_assert_int_eq(policy_analyze(pol, &an), 0);
	ck_assert_int_eq(policy_compile(an, 1000, &c), 0);
	ck_assert_int_eq(fw_dp_load_compiled(dp, c, NULL, NULL), 0);
	loaded_policy = 1000;
	reset();
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		run_frame(&t[i].p, i % 2 ? FW_DP_TC_INGRESS : FW_DP_XDP, &run,
			  frame, &len);
		ck_assert_msg(run.retval == action_code(i % 2 ? H_TCI : H_XDP,
							t[i].act),
			      "packet %zu: action %u", i, run.retval);
		if (!(i % 2))
			ck_assert_uint_eq(run.meta_out, t[i].act == A_TX ?
								PW_ANSWER_MARK :
								0);
		ck_assert_msg(run.n_events == (t[i].ev_type ? 1U : 0U),
			      "packet %zu: %u events", i, run.n_events);
		if (!t[i].ev_type)
			continue;
		ck_assert_uint_eq(ev[0].type, t[i].ev_type);
		ck_assert_uint_eq(ev[0].rule_id, t[i].rule);
		ck_assert_uint_eq(ev[0].generation, 1000);
	}
	policy_compiled_free(c);
	policy_analysis_free(an);
	policy_free(pol);
}
END_TEST

/*
 * An interface that does not exist yet (plumwalld, FW_APPLY_ABSENT_OK):
 * a resolver answering 1 leaves its entries out of the interface map, the
 * others keep theirs, and a load of that policy works.
 */
static int absent_resolve(const char *ifname, void *ctx, uint32_t *ifindex)
{
	(void)ctx;
	if (!strcmp(ifname, "ghost0"))
		return 1;
	*ifindex = 1; /* lo */
	return 0;
}

START_TEST(test_compiled_absent_iface)
{
	static const char y[] =
		"version: 1\n"
		"tenants:\n"
		"  - name: acme\n"
		"    interfaces: [lo, ghost0]\n"
		"    segments:\n"
		"      web: [10.1.1.0/24]\n"
		"    rules:\n"
		"      - {name: r, from: web, to: web, proto: tcp, ports: [1], action: allow}\n";
	struct policy_analysis *an = NULL;
	struct policy_compiled *c = NULL;
	struct fw_dp_policy p = {};
	struct fw_dp_iface *ifs = NULL;
	const struct fw_dp_iface *e;
	struct policy *pol;

	pol = fixture_load_ok(y);
	ck_assert_int_eq(policy_analyze(pol, &an), 0);
	ck_assert_int_eq(policy_compile(an, 3, &c), 0);
	ck_assert_uint_eq(c->n_ifaces, 2);
	ck_assert_int_eq(fw_dp_policy_from_compiled(c, absent_resolve, NULL, &p,
						    &ifs),
			 0);
	ck_assert_uint_eq(p.ifaces.count, 1);
	e = p.ifaces.base;
	ck_assert_uint_eq(e->key.ifindex, 1);
	free(ifs);
	/* unknown without the skip: still refused */
	ck_assert_int_eq(fw_dp_load_compiled(dp, c, NULL, NULL), -ENODEV);
	ck_assert_int_eq(fw_dp_load_compiled(dp, c, absent_resolve, NULL), 0);
	loaded_policy = 3;
	policy_compiled_free(c);
	policy_analysis_free(an);
	policy_free(pol);
}
END_TEST

/*
 * The judgement cache (shared.h, pw_jcache) keys on the fill of the slot,
 * not on the generation: two policies of the same generation that judge
 * one tuple differently, loaded in turn, each get their own verdict
 * (segments with RST, which create no flow, so every one is judged).
 */
static const char jc_yaml[] = "version: 1\n"
			      "settings:\n"
			      "  log_rate: 0\n"
			      "tenants:\n"
			      "  - name: acme\n"
			      "    interfaces: [lo]\n"
			      "    segments:\n"
			      "      web: [10.1.1.0/24]\n"
			      "      db: [10.1.2.0/24]\n"
			      "    rules:\n"
			      "      - name: web-to-db\n"
			      "        from: web\n"
			      "        to: db\n"
			      "        proto: tcp\n"
			      "        ports: [5432]\n"
			      "        action: %s\n";

static void jc_load(const char *action)
{
	struct policy_analysis *an = NULL;
	struct policy_compiled *c = NULL;
	struct policy *pol;
	char buf[sizeof(jc_yaml) + 16];

	snprintf(buf, sizeof(buf), jc_yaml, action);
	pol = fixture_load_ok(buf);
	ck_assert_int_eq(policy_analyze(pol, &an), 0);
	ck_assert_int_eq(policy_compile(an, 7, &c), 0);
	ck_assert_int_eq(fw_dp_load_compiled(dp, c, NULL, NULL), 0);
	loaded_policy = 7;
	policy_compiled_free(c);
	policy_analysis_free(an);
	policy_free(pol);
}

START_TEST(test_judge_cache)
{
	static const struct tpkt p = { V4(WEB4, DB4), TCP(1, 5432, RST) };
	static const char *const actions[] = { "allow", "deny", "allow",
					       "deny" };
	static uint8_t frame[TPKT_MAX], out[TPKT_MAX + 64];
	struct fw_dp_run run = { .out = out, .out_cap = sizeof(out) };
	struct pw_settings s0, s1;
	size_t len, i, k;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		jc_load(actions[i]);
		reset();
		for (k = 0; k < 3; k++) {
			run_frame(&p, k % 2 ? FW_DP_TC_INGRESS : FW_DP_XDP,
				  &run, frame, &len);
			ck_assert_msg(run.retval ==
					      action_code(k % 2 ? H_TCI : H_XDP,
							  i % 2 ? A_DROP :
								  A_PASS),
				      "load %zu, run %zu: action %u", i, k,
				      run.retval);
		}
	}
	/* both slots filled, under ids of their own */
	ck_assert_int_eq(fw_dp_slot_settings(dp, 0, &s0), 0);
	ck_assert_int_eq(fw_dp_slot_settings(dp, 1, &s1), 0);
	ck_assert_uint_eq(s0.generation, s1.generation);
	ck_assert_uint_ne(s0.fill_id, 0);
	ck_assert_uint_ne(s1.fill_id, 0);
	ck_assert_uint_ne(s0.fill_id, s1.fill_id);
}
END_TEST

/*
 * The external wildcard (PW_TENANT_EXT), every one of its ten key shapes
 * deciding some packet, in XDP and tc: the datapath's rule is the
 * executor's (policy_compiled_decide(), held to the model by
 * test_compile), and the executor saw each shape hit. Every rule denies
 * and logs, so the drop event names the rule; the default allows quietly.
 */
static const char ext_yaml[] =
	"version: 1\n"
	"settings:\n"
	"  log_rate: 0\n"
	"tenants:\n"
	"  - name: acme\n"
	"    interfaces: [lo]\n"
	"    default: allow\n"
	"    segments:\n"
	"      web: [10.1.1.0/24]\n"
	"      db: [10.1.2.0/24]\n"
	"    rules:\n"
	"      - {name: e-web, from: external, to: web, proto: tcp, ports: [1], action: deny, log: true}\n"
	"      - {name: e-e, from: external, to: external, proto: tcp, ports: [3], action: deny, log: true}\n"
	"      - {name: web-e, from: web, to: external, proto: tcp, ports: [4], action: deny, log: true}\n"
	"      - {name: any-e, from: any, to: external, proto: tcp, ports: [6], action: deny, log: true}\n"
	"      - {name: e-any, from: external, to: any, proto: tcp, ports: [8], action: deny, log: true}\n"
	"      - {name: e-db-all, from: external, to: db, action: deny, log: true}\n"
	"      - {name: db-e-all, from: db, to: external, action: deny, log: true}\n"
	"      - {name: lit, from: web, to: 198.51.100.1, proto: tcp, ports: [9], action: deny, log: true}\n"
	"      - {name: e-e-all, from: external, to: external, action: deny, log: true}\n"
	"      - {name: e-any-all, from: external, to: any, action: deny, log: true}\n"
	"      - {name: any-e-all, from: any, to: external, action: deny, log: true}\n";

START_TEST(test_ext_wildcard)
{
	/* web, db, the IPv4 default class, a literal (external, tagged) */
	static const char *const addrs[] = { WEB4, DB4, EXT4, "198.51.100.1",
					     "198.51.100.2" };
	static const uint16_t ports[] = { 1, 3, 4, 6, 8, 9, 20 };
	static uint8_t frame[TPKT_MAX];
	struct policy_compile_opts o = { .ext_min_classes = 2 };
	struct policy_compiled_verdict cv;
	struct policy_analysis *an = NULL;
	struct policy_compiled *c = NULL;
	struct pw_event ev[2];
	struct fw_dp_run run = { .events = ev, .events_cap = 2 };
	struct policy_packet pp;
	struct policy *pol;
	unsigned int s, d, k, proto, n = 0, by_rule = 0;
	uint16_t ext_hits = 0;
	size_t len;

	pol = fixture_load_ok(ext_yaml);
	ck_assert_int_eq(policy_analyze(pol, &an), 0);
	ck_assert_int_eq(policy_compile_opts(an, 1001, &o, &c), 0);
	ck_assert(c->tenant_info[0].ext);
	ck_assert(c->tenants[0].val.flags & PW_TENANT_EXT);
	ck_assert_uint_eq(c->tenants[0].val.ext_tuples,
			  (1U << PW_EXT_TUPLES) - 1);
	ck_assert_int_eq(fw_dp_load_compiled(dp, c, NULL, NULL), 0);
	loaded_policy = 1001;
	reset();
	for (s = 0; s < 5; s++)
		for (d = 0; d < 5; d++)
			for (k = 0; k < 7; k++)
				for (proto = 6; proto <= 17; proto += 11) {
					struct tpkt t = {
						V4(addrs[s], addrs[d]),
						.proto = (uint8_t)proto,
						.sport = 40000,
						.dport = ports[k],
						.flags = SYN,
					};

					run_frame(&t,
						  n++ % 2 ? FW_DP_TC_INGRESS :
							    FW_DP_XDP,
						  &run, frame, &len);
					ck_assert_int_eq(
						policy_packet_parse(frame, len,
								    "lo", &pp),
						0);
					policy_compiled_decide(c, &pp, &cv);
					ext_hits |= cv.ext_hits;
					by_rule += cv.rule_id != NONE;
					ck_assert_msg(
						run.n_events ==
							(cv.rule_id != NONE),
						"%s -> %s proto %u port %u: %u events, rule %u",
						addrs[s], addrs[d], proto,
						ports[k], run.n_events,
						cv.rule_id);
					if (cv.rule_id != NONE)
						ck_assert_msg(
							ev[0].rule_id ==
								cv.rule_id,
							"%s -> %s proto %u port %u: rule %u, executor %u",
							addrs[s], addrs[d],
							proto, ports[k],
							ev[0].rule_id,
							cv.rule_id);
					reset();
				}
	ck_assert_uint_eq(ext_hits, (1U << PW_EXT_TUPLES) - 1);
	ck_assert_uint_gt(by_rule, n / 2);
	policy_compiled_free(c);
	policy_analysis_free(an);
	policy_free(pol);
}
END_TEST

START_TEST(test_map_memory)
{
	__u64 bytes = 0;

	use_policy(P_BASE);
	ck_assert_int_eq(fw_dp_map_memory(dp, &bytes), 0);
	ck_assert_uint_gt(bytes, 0);
}
END_TEST

/* plumwalld's sweep: expired flows end with a flow end event (timeout),
 * live ones stay; a shutdown sweep ends everything. */
struct sweep_events {
	struct pw_event ev[4];
	size_t n;
};

static int sweep_collect(const struct pw_event *ev, void *ctx)
{
	struct sweep_events *se = ctx;

	if (se->n < 4)
		se->ev[se->n] = *ev;
	se->n++;
	return 0;
}

struct ct_walk {
	__u32 n;
	__u64 port_sum;
	__u32 gens; /* bit per generation seen */
};

static int ct_walk_one(const struct pw_ct_key *k, const struct pw_ct_val *v,
		       void *ctx)
{
	struct ct_walk *w = ctx;

	w->n++;
	w->port_sum += k->port_a;
	w->gens |= 1U << (v->generation & 31);
	return 0;
}

/* fw_dp_ct_foreach() walks the table in batches: more entries than one
 * batch holds, each seen once, values included. */
START_TEST(test_ct_foreach_batches)
{
	int fd = fw_dp_map_fd(dp, "pw_ct");
	struct pw_ct_key k = { .tenant = T_ACME,
			       .family = PW_FAMILY_IPV4,
			       .proto = 6,
			       .port_b = 80 };
	struct pw_ct_val v = {};
	struct ct_walk w = {};
	__u64 want = 0;
	__u32 i, n = 5000;

	reset();
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < n; i++) {
		k.port_a = (__u16)(1000 + i);
		v.generation = i % 7;
		want += k.port_a;
		ck_assert_int_eq(bpf_map_update_elem(fd, &k, &v, BPF_ANY), 0);
	}
	ck_assert_int_eq(fw_dp_ct_foreach(dp, ct_walk_one, &w), 0);
	ck_assert_uint_eq(w.n, n);
	ck_assert_uint_eq(w.port_sum, want);
	ck_assert_uint_eq(w.gens, 0x7f);
	reset();
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(fw_dp_ct_foreach(dp, ct_walk_one, &w), 0);
	ck_assert_uint_eq(w.n, 0);
}
END_TEST

/*
 * Conntrack stamps (shared.h, pw_cts): a reply finds its flow through the
 * filter; a window moved without the walk hides the flow (so the filter
 * is really consulted); fw_dp_sweep_restamp() stamps every kept flow into
 * the new window, so it is found again.
 */
static void cts_set(__u8 cur, __u8 floor)
{
	struct pw_cts_state st = { .cur = cur, .floor = floor };
	int fd = fw_dp_map_fd(dp, "pw_cts_state");
	__u32 zero = 0;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bpf_map_update_elem(fd, &zero, &st, BPF_ANY), 0);
}

START_TEST(test_ct_stamps)
{
	const struct tpkt syn = WEB_DB_SYN, synack = DB_WEB_SYNACK;
	struct pw_cts_state st, st2;
	struct pw_sweep_args a;

	use_policy(P_BASE);
	reset();
	/* no flow: the answer is dropped (ACME denies db -> web) */
	ck_assert_uint_eq(run_on(&synack, FW_DP_XDP, 0), XDP_DROP);
	ck_assert_uint_eq(run_on(&syn, FW_DP_XDP, 0), XDP_PASS);
	ck_assert_uint_eq(run_on(&synack, FW_DP_XDP, 0), XDP_PASS);

	/* the window moved by two without a walk: the flow's stamp is out */
	ck_assert_int_eq(fw_dp_cts_state(dp, &st), 0);
	ck_assert_uint_eq(st.cur, st.floor);
	cts_set((__u8)(st.cur + 2), (__u8)(st.cur + 2));
	ck_assert_uint_eq(run_on(&synack, FW_DP_XDP, 0), XDP_DROP);
	ck_assert_uint_eq(run_on(&synack, FW_DP_TC_INGRESS, 0),
			  2 /* TC_ACT_SHOT */);

	/* a real move: the walk stamps the kept flow */
	ck_assert_int_eq(fw_dp_sweep_restamp(dp, &a), 0);
	ck_assert_uint_eq(a.scanned, 1);
	ck_assert_uint_eq(a.removed, 0);
	ck_assert_int_eq(fw_dp_cts_state(dp, &st2), 0);
	ck_assert_uint_eq(st2.cur, (__u8)(st.cur + 3));
	ck_assert_uint_eq(st2.floor, st2.cur);
	ck_assert_uint_eq(run_on(&synack, FW_DP_XDP, 0), XDP_PASS);
	ck_assert_uint_eq(run_on(&synack, FW_DP_TC_INGRESS, 0),
			  0 /* TC_ACT_OK */);

	/* a flow made after the move is stamped by its insert */
	ck_assert_int_eq(fw_dp_ct_flush(dp), 0);
	ck_assert_uint_eq(run_on(&synack, FW_DP_XDP, 0), XDP_DROP);
	ck_assert_uint_eq(run_on(&syn, FW_DP_XDP, 0), XDP_PASS);
	ck_assert_uint_eq(run_on(&synack, FW_DP_XDP, 0), XDP_PASS);

	/* epochs wrap: 255 -> 0 keeps the flow */
	cts_set(255, 255);
	ck_assert_int_eq(fw_dp_ct_flush(dp), 0);
	ck_assert_uint_eq(run_on(&syn, FW_DP_XDP, 0), XDP_PASS);
	ck_assert_int_eq(fw_dp_sweep_restamp(dp, &a), 0);
	ck_assert_int_eq(fw_dp_cts_state(dp, &st2), 0);
	ck_assert_uint_eq(st2.cur, 0);
	ck_assert_uint_eq(run_on(&synack, FW_DP_XDP, 0), XDP_PASS);
	reset();
}
END_TEST

START_TEST(test_sweep)
{
	static uint8_t frame[TPKT_MAX];
	const struct tpkt syn = WEB_DB_SYN, synack = DB_WEB_SYNACK;
	struct fw_dp_run run = {};
	struct pw_sweep_args a;
	struct sweep_events se = {};
	__u32 count;
	size_t l1, l2;

	use_policy(P_BASE);
	reset();
	run_frame(&syn, FW_DP_XDP, &run, frame, &l1);
	run_frame(&synack, FW_DP_TC_EGRESS, &run, frame, &l2);
	ck_assert_int_eq(fw_dp_events_drain(dp, sweep_collect, &se), 0);
	se.n = 0;

	/* fresh: looked at, kept */
	ck_assert_int_eq(fw_dp_sweep(dp, 0, &a), 0);
	ck_assert_uint_eq(a.scanned, 1);
	ck_assert_uint_eq(a.ended, 0);
	ck_assert_uint_eq(a.removed, 0);
	ck_assert_int_eq(fw_dp_ct_count(dp, &count), 0);
	ck_assert_uint_eq(count, 1);

	/* ten days later: ended, with its counters */
	ck_assert_int_eq(fw_dp_set_clock_offset(dp, 864000ULL * 1000000000ULL),
			 0);
	ck_assert_int_eq(fw_dp_sweep(dp, 0, &a), 0);
	ck_assert_uint_eq(a.ended, 1);
	ck_assert_uint_eq(a.removed, 1);
	ck_assert_int_eq(fw_dp_ct_count(dp, &count), 0);
	ck_assert_uint_eq(count, 0);
	ck_assert_int_eq(fw_dp_events_drain(dp, sweep_collect, &se), 0);
	ck_assert_uint_eq(se.n, 1);
	ck_assert_uint_eq(se.ev[0].type, PW_EVENT_FLOW_END);
	ck_assert_uint_eq(se.ev[0].end_reason, PW_END_TIMEOUT);
	ck_assert_uint_eq(se.ev[0].sport, 40000);
	ck_assert_uint_eq(se.ev[0].dport, 5432);
	ck_assert_uint_eq(se.ev[0].packets[0], 1);
	ck_assert_uint_eq(se.ev[0].packets[1], 1);
	ck_assert_uint_eq(se.ev[0].bytes[0], l1);
	ck_assert_uint_eq(se.ev[0].bytes[1], l2);

	/* shutdown ends live flows too */
	se.n = 0;
	run_frame(&syn, FW_DP_XDP, &run, frame, &l1);
	ck_assert_int_eq(fw_dp_events_drain(dp, sweep_collect, &se), 0);
	se.n = 0;
	ck_assert_int_eq(fw_dp_sweep(dp, PW_SWEEP_SHUTDOWN, &a), 0);
	ck_assert_uint_eq(a.ended, 1);
	ck_assert_uint_eq(a.removed, 1);
	ck_assert_int_eq(fw_dp_events_drain(dp, sweep_collect, &se), 0);
	ck_assert_uint_eq(se.n, 1);
	ck_assert_uint_eq(se.ev[0].end_reason, PW_END_SHUTDOWN);
	reset();
}
END_TEST

static void setup(void)
{
	int r = fw_dp_open(&dp, NULL);

	ck_assert_msg(r == 0, "fw_dp_open: %s", strerror(-r));
}

static void teardown(void)
{
	fw_dp_close(dp);
	dp = NULL;
}

static Suite *datapath_suite(void)
{
	Suite *s = suite_create("datapath");
	TCase *tc;
	unsigned int i, h;

	for (i = 0; i < N_CASES; i++)
		for (h = H_XDP; h <= H_TCE; h <<= 1)
			if (!cases[i].hooks || (cases[i].hooks & h)) {
				runs[n_runs].c = i;
				runs[n_runs].hook = h;
				n_runs++;
			}

	tc = tcase_create("table");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_table, 0, (int)n_runs);
	suite_add_tcase(s, tc);

	tc = tcase_create("more");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_flow_counters);
	tcase_add_test(tc, test_answer_mark);
	tcase_add_test(tc, test_audit_event_segments);
	tcase_add_test(tc, test_seq_and_cpu);
	tcase_add_test(tc, test_counter_stripes);
	tcase_add_test(tc, test_events_lost);
	tcase_add_test(tc, test_slots);
	tcase_add_test(tc, test_compiled_policy);
	tcase_add_test(tc, test_compiled_absent_iface);
	tcase_add_test(tc, test_ext_wildcard);
	tcase_add_test(tc, test_judge_cache);
	tcase_add_test(tc, test_map_memory);
	tcase_add_test(tc, test_sweep);
	tcase_add_test(tc, test_ct_stamps);
	tcase_add_test(tc, test_ct_foreach_batches);
	suite_add_tcase(s, tc);

	tc = tcase_create("ifindex");
	tcase_add_unchecked_fixture(tc, ifindex_setup, ifindex_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ifindex_array);
	suite_add_tcase(s, tc);

	tc = tcase_create("reader");
	tcase_add_unchecked_fixture(tc, ro_setup, ro_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_read_only);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (geteuid() != 0) {
		printf("test_datapath: needs root (BPF_PROG_TEST_RUN), skipped\n");
		return 77;
	}
	printf("datapath table: %zu cases\n", N_CASES);
	return fixture_run_suite(datapath_suite());
}
