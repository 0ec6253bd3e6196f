// SPDX-License-Identifier: GPL-2.0
/*
 * bench_paths: program-only ns per packet of each path of the XDP and TC
 * programs, for the datapath's own speed goals (issue 14), under the
 * generated "typical" policies of bench_datapath at 10 .. 100,000 rules.
 *
 * Two kinds of figure, both from BPF_PROG_TEST_RUN:
 *   hot   one frame run `repeat` times in the kernel: the program with
 *         everything it touches in cache (the lower bound);
 *   rr    one run per frame over many distinct frames (flows), round
 *         robin, minus the same mean for the no-op xdp_pass program (the
 *         test-run overhead of a single run): what a packet costs when
 *         the flows it meets do not all fit in the cache, as with real
 *         traffic.
 *
 * Paths:
 *   deny     a TCP SYN the policy denies (unlogged), judged in full;
 *   scan     SYNs from 32,768 source addresses, one each: nothing cached;
 *   new      an allowed TCP segment with RST set: judged in full, no flow;
 *   est      an ACK of a tracked flow (hot: one flow; rr: 1 and 32,768);
 *   syn      a SYN creating a flow into an empty table (rr, 32,768);
 *   synfull  a SYN creating a flow into a full conntrack table (rr).
 * Each figure is the median of BENCH_ROUNDS (default 5) rounds; the
 * machine is shared, so the figures are noisy: compare medians of runs
 * made back to back. BENCH_SIZES="10,1000" picks the rule counts.
 * Needs root; exits 77 (skipped) otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <plumwall/diag.h>

#include "fw/datapath.h"
#include "policy/analyze.h"
#include "policy/benchgen.h"
#include "policy/compile.h"
#include "policy/packet.h"
#include "policy/policy.h"
#include "bpf/xdp_pass.skel.h"
#include "tests/bench/bench_util.h"

#define N_FLOWS 32768
#define MAX_ROUNDS 15

static __u32 repeat = 100000;
/* BENCH_PHASE=deny|est32k|synfull: only run that phase, 20 times (for a
 * profiler) */
static const char *phase;
static unsigned int rounds = 5;

struct flow {
	uint32_t src, dst;
	uint16_t dport;
};

struct pick {
	const char *ifname;
	uint16_t vlan;
	struct flow allow, deny;
};

static int resolve(const char *ifname, void *ctx, uint32_t *ifindex)
{
	const struct pick *p = ctx;

	return bench_ifindex(ifname, p->ifname, ifindex);
}

/* A TCP flow of the first tenant that a rule allows, and one that is
 * denied without an event (by a rule if any, else by the default). */
static int pick_flows(const struct policy_compiled *c, struct pick *p)
{
	static const uint16_t ports[] = { 443, 80,   5432, 6379, 9090, 9200,
					  22,  8080, 3306, 53,	 7,    12345 };
	struct policy_compiled_verdict v;
	struct policy_packet pkt;
	uint8_t f[BENCH_FRAME_LEN];
	unsigned int i, j, k;
	int got_allow = 0, got_deny = 0;
	size_t len;

	if (!c->n_ifaces)
		return -ENOENT;
	p->ifname = c->ifaces[0].ifname;
	p->vlan = c->ifaces[0].vlan;
	for (k = 0; k < sizeof(ports) / sizeof(ports[0]); k++)
		for (i = 0; i < 20; i++)
			for (j = 0; j < 20; j++) {
				uint32_t s = 0x0a000005 | i << 8;
				uint32_t d = 0x0a000007 | j << 8;
				struct flow fl = { s, d, ports[k] };

				len = bench_frame_tcp(f, p->vlan, s, d, 40000,
						      ports[k], 0x02);
				if (policy_packet_parse(f, len, p->ifname,
							&pkt))
					continue;
				policy_compiled_decide(c, &pkt, &v);
				if (!got_allow &&
				    v.verdict == PW_VERDICT_ALLOW &&
				    v.reason == PW_REASON_POLICY) {
					p->allow = fl;
					got_allow = 1;
				}
				/* by a rule if any, else by the default */
				if (v.verdict == PW_VERDICT_DENY && !v.log &&
				    (!got_deny ||
				     (got_deny == 1 &&
				      v.reason == PW_REASON_POLICY))) {
					p->deny = fl;
					got_deny =
						v.reason == PW_REASON_POLICY ?
							2 :
							1;
				}
			}
	return got_allow && got_deny ? 0 : -ENOENT;
}

/* Frames for the flows of one round: sport 1024 + i. */
static uint8_t (*frames)[BENCH_FRAME_LEN];
static size_t frame_len;

static void make_frames(const struct pick *p, const struct flow *fl,
			unsigned int n, uint8_t flags)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		frame_len = bench_frame_tcp(frames[i], p->vlan, fl->src,
					    fl->dst, (uint16_t)(1024 + i),
					    fl->dport, flags);
}

/* Mean of one run per frame over frames[0..n-1]. */
static double rr_ns(int prog_fd, int xdp, unsigned int n)
{
	double sum = 0, ns;
	unsigned int i;

	for (i = 0; i < n; i++) {
		ns = bench_run_ns(prog_fd, xdp, frames[i], frame_len, 1);
		if (ns < 0)
			return -1;
		sum += ns;
	}
	return sum / n;
}

enum col {
	C_DENY_HOT,
	C_NEW_HOT,
	C_EST_HOT,
	C_TC_DENY_HOT,
	C_TC_EST_HOT,
	C_DENY_RR,
	C_SCAN_RR,
	C_EST1_RR,
	C_EST32K_RR,
	C_TC_EST32K_RR,
	C_SYN_RR,
	C_SYNFULL_RR,
	C_COUNT,
};

static const char *const col_names[C_COUNT] = {
	"deny", "new",	"est",	  "tc_deny",   "tc_est", "deny_rr",
	"scan", "est1", "est32k", "tc_est32k", "syn",	 "synfull"
};

/* Fill pw_ct to its size with entries of a tenant no interface has. */
static int fill_ct(struct fw_dp *dp)
{
	__u32 max = fw_dp_ct_max_entries(dp), i;
	struct pw_ct_val v = { .rule_id = PW_RULE_NONE };
	struct pw_ct_key k = { .tenant = 0xfffe,
			       .family = PW_FAMILY_IPV4,
			       .proto = 6 };
	int fd = fw_dp_map_fd(dp, "pw_ct");

	if (fd < 0)
		return fd;
	/* Past the size: the LRU map evicts, so it ends up full. */
	for (i = 0; i < max + max / 8; i++) {
		k.addr_a[0] = 10;
		memcpy(k.addr_a + 1, &i, 3);
		k.port_a = (__u16)i;
		k.port_b = 80;
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int round_one(struct fw_dp *dp, int pass_fd, const struct pick *p,
		     double *out)
{
	int xdp = fw_dp_prog_fd(dp, FW_DP_XDP);
	int tc = fw_dp_prog_fd(dp, FW_DP_TC_INGRESS);
	uint8_t f[BENCH_FRAME_LEN];
	size_t len;
	double floor1;
	int ret;

	ret = fw_dp_ct_flush(dp);
	if (ret)
		return ret;
	len = bench_frame_tcp(f, p->vlan, p->deny.src, p->deny.dst, 40000,
			      p->deny.dport, 0x02);
	out[C_DENY_HOT] = bench_run_ns(xdp, 1, f, len, repeat);
	out[C_TC_DENY_HOT] = bench_run_ns(tc, 0, f, len, repeat);
	len = bench_frame_tcp(f, p->vlan, p->allow.src, p->allow.dst, 40000,
			      p->allow.dport, 0x14);
	out[C_NEW_HOT] = bench_run_ns(xdp, 1, f, len, repeat);

	/* the single-run overhead, over as many distinct frames */
	make_frames(p, &p->deny, N_FLOWS, 0x02);
	if (phase) {
		unsigned int i;
		uint8_t fl = !strcmp(phase, "deny") ? 0x02 : 0x10;

		if (strcmp(phase, "deny")) {
			make_frames(p, &p->allow, N_FLOWS, 0x02);
			rr_ns(xdp, 1, N_FLOWS);
		}
		if (!strcmp(phase, "synfull")) {
			ret = fill_ct(dp);
			if (ret)
				return ret;
			fl = 0x02;
		}
		make_frames(p, strcmp(phase, "deny") ? &p->allow : &p->deny,
			    N_FLOWS, fl);
		for (i = 0; i < 20; i++) {
			unsigned int j;

			/* synfull: new flows each time (other sports) */
			if (!strcmp(phase, "synfull"))
				for (j = 0; j < N_FLOWS; j++)
					frames[j][14 + 20 + (p->vlan ? 4 : 0)] =
						(uint8_t)(0x80 + i);
			rr_ns(xdp, 1, N_FLOWS);
		}
		return -ECANCELED;
	}
	floor1 = rr_ns(pass_fd, 1, N_FLOWS);
	out[C_DENY_RR] = rr_ns(xdp, 1, N_FLOWS) - floor1;
	/* a scan: every frame from another source address (10.x.y.5) */
	{
		size_t src = 12 + (p->vlan ? 4 : 0) + 2 + 12;
		unsigned int i;

		for (i = 0; i < N_FLOWS; i++) {
			frames[i][src + 1] = (uint8_t)(100 + (i >> 8));
			frames[i][src + 2] = (uint8_t)i;
		}
	}
	out[C_SCAN_RR] = rr_ns(xdp, 1, N_FLOWS) - floor1;

	make_frames(p, &p->allow, N_FLOWS, 0x02);
	out[C_SYN_RR] = rr_ns(xdp, 1, N_FLOWS) - floor1;
	make_frames(p, &p->allow, N_FLOWS, 0x10);
	out[C_EST32K_RR] = rr_ns(xdp, 1, N_FLOWS) - floor1;
	out[C_TC_EST32K_RR] = rr_ns(tc, 0, N_FLOWS) - floor1;
	out[C_EST_HOT] = bench_run_ns(xdp, 1, frames[0], frame_len, repeat);
	out[C_TC_EST_HOT] = bench_run_ns(tc, 0, frames[0], frame_len, repeat);
	/* one flow, run as often as the 32k above, one run at a time */
	memcpy(frames[1], frames[0], BENCH_FRAME_LEN);
	{
		unsigned int i;
		double sum = 0, ns;

		for (i = 0; i < N_FLOWS; i++) {
			ns = bench_run_ns(xdp, 1, frames[0], frame_len, 1);
			if (ns < 0)
				return -EIO;
			sum += ns;
		}
		out[C_EST1_RR] = sum / N_FLOWS - floor1;
	}

	ret = fw_dp_ct_flush(dp);
	if (!ret)
		ret = fill_ct(dp);
	if (ret)
		return ret;
	/* new flows, not among the filler's keys */
	make_frames(p, &p->allow, N_FLOWS, 0x02);
	out[C_SYNFULL_RR] = rr_ns(xdp, 1, N_FLOWS) - floor1;
	return fw_dp_ct_flush(dp);
}

static int bench_one(struct fw_dp *dp, int pass_fd, __u32 n_rules, double *med)
{
	double v[C_COUNT][MAX_ROUNDS], one[C_COUNT];
	struct policy_analysis *an = NULL;
	struct policy_compiled *c = NULL;
	struct policy *pol = NULL;
	struct pw_diags diags;
	struct pick p = {};
	unsigned int r, k;
	char *yaml = NULL;
	size_t ylen;
	int ret;

	pw_diags_init(&diags);
	ret = policy_generate_bench(n_rules, NULL, &yaml, &ylen);
	if (!ret)
		ret = policy_load_buffer("bench.yaml", yaml, ylen, &diags,
					 &pol);
	if (!ret)
		ret = policy_analyze(pol, &an);
	if (!ret)
		ret = policy_compile(an, n_rules, &c);
	if (ret)
		goto out;
	ret = pick_flows(c, &p);
	if (ret) {
		fprintf(stderr, "bench_paths: no flows found at %u rules\n",
			n_rules);
		goto out;
	}
	ret = fw_dp_load_compiled(dp, c, resolve, &p);
	if (ret)
		goto out;
	for (r = 0; r < rounds; r++) {
		ret = round_one(dp, pass_fd, &p, one);
		if (ret)
			goto out;
		for (k = 0; k < C_COUNT; k++)
			v[k][r] = one[k];
	}
	for (k = 0; k < C_COUNT; k++)
		med[k] = bench_median(v[k], rounds);
out:
	free(yaml);
	policy_compiled_free(c);
	policy_analysis_free(an);
	policy_free(pol);
	pw_diags_free(&diags);
	return ret < 0 ? ret : 0;
}

int main(void)
{
	static const __u32 def_sizes[] = { 10, 1000, 10000, 100000 };
	__u32 sizes[16];
	double med[16][C_COUNT];
	unsigned int n = 0, i, k;
	struct xdp_pass_bpf *pass = NULL;
	struct fw_dp *dp = NULL;
	const char *env;
	int ret = 0;

	if (geteuid() != 0) {
		printf("bench_paths: needs root, skipped\n");
		return 77;
	}
	env = getenv("BENCH_REPEAT");
	if (env && atoi(env) > 0)
		repeat = (__u32)atoi(env);
	env = getenv("BENCH_ROUNDS");
	if (env && atoi(env) > 0)
		rounds = atoi(env) > MAX_ROUNDS ? MAX_ROUNDS : atoi(env);
	phase = getenv("BENCH_PHASE");
	env = getenv("BENCH_SIZES");
	if (env) {
		char *s = strdup(env), *save = NULL, *tok;

		for (tok = strtok_r(s, ",", &save); tok && n < 16;
		     tok = strtok_r(NULL, ",", &save))
			if (atoi(tok) > 0)
				sizes[n++] = (__u32)atoi(tok);
		free(s);
	}
	if (!n)
		for (; n < sizeof(def_sizes) / sizeof(def_sizes[0]); n++)
			sizes[n] = def_sizes[n];
	frames = calloc(N_FLOWS, BENCH_FRAME_LEN);
	if (!frames) {
		ret = -ENOMEM;
		goto out;
	}
	libbpf_set_print(NULL);
	pass = xdp_pass_bpf__open_and_load();
	if (!pass) {
		ret = -errno;
		goto out;
	}
	ret = fw_dp_open(&dp, NULL);
	if (ret)
		goto out;
	for (i = 0; i < n; i++) {
		ret = bench_one(dp, bpf_program__fd(pass->progs.xdp_pass),
				sizes[i], med[i]);
		if (ret == -ECANCELED) {
			ret = 0;
			goto out;
		}
		if (ret)
			goto out;
		fprintf(stderr, "bench_paths: %u rules done\n", sizes[i]);
	}
	printf("bench_paths: BPF_PROG_TEST_RUN, repeat %u, median of %u "
	       "rounds, %d CPUs, conntrack size %u\n",
	       repeat, rounds, libbpf_num_possible_cpus(),
	       fw_dp_ct_max_entries(dp));
	printf("ns per packet, program only; XDP unless tc_; hot = one frame "
	       "repeated; _rr/est1/est32k/syn/synfull = one run per frame,\n"
	       "round robin over %d flows, minus xdp_pass's single-run mean "
	       "(synfull: into a full conntrack table)\n",
	       N_FLOWS);
	printf("%8s", "rules");
	for (k = 0; k < C_COUNT; k++)
		printf(" %9s", col_names[k]);
	printf("\n");
	for (i = 0; i < n; i++) {
		printf("%8u", sizes[i]);
		for (k = 0; k < C_COUNT; k++)
			printf(" %9.0f", med[i][k]);
		printf("\n");
	}
out:
	if (ret)
		fprintf(stderr, "bench_paths: %s\n", strerror(-ret));
	free(frames);
	fw_dp_close(dp);
	xdp_pass_bpf__destroy(pass);
	return ret ? 1 : 0;
}
