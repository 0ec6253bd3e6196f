// SPDX-License-Identifier: GPL-2.0
/*
 * bench_datapath: ns per packet of the plumwall programs under generated
 * policies of 10 .. 100,000 rules (policy/benchgen.h, shape "typical",
 * through the real front end and compiler), next to the no-op xdp_pass
 * program measured in the same run, plus compile and load time, the
 * policy maps' entries and the kernel's memory figure for them, and the
 * ratio of the new-flow cost at 10,000 rules to that at 10.
 *
 * Stable figures on a shared machine: every policy is loaded first, each
 * into a datapath of its own, then BENCH_ROUNDS rounds (default 11)
 * measure every policy once, in an order rotated each round. A figure is
 * the median over the rounds, its spread (min-max) is printed next to
 * it, and a ratio between two policies is taken within each round (both
 * measured within about a second), its median and spread printed: load
 * from other work that comes and goes moves both sides of a ratio
 * together, and the median drops the rounds it hit hardest.
 *
 * Packets (BPF_PROG_TEST_RUN, repeat BENCH_REPEAT, default 100000):
 *   new  a TCP segment of a flow the policy allows, with RST set so it is
 *        judged in full every time (parse, tenant, conntrack miss, LPM x3,
 *        up to 8 decision lookups, rule) but creates no flow;
 *   est  an ACK of a tracked flow (conntrack hit, counters, TCP state);
 *   syn  a SYN creating a flow: the mean of single runs with distinct
 *        ports (a repeated run would find the flow it created).
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

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct pick {
	const char *ifname;
	uint16_t vlan;
	uint32_t src, dst;
	uint16_t dport;
};

static int resolve(const char *ifname, void *ctx, uint32_t *ifindex)
{
	const struct pick *p = ctx;

	return bench_ifindex(ifname, p->ifname, ifindex);
}

/* Find a TCP flow of the first tenant that a rule allows. */
static int pick_flow(const struct policy_compiled *c, struct pick *p)
{
	static const uint16_t ports[] = { 443,	80, 5432, 6379, 9090,
					  9200, 22, 8080, 3306, 53 };
	struct policy_compiled_verdict v;
	struct policy_packet pkt;
	uint8_t f[256];
	unsigned int i, j, k;
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

				len = bench_frame_tcp(f, p->vlan, s, d, 40000,
						      ports[k], 0x02);
				if (policy_packet_parse(f, len, p->ifname,
							&pkt))
					continue;
				policy_compiled_decide(c, &pkt, &v);
				if (v.verdict == PW_VERDICT_ALLOW &&
				    v.reason == PW_REASON_POLICY) {
					p->src = s;
					p->dst = d;
					p->dport = ports[k];
					return 0;
				}
			}
	return -ENOENT;
}

static __u32 repeat = 100000;
static unsigned int rounds = 11;
#define MAX_ROUNDS 101
/* SYN packets, each of a new flow, for the flow creation figure */
#define N_SYN 10000

/* Mean of N_SYN single runs of SYNs with distinct source ports: each
 * creates a flow (a repeated run would hit the flow after the first);
 * the caller flushes the conntrack table before the next batch. */
static double syn_ns(int prog_fd, const struct pick *p)
{
	uint8_t f[256];
	double sum = 0, ns;
	size_t len;
	unsigned int i;

	for (i = 0; i < N_SYN; i++) {
		len = bench_frame_tcp(f, p->vlan, p->src, p->dst,
				      (uint16_t)(1024 + i), p->dport, 0x02);
		ns = bench_run_ns(prog_fd, 1, f, len, 1);
		if (ns < 0)
			return -1;
		sum += ns;
	}
	return sum / N_SYN;
}

/* The per-packet figures, one sample per round each. */
enum col { PASS, XDP_NEW, XDP_EST, XDP_SYN, TC_NEW, TC_EST, N_COLS };

struct result {
	__u32 rules;
	double compile_ms, load_ms;
	double samp[N_COLS][MAX_ROUNDS];
	/* the policy's datapath, flow and frames, kept for the rounds */
	struct fw_dp *dp;
	struct pick p;
	uint8_t syn[256], rst[256], ack[256];
	size_t len;
	struct fw_dp_map_mem slot[FW_DP_SLOT_MAPS];
	uint64_t entries[FW_DP_SLOT_MAPS]; /* filled by the policy */
	__u64 slot_bytes, global_bytes;
};

static __u64 slot_sum(const struct fw_dp_map_mem *m)
{
	__u64 sum = 0;
	unsigned int i;

	for (i = 0; i < FW_DP_SLOT_MAPS; i++)
		sum += m[i].memlock;
	return sum;
}

/* Compile and load one policy into a datapath of its own (res->dp, kept
 * open for the rounds), and note its compile and load times and memory. */
static int setup_one(__u32 n_rules, struct result *res)
{
	struct fw_dp_map_mem other[FW_DP_SLOT_MAPS];
	struct policy_analysis *an = NULL;
	struct policy_compiled *c = NULL;
	struct policy *pol = NULL;
	struct pw_diags diags;
	double t0;
	size_t ylen;
	char *yaml = NULL;
	__u64 mem = 0;
	__u32 slot;
	int ret;

	memset(res, 0, sizeof(*res));
	res->rules = n_rules;
	pw_diags_init(&diags);
	ret = fw_dp_open(&res->dp, NULL);
	if (ret)
		goto out;
	ret = policy_generate_bench(n_rules, NULL, &yaml, &ylen);
	if (ret)
		goto out;
	t0 = now_ms();
	ret = policy_load_buffer("bench.yaml", yaml, ylen, &diags, &pol);
	if (!ret)
		ret = policy_analyze(pol, &an);
	if (!ret)
		ret = policy_compile(an, n_rules, &c);
	if (ret)
		goto out;
	res->compile_ms = now_ms() - t0;
	ret = pick_flow(c, &res->p);
	if (ret) {
		fprintf(stderr, "bench: no allowed flow found at %u rules\n",
			n_rules);
		goto out;
	}
	t0 = now_ms();
	ret = fw_dp_load_compiled(res->dp, c, resolve, &res->p);
	if (ret)
		goto out;
	res->load_ms = now_ms() - t0;

	/* memory: the active slot's maps, and the global ones (all maps
	 * minus both slots: the idle slot still holds the last policy) */
	ret = fw_dp_active_slot(res->dp, &slot);
	if (!ret)
		ret = fw_dp_map_memory(res->dp, &mem);
	if (!ret)
		ret = fw_dp_slot_memory(res->dp, slot, res->slot,
					FW_DP_SLOT_MAPS);
	if (ret >= 0)
		ret = fw_dp_slot_memory(res->dp, slot ^ 1, other,
					FW_DP_SLOT_MAPS);
	if (ret < 0)
		goto out;
	ret = 0;
	res->slot_bytes = slot_sum(res->slot);
	res->global_bytes = mem - res->slot_bytes - slot_sum(other);
	res->entries[0] = c->n_ifaces;
	res->entries[1] = c->n_tenants;
	res->entries[2] = c->n_addrs;
	res->entries[3] = c->n_svcs;
	res->entries[4] = c->n_decisions;
	res->entries[5] = c->n_rules;
	res->entries[6] = 1;
	res->entries[7] = c->n_rules;
	res->entries[8] = c->n_tenants;

	res->len = bench_frame_tcp(res->rst, res->p.vlan, res->p.src,
				   res->p.dst, 40000, res->p.dport, 0x14);
	bench_frame_tcp(res->syn, res->p.vlan, res->p.src, res->p.dst, 40000,
			res->p.dport, 0x02);
	bench_frame_tcp(res->ack, res->p.vlan, res->p.src, res->p.dst, 40000,
			res->p.dport, 0x10);
out:
	free(yaml);
	policy_compiled_free(c);
	policy_analysis_free(an);
	policy_free(pol);
	pw_diags_free(&diags);
	return ret;
}

/* One round of one policy: every figure once. */
static int measure_one(struct result *res, int pass_fd, unsigned int r)
{
	int xdp_fd = fw_dp_prog_fd(res->dp, FW_DP_XDP);
	int tc_fd = fw_dp_prog_fd(res->dp, FW_DP_TC_INGRESS);
	const uint8_t *rst = res->rst;
	double *s[N_COLS];
	unsigned int k;
	int ret;

	for (k = 0; k < N_COLS; k++)
		s[k] = &res->samp[k][r];
	ret = fw_dp_ct_flush(res->dp);
	if (ret)
		return ret;
	*s[PASS] = bench_run_ns(pass_fd, 1, rst, res->len, repeat);
	*s[XDP_NEW] = bench_run_ns(xdp_fd, 1, rst, res->len, repeat);
	*s[TC_NEW] = bench_run_ns(tc_fd, 0, rst, res->len, repeat);
	if (bench_run_ns(xdp_fd, 1, res->syn, res->len, 1) < 0)
		return -errno;
	*s[XDP_EST] = bench_run_ns(xdp_fd, 1, res->ack, res->len, repeat);
	*s[TC_EST] = bench_run_ns(tc_fd, 0, res->ack, res->len, repeat);
	ret = fw_dp_ct_flush(res->dp);
	if (ret)
		return ret;
	*s[XDP_SYN] = syn_ns(xdp_fd, &res->p);
	for (k = 0; k < N_COLS; k++)
		if (*s[k] < 0)
			return -EIO;
	return fw_dp_ct_flush(res->dp);
}

struct spread {
	double med, lo, hi;
};

static struct spread spread_of(const double *v, unsigned int n)
{
	double t[MAX_ROUNDS];
	struct spread sp;

	memcpy(t, v, n * sizeof(*t));
	qsort(t, n, sizeof(*t), bench_cmp_double);
	sp.med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	sp.lo = t[0];
	sp.hi = t[n - 1];
	return sp;
}

/* The ratio a/b of column k, round by round. */
static struct spread ratio_of(const struct result *a, const struct result *b,
			      enum col k)
{
	double v[MAX_ROUNDS];
	unsigned int i;

	for (i = 0; i < rounds; i++)
		v[i] = a->samp[k][i] / b->samp[k][i];
	return spread_of(v, rounds);
}

static void print_results(const struct result *r, unsigned int n)
{
	static const char *const names[N_COLS] = { "xdp_pass", "xdp_new",
						   "xdp_est",  "xdp_syn",
						   "tc_new",   "tc_est" };
	unsigned int i, k;

	printf("\ntime: ns per packet, median of %u rounds (xdp_pass: the "
	       "no-op XDP program, same frame,\nsame rounds)\n",
	       rounds);
	printf("%8s %9s %8s %8s %8s %8s %8s %11s %9s\n", "rules", "xdp_pass",
	       "xdp_new", "xdp_est", "xdp_syn", "tc_new", "tc_est",
	       "compile_ms", "load_ms");
	for (i = 0; i < n; i++) {
		printf("%8u", r[i].rules);
		for (k = 0; k < N_COLS; k++)
			printf(" %*.0f", k == PASS ? 9 : 8,
			       spread_of(r[i].samp[k], rounds).med);
		printf(" %11.1f %9.1f\n", r[i].compile_ms, r[i].load_ms);
	}
	printf("\nspread: min-max over the rounds, ns per packet\n");
	printf("%8s", "rules");
	for (k = 0; k < N_COLS; k++)
		printf(" %11s", names[k]);
	printf("\n");
	for (i = 0; i < n; i++) {
		printf("%8u", r[i].rules);
		for (k = 0; k < N_COLS; k++) {
			struct spread sp = spread_of(r[i].samp[k], rounds);
			char cell[32];

			snprintf(cell, sizeof(cell), "%.0f-%.0f", sp.lo, sp.hi);
			printf(" %11s", cell);
		}
		printf("\n");
	}

	printf("\nmemory: the policy's maps (active slot): entries filled / "
	       "max_entries, and the kernel's\nmemlock figure (fdinfo) in "
	       "KiB; global maps (conntrack, fragments, rate buckets, ring\n"
	       "buffer, counters, outer maps) do not depend on the policy\n");
	printf("%8s", "rules");
	for (k = 0; k < FW_DP_SLOT_MAPS; k++)
		if (k != 6) /* pw_settings: one entry, always */
			printf(" %22s", r[0].slot[k].name);
	printf(" %10s %10s\n", "policy_KiB", "global_KiB");
	for (i = 0; i < n; i++) {
		printf("%8u", r[i].rules);
		for (k = 0; k < FW_DP_SLOT_MAPS; k++) {
			char cell[64];

			if (k == 6)
				continue;
			snprintf(cell, sizeof(cell), "%llu/%u %.0fK",
				 (unsigned long long)r[i].entries[k],
				 r[i].slot[k].max_entries,
				 r[i].slot[k].memlock / 1024.0);
			printf(" %22s", cell);
		}
		printf(" %10.0f %10.0f\n", r[i].slot_bytes / 1024.0,
		       r[i].global_bytes / 1024.0);
	}
}

int main(void)
{
	static const __u32 sizes[] = { 10, 100, 1000, 10000, 100000 };
	enum { N_SIZES = sizeof(sizes) / sizeof(sizes[0]) };
	static struct result res[N_SIZES];
	static const enum col ratio_cols[] = { XDP_NEW, TC_NEW, XDP_EST,
					       XDP_SYN };
	struct xdp_pass_bpf *pass = NULL;
	const char *env = getenv("BENCH_REPEAT");
	unsigned int i, r, done = 0;
	int ret = 0, pass_fd;

	if (geteuid() != 0) {
		printf("bench_datapath: needs root, skipped\n");
		return 77;
	}
	if (env && atoi(env) > 0)
		repeat = (__u32)atoi(env);
	env = getenv("BENCH_ROUNDS");
	if (env && atoi(env) > 0)
		rounds = atoi(env) > MAX_ROUNDS ? MAX_ROUNDS :
						  (unsigned int)atoi(env);
	libbpf_set_print(NULL);
	pass = xdp_pass_bpf__open_and_load();
	if (!pass) {
		ret = -errno;
		goto out;
	}
	pass_fd = bpf_program__fd(pass->progs.xdp_pass);
	printf("bench_datapath: BPF_PROG_TEST_RUN, repeat %u, %u rounds, "
	       "%d CPUs\n",
	       repeat, rounds, libbpf_num_possible_cpus());
	printf("policy shape: %s (policy/benchgen.h): one tenant per 500 "
	       "rules on shared interfaces with\n"
	       "  VLANs, reusing one address space, 20 segments each (IPv4 "
	       "and IPv6), up to 10 global\n"
	       "  rules; rules name segments mostly, some literals, any and "
	       "external; services mostly\n"
	       "  single TCP ports, some ranges, UDP, ICMP types, proto any\n",
	       policy_bench_shape_name(POLICY_BENCH_TYPICAL));
	printf("packets: TCP/IPv4 of a flow a rule of the first tenant "
	       "allows, 118 bytes\n"
	       "  new = the flow's segment with RST set: judged in full on "
	       "every run (parse, tenant,\n"
	       "        conntrack miss, 3 LPM lookups, up to 8 decision "
	       "lookups, rule) without creating a flow\n"
	       "  est = an ACK of the tracked flow (conntrack hit, counters, "
	       "TCP state)\n"
	       "  syn = a SYN that creates a flow (judged + conntrack "
	       "insert): mean of %d single runs\n"
	       "        with distinct ports, since a repeated run would find "
	       "its flow\n"
	       "rounds: every policy loaded in a datapath of its own first, "
	       "then each round measures\n"
	       "  each policy once (order rotated by one each round); "
	       "figures are medians over the rounds\n",
	       N_SYN);
	for (i = 0; i < N_SIZES; i++) {
		ret = setup_one(sizes[i], &res[i]);
		done = i + 1;
		if (ret)
			goto out;
		fprintf(stderr, "bench_datapath: %u rules loaded\n", sizes[i]);
	}
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < N_SIZES; i++) {
			ret = measure_one(&res[(i + r) % N_SIZES], pass_fd, r);
			if (ret)
				goto out;
		}
		fprintf(stderr, "bench_datapath: round %u of %u done\n", r + 1,
			rounds);
	}
	print_results(res, N_SIZES);
	printf("\nratio 10,000 rules / 10 rules, round by round: median "
	       "[min-max] of %u rounds\n",
	       rounds);
	for (i = 0; i < sizeof(ratio_cols) / sizeof(ratio_cols[0]); i++) {
		static const char *const names[N_COLS] = {
			"xdp_pass", "xdp new flow", "xdp established",
			"xdp syn",  "tc new flow",  "tc established"
		};
		struct spread sp = ratio_of(&res[3], &res[0], ratio_cols[i]);

		printf("  %-16s %.2f [%.2f-%.2f]\n", names[ratio_cols[i]],
		       sp.med, sp.lo, sp.hi);
	}
out:
	if (ret)
		fprintf(stderr, "bench_datapath: %s\n", strerror(-ret));
	for (i = 0; i < done; i++)
		fw_dp_close(res[i].dp);
	xdp_pass_bpf__destroy(pass);
	return ret ? 1 : 0;
}
