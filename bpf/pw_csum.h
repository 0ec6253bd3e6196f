/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internet checksum (RFC 1071) helpers for the reject answers. Small fixed
 * headers are summed inline, 16 bits at a time (even offsets, constant
 * lengths, so clang unrolls); the variable-length ICMP quote goes through
 * bpf_csum_diff() in chunks of at most 512 bytes, the limit older kernels
 * put on that helper.
 */
#ifndef PW_CSUM_H
#define PW_CSUM_H

#include "pw_common.h"

/* Fold a 64-bit one's complement accumulator and complement it: the
 * value to store in a checksum field (as-is, no byte swap). */
static __always_inline __u16 pw_csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Add @len bytes at @p (@len even and constant) to @sum. */
static __always_inline __u64 pw_csum_add(const void *p, const int len,
					 __u64 sum)
{
	const __u16 *w = p;
	int i;

#pragma unroll
	for (i = 0; i < len / 2; i++)
		sum += w[i];
	return sum;
}

#endif /* PW_CSUM_H */
