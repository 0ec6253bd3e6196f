/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pieces the BPF_PROG_TEST_RUN benchmarks share: frames they write, runs
 * of a program on one frame, medians. Header-only (static inline): every
 * tests/bench/NAME.c is a program of its own.
 */
#ifndef PLUMWALL_BENCH_UTIL_H
#define PLUMWALL_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

/* Room for any frame bench_frame_tcp() writes. */
#define BENCH_FRAME_LEN 256

static inline void bench_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/*
 * The Internet checksum (RFC 1071): bench_csum_add() sums 16-bit
 * big-endian words into @s (a pseudo-header first, then the header),
 * bench_csum_fold() folds and complements the sum into the field's value
 * (host order).
 */
static inline uint32_t bench_csum_add(const uint8_t *p, size_t n, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	return s;
}

static inline uint16_t bench_csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet 02:00:00:00:00:02 <- 02:00:00:00:00:01 (+ 802.1Q @vlan when
 * not 0), IPv4 @src -> @dst (host order) with its checksum, TCP @sport ->
 * @dport with @flags, 64 bytes of zero payload, into @f
 * (BENCH_FRAME_LEN bytes). Returns the frame's length. */
static inline size_t bench_frame_tcp(uint8_t *f, uint16_t vlan, uint32_t src,
				     uint32_t dst, uint16_t sport,
				     uint16_t dport, uint8_t flags)
{
	size_t off = 12, l3;
	uint8_t *ip, *th;

	memset(f, 0, BENCH_FRAME_LEN);
	f[0] = 2;
	f[5] = 2;
	f[6] = 2;
	f[11] = 1;
	if (vlan) {
		bench_put16(f + off, 0x8100);
		bench_put16(f + off + 2, vlan);
		off += 4;
	}
	bench_put16(f + off, 0x0800);
	l3 = off + 2;
	ip = f + l3;
	ip[0] = 0x45;
	bench_put16(ip + 2, 20 + 20 + 64);
	ip[8] = 64;
	ip[9] = 6;
	bench_put16(ip + 12, src >> 16);
	bench_put16(ip + 14, src & 0xffff);
	bench_put16(ip + 16, dst >> 16);
	bench_put16(ip + 18, dst & 0xffff);
	bench_put16(ip + 10, bench_csum_fold(bench_csum_add(ip, 20, 0)));
	th = ip + 20;
	bench_put16(th, sport);
	bench_put16(th + 2, dport);
	th[12] = 0x50;
	th[13] = flags;
	return l3 + 20 + 20 + 64;
}

/* The index of a policy's interface @ifname as the compiler's resolver
 * gives it: the benchmarks run their frames on index 1 (the loopback),
 * which goes to the interface they picked (@picked); the others get
 * made-up indexes that no test-run packet carries. Returns 0. */
static inline int bench_ifindex(const char *ifname, const char *picked,
				uint32_t *ifindex)
{
	uint32_t h = 1000;
	const char *c;

	if (!strcmp(ifname, picked)) {
		*ifindex = 1;
		return 0;
	}
	for (c = ifname; *c; c++)
		h = h * 31 + (uint8_t)*c;
	*ifindex = 1000 + h % 1000000;
	return 0;
}

/* One BPF_PROG_TEST_RUN of @prog_fd on @f, @rep times (an XDP program
 * when @xdp, else tc): the kernel's mean ns per run, or -1. */
static inline double bench_run_ns(int prog_fd, int xdp, const uint8_t *f,
				  size_t len, __u32 rep)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);
	struct xdp_md xctx = {};

	o.data_in = f;
	o.data_size_in = (__u32)len;
	o.repeat = rep;
	if (xdp) {
		xctx.data_end = (__u32)len;
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
	}
	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	return o.duration;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of @v[0..n) (sorts @v). */
static inline double bench_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* PLUMWALL_BENCH_UTIL_H */
