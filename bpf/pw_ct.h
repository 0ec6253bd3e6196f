/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Connection tracking: one pw_ct entry per flow, found from both
 * directions through the normalised key (shared.h), with per-direction
 * counters and a small TCP state machine:
 *
 *   SYN          SYN (without ACK) of a new flow
 *   ESTABLISHED  SYN+ACK from the responder; a reply of a UDP/ICMP/other
 *                flow; or a TCP flow picked up mid-stream (see below)
 *   CLOSING      FIN seen from one side
 *   CLOSED       FIN seen from both sides, or RST: the flow has ended
 *                (flow end event emitted), the entry stays for the
 *                tcp_closing timeout so the last ACK and retransmissions
 *                still pass, and a new SYN on the same tuple starts a new
 *                flow.
 *
 * Timeouts: settings.timeout_ns by state/protocol, measured from the last
 * packet. The datapath notices an expiry only when a packet of the flow
 * comes: it then emits the flow end (timeout) and judges the packet as
 * new. Flows that expire silently are found and ended by the daemon,
 * which walks pw_ct (issue 4).
 */
#ifndef PW_CT_H
#define PW_CT_H

#include "pw_common.h"
#include "pw_ctx.h"
#include "pw_maps.h"
#include "pw_parse.h"
#include "pw_policy.h"

/* memcmp() order of two 16-byte addresses, a word at a time. */
static __always_inline int pw_addr_cmp(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		__u32 u = bpf_ntohl(x[i]), v = bpf_ntohl(y[i]);

		if (u != v)
			return u < v ? -1 : 1;
	}
	return 0;
}

/* Ports of the flow key: TCP/UDP ports, the ICMP echo identifier twice,
 * 0 for other protocols. */
static __always_inline void pw_flow_ports(const struct pw_pkt *p, __u16 *sp,
					  __u16 *dp)
{
	if (p->proto == IPPROTO_TCP_ || p->proto == IPPROTO_UDP_) {
		*sp = p->sport;
		*dp = p->dport;
	} else if (pw_is_icmp(p->proto)) {
		*sp = p->echo_id;
		*dp = p->echo_id;
	} else {
		*sp = 0;
		*dp = 0;
	}
}

/* Which packets belong to trackable flows at all: ICMP other than echo
 * (errors, neighbour discovery...) is judged packet by packet. */
static __always_inline int pw_flow_trackable(const struct pw_pkt *p)
{
	if (pw_is_icmp(p->proto))
		return pw_is_echo(p->proto, p->icmp_type);
	return 1;
}

/* Fill the key from one packet's view of the flow; returns 1 when that
 * packet's source is endpoint a. Addresses are 16 bytes, IPv4 padded. */
static __always_inline int pw_ct_key_fill(struct pw_ct_key *k, __u16 tenant,
					  __u8 family, __u8 proto,
					  const __u8 *saddr, const __u8 *daddr,
					  __u16 sp, __u16 dp)
{
	int c, src_is_a;

	saddr = PW_ADDR_ALIGNED(saddr);
	daddr = PW_ADDR_ALIGNED(daddr);
	k->tenant = tenant;
	k->family = family;
	k->proto = proto;
	c = pw_addr_cmp(saddr, daddr);
	src_is_a = c < 0 || (c == 0 && sp <= dp);
	if (src_is_a) {
		k->port_a = sp;
		k->port_b = dp;
		__builtin_memcpy(k->addr_a, saddr, 16);
		__builtin_memcpy(k->addr_b, daddr, 16);
	} else {
		k->port_a = dp;
		k->port_b = sp;
		__builtin_memcpy(k->addr_a, daddr, 16);
		__builtin_memcpy(k->addr_b, saddr, 16);
	}
	return src_is_a;
}

static __always_inline int pw_ct_key_make(struct pw_ct_key *k, __u16 tenant,
					  const struct pw_pkt *p)
{
	__u16 sp, dp;

	pw_flow_ports(p, &sp, &dp);
	return pw_ct_key_fill(k, tenant, p->family, p->proto, p->saddr,
			      p->daddr, sp, dp);
}

/*
 * The slot of @k in pw_cts (shared.h): a multiplicative hash of the key's
 * fields, the top PW_CTS_BITS bits. Cheaper than the kernel's jhash, and
 * only a filter: collisions cost a lookup, nothing else. The key was just
 * written field by field on the stack: each field has its own multiplier
 * so that clang does not merge the loads of tenant, family and proto (or
 * of the two ports) into one 32-bit load, which the CPU cannot forward
 * from the narrower stores before it and waits for instead (perf's
 * clock samples on the hot deny path put a tenth of the program on the
 * hash; this and PW_ADDR_ALIGNED() together saved 2-3 ns of it).
 */
static __always_inline __u32 pw_cts_hash(const struct pw_ct_key *k)
{
	__u32 a[4], b[4], h;

	__builtin_memcpy(a, k->addr_a, 16);
	__builtin_memcpy(b, k->addr_b, 16);
	h = (__u32)k->tenant * 0x9e3779b1U + (__u32)k->family * 0x846ca68bU +
	    (__u32)k->proto * 0x4cf5ad43U + (__u32)k->port_a * 0x85ebca6bU +
	    (__u32)k->port_b * 0x58f1e5d5U + a[0] * 0xc2b2ae35U +
	    a[1] * 0x27d4eb2fU + a[2] * 0x165667b1U + a[3] * 0xd3a2646dU +
	    b[0] * 0xfd7046c5U + b[1] * 0xb55a4f09U + b[2] * 0x61c88647U +
	    b[3] * 0x7feb352dU;
	return (h * 0x2545f491U) >> (32 - PW_CTS_BITS);
}

/* The byte of slot @h, NULL when the maps are missing (never). */
static __always_inline __u8 *pw_cts_slot(__u32 h)
{
	__u32 w = h >> 3;
	__u8 *v;

	v = bpf_map_lookup_elem(&pw_cts, &w);
	if (!v)
		return NULL;
	return v + (h & 7);
}

/*
 * pw_ct's entry of @k, NULL when there is none: without a lookup when the
 * key's stamp says so. A program that reads the stamp just before another
 * CPU stamps and inserts the flow misses it, as a lookup made just before
 * the insert would have.
 */
static __always_inline struct pw_ct_val *pw_ct_find(const struct pw_ct_key *k)
{
	struct pw_cts_state *st;
	__u32 zero = 0;
	__u8 *slot;

	st = bpf_map_lookup_elem(&pw_cts_state, &zero);
	slot = pw_cts_slot(pw_cts_hash(k));
	if (st && slot && (__u8)(st->cur - *slot) > (__u8)(st->cur - st->floor))
		return NULL;
	return bpf_map_lookup_elem(&pw_ct, k);
}

/* Before @k is inserted into pw_ct: stamp its slot with the current epoch. */
static __always_inline void pw_cts_mark(const struct pw_ct_key *k)
{
	struct pw_cts_state *st;
	__u32 zero = 0;
	__u8 *slot;

	st = bpf_map_lookup_elem(&pw_cts_state, &zero);
	slot = pw_cts_slot(pw_cts_hash(k));
	if (st && slot)
		*slot = st->cur;
}

static __always_inline __u64 pw_ct_timeout(const struct pw_settings *st,
					   __u8 proto, __u8 state)
{
	__u32 idx;

	if (proto == IPPROTO_TCP_) {
		if (state == PW_CT_TCP_SYN)
			idx = PW_TIMEOUT_TCP_SYN;
		else if (state == PW_CT_ESTABLISHED)
			idx = PW_TIMEOUT_TCP_ESTABLISHED;
		else
			idx = PW_TIMEOUT_TCP_CLOSING;
	} else if (proto == IPPROTO_UDP_) {
		idx = PW_TIMEOUT_UDP;
	} else if (pw_is_icmp(proto)) {
		idx = PW_TIMEOUT_ICMP;
	} else {
		idx = PW_TIMEOUT_OTHER;
	}
	if (idx >= PW_TIMEOUT_COUNT)
		return 0;
	return st->timeout_ns[idx];
}

static __always_inline int pw_ct_expired(const struct pw_settings *st,
					 const struct pw_ct_key *k,
					 const struct pw_ct_val *v, __u64 now)
{
	__u64 last = v->last_seen_ns;

	return now > last && now - last > pw_ct_timeout(st, k->proto, v->state);
}

/*
 * Account the packet and advance the TCP state. @dir: 0 from the
 * initiator, 1 from the responder. Returns the end reason when this
 * packet ends the flow (PW_END_FIN / PW_END_RST), else PW_END_NONE.
 */
static __always_inline __u8 pw_ct_update(struct pw_ct_val *v, int dir,
					 int src_is_a, const struct pw_pkt *p,
					 __u64 now)
{
	__u8 fl = p->tcp_flags, fin;

	if (dir) {
		__sync_fetch_and_add(&v->packets[1], 1);
		__sync_fetch_and_add(&v->bytes[1], p->len);
	} else {
		__sync_fetch_and_add(&v->packets[0], 1);
		__sync_fetch_and_add(&v->bytes[0], p->len);
	}
	v->last_seen_ns = now;

	if (p->proto != IPPROTO_TCP_) {
		if (dir && v->state == PW_CT_NEW)
			v->state = PW_CT_ESTABLISHED;
		return PW_END_NONE;
	}
	if (v->state == PW_CT_TCP_CLOSED)
		return PW_END_NONE;
	if (fl & TCP_RST) {
		v->state = PW_CT_TCP_CLOSED;
		return PW_END_RST;
	}
	if (fl & TCP_FIN) {
		fin = src_is_a ? PW_CT_FIN_A : PW_CT_FIN_B;
		v->flags |= fin;
		if ((v->flags & (PW_CT_FIN_A | PW_CT_FIN_B)) ==
		    (PW_CT_FIN_A | PW_CT_FIN_B)) {
			v->state = PW_CT_TCP_CLOSED;
			return PW_END_FIN;
		}
		v->state = PW_CT_TCP_CLOSING;
		return PW_END_NONE;
	}
	if (v->state == PW_CT_TCP_SYN && dir &&
	    (fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		v->state = PW_CT_ESTABLISHED;
	return PW_END_NONE;
}

/* The flow seen from its initiator, for judging it again. ICMP flows are
 * only created by echo requests, so their point is the request type. */
static __always_inline void pw_ct_orig_tuple(const struct pw_ct_key *k,
					     const struct pw_ct_val *v,
					     struct pw_tuple *t)
{
	int init_a = v->flags & PW_CT_INIT_IS_A;
	__u16 dport;

	t->family = k->family;
	t->proto = k->proto;
	if (init_a) {
		__builtin_memcpy(t->saddr, k->addr_a, 16);
		__builtin_memcpy(t->daddr, k->addr_b, 16);
		dport = k->port_b;
	} else {
		__builtin_memcpy(t->saddr, k->addr_b, 16);
		__builtin_memcpy(t->daddr, k->addr_a, 16);
		dport = k->port_a;
	}
	if (k->proto == IPPROTO_ICMP_)
		t->point = ICMP_ECHO_;
	else if (k->proto == IPPROTO_ICMPV6_)
		t->point = ICMPV6_ECHO_REQUEST_;
	else
		t->point = pw_pkt_point(k->proto, dport, 0);
}

/* ICMP errors that quote the packet they are about (RFC 792, RFC 4443). */
static __always_inline int pw_icmp_error(const struct pw_pkt *p)
{
	if (p->frag != PW_FRAG_NONE)
		return 0;
	if (p->family == PW_FAMILY_IPV4 && p->proto == IPPROTO_ICMP_)
		return p->icmp_type == ICMP_DEST_UNREACH_ ||
		       p->icmp_type == ICMP_TIME_EXCEEDED_ ||
		       p->icmp_type == ICMP_PARAMETERPROB_;
	if (p->family == PW_FAMILY_IPV6 && p->proto == IPPROTO_ICMPV6_)
		return p->icmp_type >= 1 && p->icmp_type <= 4;
	return 0;
}

/*
 * The flow key of the packet an ICMP error quotes: the quoted IP header
 * (IPv4 with options; IPv6 without extension headers) and the first 8
 * bytes of its layer 4 (ports, or the echo identifier). The quoted packet
 * went the other way, so its source must be the error's destination;
 * anything else (including a quote too short to hold the ports) is not
 * related. Fills @k and returns 1 when the quoted packet's source is its
 * "a" end, 0 when it is "b"; -1: not related.
 */
static __always_inline int pw_related_key(void *ctx, const int hook,
					  const struct pw_pkt *p, __u32 tenant,
					  struct pw_ct_key *k)
{
	/* Kept small: this runs on top of the packet path's stack. */
	__u8 h[IPV4_HLEN], l4[8];
	/* words: pw_ct_key_fill() takes them as PW_ADDR_ALIGNED() */
	__u32 sa_w[4] = {}, da_w[4] = {};
	__u8 *sa = (__u8 *)sa_w, *da = (__u8 *)da_w;
	__u32 off = p->l4_off + ICMP_HLEN, ihl, len;
	__u16 sp = 0, dp = 0;
	__u8 proto;

	if (p->l4_len < ICMP_HLEN)
		return -1;
	len = p->l4_len - ICMP_HLEN; /* bytes of quote */
	if (p->family == PW_FAMILY_IPV4) {
		if (len < IPV4_HLEN + 8 ||
		    ctx_load_bytes(ctx, hook, off, h, IPV4_HLEN))
			return -1;
		ihl = (h[0] & 0xf) * 4;
		if (h[0] >> 4 != 4 || ihl < IPV4_HLEN || len < ihl + 8)
			return -1;
		/* a later fragment quotes no ports */
		if ((h[6] & 0x1f) || h[7])
			return -1;
		proto = h[9];
		__builtin_memcpy(sa, h + 12, 4);
		__builtin_memcpy(da, h + 16, 4);
	} else {
		if (len < IPV6_HLEN + 8 ||
		    ctx_load_bytes(ctx, hook, off, h, 8) ||
		    ctx_load_bytes(ctx, hook, off + 8, sa, 16) ||
		    ctx_load_bytes(ctx, hook, off + 24, da, 16))
			return -1;
		if (h[0] >> 4 != 6)
			return -1;
		ihl = IPV6_HLEN;
		proto = h[6];
	}
	if (pw_addr_cmp(sa, p->daddr))
		return -1;
	if (ihl > 60 || ctx_load_bytes(ctx, hook, off + ihl, l4, sizeof(l4)))
		return -1;
	if (proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_) {
		sp = (__u16)l4[0] << 8 | l4[1];
		dp = (__u16)l4[2] << 8 | l4[3];
	} else if (pw_is_icmp(proto)) {
		if (!pw_is_echo(proto, l4[0]))
			return -1;
		sp = dp = (__u16)l4[4] << 8 | l4[5];
	}
	/* 1 when the quoted packet's source is the key's "a" end */
	return pw_ct_key_fill(k, (__u16)tenant, p->family, proto, sa, da, sp,
			      dp);
}

#endif /* PW_CT_H */
