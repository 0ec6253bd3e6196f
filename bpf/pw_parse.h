/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Header parsing: Ethernet, at most one 802.1Q tag, IPv4 (with options), IPv6
 * with a bounded walk of extension headers, TCP, UDP, ICMP, ICMPv6, into a
 * struct pw_pkt. The rules of what is malformed are those of the model
 * (policy/packet.c): lengths are checked against the frame and against
 * what the headers claim, and the verdict "malformed" never passes.
 *
 * Offsets are kept as bounded scalars and every header is reached as
 * data + offset followed by an explicit check against data_end, which is
 * the shape the verifier's packet-range tracking understands.
 */
#ifndef PW_PARSE_H
#define PW_PARSE_H

#include "pw_common.h"
#include "pw_ctx.h"

/*
 * Headers must start within the first 16 KiB of the frame. The verifier
 * only accepts a variable packet offset whose maximum plus the access
 * stays below 64 KiB; 16 KiB is far beyond any real header chain (the
 * model only disagrees on frames with more than 16 KiB of IPv6 extension
 * headers, which XDP never sees: its frames fit a page).
 */
#define PW_MAX_HDR_OFF 0x3fff

enum pw_parse_result {
	PW_PARSE_IP = 0,
	PW_PARSE_NON_IP = 1,
	PW_PARSE_MALFORMED = 2,
};

enum pw_frag_kind {
	PW_FRAG_NONE = 0,
	PW_FRAG_FIRST = 1, /* offset 0, more fragments */
	PW_FRAG_LATER = 2, /* no layer 4 header: fields from pw_frag */
};

struct pw_pkt {
	__u32 len; /* whole frame */
	__u32 ifindex;
	__u32 frag_id;
	__u32 tcp_seq; /* host order, for the RST */
	__u32 tcp_ack;
	__u16 vlan; /* 0: untagged */
	__u16 l3_off; /* IP header */
	__u16 l4_off; /* layer 4 header */
	__u16 ip_len; /* IP header + payload, as the header says */
	__u16 l4_len; /* from l4_off to the end of the IP payload */
	__u16 sport; /* host order; ICMP echo: identifier, 0 otherwise */
	__u16 dport;
	__u16 echo_id; /* ICMP echo identifier (ct ports) */
	__u8 family; /* PW_FAMILY_IPV4/6 */
	__u8 proto;
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 frag; /* enum pw_frag_kind */
	__u8 l2_mcast; /* destination MAC multicast or broadcast */
	__u8 vlan_inline; /* the tag is in the frame (not offloaded) */
	__u8 tcp_hlen; /* TCP header length (doff * 4) */
	__u8 hop_limit; /* IPv6 only */
	__u8 mld_alert; /* IPv6: Router Alert for MLD, see pw_hbh_mld_alert() */
	__u8 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};

static __always_inline int pw_is_icmp(__u8 proto)
{
	return proto == IPPROTO_ICMP_ || proto == IPPROTO_ICMPV6_;
}

/* By protocol number, whatever the IP version, as the model does. */
static __always_inline int pw_is_echo_request(__u8 proto, __u8 type)
{
	return (proto == IPPROTO_ICMP_ && type == ICMP_ECHO_) ||
	       (proto == IPPROTO_ICMPV6_ && type == ICMPV6_ECHO_REQUEST_);
}

static __always_inline int pw_is_echo(__u8 proto, __u8 type)
{
	return pw_is_echo_request(proto, type) ||
	       (proto == IPPROTO_ICMP_ && type == ICMP_ECHOREPLY_) ||
	       (proto == IPPROTO_ICMPV6_ && type == ICMPV6_ECHO_REPLY_);
}

/*
 * IPv6 neighbour discovery (RFC 4861: router and neighbour solicitation
 * and advertisement, redirect) as RFC 4861 lets a node accept it: hop
 * limit 255, i.e. from the link itself. Fragmented ND is not ND (RFC
 * 6980: nodes drop it); an atomic fragment is a whole packet (RFC 6946).
 * Same test as policy_packet_is_ndp() in the model.
 */
static __always_inline int pw_is_ndp(const struct pw_pkt *p)
{
	return p->family == PW_FAMILY_IPV6 && p->proto == IPPROTO_ICMPV6_ &&
	       p->frag == PW_FRAG_NONE &&
	       p->hop_limit == ICMPV6_ND_HOP_LIMIT_ &&
	       p->icmp_type >= ICMPV6_ND_FIRST_ &&
	       p->icmp_type <= ICMPV6_ND_LAST_;
}

/*
 * Multicast listener discovery (RFC 2710, RFC 3810): query, MLDv1 report
 * and done, MLDv2 report.
 */
#define ICMPV6_MLD_QUERY_ 130
#define ICMPV6_MLD_REPORT_ 131
#define ICMPV6_MLD_DONE_ 132
#define ICMPV6_MLD2_REPORT_ 143
#define IPV6_OPT_ROUTER_ALERT_ 5
#define IPV6_OPT_PAD1_ 0

static __always_inline int pw_ra_mld_at(const __u8 *o)
{
	/* type 5, length 2, value 0: "contains an MLD message" (RFC 2711) */
	return o[0] == IPV6_OPT_ROUTER_ALERT_ && o[1] == 2 && o[2] == 0 &&
	       o[3] == 0;
}

/*
 * @h: the first 8 bytes of a hop-by-hop options header. Whether the first
 * Router Alert option among its options in these 8 bytes says MLD; options
 * before it (Pad1, PadN, any other) are skipped by their length. Every
 * stack puts it there (Linux first, the BSDs after an empty PadN). Written
 * out rather than walked: the option can only start at byte 2, 3 or 4.
 * Same test as hbh_mld_alert() in the model (policy/packet.c).
 */
static __always_inline int pw_hbh_mld_alert(const __u8 *h)
{
	if (h[2] == IPV6_OPT_ROUTER_ALERT_)
		return pw_ra_mld_at(h + 2);
	if (h[2] == IPV6_OPT_PAD1_) {
		if (h[3] == IPV6_OPT_ROUTER_ALERT_)
			return pw_ra_mld_at(h + 3);
		/* Pad1 Pad1: at 4; an option of its own at 3 ends at 5 or
		 * later, too late for 4 more bytes */
		return h[3] == IPV6_OPT_PAD1_ && pw_ra_mld_at(h + 4);
	}
	/* an option of length 0 at 2 (an empty PadN) puts the next at 4 */
	return h[3] == 0 && pw_ra_mld_at(h + 4);
}

static __always_inline int pw_is_mld_type(__u8 type)
{
	return type == ICMPV6_MLD_QUERY_ || type == ICMPV6_MLD_REPORT_ ||
	       type == ICMPV6_MLD_DONE_ || type == ICMPV6_MLD2_REPORT_;
}

/*
 * Multicast listener discovery as RFC 2710 / RFC 3810 send it and a
 * listener or router accepts it: ICMPv6 130, 131, 132 or 143, hop limit 1
 * (it never leaves the link), a Router Alert option for MLD in a
 * hop-by-hop header right after the IPv6 header, from a link-local
 * source, or from :: (reports of a node whose link-local address is still
 * tentative, RFC 3810 5.2.13), not fragmented. Same test as
 * policy_packet_is_mld() in the model.
 */
static __always_inline int pw_is_mld(const struct pw_pkt *p)
{
	const __u64 *sa = (const __u64 *)p->saddr;

	if (p->family != PW_FAMILY_IPV6 || p->proto != IPPROTO_ICMPV6_ ||
	    p->frag != PW_FRAG_NONE || p->hop_limit != 1 || !p->mld_alert ||
	    !pw_is_mld_type(p->icmp_type))
		return 0;
	return (p->saddr[0] == 0xfe && (p->saddr[1] & 0xc0) == 0x80) ||
	       (!sa[0] && !sa[1]);
}

/*
 * The link's own control traffic, IPv6's ARP: neighbour discovery and
 * multicast listener discovery. When no rule matches it, it gets
 * settings.non_ip instead of the tenant default (pw_new_flow()).
 */
static __always_inline int pw_is_link_control(const struct pw_pkt *p)
{
	return pw_is_ndp(p) || pw_is_mld(p);
}

/* Service point (pw_svc): destination port, ICMP type, or 0. */
static __always_inline __u16 pw_pkt_point(__u8 proto, __u16 dport, __u8 type)
{
	if (proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_)
		return dport;
	if (pw_is_icmp(proto))
		return type;
	return 0;
}

/* Layer 4 of an unfragmented packet or a first fragment. */
static __always_inline int pw_parse_l4(void *data, void *end, struct pw_pkt *p)
{
	__u32 off = p->l4_off;
	__u32 len = p->l4_len;

	/* Opaque first, so the check is on the register the pointer
	 * arithmetic uses (not on a copy clang masks separately). */
	pw_barrier_var(off);
	if (off > PW_MAX_HDR_OFF || len > 0xffff)
		return PW_PARSE_MALFORMED;

	if (p->proto == IPPROTO_TCP_) {
		struct tcphdr *th = data + off;
		__u32 doff;

		if (len < TCP_HLEN || (void *)(th + 1) > end)
			return PW_PARSE_MALFORMED;
		doff = th->doff * 4;
		if (doff < TCP_HLEN || doff > len)
			return PW_PARSE_MALFORMED;
		p->sport = bpf_ntohs(th->source);
		p->dport = bpf_ntohs(th->dest);
		p->tcp_flags = ((__u8 *)th)[13];
		p->tcp_hlen = doff;
		p->tcp_seq = bpf_ntohl(th->seq);
		p->tcp_ack = bpf_ntohl(th->ack_seq);
	} else if (p->proto == IPPROTO_UDP_) {
		struct udphdr *uh = data + off;
		__u32 ulen;

		if (len < UDP_HLEN || (void *)(uh + 1) > end)
			return PW_PARSE_MALFORMED;
		ulen = bpf_ntohs(uh->len);
		/* A first fragment holds only part of the datagram. */
		if (ulen < UDP_HLEN || (p->frag == PW_FRAG_NONE && ulen > len))
			return PW_PARSE_MALFORMED;
		p->sport = bpf_ntohs(uh->source);
		p->dport = bpf_ntohs(uh->dest);
	} else if (pw_is_icmp(p->proto)) {
		struct icmphdr *ih = data + off;

		if (len < ICMP_HLEN || (void *)(ih + 1) > end)
			return PW_PARSE_MALFORMED;
		p->icmp_type = ih->type;
		p->icmp_code = ih->code;
		if (pw_is_echo(p->proto, ih->type))
			p->echo_id = bpf_ntohs(ih->un.echo.id);
	}
	return PW_PARSE_IP;
}

static __always_inline int pw_parse_ipv4(void *data, void *end,
					 struct pw_pkt *p)
{
	struct iphdr *ip = data + p->l3_off;
	__u32 avail = p->len - p->l3_off;
	__u32 ihl, tot, frag;

	if ((void *)(ip + 1) > end)
		return PW_PARSE_MALFORMED;
	if (ip->version != 4)
		return PW_PARSE_MALFORMED;
	ihl = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (ihl < IPV4_HLEN || ihl > avail)
		return PW_PARSE_MALFORMED;
	/* Ethernet pads short frames: the frame may be longer, never
	 * shorter, than the IP packet. */
	if (tot < ihl || tot > avail)
		return PW_PARSE_MALFORMED;

	p->family = PW_FAMILY_IPV4;
	p->proto = ip->protocol;
	p->ip_len = tot;
	__builtin_memcpy(p->saddr, &ip->saddr, 4);
	__builtin_memcpy(p->daddr, &ip->daddr, 4);
	p->l4_off = p->l3_off + ihl;
	p->l4_len = tot - ihl;

	frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x3fff) { /* more fragments, or a nonzero offset */
		p->frag_id = bpf_ntohs(ip->id);
		if ((frag & 0x1fff) * 8 + (tot - ihl) > 65535)
			return PW_PARSE_MALFORMED;
		if (frag & 0x1fff) {
			p->frag = PW_FRAG_LATER;
			return PW_PARSE_IP;
		}
		p->frag = PW_FRAG_FIRST;
	}
	return pw_parse_l4(data, end, p);
}

static __always_inline int pw_is_ext_hdr(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS_ || nh == IPPROTO_ROUTING_ ||
	       nh == IPPROTO_FRAGMENT_ || nh == IPPROTO_AH_ ||
	       nh == IPPROTO_DSTOPTS_ || nh == IPPROTO_MH_;
}

static __always_inline int pw_parse_ipv6(void *data, void *end,
					 struct pw_pkt *p)
{
	struct ipv6hdr *ip6 = data + p->l3_off;
	__u32 avail = p->len - p->l3_off;
	__u32 ip_end, hoff = IPV6_HLEN;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > end)
		return PW_PARSE_MALFORMED;
	if (ip6->version != 6)
		return PW_PARSE_MALFORMED;
	/* Jumbograms (payload length 0 + hop-by-hop option) do not cross
	 * Ethernet; a zero length is simply an empty payload. */
	ip_end = IPV6_HLEN + bpf_ntohs(ip6->payload_len);
	if (ip_end > avail)
		return PW_PARSE_MALFORMED;

	p->family = PW_FAMILY_IPV6;
	p->hop_limit = ip6->hop_limit;
	p->ip_len = ip_end;
	__builtin_memcpy(p->saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->daddr, &ip6->daddr, 16);
	nh = ip6->nexthdr;

	/* One more round than headers allowed: the last only says "too
	 * many". Unrolled by the compiler, not left to the verifier's bounded
	 * loop support: Linux 6.1 refuses a loop whose back edge is a plain
	 * fall-through ("back-edge from insn X to X+1"), the shape clang
	 * gives this one; later kernels accept it. */
#pragma unroll
	for (i = 0; i <= PW_MAX_EXT_HDRS; i++) {
		__u8 *h;
		__u32 hlen, pos;

		if (!pw_is_ext_hdr(nh))
			break;
		if (i == PW_MAX_EXT_HDRS)
			return PW_PARSE_MALFORMED;
		if (hoff + 8 > ip_end)
			return PW_PARSE_MALFORMED;
		pos = p->l3_off + hoff;
		pw_barrier_var(pos);
		if (pos > PW_MAX_HDR_OFF)
			return PW_PARSE_MALFORMED;
		h = data + pos;
		if ((void *)(h + 8) > end)
			return PW_PARSE_MALFORMED;
		/* hop-by-hop options belong right after the IPv6 header */
		if (i == 0 && nh == IPPROTO_HOPOPTS_)
			p->mld_alert = pw_hbh_mld_alert(h);
		if (nh == IPPROTO_FRAGMENT_) {
			__u32 foff = (__u32)h[2] << 8 | h[3];

			nh = h[0];
			hoff += 8;
			/* Atomic fragment (offset 0, M clear): a whole
			 * packet (RFC 6946). */
			if (!(foff & 0xfff9))
				continue;
			if (p->frag != PW_FRAG_NONE)
				return PW_PARSE_MALFORMED;
			p->frag_id = (__u32)h[4] << 24 | (__u32)h[5] << 16 |
				     (__u32)h[6] << 8 | h[7];
			if (foff & 0xfff8) {
				p->frag = PW_FRAG_LATER;
				p->proto = nh;
				p->l4_off = p->l3_off + hoff;
				p->l4_len = ip_end - hoff;
				return PW_PARSE_IP;
			}
			p->frag = PW_FRAG_FIRST;
			continue;
		}
		if (nh == IPPROTO_AH_)
			hlen = ((__u32)h[1] + 2) * 4;
		else
			hlen = ((__u32)h[1] + 1) * 8;
		if (hlen > ip_end - hoff)
			return PW_PARSE_MALFORMED;
		nh = h[0];
		hoff += hlen;
	}
	p->proto = nh;
	p->l4_off = p->l3_off + hoff;
	p->l4_len = ip_end - hoff;
	return pw_parse_l4(data, end, p);
}

/* Tag protocol identifiers of a VLAN tag: 802.1Q, 802.1ad, and 0x9100
 * that QinQ gear used before 802.1ad. */
static __always_inline int pw_is_vlan_tpid(__u16 type)
{
	return type == ETH_P_8021Q || type == ETH_P_8021AD ||
	       type == ETH_P_QINQ1;
}

/*
 * Parse the frame into @p (zeroed by the caller). plumwall reads one
 * 802.1Q tag; a frame with more than one tag (a second tag inside the
 * first, or both an offloaded tag and one in the frame) or with an outer
 * service tag (802.1ad, 0x9100) is malformed, as in the model: calling
 * it non-IP would let double-tagged IP through whenever non_ip is allow,
 * past every rule. One tag followed by ARP or another non-IP EtherType is
 * non-IP as usual. @p->vlan is the id of an outer 802.1Q tag, 0 when the
 * outer tag is a service tag (802.1ad, 0x9100: another VLAN space, which
 * an 802.1Q port takes as untagged), so the malformed drop is reported on
 * the tenant of the wire it came from: its event and `plumwall trace`
 * name that tenant (the model decides alike, policy/packet.c).
 */
static __always_inline int pw_parse(void *ctx, const int hook, struct pw_pkt *p)
{
	void *data, *end;
	struct ethhdr *eth;
	__u16 type, oproto = 0, ovid = 0;
	int offl;

	ctx_pull(ctx, hook);
	data = ctx_data(ctx, hook);
	end = ctx_data_end(ctx, hook);
	p->len = ctx_len(ctx, hook);
	p->ifindex = ctx_ifindex(ctx, hook);

	eth = data;
	if ((void *)(eth + 1) > end)
		return PW_PARSE_MALFORMED;
	p->l2_mcast = eth->h_dest[0] & 1;
	type = bpf_ntohs(eth->h_proto);
	p->l3_off = ETH_HLEN;

	offl = ctx_vlan_offloaded(ctx, hook, &oproto, &ovid);
	if (offl) {
		/* An outer service tag is no 802.1Q VLAN: the frame came in
		 * on the untagged wire, as when the tag is in the frame. */
		if (oproto != ETH_P_8021Q)
			return PW_PARSE_MALFORMED;
		p->vlan = ovid;
	}
	if (type == ETH_P_8021AD || type == ETH_P_QINQ1)
		return PW_PARSE_MALFORMED;
	if (type == ETH_P_8021Q) {
		struct vlan_hdr *vh = data + ETH_HLEN;

		if ((void *)(vh + 1) > end)
			return PW_PARSE_MALFORMED;
		if (offl)
			return PW_PARSE_MALFORMED;
		p->vlan = bpf_ntohs(vh->h_vlan_TCI) & 0xfff;
		p->vlan_inline = 1;
		type = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		p->l3_off = ETH_HLEN + VLAN_HLEN;
		if (pw_is_vlan_tpid(type))
			return PW_PARSE_MALFORMED;
	}
	if (type == ETH_P_IP)
		return pw_parse_ipv4(data, end, p);
	if (type == ETH_P_IPV6)
		return pw_parse_ipv6(data, end, p);
	return PW_PARSE_NON_IP;
}

#endif /* PW_PARSE_H */
