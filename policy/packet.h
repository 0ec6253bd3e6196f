/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A parsed packet as the policy sees it: where it came in (interface name,
 * VLAN), what kind of frame it is, and the header fields evaluation needs.
 *
 * This is the input of the reference evaluator (eval.h) and of the
 * user-space executor of the compiled maps (compile.h), so that both judge
 * exactly the same description. policy_packet_parse() fills it from a raw
 * Ethernet frame (plumwall trace --engine model); tests build it by hand.
 */
#ifndef PLUMWALL_POLICY_PACKET_H
#define PLUMWALL_POLICY_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define POLICY_ETH_P_IP 0x0800
#define POLICY_ETH_P_IPV6 0x86dd
#define POLICY_ETH_P_8021Q 0x8100
#define POLICY_ETH_P_8021AD 0x88a8
#define POLICY_ETH_P_QINQ1 0x9100 /* pre-802.1ad vendor outer tag */

/* TCP flags byte */
#define POLICY_TCP_FIN 0x01
#define POLICY_TCP_SYN 0x02
#define POLICY_TCP_RST 0x04
#define POLICY_TCP_PSH 0x08
#define POLICY_TCP_ACK 0x10

#define POLICY_ICMP_ECHO_REPLY 0
#define POLICY_ICMP_ECHO_REQUEST 8
#define POLICY_ICMPV6_ECHO_REQUEST 128
#define POLICY_ICMPV6_ECHO_REPLY 129
/* IPv6 neighbour discovery (RFC 4861): router solicitation .. redirect,
 * accepted only with this hop limit (sent on the link itself). */
#define POLICY_ICMPV6_ND_FIRST 133
#define POLICY_ICMPV6_ND_LAST 137
#define POLICY_ICMPV6_ND_HOP_LIMIT 255
/* Multicast listener discovery (RFC 2710, RFC 3810): query, MLDv1 report
 * and done, MLDv2 report; sent with hop limit 1. */
#define POLICY_ICMPV6_MLD_QUERY 130
#define POLICY_ICMPV6_MLD_REPORT 131
#define POLICY_ICMPV6_MLD_DONE 132
#define POLICY_ICMPV6_MLD2_REPORT 143
#define POLICY_ICMPV6_MLD_HOP_LIMIT 1

/* IPv6 extension headers walked before giving up with "malformed": a
 * datapath walks a bounded number, and a chain longer than this is not
 * something legitimate traffic sends. */
#define POLICY_PKT_MAX_EXT_HDRS 8

enum policy_pkt_kind {
	POLICY_PKT_IP, /* IPv4 or IPv6: family and the fields below are set */
	POLICY_PKT_NON_IP, /* ARP and the like: settings.non_ip */
	POLICY_PKT_MALFORMED, /* truncated or inconsistent headers */
};

struct policy_packet {
	char ifname[POLICY_IFNAME_MAX + 1]; /* ingress interface */
	uint16_t vlan; /* 802.1Q id, 0 = untagged */
	enum policy_pkt_kind kind;
	uint16_t ethertype; /* after the VLAN tag */
	const char *malformed; /* POLICY_PKT_MALFORMED: what was wrong */

	uint8_t family; /* PW_AF_INET or PW_AF_INET6 */
	uint8_t saddr[16]; /* network order; IPv4 in the first 4 bytes */
	uint8_t daddr[16];
	uint8_t proto; /* IPv4 protocol / IPv6 upper-layer header */
	uint8_t hop_limit; /* IPv6 only */
	/*
	 * IPv6: the hop-by-hop options header right after the IPv6 header
	 * carries a Router Alert option saying MLD (RFC 2711 value 0): the
	 * first Router Alert among the options in its first 8 bytes.
	 */
	bool mld_alert;

	/*
	 * Layer 4, valid when l4 is true: always for an unfragmented packet
	 * and a first fragment, never for a later fragment (its fields come
	 * from the first fragment, see eval.h). TCP/UDP use the ports,
	 * ICMP/ICMPv6 the type, code and (echo) identifier.
	 */
	bool l4;
	uint16_t sport;
	uint16_t dport;
	uint8_t tcp_flags;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t icmp_id;

	/*
	 * ICMP errors (policy_packet_is_icmp_error()): the flow of the packet
	 * the error quotes, valid when quote is true, i.e. when the quoted
	 * IP header and the first 8 bytes after it are there (IPv4 with
	 * options, IPv6 without extension headers) and name a flow: not a
	 * later fragment, and for ICMP an echo (ports = identifier).
	 * Ports: TCP/UDP ports, the echo identifier twice, else 0.
	 */
	bool quote;
	uint8_t quote_proto;
	uint8_t quote_saddr[16];
	uint8_t quote_daddr[16];
	uint16_t quote_sport;
	uint16_t quote_dport;

	/* Fragmentation. An IPv6 atomic fragment (offset 0, no more
	 * fragments) is reported as unfragmented. */
	bool frag; /* part of a fragmented datagram */
	bool frag_first; /* offset 0 */
	uint32_t frag_id; /* IPv4 id or IPv6 fragment header id */

	uint32_t len; /* frame length, for byte counters */
};

/* True for a fragment other than the first: it has no layer 4 header. */
static inline bool policy_packet_later_fragment(const struct policy_packet *p)
{
	return p->frag && !p->frag_first;
}

/* ICMP or ICMPv6 echo request / reply (tracked by identifier). */
bool policy_packet_is_echo(const struct policy_packet *p);
bool policy_packet_is_echo_request(const struct policy_packet *p);

/*
 * IPv6 neighbour discovery as RFC 4861 accepts it: ICMPv6 types 133..137
 * with hop limit 255, not fragmented (RFC 6980). Such packets that no rule
 * matches get settings.non_ip instead of the tenant default (eval.h).
 */
bool policy_packet_is_ndp(const struct policy_packet *p);

/*
 * Multicast listener discovery as RFC 2710 / 3810 send it: ICMPv6 130,
 * 131, 132 or 143, hop limit 1, a Router Alert option for MLD
 * (mld_alert), from a link-local source or from :: (RFC 3810 5.2.13), not
 * fragmented.
 */
bool policy_packet_is_mld(const struct policy_packet *p);

/*
 * The link's own control traffic, which gets settings.non_ip instead of
 * the tenant default when no rule matches it (eval.h): neighbour discovery
 * or multicast listener discovery.
 */
bool policy_packet_is_link_control(const struct policy_packet *p);

/* An ICMP error that quotes the packet it is about: IPv4 ICMP destination
 * unreachable, time exceeded, parameter problem; ICMPv6 types 1..4; not a
 * fragment. */
bool policy_packet_is_icmp_error(const struct policy_packet *p);

/*
 * The service point of analyze.h for this packet: destination port for TCP
 * and UDP, ICMP type for ICMP and ICMPv6 (by protocol number, whatever the
 * IP version), 0 otherwise.
 */
uint16_t policy_packet_point(const struct policy_packet *p);

/*
 * Parse the Ethernet frame @frame of @len bytes received on @ifname:
 * Ethernet II, at most one 802.1Q tag (VLAN id 0 = priority tag, reported
 * as untagged; a second tag, or an outer 802.1ad / 0x9100 tag, makes the
 * frame malformed, with @vlan the outer id when it is 802.1Q), IPv4 with
 * options, IPv6 with extension headers, then TCP, UDP, ICMP or ICMPv6,
 * and the quote of an ICMP error. A truncated or inconsistent header gives kind
 * POLICY_PKT_MALFORMED with @malformed saying why; that is not an error.
 * Returns 0, or -EINVAL when @ifname is too long.
 */
int policy_packet_parse(const uint8_t *frame, size_t len, const char *ifname,
			struct policy_packet *out);

/*
 * The IPv6 extension headers the parser walks (hop-by-hop, routing,
 * fragment, AH, destination options, mobility): in an IPv6 packet these
 * numbers are headers, never the protocol the policy sees.
 */
bool policy_packet_ipv6_ext(uint8_t nexthdr);

/* Helpers for tests and tools: fill an IP packet description. */
int policy_packet_set_addrs(struct policy_packet *p, const char *saddr,
			    const char *daddr);

#endif /* PLUMWALL_POLICY_PACKET_H */
