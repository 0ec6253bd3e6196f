// SPDX-License-Identifier: GPL-2.0
/*
 * bench_reject: do reject answers reach the sender, and what does one
 * cost? In a private network namespace, a veth pair: the sender's end
 * pwr0 and pwr1, where the plumwall programs judge every frame under a
 * policy whose tenant default is reject (unlogged). The sender writes
 * TCP SYNs through a packet socket on pwr0 as fast as it can, in batches,
 * and reads the RSTs that come back on another one.
 *
 * First, BPF_PROG_TEST_RUN of pw_tc_answer on a frame that is no answer:
 * what every frame XDP passes pays for it. Then per configuration:
 * answers received of those sent, and ns per rejected
 * packet end to end (the SYN through the veth, the program, the answer
 * back through the veth into the packet socket; everything runs on the
 * sending CPU, so this is the CPU cost of a reject), mean of BENCH_RUNS.
 *
 *   xdp          native XDP on pwr1 with pw_tc_answer at its tc ingress
 *                (what apply attaches), pwr0 without an XDP program
 *   xdp+peer     the same, pwr0 running an XDP program of its own
 *   tc           pw_tc_ingress on pwr1 (clsact), no XDP
 *
 * Needs root; exits 77 (skipped) otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <plumwall/diag.h>

#include "fw/datapath.h"
#include "policy/analyze.h"
#include "policy/compile.h"
#include "policy/policy.h"
#include "bpf/xdp_pass.skel.h"
#include "tests/bench/bench_util.h"

#define N_SYN 20000
#define BATCH 32
#define BENCH_RUNS 3
/* how long answers may trail the last SYN */
#define DRAIN_MS 200

static const char policy_yaml[] = "version: 1\n"
				  "tenants:\n"
				  "  - name: lab\n"
				  "    interfaces: [pwr1]\n"
				  "    default: reject\n"
				  "    log_default: false\n";

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int sh(const char *cmd)
{
	int r = system(cmd);

	if (r) {
		fprintf(stderr, "bench_reject: '%s' failed (%d)\n", cmd, r);
		return -EIO;
	}
	return 0;
}

/* SIOCGIFHWADDR: /sys shows the namespace it was mounted in, not ours. */
static int mac_of(const char *ifname, uint8_t mac[6])
{
	struct ifreq r;
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	memset(&r, 0, sizeof(r));
	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &r))
		ret = -errno;
	else
		memcpy(mac, r.ifr_hwaddr.sa_data, 6);
	close(fd);
	return ret;
}

/* 10.77.0.2:40000 -> 10.77.0.1:25 SYN, from @src to @dst MAC. */
static size_t syn_frame(uint8_t *f, const uint8_t *src, const uint8_t *dst)
{
	uint8_t *ip = f + 14, *th = ip + 20;
	uint32_t s;

	memset(f, 0, 54);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 40;
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x4d\x00\x02\x0a\x4d\x00\x01", 8);
	s = bench_csum_fold(bench_csum_add(ip, 20, 0));
	ip[10] = (uint8_t)(s >> 8);
	ip[11] = (uint8_t)s;
	th[0] = 40000 >> 8;
	th[1] = 40000 & 0xff;
	th[3] = 25;
	th[7] = 1;
	th[12] = 5 << 4;
	th[13] = 0x02;
	th[14] = 0xff;
	th[15] = 0xff;
	s = bench_csum_add(ip + 12, 8, 6 + 20);
	s = bench_csum_fold(bench_csum_add(th, 20, s));
	th[16] = (uint8_t)(s >> 8);
	th[17] = (uint8_t)s;
	return 54;
}

/* The RSTs from 10.77.0.1:25 waiting on @fd; non-blocking. */
static unsigned int drain(int fd)
{
	uint8_t b[256];
	unsigned int n = 0;
	ssize_t len;

	while ((len = recv(fd, b, sizeof(b), MSG_DONTWAIT)) > 0)
		if (len >= 54 && b[12] == 0x08 && b[13] == 0 && b[23] == 6 &&
		    !memcmp(b + 26, "\x0a\x4d\x00\x01", 4) && b[35] == 25 &&
		    (b[47] & 0x04))
			n++;
	return n;
}

/* Send N_SYN, count the answers; ns per packet through *@ns. */
static int run_once(int tx, int rx, const uint8_t *frame, size_t len,
		    unsigned int *answers, double *ns)
{
	struct mmsghdr m[BATCH];
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = len };
	struct pollfd p = { .fd = rx, .events = POLLIN };
	unsigned int sent = 0, got = 0, i;
	uint64_t t0, t1;
	int r;

	memset(m, 0, sizeof(m));
	for (i = 0; i < BATCH; i++) {
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	drain(rx);
	t0 = now_ns();
	while (sent < N_SYN) {
		r = sendmmsg(tx, m, BATCH, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			return -errno;
		}
		sent += (unsigned int)r;
		got += drain(rx);
	}
	got += drain(rx);
	t1 = now_ns();
	/* stragglers: bounded */
	while (got < sent && poll(&p, 1, DRAIN_MS) > 0)
		got += drain(rx);
	*answers = got;
	*ns = (double)(t1 - t0) / sent;
	return 0;
}

static int packet_socket(int ifindex, int proto)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET,
				 .sll_protocol = htons((uint16_t)proto),
				 .sll_ifindex = ifindex };
	int fd, sz = 64 << 20;

	fd = socket(AF_PACKET, SOCK_RAW, htons((uint16_t)proto));
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int measure(const char *name, int tx, int rx, const uint8_t *frame,
		   size_t len)
{
	unsigned int answers, total = 0, i;
	double ns, sum = 0;
	int ret;

	for (i = 0; i < BENCH_RUNS; i++) {
		ret = run_once(tx, rx, frame, len, &answers, &ns);
		if (ret)
			return ret;
		total += answers;
		sum += ns;
	}
	printf("  %-10s %8u of %8u answered  %7.0f ns per rejected packet\n",
	       name, total, BENCH_RUNS * N_SYN, sum / BENCH_RUNS);
	return 0;
}

static int tc_attach(int ifindex, int fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = 1, .priority = 1);
	static bool hooked;
	int ret;

	if (!hooked) {
		ret = bpf_tc_hook_create(&hook);
		if (ret)
			return ret;
		hooked = true;
	}
	o.prog_fd = fd;
	o.flags = BPF_TC_F_REPLACE;
	return bpf_tc_attach(&hook, &o);
}

static int bench(void)
{
	struct fw_dp_opts o = { .ct_max_entries = 65536 };
	struct policy_analysis *an = NULL;
	struct policy_compiled *c = NULL;
	struct xdp_pass_bpf *pass = NULL;
	struct policy *pol = NULL;
	struct fw_dp *dp = NULL;
	struct fw_dp_run run = { 0 };
	struct pw_diags diags;
	uint8_t m0[6], m1[6], frame[64];
	int if0, if1, tx = -1, rx = -1, ret;
	size_t len;

	pw_diags_init(&diags);
	if (unshare(CLONE_NEWNET)) {
		ret = -errno;
		goto out;
	}
	ret = sh("echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6 && "
		 "ip link add pwr0 type veth peer name pwr1 && "
		 "ip link set pwr0 up && ip link set pwr1 up");
	if (ret)
		goto out;
	if0 = (int)if_nametoindex("pwr0");
	if1 = (int)if_nametoindex("pwr1");
	ret = mac_of("pwr0", m0);
	if (!ret)
		ret = mac_of("pwr1", m1);
	if (!ret)
		ret = policy_load_buffer("bench.yaml", policy_yaml,
					 sizeof(policy_yaml) - 1, &diags, &pol);
	if (!ret)
		ret = policy_analyze(pol, &an);
	if (!ret)
		ret = policy_compile(an, 1, &c);
	if (!ret)
		ret = fw_dp_open(&dp, &o);
	if (!ret)
		ret = fw_dp_load_compiled(dp, c, NULL, NULL);
	if (ret)
		goto out;
	pass = xdp_pass_bpf__open_and_load();
	if (!pass) {
		ret = -errno;
		goto out;
	}
	len = syn_frame(frame, m0, m1);
	tx = packet_socket(if0, 0);
	rx = packet_socket(if0, ETH_P_IP);
	if (tx < 0 || rx < 0) {
		ret = tx < 0 ? tx : rx;
		goto out;
	}

	/* what every frame XDP passes pays for the answer program */
	run.prog = FW_DP_TC_ANSWER;
	run.in = frame;
	run.in_len = (__u32)len;
	run.repeat = 100000;
	ret = fw_dp_test_run(dp, &run);
	if (ret)
		goto out;
	printf("bench_reject: pw_tc_answer on a frame that is no answer: %u ns\n",
	       run.duration_ns);
	printf("bench_reject: %u TCP SYNs to a reject default, %d runs\n",
	       N_SYN, BENCH_RUNS);
	ret = bpf_xdp_attach(if1, fw_dp_prog_fd(dp, FW_DP_XDP),
			     XDP_FLAGS_DRV_MODE, NULL);
	if (!ret)
		ret = tc_attach(if1, fw_dp_prog_fd(dp, FW_DP_TC_ANSWER));
	if (!ret)
		ret = measure("xdp", tx, rx, frame, len);
	if (!ret)
		ret = bpf_xdp_attach(if0, bpf_program__fd(pass->progs.xdp_pass),
				     XDP_FLAGS_DRV_MODE, NULL);
	if (!ret)
		ret = measure("xdp+peer", tx, rx, frame, len);
	if (!ret)
		ret = bpf_xdp_detach(if0, XDP_FLAGS_DRV_MODE, NULL);
	if (!ret)
		ret = bpf_xdp_detach(if1, XDP_FLAGS_DRV_MODE, NULL);
	if (!ret)
		ret = tc_attach(if1, fw_dp_prog_fd(dp, FW_DP_TC_INGRESS));
	if (!ret)
		ret = measure("tc", tx, rx, frame, len);
out:
	if (ret)
		fprintf(stderr, "bench_reject: %s\n", strerror(-ret));
	if (tx >= 0)
		close(tx);
	if (rx >= 0)
		close(rx);
	xdp_pass_bpf__destroy(pass);
	fw_dp_close(dp);
	policy_compiled_free(c);
	policy_analysis_free(an);
	policy_free(pol);
	pw_diags_free(&diags);
	return ret;
}

int main(void)
{
	if (geteuid() != 0) {
		printf("bench_reject: needs root, skipped\n");
		return 77;
	}
	return bench() ? 1 : 0;
}
