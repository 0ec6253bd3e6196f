// SPDX-License-Identifier: GPL-2.0
/*
 * Raw Ethernet frame -> struct policy_packet (packet.h).
 *
 * Every length is checked against both the captured bytes and the lengths
 * the headers claim, because the datapath drops what does not add up and
 * the model must call the same packets malformed. Checksums are not
 * verified: the datapath does not verify them either, and the host stack
 * drops a bad one anyway.
 */
#include <errno.h>
#include <string.h>

#include "packet.h"

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define IPV4_MIN_HLEN 20
#define IPV6_HLEN 40
#define TCP_MIN_HLEN 20
#define UDP_HLEN 8
#define ICMP_MIN_LEN 8 /* type, code, checksum and 4 bytes of rest */

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_MH_ 135

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

bool policy_packet_is_echo_request(const struct policy_packet *p)
{
	if (p->proto == POLICY_PROTO_ICMP)
		return p->icmp_type == POLICY_ICMP_ECHO_REQUEST;
	if (p->proto == POLICY_PROTO_ICMPV6)
		return p->icmp_type == POLICY_ICMPV6_ECHO_REQUEST;
	return false;
}

bool policy_packet_is_echo(const struct policy_packet *p)
{
	if (policy_packet_is_echo_request(p))
		return true;
	if (p->proto == POLICY_PROTO_ICMP)
		return p->icmp_type == POLICY_ICMP_ECHO_REPLY;
	if (p->proto == POLICY_PROTO_ICMPV6)
		return p->icmp_type == POLICY_ICMPV6_ECHO_REPLY;
	return false;
}

bool policy_packet_is_ndp(const struct policy_packet *p)
{
	return p->family == PW_AF_INET6 && p->proto == POLICY_PROTO_ICMPV6 &&
	       p->l4 && !p->frag &&
	       p->hop_limit == POLICY_ICMPV6_ND_HOP_LIMIT &&
	       p->icmp_type >= POLICY_ICMPV6_ND_FIRST &&
	       p->icmp_type <= POLICY_ICMPV6_ND_LAST;
}

static bool policy_is_mld_type(uint8_t type)
{
	return type == POLICY_ICMPV6_MLD_QUERY ||
	       type == POLICY_ICMPV6_MLD_REPORT ||
	       type == POLICY_ICMPV6_MLD_DONE ||
	       type == POLICY_ICMPV6_MLD2_REPORT;
}

bool policy_packet_is_mld(const struct policy_packet *p)
{
	static const uint8_t unspec[16];
	bool link_local = p->saddr[0] == 0xfe && (p->saddr[1] & 0xc0) == 0x80;

	return p->family == PW_AF_INET6 && p->proto == POLICY_PROTO_ICMPV6 &&
	       p->l4 && !p->frag &&
	       p->hop_limit == POLICY_ICMPV6_MLD_HOP_LIMIT && p->mld_alert &&
	       policy_is_mld_type(p->icmp_type) &&
	       (link_local || !memcmp(p->saddr, unspec, sizeof(unspec)));
}

bool policy_packet_is_link_control(const struct policy_packet *p)
{
	return policy_packet_is_ndp(p) || policy_packet_is_mld(p);
}

bool policy_packet_is_icmp_error(const struct policy_packet *p)
{
	if (!p->l4 || p->frag)
		return false;
	if (p->family == PW_AF_INET && p->proto == POLICY_PROTO_ICMP)
		return p->icmp_type == 3 || p->icmp_type == 11 ||
		       p->icmp_type == 12;
	if (p->family == PW_AF_INET6 && p->proto == POLICY_PROTO_ICMPV6)
		return p->icmp_type >= 1 && p->icmp_type <= 4;
	return false;
}

uint16_t policy_packet_point(const struct policy_packet *p)
{
	switch (p->proto) {
	case POLICY_PROTO_TCP:
	case POLICY_PROTO_UDP:
		return p->dport;
	case POLICY_PROTO_ICMP:
	case POLICY_PROTO_ICMPV6:
		return p->icmp_type;
	default:
		return 0;
	}
}

static void malformed(struct policy_packet *p, const char *why)
{
	p->kind = POLICY_PKT_MALFORMED;
	p->malformed = why;
}

/*
 * The flow an ICMP error is about, from its quote (@q, @len bytes after
 * the 8-byte ICMP header), read exactly as the datapath reads it
 * (bpf/pw_ct.h pw_related_key()): anything it cannot use leaves
 * p->quote false.
 */
static void parse_quote(struct policy_packet *p, const uint8_t *q, size_t len)
{
	const uint8_t *l4;
	size_t ihl;
	uint8_t proto;

	if (p->family == PW_AF_INET) {
		if (len < IPV4_MIN_HLEN + 8 || q[0] >> 4 != 4)
			return;
		ihl = (size_t)(q[0] & 0xf) * 4;
		if (ihl < IPV4_MIN_HLEN || len < ihl + 8)
			return;
		/* a later fragment quotes no ports */
		if ((q[6] & 0x1f) || q[7])
			return;
		proto = q[9];
		memcpy(p->quote_saddr, q + 12, 4);
		memcpy(p->quote_daddr, q + 16, 4);
	} else {
		/* extension headers are not walked: the next header is
		 * taken as the protocol, and then names no tracked flow */
		if (len < IPV6_HLEN + 8 || q[0] >> 4 != 6)
			return;
		ihl = IPV6_HLEN;
		proto = q[6];
		memcpy(p->quote_saddr, q + 8, 16);
		memcpy(p->quote_daddr, q + 24, 16);
	}
	l4 = q + ihl;
	if (proto == POLICY_PROTO_TCP || proto == POLICY_PROTO_UDP) {
		p->quote_sport = rd16(l4);
		p->quote_dport = rd16(l4 + 2);
	} else if (proto == POLICY_PROTO_ICMP || proto == POLICY_PROTO_ICMPV6) {
		if (!((proto == POLICY_PROTO_ICMP &&
		       (l4[0] == POLICY_ICMP_ECHO_REQUEST ||
			l4[0] == POLICY_ICMP_ECHO_REPLY)) ||
		      (proto == POLICY_PROTO_ICMPV6 &&
		       (l4[0] == POLICY_ICMPV6_ECHO_REQUEST ||
			l4[0] == POLICY_ICMPV6_ECHO_REPLY))))
			return;
		p->quote_sport = rd16(l4 + 4);
		p->quote_dport = p->quote_sport;
	}
	p->quote_proto = proto;
	p->quote = true;
}

/* Layer 4 of an unfragmented packet or first fragment: @l4 holds @len
 * bytes of the IP payload (as far as the IP header says it goes). */
static void parse_l4(struct policy_packet *p, const uint8_t *l4, size_t len)
{
	unsigned int doff;

	switch (p->proto) {
	case POLICY_PROTO_TCP:
		if (len < TCP_MIN_HLEN) {
			malformed(p, "truncated TCP header");
			return;
		}
		doff = (unsigned int)(l4[12] >> 4) * 4;
		if (doff < TCP_MIN_HLEN || doff > len) {
			malformed(p, "bad TCP data offset");
			return;
		}
		p->sport = rd16(l4);
		p->dport = rd16(l4 + 2);
		p->tcp_flags = l4[13];
		break;
	case POLICY_PROTO_UDP:
		if (len < UDP_HLEN) {
			malformed(p, "truncated UDP header");
			return;
		}
		/* A first fragment carries only part of the datagram the UDP
		 * length describes. */
		if (rd16(l4 + 4) < UDP_HLEN ||
		    (!p->frag && rd16(l4 + 4) > len)) {
			malformed(p, "bad UDP length");
			return;
		}
		p->sport = rd16(l4);
		p->dport = rd16(l4 + 2);
		break;
	case POLICY_PROTO_ICMP:
	case POLICY_PROTO_ICMPV6:
		if (len < ICMP_MIN_LEN) {
			malformed(p, "truncated ICMP header");
			return;
		}
		p->icmp_type = l4[0];
		p->icmp_code = l4[1];
		if (policy_packet_is_echo(p))
			p->icmp_id = rd16(l4 + 4);
		break;
	default:
		break;
	}
	p->l4 = true;
	if (policy_packet_is_icmp_error(p))
		parse_quote(p, l4 + ICMP_MIN_LEN, len - ICMP_MIN_LEN);
}

static void parse_ipv4(struct policy_packet *p, const uint8_t *ip, size_t len)
{
	unsigned int ihl, tot, frag;

	if (len < IPV4_MIN_HLEN) {
		malformed(p, "truncated IPv4 header");
		return;
	}
	if (ip[0] >> 4 != 4) {
		malformed(p, "IPv4 ethertype without IPv4 header");
		return;
	}
	ihl = (unsigned int)(ip[0] & 0xf) * 4;
	tot = rd16(ip + 2);
	if (ihl < IPV4_MIN_HLEN || ihl > len) {
		malformed(p, "bad IPv4 header length");
		return;
	}
	/* Ethernet pads short frames, so len may exceed tot, never less. */
	if (tot < ihl || tot > len) {
		malformed(p, "bad IPv4 total length");
		return;
	}

	p->family = PW_AF_INET;
	memcpy(p->saddr, ip + 12, 4);
	memcpy(p->daddr, ip + 16, 4);
	p->proto = ip[9];
	frag = rd16(ip + 6);
	if (frag & 0x3fff) { /* more fragments, or a nonzero offset */
		p->frag = true;
		p->frag_first = !(frag & 0x1fff);
		p->frag_id = rd16(ip + 4);
		if ((frag & 0x1fff) * 8 + (tot - ihl) > 65535) {
			malformed(p, "IPv4 fragment beyond 64 KiB");
			return;
		}
		if (!p->frag_first)
			return;
	}
	parse_l4(p, ip + ihl, tot - ihl);
}

#define IPV6_OPT_PAD1 0
#define IPV6_OPT_ROUTER_ALERT 5

/*
 * @h: the first 8 bytes of a hop-by-hop options header. Walk its options
 * (Pad1 is one byte, every other option type, length, value) as far as a
 * Router Alert option fits in these 8 bytes; the first one decides: type
 * 5, length 2, value 0 (MLD, RFC 2711). The datapath reads the same bytes
 * (bpf/pw_parse.h pw_hbh_mld_alert()).
 */
static bool hbh_mld_alert(const uint8_t *h)
{
	size_t o = 2;

	while (o + 4 <= 8) {
		if (h[o] == IPV6_OPT_ROUTER_ALERT)
			return h[o + 1] == 2 && h[o + 2] == 0 && h[o + 3] == 0;
		o += h[o] == IPV6_OPT_PAD1 ? 1 : 2 + (size_t)h[o + 1];
	}
	return false;
}

static void parse_ipv6(struct policy_packet *p, const uint8_t *ip, size_t len)
{
	unsigned int n_ext = 0;
	size_t off = IPV6_HLEN, end;
	uint8_t next;

	if (len < IPV6_HLEN) {
		malformed(p, "truncated IPv6 header");
		return;
	}
	if (ip[0] >> 4 != 6) {
		malformed(p, "IPv6 ethertype without IPv6 header");
		return;
	}
	end = IPV6_HLEN + (size_t)rd16(ip + 4);
	/* Jumbograms (payload length 0 + hop-by-hop option) do not cross
	 * Ethernet; a zero length is simply an empty payload. */
	if (end > len) {
		malformed(p, "bad IPv6 payload length");
		return;
	}

	p->family = PW_AF_INET6;
	p->hop_limit = ip[7];
	memcpy(p->saddr, ip + 8, 16);
	memcpy(p->daddr, ip + 24, 16);
	next = ip[6];

	for (;;) {
		size_t hlen;
		unsigned int foff;

		if (!policy_packet_ipv6_ext(next))
			break;
		if (++n_ext > POLICY_PKT_MAX_EXT_HDRS) {
			malformed(p, "too many IPv6 extension headers");
			return;
		}
		if (end - off < 8) {
			malformed(p, "truncated IPv6 extension header");
			return;
		}
		/* hop-by-hop options belong right after the IPv6 header */
		if (n_ext == 1 && next == IPPROTO_HOPOPTS_)
			p->mld_alert = hbh_mld_alert(ip + off);
		if (next == IPPROTO_FRAGMENT_) {
			foff = rd16(ip + off + 2);
			next = ip[off];
			off += 8;
			/* An atomic fragment (offset 0, M clear) is a whole
			 * packet (RFC 6946). */
			if (!(foff & 0xfff9))
				continue;
			if (p->frag) {
				malformed(p, "two IPv6 fragment headers");
				return;
			}
			p->frag = true;
			p->frag_first = !(foff & 0xfff8);
			p->frag_id = rd32(ip + off - 4);
			if (!p->frag_first) {
				p->proto = next;
				return;
			}
			continue;
		}
		if (next == IPPROTO_AH_)
			hlen = ((size_t)ip[off + 1] + 2) * 4;
		else
			hlen = ((size_t)ip[off + 1] + 1) * 8;
		if (hlen > end - off) {
			malformed(p, "truncated IPv6 extension header");
			return;
		}
		next = ip[off];
		off += hlen;
	}
	p->proto = next;
	parse_l4(p, ip + off, end - off);
}

bool policy_packet_ipv6_ext(uint8_t nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS_ || nexthdr == IPPROTO_ROUTING_ ||
	       nexthdr == IPPROTO_FRAGMENT_ || nexthdr == IPPROTO_AH_ ||
	       nexthdr == IPPROTO_DSTOPTS_ || nexthdr == IPPROTO_MH_;
}

int policy_packet_parse(const uint8_t *frame, size_t len, const char *ifname,
			struct policy_packet *out)
{
	size_t off = ETH_HLEN;
	uint16_t type;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (strlen(ifname) > POLICY_IFNAME_MAX) {
		ret = -EINVAL;
		goto out;
	}
	strcpy(out->ifname, ifname);
	out->len = (uint32_t)len;
	out->kind = POLICY_PKT_IP;

	if (len < ETH_HLEN) {
		malformed(out, "truncated Ethernet header");
		goto out;
	}
	type = rd16(frame + 12);
	out->ethertype = type;
	/* More than one tag, or an outer service tag, is malformed rather
	 * than non-IP: non_ip allow would otherwise pass double-tagged IP
	 * past every rule (the datapath decides alike, bpf/pw_parse.h). */
	if (type == POLICY_ETH_P_8021AD || type == POLICY_ETH_P_QINQ1) {
		malformed(out, "802.1ad outer VLAN tag");
		goto out;
	}
	if (type == POLICY_ETH_P_8021Q) {
		if (len < ETH_HLEN + VLAN_HLEN) {
			malformed(out, "truncated 802.1Q tag");
			goto out;
		}
		out->vlan = rd16(frame + 14) & 0xfff;
		type = rd16(frame + 16);
		out->ethertype = type;
		off += VLAN_HLEN;
		if (type == POLICY_ETH_P_8021Q || type == POLICY_ETH_P_8021AD ||
		    type == POLICY_ETH_P_QINQ1) {
			malformed(out, "more than one VLAN tag");
			goto out;
		}
	}
	if (type == POLICY_ETH_P_IP)
		parse_ipv4(out, frame + off, len - off);
	else if (type == POLICY_ETH_P_IPV6)
		parse_ipv6(out, frame + off, len - off);
	else
		out->kind = POLICY_PKT_NON_IP;
out:
	return ret;
}

int policy_packet_set_addrs(struct policy_packet *p, const char *saddr,
			    const char *daddr)
{
	struct pw_prefix s, d;
	int ret = 0;

	if (pw_prefix_parse(saddr, &s) != PW_PREFIX_OK ||
	    pw_prefix_parse(daddr, &d) != PW_PREFIX_OK ||
	    s.family != d.family || s.len != pw_family_bits(s.family)) {
		ret = -EINVAL;
		goto out;
	}
	p->kind = POLICY_PKT_IP;
	p->family = s.family;
	memcpy(p->saddr, s.addr, sizeof(p->saddr));
	memcpy(p->daddr, d.addr, sizeof(p->daddr));
out:
	return ret;
}
