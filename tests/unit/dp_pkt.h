/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test frames for the datapath tests: a small description (struct tpkt)
 * becomes an Ethernet frame with correct checksums; tests then break it on
 * purpose (tpkt_mut) for the malformed cases. Also the checksum helpers
 * the tests use to verify reject answers.
 */
#ifndef PLUMWALL_TESTS_DP_PKT_H
#define PLUMWALL_TESTS_DP_PKT_H

#include <stddef.h>
#include <stdint.h>

#define TPKT_MAX 2048
#define TPKT_MAX_EXT 12

/* Hop-by-hop option bytes (tpkt.hbh): Router Alert for MLD as Linux
 * sends it (RA, PadN) and as the BSDs do (empty PadN, RA). */
#define TPKT_HBH_RA_MLD          \
	{                        \
		5, 2, 0, 0, 1, 0 \
	}
#define TPKT_HBH_PADN_RA_MLD     \
	{                        \
		1, 0, 5, 2, 0, 0 \
	}

/* IPv6 extension header kinds for tpkt.ext[] (next header values). */
#define TPKT_HBH 0
#define TPKT_ROUTING 43
#define TPKT_FRAG 44
#define TPKT_AH 51
#define TPKT_DST 60
#define TPKT_MH 135

struct tpkt {
	uint8_t family; /* 4, 6, or 0: non-IP frame with @ethertype */
	const char *src; /* addresses as text */
	const char *dst;
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t flags; /* TCP flags */
	uint32_t seq, ack;
	uint8_t type, code; /* ICMP */
	uint16_t id; /* ICMP echo identifier */
	uint16_t vlan;
	int tagged; /* add an 802.1Q tag (also when vlan is 0) */
	uint16_t tag_proto; /* 0: 0x8100 */
	int double_tag; /* a second 802.1Q tag inside */
	uint8_t hop_limit; /* IPv6; 0: 64 */
	uint16_t ethertype; /* non-IP frames */
	uint16_t payload; /* layer 4 payload bytes (pattern) */
	uint8_t ip_opts; /* IPv4 option bytes, multiple of 4 */
	uint8_t ext[TPKT_MAX_EXT]; /* IPv6 extension headers, in order */
	int n_ext;
	/* with hbh_set: the 6 option bytes of the hop-by-hop headers in ext
	 * (otherwise one PadN over them) */
	uint8_t hbh[6];
	int hbh_set;
	uint16_t frag_off; /* fragment offset, 8-byte units */
	int mf; /* more fragments */
	int frag; /* IPv4: set MF/offset from above (v6: TPKT_FRAG in ext) */
	uint32_t frag_id;
	int bcast_mac; /* destination MAC ff:ff:ff:ff:ff:ff */
	/* ICMP(v6) errors: the quoted packet, its IP header and the first
	 * @inner_len bytes after it (0: 8 bytes) */
	const struct tpkt *inner;
	int inner_len;
	int pad_to; /* zero-pad the frame to this length (Ethernet minimum) */
};

/* Build the frame; returns its length (0 on a bad description). */
size_t tpkt_build(const struct tpkt *t, uint8_t *buf, size_t cap);

/* Offset of the IP header in a frame built from @t. */
size_t tpkt_l3_off(const struct tpkt *t);

/* RFC 1071 sum helpers. */
uint32_t tpkt_sum(const uint8_t *p, size_t len, uint32_t sum);
uint16_t tpkt_fold(uint32_t sum);
/* Verify every checksum of an IPv4/IPv6 + TCP/UDP/ICMP/ICMPv6 packet
 * starting at @ip (@len bytes). Returns 0 when all are right. */
int tpkt_verify_csums(const uint8_t *ip, size_t len);

#endif /* PLUMWALL_TESTS_DP_PKT_H */
