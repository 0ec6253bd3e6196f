// SPDX-License-Identifier: GPL-2.0
/*
 * bench_vs_gen - the generator and floor loader of `make bench-vs`
 * (tests/bench/bench-vs.sh, which describes the method).
 *
 *   bench_vs_gen send IF DST_MAC SRC_IP DST_IP DPORT FLOWS MS [PRIME [PROG_ID]]
 *       Sends 64-byte UDP frames out of IF (a veth end, in the current
 *       network namespace) with bpf/bench_vs.bpf.c's pw_bench_gen under
 *       BPF_PROG_TEST_RUN in live-frames mode: FLOWS flows (source ports
 *       10000, 10001, ...), first PRIME frames (default 0) and a warm-up
 *       of 64 that are not timed, then one timed run sized to last about
 *       MS milliseconds from the warm-up's speed. Prints
 *       "sent N ns T wall W" for the timed run: T is the kernel's time
 *       for the N frames (send_frames()), W the wall time of the call.
 *       With PROG_ID, bpf_stats are on (BPF_ENABLE_STATS) for the timed
 *       run, and "prog_ns P prog_runs R" are program PROG_ID's run time
 *       and runs in it (0 0 without).
 *   bench_vs_gen attach IF drop|pass|sink
 *       Attaches a floor (XDP_DROP, XDP_PASS) or the sink (XDP_DROP) to
 *       IF in native mode; the attachment outlives the process and goes
 *       with the interface.
 *   bench_vs_gen gro IF
 *       Turns GRO on for IF (ethtool -K IF gro on, without ethtool): a
 *       veth end takes frames sent to it with XDP_TX only when it has
 *       NAPI, which it has with an XDP program or with GRO on; the
 *       firewalls without an XDP program (tc, nftables) need the latter.
 *
 * Exit status 0, 1 on an error (with a message on stderr), 2 on usage.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "bpf/bench_vs.skel.h"
#include "tests/bench/bench_util.h"

#define FRAME_LEN 64
#define WARMUP 64

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The template the program copies into every frame: Ethernet to DST_MAC
 * from IF's own address, IPv4 SRC_IP -> DST_IP, TTL 64, UDP to DPORT with
 * no checksum, 22 bytes of zero payload. */
static int build_frame(uint8_t *f, const char *ifname, const char *mac,
		       const char *src, const char *dst, unsigned int dport)
{
	unsigned int m[6];
	struct in_addr s, d;
	char path[128];
	uint16_t sum;
	FILE *fp;
	int i;

	memset(f, 0, FRAME_LEN);
	if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
		   &m[5]) != 6 ||
	    !inet_pton(AF_INET, src, &s) || !inet_pton(AF_INET, dst, &d) ||
	    !dport || dport > 65535)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		f[i] = (uint8_t)m[i];
	/* the sender's own address, as the firewall would see it */
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	fp = fopen(path, "r");
	if (fp) {
		if (fscanf(fp, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3],
			   &m[4], &m[5]) == 6)
			for (i = 0; i < 6; i++)
				f[6 + i] = (uint8_t)m[i];
		fclose(fp);
	}
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = 0;
	f[17] = FRAME_LEN - 14;
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, &s, 4);
	memcpy(f + 30, &d, 4);
	sum = bench_csum_fold(bench_csum_add(f + 14, 20, 0));
	f[24] = sum >> 8;
	f[25] = sum & 0xff;
	/* UDP: source port written per flow by the program */
	f[36] = dport >> 8;
	f[37] = dport & 0xff;
	f[38] = 0;
	f[39] = FRAME_LEN - 34;
	return 0;
}

/* *ns: the kernel's time for the N frames (BPF_PROG_TEST_RUN's duration,
 * its mean per run, times N), without the setup of the call (a page pool
 * for the frames: about 30 ms on the development VM, which would swamp a
 * wall-clock figure); *wall: the whole call. */
static int send_frames(int fd, unsigned int ifindex, const uint8_t *f, __u32 n,
		       double *ns, double *wall)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct xdp_md xctx = {};
	double t0;
	int ret;

	xctx.data_end = FRAME_LEN;
	xctx.ingress_ifindex = ifindex;
	o.data_in = f;
	o.data_size_in = FRAME_LEN;
	o.ctx_in = &xctx;
	o.ctx_size_in = sizeof(xctx);
	o.repeat = n;
	o.flags = BPF_F_TEST_XDP_LIVE_FRAMES;
	t0 = now_ns();
	ret = bpf_prog_test_run_opts(fd, &o);
	if (ret)
		return -errno;
	*wall = now_ns() - t0;
	*ns = (double)o.duration * n;
	return 0;
}

/* The kernel's run time and run count of program ID so far (counted
 * while bpf_stats are on). */
static int prog_stats(int fd, __u64 *ns, __u64 *cnt)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*ns = info.run_time_ns;
	*cnt = info.run_cnt;
	return 0;
}

static int cmd_send(char **argv, int prime, __u32 prog_id)
{
	__u64 rt0 = 0, rc0 = 0, rt1 = 0, rc1 = 0;
	int stats_fd = -1, prog_fd = -1;
	struct bench_vs_bpf *skel = NULL;
	uint8_t frame[FRAME_LEN];
	unsigned int ifindex, flows;
	double ms, ns, wall, n;
	int ret, fd;

	ifindex = if_nametoindex(argv[0]);
	flows = (unsigned int)strtoul(argv[5], NULL, 10);
	ms = strtod(argv[6], NULL);
	if (!ifindex || !flows || flows > 65536 - 10000 || ms <= 0) {
		ret = -EINVAL;
		goto out;
	}
	ret = build_frame(frame, argv[0], argv[1], argv[2], argv[3],
			  (unsigned int)strtoul(argv[4], NULL, 10));
	if (ret)
		goto out;
	skel = bench_vs_bpf__open();
	if (!skel) {
		ret = -errno;
		goto out;
	}
	skel->rodata->pw_bench_flows = flows;
	memcpy((void *)skel->rodata->pw_bench_frame, frame, FRAME_LEN);
	ret = bench_vs_bpf__load(skel);
	if (ret)
		goto out;
	fd = bpf_program__fd(skel->progs.pw_bench_gen);
	if (prime > 0) {
		ret = send_frames(fd, ifindex, frame, (__u32)prime, &ns, &wall);
		if (ret)
			goto out;
	}
	ret = send_frames(fd, ifindex, frame, WARMUP, &ns, &wall);
	if (ret)
		goto out;
	/* one timed run of about MS: the warm-up's speed sets its size */
	n = ms * 1e6 / (ns / WARMUP);
	if (n < 16)
		n = 16;
	if (n > 1e8)
		n = 1e8;
	if (prog_id) {
		/* bpf_stats for this run only: BPF_ENABLE_STATS, held by an
		 * fd, leaves kernel.bpf_stats_enabled as it is */
		prog_fd = bpf_prog_get_fd_by_id(prog_id);
		if (prog_fd < 0) {
			ret = -errno;
			goto out;
		}
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0) {
			ret = -errno;
			goto out;
		}
		ret = prog_stats(prog_fd, &rt0, &rc0);
		if (ret)
			goto out;
	}
	ret = send_frames(fd, ifindex, frame, (__u32)n, &ns, &wall);
	if (ret)
		goto out;
	if (prog_id) {
		ret = prog_stats(prog_fd, &rt1, &rc1);
		if (ret)
			goto out;
		if (rc1 <= rc0) {
			ret = -ENODATA;
			goto out;
		}
	}
	printf("sent %u ns %.0f wall %.0f prog_ns %llu prog_runs %llu\n",
	       (__u32)n, ns, wall, (unsigned long long)(rt1 - rt0),
	       (unsigned long long)(rc1 - rc0));
out:
	if (stats_fd >= 0)
		close(stats_fd);
	if (prog_fd >= 0)
		close(prog_fd);
	bench_vs_bpf__destroy(skel);
	return ret;
}

static int cmd_attach(const char *ifname, const char *what)
{
	struct bench_vs_bpf *skel = NULL;
	struct bpf_program *prog;
	unsigned int ifindex;
	int ret;

	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;
	skel = bench_vs_bpf__open_and_load();
	if (!skel)
		return -errno;
	if (!strcmp(what, "drop")) {
		prog = skel->progs.pw_bench_drop;
	} else if (!strcmp(what, "pass")) {
		prog = skel->progs.pw_bench_pass;
	} else if (!strcmp(what, "sink")) {
		prog = skel->progs.pw_bench_sink;
	} else {
		ret = -EINVAL;
		goto out;
	}
	ret = bpf_xdp_attach((int)ifindex, bpf_program__fd(prog),
			     XDP_FLAGS_DRV_MODE, NULL);
out:
	bench_vs_bpf__destroy(skel);
	return ret;
}

static int cmd_gro(const char *ifname)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_SGRO, .data = 1 };
	struct ifreq ifr = {};
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		ret = -errno;
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	int ret;

	libbpf_set_print(NULL);
	if (argc >= 9 && argc <= 11 && !strcmp(argv[1], "send")) {
		ret = cmd_send(argv + 2, argc >= 10 ? atoi(argv[9]) : 0,
			       argc >= 11 ? (__u32)strtoul(argv[10], NULL, 10) :
					    0);
	} else if (argc == 3 && !strcmp(argv[1], "gro")) {
		ret = cmd_gro(argv[2]);
	} else if (argc == 4 && !strcmp(argv[1], "attach")) {
		ret = cmd_attach(argv[2], argv[3]);
	} else {
		fprintf(stderr,
			"usage: bench_vs_gen send IF DST_MAC SRC_IP DST_IP "
			"DPORT FLOWS MS [PRIME [PROG_ID]]\n"
			"       bench_vs_gen attach IF drop|pass|sink\n"
			"       bench_vs_gen gro IF\n");
		return 2;
	}
	if (ret)
		fprintf(stderr, "bench_vs_gen %s: %s\n", argv[1],
			strerror(-ret));
	return ret ? 1 : 0;
}
