/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reject answers, built in the per-CPU scratch buffer and written over the
 * offending frame, which then goes back where it came from (ctx_bounce):
 *
 * - TCP: RST per RFC 9293 3.10.7.1 (segment with ACK: <SEQ=SEG.ACK><RST>;
 *   otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><RST,ACK>, SYN and FIN counting
 *   in SEG.LEN).
 * - Otherwise ICMP destination unreachable, code 13 (communication
 *   administratively prohibited) for IPv4, ICMPv6 type 1 code 1 for IPv6,
 *   quoting the offending IP packet from its IP header on: up to 548 bytes
 *   (IPv4: the error stays within 576 bytes, RFC 1812 4.3.2.3; always
 *   more than the header + 8 bytes RFC 792 asks for) or 1232 bytes (IPv6:
 *   within the minimum MTU, RFC 4443 2.4(c)).
 *
 * Addresses, ports and MACs are swapped; a VLAN tag in the frame is kept
 * as it is (an offloaded TC tag stays in the skb). The answer's source is
 * the offending packet's destination: plumwall has no address of its own
 * on the path it guards. TTL / hop limit 64, IPv4 DF.
 *
 * No answer (the packet is only dropped), as RFC 1122 3.2.2 / RFC 4443
 * 2.4(e) require: to a later fragment, to an ICMP error, to a TCP RST, to a
 * multicast or broadcast destination (MAC or IP), or from an unspecified
 * or multicast source.
 *
 * Scratch layout: the IP header always starts at PW_R_IP, the link-layer
 * header (14 or 18 bytes) is placed right before it, so every IP/L4 offset
 * below is a constant and the verifier only sees two variables: the start
 * of the frame (0 or 4) and its length.
 */
#ifndef PW_REJECT_H
#define PW_REJECT_H

#include "pw_common.h"
#include "pw_csum.h"
#include "pw_ctx.h"
#include "pw_maps.h"
#include "pw_parse.h"

#define PW_R_IP 18 /* IP header offset in the scratch buffer */
#define PW_R_L4_4 (PW_R_IP + IPV4_HLEN)
#define PW_R_L4_6 (PW_R_IP + IPV6_HLEN)
#define PW_R_QUOTE_4 548
#define PW_R_QUOTE_6 1232

_Static_assert(PW_R_L4_6 + ICMP_HLEN + PW_R_QUOTE_6 + 4 <= PW_REPLY_MAX,
	       "pw_scratch too small for the ICMPv6 answer");

static __always_inline int pw_reject_allowed(const struct pw_pkt *p)
{
	__u8 s0 = p->saddr[0], d0 = p->daddr[0];

	if (p->frag == PW_FRAG_LATER || p->l2_mcast)
		return 0;
	if (p->proto == IPPROTO_TCP_ && (p->tcp_flags & TCP_RST))
		return 0;
	if (p->family == PW_FAMILY_IPV4) {
		__u32 s = bpf_ntohl(*(__u32 *)p->saddr);
		__u32 d = bpf_ntohl(*(__u32 *)p->daddr);

		if ((d0 & 0xf0) == 0xe0 || d == 0xffffffff)
			return 0;
		if ((s0 & 0xf0) == 0xe0 || s == 0 || s == 0xffffffff)
			return 0;
		/* ICMP errors (and redirects, source quench) */
		if (p->proto == IPPROTO_ICMP_ &&
		    (p->icmp_type == ICMP_DEST_UNREACH_ ||
		     p->icmp_type == ICMP_SOURCE_QUENCH_ ||
		     p->icmp_type == ICMP_REDIRECT_ ||
		     p->icmp_type == ICMP_TIME_EXCEEDED_ ||
		     p->icmp_type == ICMP_PARAMETERPROB_))
			return 0;
	} else {
		const __u64 *sa = (const __u64 *)p->saddr;

		if (d0 == 0xff || s0 == 0xff)
			return 0;
		if (!sa[0] && !sa[1])
			return 0;
		/* ICMPv6 errors are the types below 128 */
		if (p->proto == IPPROTO_ICMPV6_ && p->icmp_type < 128)
			return 0;
	}
	return 1;
}

/* Link-layer header of the answer: the frame's own, MACs swapped. */
static __always_inline int pw_reject_l2(void *ctx, const int hook,
					struct pw_scratch *s, __u32 l2len)
{
	__u8 mac[ETH_ALEN];
	__u32 base;
	__u8 *b;

	if (l2len != ETH_HLEN && l2len != ETH_HLEN + VLAN_HLEN)
		return -1;
	/* Re-derive the length from the bounded start for the verifier. */
	base = PW_R_IP - l2len;
	pw_barrier_var(base);
	if (base > VLAN_HLEN)
		return -1;
	l2len = PW_R_IP - base;
	b = s->buf + base;
	if (ctx_load_bytes(ctx, hook, 0, b, l2len))
		return -1;
	__builtin_memcpy(mac, b, ETH_ALEN);
	__builtin_memcpy(b, b + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(b + ETH_ALEN, mac, ETH_ALEN);
	return 0;
}

static __always_inline void pw_reject_ipv4_hdr(__u8 *h, const struct pw_pkt *p,
					       __u8 proto, __u16 tot)
{
	struct iphdr *ip = (struct iphdr *)h;

	__builtin_memset(h, 0, IPV4_HLEN);
	h[0] = 0x45;
	ip->tot_len = bpf_htons(tot);
	ip->frag_off = bpf_htons(0x4000); /* DF */
	ip->ttl = 64;
	ip->protocol = proto;
	__builtin_memcpy(&ip->saddr, p->daddr, 4);
	__builtin_memcpy(&ip->daddr, p->saddr, 4);
	ip->check = pw_csum_fold(pw_csum_add(h, IPV4_HLEN, 0));
}

static __always_inline void pw_reject_ipv6_hdr(__u8 *h, const struct pw_pkt *p,
					       __u8 proto, __u16 plen)
{
	struct ipv6hdr *ip6 = (struct ipv6hdr *)h;

	__builtin_memset(h, 0, 8);
	h[0] = 0x60;
	ip6->payload_len = bpf_htons(plen);
	ip6->nexthdr = proto;
	ip6->hop_limit = 64;
	__builtin_memcpy(&ip6->saddr, p->daddr, 16);
	__builtin_memcpy(&ip6->daddr, p->saddr, 16);
}

/* Pseudo-header sum (RFC 793 / RFC 8200 8.1) of the answer, whose
 * addresses are the packet's swapped. */
static __always_inline __u64 pw_pseudo_sum(const struct pw_pkt *p, __u8 proto,
					   __u32 len)
{
	__u64 sum;

	if (p->family == PW_FAMILY_IPV4) {
		sum = pw_csum_add(p->saddr, 4, 0);
		sum = pw_csum_add(p->daddr, 4, sum);
	} else {
		sum = pw_csum_add(p->saddr, 16, 0);
		sum = pw_csum_add(p->daddr, 16, sum);
	}
	sum += bpf_htons((__u16)len) + ((__u64)bpf_htons(len >> 16));
	sum += bpf_htons((__u16)proto);
	return sum;
}

/* Returns the length of the answer (frame starts at PW_R_IP - l2len). */
static __always_inline int pw_build_rst(struct pw_scratch *s,
					const struct pw_pkt *p, __u32 l4)
{
	struct tcphdr *th = (struct tcphdr *)(s->buf + l4);
	__u32 seg_len, seq, ack;
	__u8 flags;
	__u64 sum;

	if (p->tcp_flags & TCP_ACK) {
		seq = p->tcp_ack;
		ack = 0;
		flags = TCP_RST;
	} else {
		seg_len = p->l4_len - p->tcp_hlen;
		if (p->tcp_flags & TCP_SYN)
			seg_len++;
		if (p->tcp_flags & TCP_FIN)
			seg_len++;
		seq = 0;
		ack = p->tcp_seq + seg_len;
		flags = TCP_RST | TCP_ACK;
	}
	__builtin_memset(th, 0, TCP_HLEN);
	th->source = bpf_htons(p->dport);
	th->dest = bpf_htons(p->sport);
	th->seq = bpf_htonl(seq);
	th->ack_seq = bpf_htonl(ack);
	s->buf[l4 + 12] = 5 << 4;
	s->buf[l4 + 13] = flags;
	sum = pw_pseudo_sum(p, IPPROTO_TCP_, TCP_HLEN);
	th->check = pw_csum_fold(pw_csum_add(th, TCP_HLEN, sum));
	return (int)(l4 + TCP_HLEN);
}

/*
 * ICMP(v6) header + quote at @l4. The quote is copied from the frame, then
 * the checksummed part (header + quote, zero-padded to a multiple of 4 for
 * bpf_csum_diff) is summed in two chunks of at most 512 bytes.
 */
static __always_inline int pw_build_unreach(void *ctx, const int hook,
					    struct pw_scratch *s,
					    const struct pw_pkt *p,
					    const __u32 l4, const __u32 qmax)
{
	__u32 q = p->ip_len, n, c, pad;
	__u8 *ic = s->buf + l4;
	__u64 sum = 0;
	long r;
	int i;

	if (q > qmax)
		q = qmax;
	pw_require_range(q, 1, qmax, return -1);
	if (ctx_load_bytes(ctx, hook, p->l3_off, s->buf + l4 + ICMP_HLEN, q))
		return -1;
	/* zero padding up to the next multiple of 4 */
	n = ICMP_HLEN + q;
	pad = l4 + n;
	pw_barrier_var(pad);
	if (pad > PW_REPLY_MAX - 3)
		return -1;
	s->buf[pad] = 0;
	s->buf[pad + 1] = 0;
	s->buf[pad + 2] = 0;

	__builtin_memset(ic, 0, ICMP_HLEN);
	if (p->family == PW_FAMILY_IPV4) {
		ic[0] = ICMP_DEST_UNREACH_;
		ic[1] = ICMP_PKT_FILTERED_;
	} else {
		ic[0] = ICMPV6_DEST_UNREACH_;
		ic[1] = ICMPV6_ADM_PROHIBITED_;
		sum = pw_pseudo_sum(p, IPPROTO_ICMPV6_, n);
	}

	n = (n + 3) & ~3U;
#pragma unroll
	for (i = 0; i < 3; i++) {
		const __u32 off = i * 512;

		if (off >= n)
			break;
		c = n - off;
		if (c > 512)
			c = 512;
		pw_require_range(c, 4, 512, return -1);
		if (c > PW_REPLY_MAX - l4 - off)
			return -1;
		r = bpf_csum_diff(NULL, 0, (__be32 *)(ic + off), c, 0);
		if (r < 0)
			return -1;
		sum += (__u32)r;
	}
	*(__u16 *)(ic + 2) = pw_csum_fold(sum);
	return (int)(l4 + ICMP_HLEN + q);
}

/*
 * Turn the frame into the answer. Returns 0 when the frame now holds it
 * (send it with ctx_bounce()), -1 when the packet is only to be dropped.
 */
static __always_inline int pw_reject(void *ctx, const int hook,
				     const struct pw_pkt *p)
{
	struct pw_scratch *s;
	__u32 zero = 0, l2len = p->l3_off, start, len;
	int end;

	if (!pw_reject_allowed(p))
		return -1;
	s = bpf_map_lookup_elem(&pw_scratch, &zero);
	if (!s)
		return -1;
	if (pw_reject_l2(ctx, hook, s, l2len))
		return -1;

	if (p->family == PW_FAMILY_IPV4) {
		if (p->proto == IPPROTO_TCP_) {
			end = pw_build_rst(s, p, PW_R_L4_4);
			pw_reject_ipv4_hdr(s->buf + PW_R_IP, p, IPPROTO_TCP_,
					   IPV4_HLEN + TCP_HLEN);
		} else {
			end = pw_build_unreach(ctx, hook, s, p, PW_R_L4_4,
					       PW_R_QUOTE_4);
			if (end < 0)
				return -1;
			pw_reject_ipv4_hdr(s->buf + PW_R_IP, p, IPPROTO_ICMP_,
					   end - PW_R_IP);
		}
	} else {
		if (p->proto == IPPROTO_TCP_) {
			end = pw_build_rst(s, p, PW_R_L4_6);
			pw_reject_ipv6_hdr(s->buf + PW_R_IP, p, IPPROTO_TCP_,
					   TCP_HLEN);
		} else {
			end = pw_build_unreach(ctx, hook, s, p, PW_R_L4_6,
					       PW_R_QUOTE_6);
			if (end < 0)
				return -1;
			pw_reject_ipv6_hdr(s->buf + PW_R_IP, p, IPPROTO_ICMPV6_,
					   end - PW_R_L4_6);
		}
	}

	start = PW_R_IP - l2len;
	len = end - start;
	pw_barrier_var(start);
	if (start > VLAN_HLEN)
		return -1;
	pw_require_range(len, ETH_HLEN, PW_REPLY_MAX - VLAN_HLEN, return -1);
	if (ctx_resize(ctx, hook, len))
		return -1;
	if (ctx_store_bytes(ctx, hook, 0, s->buf + start, len))
		return -1;
	return 0;
}

#endif /* PW_REJECT_H */
