// SPDX-License-Identifier: GPL-2.0
/*
 * bench_datapath: ns per packet of the plumwall programs under generated
 * policies of 10 .. 100,000 rules (policy/benchgen.h, through the real
 * front end and compiler), next to the no-op xdp_pass program measured in
 * the same run, plus compile/load time and map memory.
 *
 * Packets (BPF_PROG_TEST_RUN, repeat BENCH_REPEAT, default 100000):
 *   new  a TCP segment of a flow the policy allows, with RST set so it is
 *        judged in full every time (parse, tenant, conntrack miss, LPM x3,
 *        up to 8 decision lookups, rule) but creates no flow;
 *   est  an ACK of a tracked flow (conntrack hit, counters, TCP state).
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

#define LO 1

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet (+ 802.1Q) + IPv4 + TCP, 64 bytes of payload. */
static size_t frame_tcp(uint8_t *f, uint16_t vlan, uint32_t src, uint32_t dst,
			uint16_t sport, uint16_t dport, uint8_t flags)
{
	size_t off = 12, l3;
	uint8_t *ip, *th;

	memset(f, 0, 256);
	f[0] = 2;
	f[5] = 2;
	f[6] = 2;
	f[11] = 1;
	if (vlan) {
		put16(f + off, 0x8100);
		put16(f + off + 2, vlan);
		off += 4;
	}
	put16(f + off, 0x0800);
	l3 = off + 2;
	ip = f + l3;
	ip[0] = 0x45;
	put16(ip + 2, 20 + 20 + 64);
	ip[8] = 64;
	ip[9] = 6;
	put16(ip + 12, src >> 16);
	put16(ip + 14, src & 0xffff);
	put16(ip + 16, dst >> 16);
	put16(ip + 18, dst & 0xffff);
	put16(ip + 10, csum(ip, 20));
	th = ip + 20;
	put16(th, sport);
	put16(th + 2, dport);
	th[12] = 0x50;
	th[13] = flags;
	return l3 + 20 + 20 + 64;
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
	uint32_t h = 1000;
	const char *c;

	/* The picked interface is the loopback (where test runs happen);
	 * others get made-up indexes that no packet will carry. */
	if (!strcmp(ifname, p->ifname)) {
		*ifindex = LO;
		return 0;
	}
	for (c = ifname; *c; c++)
		h = h * 31 + (uint8_t)*c;
	*ifindex = 1000 + h % 1000000;
	return 0;
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

				len = frame_tcp(f, p->vlan, s, d, 40000,
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

static double run_ns(int prog_fd, int xdp, const uint8_t *f, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct xdp_md xctx = {};

	o.data_in = f;
	o.data_size_in = (__u32)len;
	o.repeat = repeat;
	if (xdp) {
		xctx.data_end = (__u32)len;
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
	}
	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	return o.duration;
}

static int bench_one(struct fw_dp *dp, int pass_fd, __u32 n_rules)
{
	struct policy_analysis *an = NULL;
	struct policy_compiled *c = NULL;
	struct policy *pol = NULL;
	struct pw_diags diags;
	struct pick p = {};
	double t0, t_compile, t_load, base, nx, ex, nt, et;
	uint8_t syn[256], rst[256], ack[256];
	size_t len;
	char *yaml = NULL;
	size_t ylen;
	__u64 mem = 0;
	int ret, xdp_fd, tc_fd;

	pw_diags_init(&diags);
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
	t_compile = now_ms() - t0;
	ret = pick_flow(c, &p);
	if (ret) {
		fprintf(stderr, "bench: no allowed flow found at %u rules\n",
			n_rules);
		goto out;
	}
	t0 = now_ms();
	ret = fw_dp_load_compiled(dp, c, resolve, &p);
	if (ret)
		goto out;
	t_load = now_ms() - t0;
	ret = fw_dp_ct_flush(dp);
	if (!ret)
		ret = fw_dp_map_memory(dp, &mem);
	if (ret)
		goto out;

	xdp_fd = fw_dp_prog_fd(dp, FW_DP_XDP);
	tc_fd = fw_dp_prog_fd(dp, FW_DP_TC_INGRESS);
	len = frame_tcp(rst, p.vlan, p.src, p.dst, 40000, p.dport, 0x14);
	frame_tcp(syn, p.vlan, p.src, p.dst, 40000, p.dport, 0x02);
	frame_tcp(ack, p.vlan, p.src, p.dst, 40000, p.dport, 0x10);

	base = run_ns(pass_fd, 1, rst, len);
	nx = run_ns(xdp_fd, 1, rst, len);
	nt = run_ns(tc_fd, 0, rst, len);
	{
		struct fw_dp_run r = { .prog = FW_DP_XDP,
				       .in = syn,
				       .in_len = (__u32)len };

		ret = fw_dp_test_run(dp, &r);
		if (ret)
			goto out;
	}
	ex = run_ns(xdp_fd, 1, ack, len);
	et = run_ns(tc_fd, 0, ack, len);
	printf("%8u %9zu %10.1f %8.1f %9.1f %9.0f %8.0f %8.0f %8.0f %8.0f\n",
	       n_rules, (size_t)c->n_decisions, t_compile, t_load,
	       mem / 1048576.0, base, nx, ex, nt, et);
	fflush(stdout);
out:
	free(yaml);
	policy_compiled_free(c);
	policy_analysis_free(an);
	policy_free(pol);
	pw_diags_free(&diags);
	return ret;
}

int main(void)
{
	static const __u32 sizes[] = { 10, 100, 1000, 10000, 100000 };
	struct xdp_pass_bpf *pass = NULL;
	struct fw_dp *dp = NULL;
	const char *env = getenv("BENCH_REPEAT");
	unsigned int i;
	int ret = 0;

	if (geteuid() != 0) {
		printf("bench_datapath: needs root, skipped\n");
		return 77;
	}
	if (env && atoi(env) > 0)
		repeat = (__u32)atoi(env);
	libbpf_set_print(NULL);
	pass = xdp_pass_bpf__open_and_load();
	if (!pass) {
		ret = -errno;
		goto out;
	}
	ret = fw_dp_open(&dp, NULL);
	if (ret)
		goto out;
	printf("bench_datapath: ns/packet, BPF_PROG_TEST_RUN repeat %u, "
	       "%d CPUs\n",
	       repeat, libbpf_num_possible_cpus());
	printf("  new = allowed flow judged in full (no state), est = packet "
	       "of a tracked flow\n");
	printf("   rules decisions compile_ms load_ms  maps_MiB  xdp_pass  "
	       "xdp_new  xdp_est   tc_new   tc_est\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ret = bench_one(dp, bpf_program__fd(pass->progs.xdp_pass),
				sizes[i]);
		if (ret)
			goto out;
	}
out:
	if (ret)
		fprintf(stderr, "bench_datapath: %s\n", strerror(-ret));
	fw_dp_close(dp);
	xdp_pass_bpf__destroy(pass);
	return ret ? 1 : 0;
}
