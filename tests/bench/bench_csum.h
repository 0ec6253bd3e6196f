/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Internet checksum (RFC 1071) of the frames the benchmarks write:
 * bench_csum_add() sums 16-bit big-endian words into @s (a pseudo-header
 * first, then the header), bench_csum_fold() folds and complements the
 * sum into the field's value (host order).
 */
#ifndef PLUMWALL_BENCH_CSUM_H
#define PLUMWALL_BENCH_CSUM_H

#include <stddef.h>
#include <stdint.h>

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

#endif /* PLUMWALL_BENCH_CSUM_H */
