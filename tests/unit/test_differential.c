// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test: the BPF datapath against the connection-tracking
 * model (policy/eval.h), frame by frame. Needs root (exit 77 otherwise).
 *
 * For each seeded random policy (tests/unit/gen.h): compile it, load it
 * into the real datapath (fw_dp_*), then run a random sequence of frames
 * through the XDP program (BPF_PROG_TEST_RUN) and through
 * policy_ct_model_packet() on the same bytes (policy_packet_parse()).
 * The sequence is biased to what matters: addresses at the edges of the
 * policy's prefixes, ports at the edges of its ranges, its ICMP types,
 * VLANs, both directions of earlier flows with every TCP flag pattern
 * (replies, established, FIN, RST, reopening), ICMP errors quoting earlier
 * flows, neighbour discovery, stacked VLAN tags, fragments, IPv4 options
 * and IPv6 extension headers, and frames with random bytes changed or cut
 * short. Mid-sequence the policy is replaced (the idle slot filled and
 * flipped; policy_ct_model_set_policy() in the model) by the same policy,
 * by one with other actions, or by another one, so revalidation and
 * revocation are compared too.
 *
 * For every frame, what the datapath shows must be what the model says:
 *   - the program's action (pass / drop / answer) against the verdict;
 *   - the drop counter of the reason (every drop counts one);
 *   - the rule counters (the rule that judged it, if one did);
 *   - the events: drops, audits, flow starts and ends, with verdict,
 *     reason, rule, tenant, segments, generation, counters;
 *   - the conntrack entry of the packet's flow (and, for an ICMP error,
 *     of the flow it quotes): present or not, state, flags, generation,
 *     rule, segments, per-direction packets and bytes, times;
 * and every 250 frames and at the end the whole conntrack table.
 *
 * Clock: the model's clock (d->now) is the truth; before each frame
 * pw_config.clock_offset_ns is set so that the datapath's clock reads the
 * same. The packet path reads the coarse clock (bpf_ktime_get_coarse_ns(),
 * CLOCK_MONOTONIC_COARSE here), so the offset is taken against that
 * clock, read just before, and the clock is read again after the run:
 * the program saw a time between the two. (The offset used to be taken
 * against the fine clock, which the coarse one trails by up to a tick;
 * under emulation (tests/vm) on a busy host the guest's tick can be late
 * by tens of milliseconds. In one CI run the datapath kept a flow the
 * model had timed out 22 ms before; setting the datapath's clock 30 ms
 * back reproduces that frame's report exactly.) A timeout that would
 * fall within GUARD_NS of the frame's time is stepped over; a run during
 * which the clock still moved as far as the nearest deadline makes the
 * frame's outcome a race, not a disagreement, and the sequence starts
 * again (at most SLIP_ATTEMPTS times).
 *
 * Everything runs in a private network namespace holding the interfaces
 * the generated policies name (veth pairs eth0/eth1 and eth2/eth3), so
 * the frames can come in on each of them.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <linux/types.h>

#include <plumwall/diag.h>
#include <plumwall/shared.h>

#include "fw/datapath.h"
#include "policy/analyze.h"
#include "policy/compile.h"
#include "policy/eval.h"
#include "policy/policy.h"
#include "dp_pkt.h"
#include "fixtures.h"
#include "gen.h"

#define N_POLICIES 24 /* PLUMWALL_DIFF_POLICIES overrides (tests/vm: fewer) */
#define N_FRAMES 2000
#define N_RELOADS 6 /* policy replacements per sequence */
#define NSEC 1000000000ULL
#define MSEC 1000000ULL
#define GUARD_NS (20 * MSEC)
#define SLIP_ATTEMPTS 3
#define TIME_SLACK_NS (500 * MSEC) /* ct timestamps: model vs datapath */
#define FULL_CHECK_EVERY 250
#define MAX_TMPL 512
#define MAX_FRAGS 256
#define MAX_ENDS 16
#define MAX_EVENTS 16
#define MAX_RULES 4096

static struct fw_dp *dp;
static uint32_t ifindexes[GEN_N_IFNAMES];
/* PLUMWALL_DIFF_SEED=N runs other sequences (hunting for disagreements) */
static uint64_t seed_base = 0xd1ff0000ULL;

/* ---- state of one sequence ---------------------------------------------- */

/* A packet seen earlier, to send again either way. */
struct tmpl {
	char ifname[IFNAMSIZ];
	uint16_t vlan;
	int tagged;
	uint8_t family, proto;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport, id;
	uint8_t type; /* ICMP */
};

/* A first fragment sent: its later fragments may follow. */
struct frag {
	struct tmpl t;
	uint32_t id;
	uint64_t sent_ns;
};

struct ended {
	struct policy_ct_flow flow;
	enum pw_end_reason why;
};

struct stats {
	unsigned long frames, reloads, verdict[PW_VERDICT_COUNT];
	unsigned long reason[PW_REASON_COUNT];
	unsigned long flows_new, revalidated, related, events, answered;
};

struct diff {
	char *yaml;
	struct policy *pol;
	struct policy_analysis *an;
	struct policy_compiled *c;
	uint64_t seed; /* gen_seed() the policy was generated from */
	uint32_t generation;
	__u32 slot;
	struct policy_ct_model *m;
	uint64_t now;
	uint64_t margin_ns; /* from now to the nearest deadline */
	uint64_t slip_ns; /* the clock's step during a frame's run, if it
			   * reached margin_ns; else 0 */
	uint64_t max_step_ns; /* the largest step during a run */

	struct tmpl tmpl[MAX_TMPL];
	unsigned int n_tmpl;
	struct tmpl live[MAX_TMPL]; /* packets that started a flow (ring) */
	unsigned int n_live; /* ever added */
	struct frag frags[MAX_FRAGS];
	unsigned int n_frags;
	struct ended ends[MAX_ENDS];
	unsigned int n_ends;

	struct pw_counter drops[PW_REASON_COUNT];
	struct pw_rule_counter *rules; /* MAX_RULES */

	struct stats st;
};

/* Compiler options of the sequence (NULL: the defaults); the external
 * wildcard sequences set ext_min_classes so that random policies use it. */
static const struct policy_compile_opts *compile_opts;
static unsigned long ext_tenants; /* tenants loaded with the wildcard */

static uint32_t ifindex_of(const char *ifname)
{
	unsigned int i;

	for (i = 0; i < GEN_N_IFNAMES; i++)
		if (!strcmp(ifname, gen_ifnames[i]))
			return ifindexes[i];
	ck_abort_msg("unknown interface %s", ifname);
	return 0;
}

static void on_end(const struct policy_ct_flow *f, enum pw_end_reason why,
		   void *ctx)
{
	struct diff *d = ctx;

	ck_assert_uint_lt(d->n_ends, MAX_ENDS);
	d->ends[d->n_ends].flow = *f;
	d->ends[d->n_ends].why = why;
	d->n_ends++;
}

/* Load @yaml (taken over) into the datapath and the model. */
static void diff_load(struct diff *d, char *yaml)
{
	struct policy_analysis *an = NULL;
	struct policy_compiled *c = NULL;
	struct policy *pol;
	int ret;

	pol = fixture_load_ok(yaml);
	ck_assert_int_eq(policy_analyze(pol, &an), 0);
	ck_assert_int_eq(
		policy_compile_opts(an, ++d->generation, compile_opts, &c), 0);
	ck_assert_uint_le(c->n_rules, MAX_RULES);
	for (unsigned int t = 0; t < c->n_tenant_info; t++)
		ext_tenants += c->tenant_info[t].ext;
	ret = fw_dp_load_compiled(dp, c, NULL, NULL);
	ck_assert_msg(ret == 0, "load: %s", strerror(-ret));
	if (!d->m) {
		ck_assert_int_eq(policy_ct_model_new(pol, d->generation, &d->m),
				 0);
		policy_ct_model_on_end(d->m, on_end, d);
	} else {
		ck_assert_int_eq(policy_ct_model_set_policy(d->m, pol,
							    d->generation),
				 0);
	}
	policy_compiled_free(d->c);
	policy_analysis_free(d->an);
	policy_free(d->pol);
	free(d->yaml);
	d->yaml = yaml;
	d->pol = pol;
	d->an = an;
	d->c = c;
	gen_collect(pol);
	ck_assert_int_eq(fw_dp_active_slot(dp, &d->slot), 0);
	/* a fresh slot has fresh (zero) rule counters */
	memset(d->rules, 0, MAX_RULES * sizeof(*d->rules));
}

/* ---- frames --------------------------------------------------------------- */

/* A frame description; tpkt points at the strings inside. */
struct fdesc {
	struct tmpl from; /* the packet it was made of, when has_from */
	int has_from;
	struct tpkt t, inner;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	char isrc[INET6_ADDRSTRLEN], idst[INET6_ADDRSTRLEN];
	char ifname[IFNAMSIZ];
	const char *what; /* for the failure report */
};

static void addr_str(uint8_t family, const uint8_t *a, char *buf)
{
	inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

static uint8_t pick_flags(int reverse)
{
	static const uint8_t fwd[] = { 0x10, 0x18, 0x11, 0x04, 0x02, 0x14 };
	static const uint8_t rev[] = { 0x12, 0x10, 0x18, 0x11, 0x14, 0x02 };

	if (gen_chance(8))
		return (uint8_t)gen_rnd();
	return reverse ? rev[gen_below(sizeof(rev))] :
			 fwd[gen_below(sizeof(fwd))];
}

static void fresh_tmpl(struct diff *d, struct tmpl *t)
{
	static const uint8_t protos[] = { 6, 6, 6,  6,	17, 17, 17,
					  1, 1, 58, 58, 47, 132 };

	memset(t, 0, sizeof(*t));
	gen_pick_iface(d->pol, t->ifname, &t->vlan);
	t->tagged = t->vlan || gen_chance(5);
	t->proto = gen_chance(95) ? protos[gen_below(sizeof(protos))] :
				    (uint8_t)gen_rnd();
	if (t->proto == 1)
		t->family = gen_chance(90) ? 4 : 6;
	else if (t->proto == 58)
		t->family = gen_chance(90) ? 6 : 4;
	else
		t->family = gen_chance(55) ? 4 : 6;
	/* extension header numbers would be parsed as such */
	if (t->family == 6 &&
	    (t->proto == 0 || t->proto == 43 || t->proto == 44 ||
	     t->proto == 51 || t->proto == 60 || t->proto == 135))
		t->proto = 17;
	gen_pick_addr(t->family, t->saddr);
	gen_pick_addr(t->family, t->daddr);
	t->sport = gen_chance(70) ? (uint16_t)(1024 + gen_below(64512)) :
				    gen_pick_port();
	t->dport = gen_pick_port();
	t->id = (uint16_t)gen_below(8);
	if (t->proto == 1 || t->proto == 58)
		t->type = gen_chance(50) ? (t->proto == 1 ? 8 : 128) :
					   gen_pick_icmp_type(t->proto);
}

static void keep_tmpl(struct diff *d, const struct tmpl *t)
{
	if (d->n_tmpl < MAX_TMPL)
		d->tmpl[d->n_tmpl++] = *t;
	else
		d->tmpl[gen_below(MAX_TMPL)] = *t;
}

/* @t as a frame, from its source (or, @reverse, back from its
 * destination). */
static void tmpl_frame(const struct tmpl *t, int reverse, struct fdesc *f)
{
	memset(f, 0, sizeof(*f));
	f->from = *t;
	f->has_from = !reverse;
	strcpy(f->ifname, t->ifname);
	addr_str(t->family, reverse ? t->daddr : t->saddr, f->src);
	addr_str(t->family, reverse ? t->saddr : t->daddr, f->dst);
	f->t.family = t->family;
	f->t.proto = t->proto;
	f->t.vlan = t->vlan;
	f->t.tagged = t->tagged;
	f->t.sport = reverse ? t->dport : t->sport;
	f->t.dport = reverse ? t->sport : t->dport;
	f->t.id = t->id;
	f->t.type = t->type;
	if (reverse && (t->proto == 1 || t->proto == 58)) {
		/* the answer to an echo request is a reply */
		if (t->type == 8)
			f->t.type = gen_chance(80) ? 0 : 8;
		else if (t->type == 128)
			f->t.type = gen_chance(80) ? 129 : 128;
	}
	if (t->proto == 6) {
		f->t.flags = pick_flags(reverse);
		f->t.seq = gen_rnd();
		f->t.ack = gen_rnd();
	}
	if (t->family == 6)
		f->t.hop_limit = gen_chance(10) ? 255 : 64;
	f->t.payload =
		(uint16_t)(gen_chance(70) ? gen_below(40) : gen_below(600));
	if (gen_chance(3))
		f->t.pad_to = 60;
}

static void fix_ptrs(struct fdesc *f)
{
	f->t.src = f->src;
	f->t.dst = f->dst;
	if (f->t.inner) {
		f->inner.src = f->isrc;
		f->inner.dst = f->idst;
		f->t.inner = &f->inner;
	}
}

/* Mostly a packet that started a flow: its flow's paths are the
 * interesting ones (established, reply, FIN, RST, revalidation). */
static const struct tmpl *any_tmpl(struct diff *d)
{
	unsigned int n = d->n_live < MAX_TMPL ? d->n_live : MAX_TMPL;

	if (n && gen_chance(50)) /* a recent one: likely still alive */
		return &d->live[(d->n_live - 1 - gen_below(n < 24 ? n : 24)) %
				MAX_TMPL];
	if (n && gen_chance(50))
		return &d->live[gen_below(n)];
	return d->n_tmpl ? &d->tmpl[gen_below(d->n_tmpl)] : NULL;
}

static void frame_fresh(struct diff *d, struct fdesc *f)
{
	struct tmpl t;

	fresh_tmpl(d, &t);
	keep_tmpl(d, &t);
	tmpl_frame(&t, 0, f);
	f->what = "fresh";
}

static void frame_replay(struct diff *d, struct fdesc *f)
{
	const struct tmpl *t = any_tmpl(d);

	if (!t) {
		frame_fresh(d, f);
		return;
	}
	tmpl_frame(t, gen_chance(50), f);
	f->what = "replay";
}

/* An ICMP error quoting a packet of an earlier flow. */
static void frame_icmp_error(struct diff *d, struct fdesc *f)
{
	static const uint8_t v4[] = { 3, 3, 3, 11, 12, 4, 5, 0 };
	static const uint8_t v6[] = { 1, 2, 2, 3, 4, 128, 135 };
	const struct tmpl *t = any_tmpl(d);
	struct fdesc q;
	uint8_t a[16];

	if (!t || (t->proto != 6 && t->proto != 17 && t->proto != 1 &&
		   t->proto != 58)) {
		frame_fresh(d, f);
		return;
	}
	tmpl_frame(t, gen_chance(30), &q);
	memset(f, 0, sizeof(*f));
	f->inner = q.t;
	strcpy(f->isrc, q.src);
	strcpy(f->idst, q.dst);
	f->inner.payload = 0;
	f->inner.pad_to = 0;
	f->t.inner = &f->inner;
	f->t.inner_len = gen_chance(80) ? 0 : 8 + (int)gen_below(16);
	strcpy(f->ifname,
	       gen_chance(90) ? t->ifname : gen_ifnames[gen_below(3)]);
	f->t.vlan = t->vlan;
	f->t.tagged = t->tagged;
	f->t.family = t->family;
	f->t.proto = t->family == 4 ? 1 : 58;
	f->t.type = t->family == 4 ? v4[gen_below(sizeof(v4))] :
				     v6[gen_below(sizeof(v6))];
	f->t.code = (uint8_t)gen_below(5);
	/* from the quoted packet's destination (or a router), to its
	 * source (or elsewhere) */
	if (gen_chance(60)) {
		strcpy(f->src, q.dst);
	} else {
		gen_pick_addr(t->family, a);
		addr_str(t->family, a, f->src);
	}
	if (gen_chance(90)) {
		strcpy(f->dst, q.src);
	} else {
		gen_pick_addr(t->family, a);
		addr_str(t->family, a, f->dst);
	}
	f->what = "icmp-error";
}

static void frame_ndp(struct diff *d, struct fdesc *f)
{
	static const char *const dsts[] = { "ff02::1", "ff02::2",
					    "ff02::1:ff00:7", "fe80::1" };
	uint8_t a[16];

	memset(f, 0, sizeof(*f));
	gen_pick_iface(d->pol, f->ifname, &f->t.vlan);
	f->t.tagged = f->t.vlan != 0;
	f->t.family = 6;
	f->t.proto = 58;
	f->t.type = gen_chance(85) ? (uint8_t)(133 + gen_below(5)) :
				     (uint8_t)(gen_chance(50) ? 132 : 138);
	f->t.hop_limit = gen_chance(75) ? 255 : (gen_chance(50) ? 254 : 64);
	gen_pick_addr(6, a);
	addr_str(6, a, f->src);
	if (gen_chance(50)) {
		strcpy(f->dst, dsts[gen_below(4)]);
	} else {
		gen_pick_addr(6, a);
		addr_str(6, a, f->dst);
	}
	f->t.payload = 16;
	if (gen_chance(10)) { /* fragmented ND is no ND */
		f->t.ext[0] = TPKT_FRAG;
		f->t.n_ext = 1;
		f->t.mf = 1;
		f->t.frag_id = gen_rnd();
	}
	f->what = "ndp";
}

/* Multicast listener discovery and near misses: hop limit, Router Alert
 * layouts (what senders use and random option bytes), sources, types,
 * fragments, a hop-by-hop header that is not first. */
static void frame_mld(struct diff *d, struct fdesc *f)
{
	static const char *const srcs[] = { "::", "fe80::1", "fe80::2:3",
					    "febf::9" };
	static const char *const dsts[] = { "ff02::1", "ff02::2", "ff02::16",
					    "ff02::1:ff00:7" };
	static const uint8_t layouts[][6] = {
		TPKT_HBH_RA_MLD,      TPKT_HBH_PADN_RA_MLD,
		{ 0, 5, 2, 0, 0, 0 }, { 0, 0, 5, 2, 0, 0 },
		{ 5, 2, 0, 1, 1, 0 },
	};
	static const uint8_t bytes[] = { 0, 0, 1, 2, 5, 5, 3, 0x3e };
	static const uint8_t types[] = {
		130, 131, 132, 143, 143, 133, 141, 151
	};
	uint8_t a[16];
	unsigned int i, k;

	memset(f, 0, sizeof(*f));
	gen_pick_iface(d->pol, f->ifname, &f->t.vlan);
	f->t.tagged = f->t.vlan != 0;
	f->t.family = 6;
	f->t.proto = 58;
	f->t.type = types[gen_below(sizeof(types))];
	f->t.hop_limit = gen_chance(80) ? 1 : (gen_chance(50) ? 2 : 255);
	if (gen_chance(80)) {
		strcpy(f->src, srcs[gen_below(4)]);
	} else {
		gen_pick_addr(6, a);
		addr_str(6, a, f->src);
	}
	if (gen_chance(75)) {
		strcpy(f->dst, dsts[gen_below(4)]);
	} else {
		gen_pick_addr(6, a);
		addr_str(6, a, f->dst);
	}
	f->t.payload = 20;
	k = gen_below(100);
	if (k < 90) {
		f->t.ext[0] = TPKT_HBH;
		f->t.n_ext = 1;
		f->t.hbh_set = 1;
		if (gen_chance(60))
			memcpy(f->t.hbh, layouts[gen_below(5)], 6);
		else
			for (i = 0; i < 6; i++)
				f->t.hbh[i] = bytes[gen_below(sizeof(bytes))];
		/* mostly with an MLD Router Alert somewhere behind them */
		if (gen_chance(50))
			memcpy(f->t.hbh + gen_below(3), "\x05\x02\0\0", 4);
	}
	if (k >= 80 && k < 85) { /* fragmented MLD is no MLD */
		f->t.ext[1] = TPKT_FRAG;
		f->t.n_ext = 2;
		f->t.mf = 1;
		f->t.frag_id = gen_rnd();
	} else if (k >= 85 && k < 90) { /* hop-by-hop not first */
		f->t.ext[0] = TPKT_DST;
		f->t.ext[1] = TPKT_HBH;
		f->t.n_ext = 2;
	}
	f->what = "mld";
}

static void frame_non_ip(struct diff *d, struct fdesc *f)
{
	static const uint16_t types[] = { 0x0806, 0x0806, 0x88cc, 0x8035,
					  0x8847, 0x86dd, 0x0800 };

	memset(f, 0, sizeof(*f));
	gen_pick_iface(d->pol, f->ifname, &f->t.vlan);
	f->t.tagged = f->t.vlan || gen_chance(20);
	/* IP EtherTypes without IP behind them: malformed */
	f->t.ethertype = types[gen_below(sizeof(types) / sizeof(types[0]))];
	f->what = "non-ip";
}

/* Tag stacks: a second 802.1Q tag, 802.1ad / 0x9100 outside. */
static void frame_vlan_stack(struct diff *d, struct fdesc *f)
{
	static const uint16_t tpids[] = { 0x8100, 0x88a8, 0x9100 };

	frame_replay(d, f);
	f->t.tag_proto = tpids[gen_below(3)];
	f->t.tagged = 1;
	f->t.double_tag = gen_chance(70);
	f->what = "vlan-stack";
}

static void frame_fragment(struct diff *d, struct fdesc *f)
{
	struct frag *fr;
	struct tmpl t;

	if (gen_chance(50) || !d->n_frags) {
		/* a first fragment */
		if (d->n_tmpl && gen_chance(60))
			t = *any_tmpl(d);
		else
			fresh_tmpl(d, &t);
		tmpl_frame(&t, 0, f);
		f->t.frag_id = t.family == 4 ? gen_below(65536) : gen_rnd();
		f->t.mf = 1;
		f->t.payload = (uint16_t)(16 + gen_below(32));
		f->t.pad_to = 0;
		if (t.family == 4) {
			f->t.frag = 1;
		} else {
			f->t.ext[0] = TPKT_FRAG;
			f->t.n_ext = 1;
		}
		fr = d->n_frags < MAX_FRAGS ? &d->frags[d->n_frags++] :
					      &d->frags[gen_below(MAX_FRAGS)];
		fr->t = t;
		fr->id = f->t.frag_id;
		fr->sent_ns = d->now;
		f->what = "first-fragment";
		return;
	}
	/* a later fragment: of a first one sent, or of none */
	fr = &d->frags[gen_below(d->n_frags)];
	t = fr->t;
	tmpl_frame(&t, 0, f);
	f->t.frag_id = gen_chance(85) ? fr->id : gen_rnd() & 0xffff;
	f->t.frag_off = (uint16_t)(1 + gen_below(200));
	f->t.mf = gen_chance(50);
	f->t.payload = (uint16_t)(8 + gen_below(40));
	f->t.pad_to = 0;
	if (t.family == 4) {
		f->t.frag = 1;
	} else {
		f->t.ext[0] = TPKT_FRAG;
		f->t.n_ext = 1;
	}
	f->what = "later-fragment";
}

static void frame_options(struct diff *d, struct fdesc *f)
{
	static const uint8_t ext[] = { TPKT_HBH, TPKT_DST, TPKT_ROUTING,
				       TPKT_AH, TPKT_MH };
	int i;

	if (gen_chance(50))
		frame_fresh(d, f);
	else
		frame_replay(d, f);
	if (f->t.family == 4) {
		f->t.ip_opts = (uint8_t)(4 * (1 + gen_below(10)));
	} else {
		f->t.n_ext = 1 + (int)gen_below(3);
		for (i = 0; i < f->t.n_ext; i++)
			f->t.ext[i] = ext[gen_below(sizeof(ext))];
	}
	f->what = "options";
}

/* Any of the above; returns the frame length. */
static size_t make_frame(struct diff *d, uint8_t *buf, struct fdesc *f)
{
	unsigned int k = gen_below(100), i, n;
	size_t len;

	if (k < 20)
		frame_fresh(d, f);
	else if (k < 64)
		frame_replay(d, f);
	else if (k < 71)
		frame_icmp_error(d, f);
	else if (k < 74)
		frame_ndp(d, f);
	else if (k < 77)
		frame_mld(d, f);
	else if (k < 79)
		frame_non_ip(d, f);
	else if (k < 81)
		frame_vlan_stack(d, f);
	else if (k < 89)
		frame_fragment(d, f);
	else if (k < 94)
		frame_options(d, f);
	else
		frame_replay(d, f);
	fix_ptrs(f);
	len = tpkt_build(&f->t, buf, TPKT_MAX);
	if (!len) { /* the quote did not fit: a plain packet instead */
		frame_fresh(d, f);
		fix_ptrs(f);
		len = tpkt_build(&f->t, buf, TPKT_MAX);
	}
	ck_assert_uint_gt(len, 0);
	if (k >= 94) {
		/* random bytes changed in the headers, or the frame cut */
		if (gen_chance(30)) {
			len = 14 + gen_below((unsigned int)len - 14 + 1);
		} else {
			n = 1 + gen_below(3);
			for (i = 0; i < n; i++)
				buf[12 +
				    gen_below(len < 90 ? (unsigned int)len - 12 :
							 78)] =
					(uint8_t)gen_rnd();
		}
		f->what = "mutated";
	}
	return len;
}

/* ---- clock ---------------------------------------------------------------- */

/* The clock the packet path reads (bpf_ktime_get_coarse_ns()). */
static uint64_t coarse_ns(void)
{
	struct timespec ts;

	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC_COARSE, &ts), 0);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

struct margin {
	uint64_t now, min;
};

static void margin_add(struct margin *m, uint64_t deadline)
{
	uint64_t dist = m->now > deadline ? m->now - deadline :
					    deadline - m->now;

	if (dist < m->min)
		m->min = dist;
}

static int margin_of_flow(const struct policy_ct_flow *flow, uint64_t timeout,
			  void *ctx)
{
	margin_add(ctx, flow->val.last_seen_ns + timeout);
	return 0;
}

/* The distance from the model's clock to the nearest deadline: a flow's
 * timeout or a fragment's. */
static uint64_t deadline_margin(const struct diff *d)
{
	struct margin m = { .now = d->now, .min = UINT64_MAX };
	unsigned int i;

	policy_ct_model_foreach(d->m, margin_of_flow, &m);
	for (i = 0; i < d->n_frags; i++)
		margin_add(&m, d->frags[i].sent_ns + PW_FRAG_TIMEOUT_NS);
	return m.min;
}

/* Move the model's clock for the next frame, off every deadline. */
static void advance_clock(struct diff *d)
{
	const uint32_t *to = d->pol->settings.timeouts;
	unsigned int k = gen_below(100), i, tries;
	uint64_t step;

	/* mostly short steps, so that flows live for a while; now and
	 * then right to a timeout, rarely an hour */
	k = gen_below(1000);
	if (k < 750) {
		step = gen_below(20) * MSEC;
	} else if (k < 967) {
		step = 20 * MSEC + gen_below(2000) * MSEC;
	} else if (k < 997) {
		/* right at a timeout: one second before, at, after */
		i = gen_below(POLICY_TIMEOUT_COUNT + 1);
		step = (i == POLICY_TIMEOUT_COUNT ? 30 : to[i]) * NSEC;
		step = step + NSEC - gen_below(3) * NSEC;
	} else {
		step = 3600 * NSEC;
	}
	d->now += step;
	for (tries = 0; tries < 1000; tries++) {
		d->margin_ns = deadline_margin(d);
		if (d->margin_ns >= GUARD_NS)
			return;
		d->now += 2 * GUARD_NS;
	}
	ck_abort_msg("no time away from every deadline");
}

/* ---- comparison ------------------------------------------------------------ */

/* An expected event. */
struct xev {
	uint8_t type, verdict, reason, end;
	uint32_t rule, tenant, src_seg, dst_seg, generation;
	int counts; /* compare packets and bytes */
	uint64_t packets[2], bytes[2];
};

struct report {
	char *buf;
	size_t len;
	FILE *f;
};

static uint32_t seg_id(const struct policy_segment *s)
{
	return s ? s->order : PW_SEGMENT_NONE;
}

static uint32_t tenant_id(const struct policy_tenant *t)
{
	return t ? t->id : PW_TENANT_NONE;
}

static void key_of(uint16_t tenant, uint8_t family, uint8_t proto,
		   const uint8_t *s, const uint8_t *dd, uint16_t sp,
		   uint16_t dpt, struct pw_ct_key *k)
{
	int c;

	memset(k, 0, sizeof(*k));
	if (proto == 1 || proto == 58) {
		dpt = sp;
	} else if (proto != 6 && proto != 17) {
		sp = 0;
		dpt = 0;
	}
	k->tenant = tenant;
	k->family = family;
	k->proto = proto;
	c = memcmp(s, dd, 16);
	if (c < 0 || (c == 0 && sp <= dpt)) {
		memcpy(k->addr_a, s, 16);
		memcpy(k->addr_b, dd, 16);
		k->port_a = sp;
		k->port_b = dpt;
	} else {
		memcpy(k->addr_a, dd, 16);
		memcpy(k->addr_b, s, 16);
		k->port_a = dpt;
		k->port_b = sp;
	}
}

static int tdiff_ok(uint64_t a, uint64_t b)
{
	return (a > b ? a - b : b - a) <= TIME_SLACK_NS;
}

static void print_val(FILE *f, const char *who, const struct pw_ct_val *v)
{
	fprintf(f,
		"  %s: state %u flags %#x gen %u rule %u seg %u/%u "
		"pkts %llu/%llu bytes %llu/%llu vlan %u ifindex %u "
		"created %llu last %llu\n",
		who, v->state, v->flags, v->generation, v->rule_id,
		v->src_segment, v->dst_segment,
		(unsigned long long)v->packets[0],
		(unsigned long long)v->packets[1],
		(unsigned long long)v->bytes[0],
		(unsigned long long)v->bytes[1], v->vlan, v->ifindex,
		(unsigned long long)v->created_ns,
		(unsigned long long)v->last_seen_ns);
}

static void print_key(FILE *f, const struct pw_ct_key *k)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	addr_str(k->family, k->addr_a, a);
	addr_str(k->family, k->addr_b, b);
	fprintf(f, "  flow: tenant %u proto %u %s:%u <-> %s:%u\n", k->tenant,
		k->proto, a, k->port_a, b, k->port_b);
}

/* The flow of @key in both engines; 0 when they agree. */
static int ct_compare(struct diff *d, const struct pw_ct_key *key,
		      struct report *r)
{
	struct policy_ct_flow mf;
	struct pw_ct_val dv, mv;
	int mr, dr;

	mr = policy_ct_model_lookup_key(d->m, key, &mf);
	dr = fw_dp_ct_lookup(dp, key, &dv);
	if (mr && dr)
		return 0;
	if (mr || dr) {
		fprintf(r->f,
			"conntrack: flow %s in the model, %s in the "
			"datapath\n",
			mr ? "absent" : "present", dr ? "absent" : "present");
		print_key(r->f, key);
		if (!mr)
			print_val(r->f, "model", &mf.val);
		if (!dr)
			print_val(r->f, "datapath", &dv);
		return -1;
	}
	mv = mf.val;
	mv.ifindex = ifindex_of(mf.ifname);
	if (mv.state == dv.state && mv.flags == dv.flags &&
	    mv.generation == dv.generation && mv.rule_id == dv.rule_id &&
	    mv.src_segment == dv.src_segment &&
	    mv.dst_segment == dv.dst_segment &&
	    mv.packets[0] == dv.packets[0] && mv.packets[1] == dv.packets[1] &&
	    mv.bytes[0] == dv.bytes[0] && mv.bytes[1] == dv.bytes[1] &&
	    mv.vlan == dv.vlan && mv.ifindex == dv.ifindex &&
	    tdiff_ok(mv.created_ns, dv.created_ns) &&
	    tdiff_ok(mv.last_seen_ns, dv.last_seen_ns))
		return 0;
	fprintf(r->f, "conntrack: the flow differs\n");
	print_key(r->f, key);
	print_val(r->f, "model", &mv);
	print_val(r->f, "datapath", &dv);
	return -1;
}

/* Every flow of the datapath is the model's, and as many. */
static int ct_compare_all(struct diff *d, struct report *r)
{
	int fd = fw_dp_map_fd(dp, "pw_ct");
	struct pw_ct_key k, next;
	const void *prev = NULL;
	uint32_t n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
		if (ct_compare(d, &k, r))
			return -1;
	}
	if (n != policy_ct_model_count(d->m)) {
		fprintf(r->f,
			"conntrack: %u flows in the datapath, %u in the "
			"model\n",
			n, policy_ct_model_count(d->m));
		return -1;
	}
	return 0;
}

static void print_xevents(FILE *f, const struct xev *x, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		fprintf(f,
			"  event type %u verdict %s reason %s rule %u tenant %u "
			"seg %u/%u gen %u end %u pkts %llu/%llu bytes "
			"%llu/%llu\n",
			x[i].type, policy_verdict_name(x[i].verdict),
			policy_reason_name(x[i].reason), x[i].rule, x[i].tenant,
			x[i].src_seg, x[i].dst_seg, x[i].generation, x[i].end,
			(unsigned long long)x[i].packets[0],
			(unsigned long long)x[i].packets[1],
			(unsigned long long)x[i].bytes[0],
			(unsigned long long)x[i].bytes[1]);
}

/* Events of the datapath, printed as the expected ones are. */
static void print_events(FILE *f, const struct pw_event *ev, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct xev x = {
			.type = ev[i].type,
			.verdict = ev[i].verdict,
			.reason = ev[i].reason,
			.end = ev[i].end_reason,
			.rule = ev[i].rule_id,
			.tenant = ev[i].tenant,
			.src_seg = ev[i].src_segment,
			.dst_seg = ev[i].dst_segment,
			.generation = ev[i].generation,
			.packets = { ev[i].packets[0], ev[i].packets[1] },
			.bytes = { ev[i].bytes[0], ev[i].bytes[1] },
		};

		print_xevents(f, &x, 1);
	}
}

static int ev_match(const struct xev *x, const struct pw_event *e)
{
	if (x->type != e->type || x->verdict != e->verdict ||
	    x->reason != e->reason || x->end != e->end_reason ||
	    x->rule != e->rule_id || x->tenant != e->tenant ||
	    x->src_seg != e->src_segment || x->dst_seg != e->dst_segment ||
	    x->generation != e->generation)
		return 0;
	if (x->counts &&
	    (x->packets[0] != e->packets[0] || x->packets[1] != e->packets[1] ||
	     x->bytes[0] != e->bytes[0] || x->bytes[1] != e->bytes[1]))
		return 0;
	return 1;
}

static struct xev flow_xev(const struct policy_ct_flow *f, uint8_t type)
{
	struct xev x = {
		.type = type,
		.rule = f->val.rule_id,
		.tenant = f->key.tenant,
		.src_seg = f->val.src_segment,
		.dst_seg = f->val.dst_segment,
		.generation = f->val.generation,
		.counts = 1,
	};

	memcpy(x.packets, f->val.packets, sizeof(x.packets));
	memcpy(x.bytes, f->val.bytes, sizeof(x.bytes));
	x.verdict = PW_VERDICT_ALLOW;
	x.reason = f->val.rule_id == PW_RULE_NONE ? PW_REASON_DEFAULT :
						    PW_REASON_POLICY;
	return x;
}

/* The events the datapath must have emitted for this packet. */
static unsigned int expected_events(struct diff *d,
				    const struct policy_packet *pkt,
				    const struct policy_eval_result *res,
				    struct xev *x)
{
	unsigned int n = 0, i;

	for (i = 0; i < d->n_ends; i++) {
		const struct ended *e = &d->ends[i];

		if (e->why == PW_END_POLICY_REVOKED) {
			x[n] = flow_xev(&e->flow, PW_EVENT_FLOW_END);
			x[n].verdict = PW_VERDICT_DENY;
			x[n].reason = PW_REASON_POLICY_REVOKED;
			x[n].rule = res->rule_id;
			x[n].generation = d->generation;
			x[n].end = e->why;
			n++;
		} else if (e->flow.val.flags & PW_CT_LOG) {
			x[n] = flow_xev(&e->flow, PW_EVENT_FLOW_END);
			x[n].end = e->why;
			n++;
		}
	}
	/* Allowed packets have flow events (below), never packet events */
	if (res->log && res->reason != PW_REASON_POLICY_REVOKED &&
	    res->verdict != PW_VERDICT_ALLOW) {
		memset(&x[n], 0, sizeof(x[n]));
		x[n].type = res->verdict == PW_VERDICT_AUDIT ? PW_EVENT_AUDIT :
							       PW_EVENT_DROP;
		x[n].verdict = res->verdict;
		x[n].reason = res->reason;
		x[n].rule = res->rule_id;
		x[n].tenant = tenant_id(res->tenant);
		x[n].src_seg = seg_id(res->src_segment);
		x[n].dst_seg = seg_id(res->dst_segment);
		x[n].generation = d->generation;
		switch (res->reason) {
		case PW_REASON_MALFORMED:
		case PW_REASON_UNMATCHED:
		case PW_REASON_FRAGMENT:
			x[n].src_seg = PW_SEGMENT_NONE;
			x[n].dst_seg = PW_SEGMENT_NONE;
			break;
		case PW_REASON_ESTABLISHED:
		case PW_REASON_REPLY:
			/* audit of a revalidated flow: the reason of the
			 * judgement that audited it */
			x[n].reason = res->rule_id == PW_RULE_NONE ?
					      PW_REASON_DEFAULT :
					      PW_REASON_POLICY;
			break;
		default:
			break;
		}
		n++;
	}
	if (res->flow_new && res->flow_logged) {
		memset(&x[n], 0, sizeof(x[n]));
		x[n].type = PW_EVENT_FLOW_START;
		x[n].verdict = res->verdict;
		x[n].reason = res->reason;
		x[n].rule = res->rule_id;
		x[n].tenant = tenant_id(res->tenant);
		x[n].src_seg = seg_id(res->src_segment);
		x[n].dst_seg = seg_id(res->dst_segment);
		x[n].generation = d->generation;
		x[n].counts = 1;
		x[n].packets[0] = 1;
		x[n].bytes[0] = pkt->len;
		n++;
	}
	return n;
}

static void print_result(FILE *f, const struct policy_eval_result *r)
{
	fprintf(f,
		"  model: verdict %s reason %s rule %u tenant %u seg %u/%u "
		"log %d tracked %d new %d logged %d audit %d state %u end %u "
		"revalidated %d related %d\n",
		policy_verdict_name(r->verdict), policy_reason_name(r->reason),
		r->rule_id, tenant_id(r->tenant), seg_id(r->src_segment),
		seg_id(r->dst_segment), r->log, r->tracked, r->flow_new,
		r->flow_logged, r->flow_audit, r->ct_state, r->flow_end,
		r->revalidated, r->related);
}

/* Run one frame through both engines and compare. */
static int one_frame(struct diff *d, const uint8_t *frame, size_t len,
		     const struct fdesc *f, struct report *r)
{
	const char *ifname = f->ifname;
	struct pw_counter drops[PW_REASON_COUNT];
	static struct pw_rule_counter rules[MAX_RULES];
	struct policy_eval_result res;
	struct pw_event evs[MAX_EVENTS];
	struct policy_packet pkt;
	struct xev x[MAX_ENDS + 2];
	static uint8_t out[TPKT_MAX + 64];
	struct fw_dp_run run = {};
	unsigned int nx, i, j, used = 0;
	int bad = 0, ret, want_rule;
	bool drop, answered;
	uint64_t c0, step;
	__u32 pass;

	/* the model */
	ck_assert_int_eq(policy_packet_parse(frame, len, ifname, &pkt), 0);
	d->n_ends = 0;
	ck_assert_int_eq(policy_ct_model_packet(d->m, &pkt, d->now, &res), 0);

	/* the datapath, at the same time */
	c0 = coarse_ns();
	ck_assert_int_eq(fw_dp_set_clock_offset(dp, d->now - c0), 0);
	run.prog = FW_DP_XDP;
	run.in = frame;
	run.in_len = (__u32)len;
	run.ifindex = ifindex_of(ifname);
	run.events = evs;
	run.events_cap = MAX_EVENTS;
	run.out = out; /* for the metadata that marks a reject answer */
	run.out_cap = sizeof(out);
	ret = fw_dp_test_run(dp, &run);
	ck_assert_msg(ret == 0, "test run: %s", strerror(-ret));
	/* the datapath's clock read between now and now + step */
	step = coarse_ns() - c0;
	if (step > d->max_step_ns)
		d->max_step_ns = step;
	if (step >= d->margin_ns) {
		d->slip_ns = step;
		return 0;
	}
	ck_assert_int_eq(fw_dp_drop_counters(dp, drops), 0);
	ck_assert_int_eq(fw_dp_rule_counters(dp, d->slot, rules, d->c->n_rules),
			 0);

	if (res.flow_new && f->has_from)
		d->live[d->n_live++ % MAX_TMPL] = f->from;

	/* stats */
	d->st.frames++;
	d->st.verdict[res.verdict]++;
	d->st.reason[res.reason]++;
	d->st.flows_new += res.flow_new;
	d->st.revalidated += res.revalidated;
	d->st.related += res.related;
	d->st.events += run.n_events;
	/* an answer goes up to pw_tc_answer, marked (pw_ctx.h ctx_bounce()),
	 * or out with XDP_TX where the driver has no metadata */
	answered = run.retval == XDP_TX ||
		   (run.retval == XDP_PASS && run.meta_out == PW_ANSWER_MARK);
	d->st.answered += answered;

	/* action */
	pass = res.verdict == PW_VERDICT_ALLOW ||
	       res.verdict == PW_VERDICT_AUDIT;
	drop = !pass;
	if (pass ? run.retval != XDP_PASS || answered :
	    res.verdict == PW_VERDICT_REJECT ?
		   run.retval != XDP_DROP && !answered :
		   run.retval != XDP_DROP) {
		fprintf(r->f, "action: XDP %u for verdict %s\n", run.retval,
			policy_verdict_name(res.verdict));
		bad = 1;
	}

	/* drop counters: one for the reason of a drop, none otherwise */
	for (i = 0; i < PW_REASON_COUNT; i++) {
		uint64_t got = drops[i].packets - d->drops[i].packets;
		uint64_t want = drop && res.reason == i;

		if (got != want ||
		    drops[i].bytes - d->drops[i].bytes != want * len) {
			fprintf(r->f, "drop counter %s: +%llu, want +%llu\n",
				policy_reason_name(i), (unsigned long long)got,
				(unsigned long long)want);
			bad = 1;
		}
	}
	memcpy(d->drops, drops, sizeof(drops));

	/* rule counters: the rule that judged the packet */
	want_rule = -1;
	if ((res.reason == PW_REASON_POLICY ||
	     res.reason == PW_REASON_POLICY_REVOKED || res.revalidated) &&
	    res.rule_id != PW_RULE_NONE)
		want_rule = (int)res.rule_id;
	for (i = 0; i < d->c->n_rules; i++) {
		uint64_t got = rules[i].packets - d->rules[i].packets;
		uint64_t want = (int)i == want_rule;

		if (got != want) {
			fprintf(r->f, "rule counter %u: +%llu, want +%llu\n", i,
				(unsigned long long)got,
				(unsigned long long)want);
			bad = 1;
		}
	}
	memcpy(d->rules, rules, d->c->n_rules * sizeof(*rules));

	/* events, in any order */
	nx = expected_events(d, &pkt, &res, x);
	if (nx != run.n_events)
		bad = 1;
	for (i = 0; i < nx && !bad; i++) {
		for (j = 0; j < run.n_events && j < MAX_EVENTS; j++)
			if (!(used & 1U << j) && ev_match(&x[i], &evs[j]))
				break;
		if (j >= run.n_events || j >= MAX_EVENTS)
			bad = 1;
		else
			used |= 1U << j;
	}
	if (bad && (nx || run.n_events)) {
		fprintf(r->f, "events: datapath %u:\n", run.n_events);
		print_events(r->f, evs,
			     run.n_events < MAX_EVENTS ? run.n_events :
							 MAX_EVENTS);
		fprintf(r->f, "events: model %u:\n", nx);
		print_xevents(r->f, x, nx);
	}

	/* the flow of the packet, and the one an ICMP error quotes */
	if (pkt.kind == POLICY_PKT_IP && res.tenant &&
	    !policy_packet_later_fragment(&pkt)) {
		struct pw_ct_key k;

		key_of(res.tenant->id, pkt.family, pkt.proto, pkt.saddr,
		       pkt.daddr,
		       pkt.proto == 1 || pkt.proto == 58 ? pkt.icmp_id :
							   pkt.sport,
		       pkt.dport, &k);
		bad |= ct_compare(d, &k, r) != 0;
		if (pkt.quote) {
			key_of(res.tenant->id, pkt.family, pkt.quote_proto,
			       pkt.quote_saddr, pkt.quote_daddr,
			       pkt.quote_sport, pkt.quote_dport, &k);
			bad |= ct_compare(d, &k, r) != 0;
		}
	}
	if (bad) {
		print_result(r->f, &res);
		fprintf(r->f, "  datapath: XDP action %u, %u events\n",
			run.retval, run.n_events);
	}
	return bad ? -1 : 0;
}

static void report_failure(struct diff *d, struct report *r, unsigned int idx,
			   const struct fdesc *f, const uint8_t *frame,
			   size_t len)
{
	size_t i;

	fclose(r->f);
	fprintf(stderr,
		"==== disagreement at frame %u (%s, on %s), seed %#llx, "
		"generation %u, clock %llu ns\n",
		idx, f ? f->what : "-", f ? f->ifname : "-",
		(unsigned long long)d->seed, d->generation,
		(unsigned long long)d->now);
	fprintf(stderr, "policy:\n%s\n", d->yaml);
	if (frame) {
		fprintf(stderr, "frame (%zu bytes):", len);
		for (i = 0; i < len; i++)
			fprintf(stderr, "%s%02x", i % 32 ? " " : "\n  ",
				frame[i]);
		fprintf(stderr, "\n");
	}
	fprintf(stderr, "%s", r->buf);
	free(r->buf);
	ck_abort_msg("datapath and model disagree (frame %u)", idx);
}

static void open_report(struct report *r)
{
	r->buf = NULL;
	r->len = 0;
	r->f = open_memstream(&r->buf, &r->len);
	ck_assert_ptr_nonnull(r->f);
}

static void close_report(struct report *r)
{
	fclose(r->f);
	free(r->buf);
}

/* A policy to replace the running one with: the same again, the same
 * with other actions, or another one. */
static char *replacement(struct diff *d, unsigned int k)
{
	struct gen_opts o = { .log_rate_zero = true,
			      .short_timeouts = true,
			      .flow_logs = true };
	uint64_t saved = gen_state();
	char *yaml;

	if (gen_chance(30))
		return strdup(d->yaml);
	if (gen_chance(70)) {
		o.mutate = 10 + gen_below(50);
		o.mutate_seed = d->seed * 31 + k + 1;
		gen_seed(d->seed);
		yaml = gen_policy(&o);
		gen_seed(saved ^ 0x9e3779b97f4a7c15ULL);
		return yaml;
	}
	return gen_policy(&o);
}

static void diff_free(struct diff *d)
{
	policy_ct_model_free(d->m);
	policy_compiled_free(d->c);
	policy_analysis_free(d->an);
	policy_free(d->pol);
	free(d->yaml);
	free(d->rules);
	free(d);
	gen_release();
}

/* One run of sequence @_i: 0, or -EAGAIN when a frame's run took so long
 * that the datapath's clock may have passed a deadline the model's did
 * not (the clock section at the top). */
static int sequence_once(int _i)
{
	struct gen_opts o = { .log_rate_zero = true,
			      .short_timeouts = true,
			      .flow_logs = true };
	static uint8_t frame[TPKT_MAX];
	unsigned int i, reload_at[N_RELOADS], k;
	struct report r;
	struct diff *d;
	struct fdesc f;
	size_t len;

	d = calloc(1, sizeof(*d));
	ck_assert_ptr_nonnull(d);
	d->rules = calloc(MAX_RULES, sizeof(*d->rules));
	ck_assert_ptr_nonnull(d->rules);
	d->seed = seed_base + (uint64_t)_i * 104729;
	d->generation = 1000 * (uint32_t)(_i + 1);
	d->now = fixture_mono_ns() + 100 * NSEC;
	ck_assert_int_eq(fw_dp_reset_state(dp), 0);
	ck_assert_int_eq(fw_dp_drop_counters(dp, d->drops), 0);

	gen_seed(d->seed);
	diff_load(d, gen_policy(&o));
	for (k = 0; k < N_RELOADS; k++)
		reload_at[k] = (k + 1) * N_FRAMES / (N_RELOADS + 1) +
			       gen_below(N_FRAMES / 8);

	for (i = 0; i < N_FRAMES; i++) {
		for (k = 0; k < N_RELOADS; k++)
			if (reload_at[k] == i) {
				diff_load(d, replacement(d, k));
				d->st.reloads++;
				open_report(&r);
				if (ct_compare_all(d, &r))
					report_failure(d, &r, i, NULL, NULL, 0);
				close_report(&r);
			}
		advance_clock(d);
		len = make_frame(d, frame, &f);
		open_report(&r);
		if (one_frame(d, frame, len, &f, &r))
			report_failure(d, &r, i, &f, frame, len);
		if (d->slip_ns) {
			fprintf(stderr,
				"differential %d: the clock moved %.1f ms during "
				"frame %u's run, %.1f ms from a deadline: the "
				"datapath may have passed it, the sequence runs "
				"again\n",
				_i, d->slip_ns / 1e6, i, d->margin_ns / 1e6);
			close_report(&r);
			diff_free(d);
			return -EAGAIN;
		}
		if ((i + 1) % FULL_CHECK_EVERY == 0 && ct_compare_all(d, &r))
			report_failure(d, &r, i, &f, frame, len);
		close_report(&r);
	}
	fprintf(stderr,
		"differential %d: %lu frames, %lu reloads: allow %lu deny %lu "
		"reject %lu (answered %lu) audit %lu; new flows %lu, "
		"established %lu, reply %lu, revalidated %lu, revoked %lu, "
		"related %lu; default %lu, policy %lu, non-ip %lu, "
		"malformed %lu, unmatched %lu, fragment %lu; %lu events, "
		"%u flows at the end; the clock moved at most %.1f ms in a run\n",
		_i, d->st.frames, d->st.reloads,
		d->st.verdict[PW_VERDICT_ALLOW], d->st.verdict[PW_VERDICT_DENY],
		d->st.verdict[PW_VERDICT_REJECT], d->st.answered,
		d->st.verdict[PW_VERDICT_AUDIT], d->st.flows_new,
		d->st.reason[PW_REASON_ESTABLISHED],
		d->st.reason[PW_REASON_REPLY], d->st.revalidated,
		d->st.reason[PW_REASON_POLICY_REVOKED], d->st.related,
		d->st.reason[PW_REASON_DEFAULT], d->st.reason[PW_REASON_POLICY],
		d->st.reason[PW_REASON_NON_IP],
		d->st.reason[PW_REASON_MALFORMED],
		d->st.reason[PW_REASON_UNMATCHED],
		d->st.reason[PW_REASON_FRAGMENT], d->st.events,
		policy_ct_model_count(d->m), d->max_step_ns / 1e6);

	/* the sequence must reach the paths it is there for (a policy that
	 * allows next to nothing has few flows to follow) */
	if (d->st.flows_new > 10)
		ck_assert_uint_gt(d->st.reason[PW_REASON_ESTABLISHED] +
					  d->st.reason[PW_REASON_REPLY],
				  d->st.flows_new / 4);
	ck_assert_uint_gt(d->st.reason[PW_REASON_MALFORMED], 0);
	diff_free(d);
	return 0;
}

static void sequence(int _i)
{
	unsigned int attempt;

	for (attempt = 0; attempt < SLIP_ATTEMPTS; attempt++)
		if (sequence_once(_i) == 0)
			return;
	ck_abort_msg("differential %d: in %d runs the clock moved past a "
		     "deadline during a frame's run (the machine is too busy "
		     "to keep time)",
		     _i, SLIP_ATTEMPTS);
}

START_TEST(test_sequence)
{
	sequence(_i);
}
END_TEST

/* The same with the external wildcard (PW_TENANT_EXT) wherever a rule can
 * use it, on other seeds. */
#define N_EXT_SEQUENCES 6

START_TEST(test_sequence_ext)
{
	static const struct policy_compile_opts ext = { .ext_min_classes = 2 };

	compile_opts = &ext;
	ext_tenants = 0;
	sequence(1000 + _i);
	ck_assert_uint_gt(ext_tenants, 0);
	fprintf(stderr, "differential ext %d: %lu tenants with the wildcard\n",
		_i, ext_tenants);
	compile_opts = NULL;
}
END_TEST

static void setup(void)
{
	int ret = fw_dp_open(&dp, NULL);

	ck_assert_msg(ret == 0, "fw_dp_open: %s", strerror(-ret));
}

static void teardown(void)
{
	fw_dp_close(dp);
	dp = NULL;
}

static int n_policies = N_POLICIES;

static Suite *differential_suite(void)
{
	Suite *s = suite_create("differential");
	TCase *tc = tcase_create("datapath vs model");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_sequence, 0, n_policies);
	tcase_add_loop_test(tc, test_sequence_ext, 0,
			    n_policies < N_EXT_SEQUENCES ? n_policies :
							   N_EXT_SEQUENCES);
	suite_add_tcase(s, tc);
	return s;
}

/* A network namespace of our own with the interfaces the policies name. */
static int make_netns(void)
{
	unsigned int i;

	if (unshare(CLONE_NEWNET)) {
		printf("test_differential: unshare(CLONE_NEWNET): %s, skipped\n",
		       strerror(errno));
		return -1;
	}
	if (system("ip link add eth0 type veth peer name eth1 && "
		   "ip link add eth2 type veth peer name eth3")) {
		printf("test_differential: cannot create veth interfaces "
		       "(iproute2, veth), skipped\n");
		return -1;
	}
	for (i = 0; i < GEN_N_IFNAMES; i++) {
		ifindexes[i] = if_nametoindex(gen_ifnames[i]);
		if (!ifindexes[i])
			return -1;
	}
	return 0;
}

int main(void)
{
	if (geteuid() != 0) {
		printf("test_differential: needs root, skipped\n");
		return 77;
	}
	if (make_netns())
		return 77;
	if (getenv("PLUMWALL_DIFF_SEED"))
		seed_base = strtoull(getenv("PLUMWALL_DIFF_SEED"), NULL, 0);
	/* Under emulation (tests/vm) a policy takes a minute, not a second. */
	if (getenv("PLUMWALL_DIFF_POLICIES"))
		n_policies = atoi(getenv("PLUMWALL_DIFF_POLICIES"));
	if (n_policies < 1)
		n_policies = 1;
	fprintf(stderr,
		"differential: %d policies x %d frames, %d policy "
		"replacements each\n",
		n_policies, N_FRAMES, N_RELOADS);
	return fixture_run_suite(differential_suite());
}
