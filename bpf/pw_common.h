/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Basics every datapath header needs: vmlinux.h, libbpf helpers, the
 * shared contract, and the protocol constants vmlinux.h cannot carry
 * (it has types, not #defines).
 */
#ifndef PW_COMMON_H
#define PW_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <plumwall/shared.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
/*
 * An address given as a byte pointer, known to be 4-byte aligned (every
 * address here is in a struct with a 32-bit member at a multiple-of-4
 * offset, or an array declared as words). Without it clang copies such
 * an address a byte at a time: the two 16-byte memcpy of a flow key
 * became 32 byte loads with their shifts and ors, 130 instructions.
 */
#define PW_ADDR_ALIGNED(a) ((const __u8 *)__builtin_assume_aligned((a), 4))

#define __pw_noinline __attribute__((noinline))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/*
 * Hide a value from the optimiser so that the bounds check the verifier
 * needs is done on the register actually used (clang otherwise merges
 * "x < N" into later arithmetic and the verifier loses the bound).
 */
#define pw_barrier_var(var) asm volatile("" : "+r"(var))

/*
 * Run @fail (a return statement) unless lo <= var <= hi (0 < lo, hi <
 * 2^31), tested as two compares on the register itself, in forms every
 * supported verifier learns bounds from:
 * - Written plainly, clang folds the pair into one unsigned compare of
 *   (var - lo), a register the verifiers of Linux 6.1 and 6.12 do not
 *   relate back to var: var keeps a lower bound of 0 and a helper's size
 *   argument is refused ("invalid zero-sized read"). The barriers keep
 *   the compares apart.
 * - For lo == 1 clang tests "var == 0", which 6.1 does not turn into a
 *   lower bound of 1 (later kernels do). A signed "var < lo" it does.
 */
#define pw_require_range(var, lo, hi, fail)       \
	do {                                      \
		pw_barrier_var(var);              \
		if ((__s32)(var) < (__s32)(lo)) { \
			fail;                     \
		}                                 \
		pw_barrier_var(var);              \
		if ((var) > (hi)) {               \
			fail;                     \
		}                                 \
		pw_barrier_var(var);              \
	} while (0)

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define ETH_ALEN 6
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define ETH_P_QINQ1 0x9100 /* pre-802.1ad vendor outer tag */

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_NONE_ 59
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_MH_ 135

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define ICMP_ECHOREPLY_ 0
#define ICMP_DEST_UNREACH_ 3
#define ICMP_SOURCE_QUENCH_ 4
#define ICMP_REDIRECT_ 5
#define ICMP_ECHO_ 8
#define ICMP_TIME_EXCEEDED_ 11
#define ICMP_PARAMETERPROB_ 12
#define ICMP_PKT_FILTERED_ \
	13 /* code: communication administratively prohibited */
#define ICMPV6_DEST_UNREACH_ 1
#define ICMPV6_ADM_PROHIBITED_ 1
#define ICMPV6_ECHO_REQUEST_ 128
#define ICMPV6_ECHO_REPLY_ 129
#define ICMPV6_ND_FIRST_ 133 /* router solicitation */
#define ICMPV6_ND_LAST_ 137 /* redirect */
#define ICMPV6_ND_HOP_LIMIT_ 255

#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define TCP_HLEN 20
#define UDP_HLEN 8
#define ICMP_HLEN 8

/* TC return codes (uapi pkt_cls.h, not in BTF). */
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7

#endif /* PW_COMMON_H */
