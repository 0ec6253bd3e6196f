// SPDX-License-Identifier: GPL-2.0
/*
 * nft mode's events: NFULNL_MSG_PACKET messages, built here with libmnl
 * as nfnetlink_log builds them, decoded by logd_nflog_decode() into the
 * struct pw_event the sinks format (prefix, IP and layer 4 fields, the
 * Ethernet snap), and every malformed or truncated message refused with
 * -EBADMSG: a wrong type, any cut of a valid message, attributes that
 * overrun it or have the wrong size, prefixes that are not plumwall's,
 * IP headers that do not hold together. Then the loss accounting of
 * logd_nflog_message(): NFULA_SEQ gaps become plumwall.lost events.
 */
#include "logging/logd.h"

#include <arpa/inet.h>
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <net/if_arp.h>

#include <libmnl/libmnl.h>

#define BUF_SIZE 4096

/* What a message holds; a zero field is left out. */
struct msg {
	uint8_t family; /* nfgen_family: AF_INET, AF_INET6 */
	const char *prefix; /* NULL: no NFULA_PREFIX */
	const uint8_t *pkt; /* NULL: no NFULA_PAYLOAD */
	size_t pkt_len;
	bool seq;
	uint32_t seq_val;
	uint32_t ifindex;
	const uint8_t *hw; /* NFULA_HWTYPE ether, HWLEN, HWHEADER */
	uint64_t ts_sec, ts_usec;
};

static size_t build(char *buf, const struct msg *m)
{
	struct nfulnl_msg_packet_hdr ph = {
		.hw_protocol = htons(m->family == AF_INET ? 0x0800 : 0x86dd),
		.hook = 0
	};
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	memset(buf, 0, BUF_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = m->family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(PW_NFLOG_GROUP);
	mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(ph), &ph);
	if (m->ts_sec) {
		struct nfulnl_msg_packet_timestamp ts = {
			.sec = htobe64(m->ts_sec),
			.usec = htobe64(m->ts_usec),
		};

		mnl_attr_put(nlh, NFULA_TIMESTAMP, sizeof(ts), &ts);
	}
	if (m->ifindex)
		mnl_attr_put_u32(nlh, NFULA_IFINDEX_INDEV, htonl(m->ifindex));
	if (m->hw) {
		mnl_attr_put_u16(nlh, NFULA_HWTYPE, htons(ARPHRD_ETHER));
		mnl_attr_put_u16(nlh, NFULA_HWLEN, htons(14));
		mnl_attr_put(nlh, NFULA_HWHEADER, 14, m->hw);
	}
	if (m->pkt)
		mnl_attr_put(nlh, NFULA_PAYLOAD, m->pkt_len, m->pkt);
	if (m->seq)
		mnl_attr_put_u32(nlh, NFULA_SEQ, htonl(m->seq_val));
	/* last: a message cut anywhere before its end has no prefix */
	if (m->prefix)
		mnl_attr_put_strz(nlh, NFULA_PREFIX, m->prefix);
	return nlh->nlmsg_len;
}

/* 10.1.1.5:40000 -> 10.1.2.7:5432 UDP, 2 bytes of data */
static const uint8_t udp4[] = {
	0x45, 0,  0, 30, 0, 1,	  0x40, 0,    64,   17, 0,  0, 10, 1,	1,
	5,    10, 1, 2,	 7, 0x9c, 0x40, 0x15, 0x38, 0,	10, 0, 0,  'x', '\n',
};

/* 10.1.1.5:40000 -> 10.1.2.7:25 TCP SYN, cut after the flags */
static const uint8_t tcp4[] = {
	0x45, 0, 0, 60,	  0,	2, 0x40, 0, 64, 6, 0, 0, 10, 1, 1, 5,	 10,
	1,    2, 7, 0x9c, 0x40, 0, 25,	 0, 0,	0, 1, 0, 0,  0, 0, 0xa0, 0x02,
};

/* 10.1.1.5 -> 10.1.2.7 ICMP echo request */
static const uint8_t icmp4[] = {
	0x45, 0, 0,  28, 0, 3, 0, 0, 64, 1, 0, 0, 10, 1,
	1,    5, 10, 1,	 2, 7, 8, 0, 0,	 0, 0, 1, 0,  1,
};

/* fd00::1 -> fd00::2, hop-by-hop options, then UDP 1234 -> 53 */
static const uint8_t udp6[] = {
	0x60, 0,    0, 0,    0, 16, 0 /* hop-by-hop */,
	64,   0xfd, 0, 0,    0, 0,  0,
	0,    0,    0, 0,    0, 0,  0,
	0,    0,    1, 0xfd, 0, 0,  0,
	0,    0,    0, 0,    0, 0,  0,
	0,    0,    0, 0,    2, 17, 0,
	1,    4,    0, 0,    0, 0, /* hop-by-hop: next UDP, 8 bytes */
	0x04, 0xd2, 0, 53,   0, 8,  0,
	0,
};

static const uint8_t hw[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0 };

START_TEST(decode_udp4_rule_deny)
{
	struct msg m = { .family = AF_INET,
			 .prefix = "pw1:7:3:12:d",
			 .pkt = udp4,
			 .pkt_len = sizeof(udp4),
			 .seq = true,
			 .seq_val = 41,
			 .ifindex = 5,
			 .hw = hw,
			 .ts_sec = 1700000000,
			 .ts_usec = 123456 };
	char buf[BUF_SIZE];
	struct pw_event ev;
	uint64_t wall;
	bool has_seq;
	size_t len = build(buf, &m);

	ck_assert_int_eq(logd_nflog_decode(buf, len, &ev, &wall, &has_seq), 0);
	ck_assert_uint_eq(ev.type, PW_EVENT_DROP);
	ck_assert_uint_eq(ev.verdict, PW_VERDICT_DENY);
	ck_assert_uint_eq(ev.reason, PW_REASON_POLICY);
	ck_assert_uint_eq(ev.generation, 7);
	ck_assert_uint_eq(ev.tenant, 3);
	ck_assert_uint_eq(ev.rule_id, 12);
	ck_assert_uint_eq(ev.family, PW_FAMILY_IPV4);
	ck_assert_uint_eq(ev.proto, 17);
	ck_assert_uint_eq(ev.sport, 40000);
	ck_assert_uint_eq(ev.dport, 5432);
	ck_assert_mem_eq(ev.saddr, ((uint8_t[]){ 10, 1, 1, 5, 0 }), 5);
	ck_assert_mem_eq(ev.daddr, ((uint8_t[]){ 10, 1, 2, 7, 0 }), 5);
	ck_assert_uint_eq(ev.pkt_len, 14 + 30);
	ck_assert_uint_eq(ev.ifindex, 5);
	ck_assert_uint_eq(ev.vlan, 0);
	ck_assert_uint_eq(ev.cpu, LOG_PRODUCER_NFLOG);
	ck_assert_uint_eq(ev.src_segment, PW_SEGMENT_NONE);
	ck_assert_uint_eq(ev.dst_segment, PW_SEGMENT_NONE);
	ck_assert(has_seq);
	ck_assert_uint_eq(ev.seq, 41);
	ck_assert_uint_eq(wall, 1700000000ULL * 1000000000ULL + 123456000ULL);
	ck_assert_uint_eq(ev.ts_ns, 0);
	/* the kernel aligns messages and attributes to 4 bytes only: the
	 * same message 4 bytes off an 8-byte boundary (UBSan in a
	 * sanitized build catches a misaligned read) */
	{
		static uint64_t area[BUF_SIZE / 8 + 1];
		char *p = (char *)area + 4;

		memcpy(p, buf, len);
		ck_assert_int_eq(
			logd_nflog_decode(p, len, &ev, &wall, &has_seq), 0);
		ck_assert_uint_eq(wall,
				  1700000000ULL * 1000000000ULL + 123456000ULL);
	}
	/* the snap: the copied Ethernet header, then the packet */
	ck_assert_uint_eq(ev.snap_len, 14 + sizeof(udp4));
	ck_assert_mem_eq(ev.snap, hw, 14);
	ck_assert_mem_eq(ev.snap + 14, udp4, sizeof(udp4));
}
END_TEST

START_TEST(decode_tcp4_reject_flags)
{
	struct msg m = { .family = AF_INET,
			 .prefix = "pw1:1:1:0:r",
			 .pkt = tcp4,
			 .pkt_len = sizeof(tcp4) };
	char buf[BUF_SIZE];
	struct pw_event ev;
	uint64_t wall;
	bool has_seq;
	size_t len = build(buf, &m);

	ck_assert_int_eq(logd_nflog_decode(buf, len, &ev, &wall, &has_seq), 0);
	ck_assert_uint_eq(ev.type, PW_EVENT_DROP);
	ck_assert_uint_eq(ev.verdict, PW_VERDICT_REJECT);
	ck_assert_uint_eq(ev.rule_id, 0);
	ck_assert_uint_eq(ev.proto, 6);
	ck_assert_uint_eq(ev.dport, 25);
	ck_assert_uint_eq(ev.tcp_flags, 0x02);
	ck_assert_uint_eq(ev.pkt_len, 14 + 60); /* the IP length, not the cut */
	ck_assert(!has_seq);
	ck_assert_uint_eq(wall, 0);
	/* no hardware header: one made up with the packet's ethertype */
	ck_assert_mem_eq(ev.snap, ((uint8_t[12]){ 0 }), 12);
	ck_assert_uint_eq(ev.snap[12], 0x08);
	ck_assert_uint_eq(ev.snap[13], 0x00);
	ck_assert_uint_eq(ev.snap_len, 14 + sizeof(tcp4));
}
END_TEST

START_TEST(decode_icmp4_audit_default)
{
	struct msg m = { .family = AF_INET,
			 .prefix = "pw1:4294967295:65535:d:a",
			 .pkt = icmp4,
			 .pkt_len = sizeof(icmp4) };
	char buf[BUF_SIZE];
	struct pw_event ev;
	uint64_t wall;
	bool has_seq;
	size_t len = build(buf, &m);

	ck_assert_int_eq(logd_nflog_decode(buf, len, &ev, &wall, &has_seq), 0);
	ck_assert_uint_eq(ev.type, PW_EVENT_AUDIT);
	ck_assert_uint_eq(ev.verdict, PW_VERDICT_AUDIT);
	ck_assert_uint_eq(ev.reason, PW_REASON_DEFAULT);
	ck_assert_uint_eq(ev.rule_id, PW_RULE_NONE);
	ck_assert_uint_eq(ev.generation, 4294967295U);
	ck_assert_uint_eq(ev.tenant, 65535);
	ck_assert_uint_eq(ev.proto, 1);
	ck_assert_uint_eq(ev.icmp_type, 8);
	ck_assert_uint_eq(ev.icmp_code, 0);
	ck_assert_uint_eq(ev.sport, 0);
	ck_assert_uint_eq(ev.dport, 0);
}
END_TEST

START_TEST(decode_udp6_extension_header)
{
	struct msg m = { .family = AF_INET6,
			 .prefix = "pw1:2:1:3:d",
			 .pkt = udp6,
			 .pkt_len = sizeof(udp6) };
	char buf[BUF_SIZE];
	struct pw_event ev;
	uint64_t wall;
	bool has_seq;
	size_t len = build(buf, &m);

	ck_assert_int_eq(logd_nflog_decode(buf, len, &ev, &wall, &has_seq), 0);
	ck_assert_uint_eq(ev.family, PW_FAMILY_IPV6);
	ck_assert_uint_eq(ev.proto, 17);
	ck_assert_uint_eq(ev.sport, 1234);
	ck_assert_uint_eq(ev.dport, 53);
	ck_assert_uint_eq(ev.saddr[0], 0xfd);
	ck_assert_uint_eq(ev.saddr[15], 1);
	ck_assert_uint_eq(ev.daddr[15], 2);
	ck_assert_uint_eq(ev.pkt_len, 14 + 40 + 16);
	ck_assert_uint_eq(ev.snap[12], 0x86);
	ck_assert_uint_eq(ev.snap[13], 0xdd);
}
END_TEST

/* A packet longer than the snap: the snap stops at PW_SNAPLEN. */
START_TEST(decode_snap_bounded)
{
	uint8_t big[PW_SNAPLEN + 60];
	struct msg m = { .family = AF_INET,
			 .prefix = "pw1:1:1:0:d",
			 .pkt = big,
			 .pkt_len = sizeof(big) };
	char buf[BUF_SIZE];
	struct pw_event ev;
	uint64_t wall;
	bool has_seq;
	size_t len;

	memset(big, 0xab, sizeof(big));
	memcpy(big, udp4, sizeof(udp4));
	big[2] = 0;
	big[3] = sizeof(big);
	len = build(buf, &m);
	ck_assert_int_eq(logd_nflog_decode(buf, len, &ev, &wall, &has_seq), 0);
	ck_assert_uint_eq(ev.snap_len, PW_SNAPLEN);
	ck_assert_uint_eq(ev.snap[PW_SNAPLEN - 1], 0xab);
	ck_assert_uint_eq(ev.pkt_len, 14 + sizeof(big));
}
END_TEST

static int decode_msg(const struct msg *m)
{
	char buf[BUF_SIZE];
	struct pw_event ev;
	uint64_t wall;
	bool has_seq;
	size_t len = build(buf, m);

	return logd_nflog_decode(buf, len, &ev, &wall, &has_seq);
}

START_TEST(decode_refuses_prefixes)
{
	static const char *const bad[] = {
		"",
		"pw1",
		"pw2:1:1:0:d",
		"PW1:1:1:0:d",
		"pw1:1:0:0:d", /* tenant 0 */
		"pw1:1:65536:0:d",
		"pw1:4294967296:1:0:d",
		"pw1:1:1:4294967295:d", /* PW_RULE_NONE is no rule id */
		"pw1:1:1:0:x",
		"pw1:1:1:0:dd",
		"pw1:1:1:0:",
		"pw1:1:1::d",
		"pw1::1:0:d",
		"pw1:-1:1:0:d",
		"pw1:1:1:x:d",
		"pw1:1:1:dd:d",
		"pw1:1:1:0:d ",
		"pw1 1 1 0 d",
		"some other NFLOG user",
	};
	struct msg m = { .family = AF_INET,
			 .pkt = udp4,
			 .pkt_len = sizeof(udp4) };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m.prefix = bad[i];
		ck_assert_msg(decode_msg(&m) == -EBADMSG, "prefix \"%s\"",
			      bad[i]);
	}
	m.prefix = NULL;
	ck_assert_int_eq(decode_msg(&m), -EBADMSG);
}
END_TEST

START_TEST(decode_refuses_packets)
{
	uint8_t p[sizeof(udp4)];
	struct msg m = { .family = AF_INET,
			 .prefix = "pw1:1:1:0:d",
			 .pkt = p,
			 .pkt_len = sizeof(p) };

	m.pkt = NULL; /* no payload */
	ck_assert_int_eq(decode_msg(&m), -EBADMSG);
	m.pkt = p;
	memcpy(p, udp4, sizeof(p));
	m.pkt_len = 19; /* shorter than an IPv4 header */
	ck_assert_int_eq(decode_msg(&m), -EBADMSG);
	m.pkt_len = sizeof(p);
	p[0] = 0x44; /* header length 16 */
	ck_assert_int_eq(decode_msg(&m), -EBADMSG);
	p[0] = 0x4f; /* header length 60, beyond what is there */
	ck_assert_int_eq(decode_msg(&m), -EBADMSG);
	p[0] = 0x65; /* version 6 in an IPv4 message */
	ck_assert_int_eq(decode_msg(&m), -EBADMSG);
	memcpy(p, udp4, sizeof(p));
	p[3] = 10; /* total length below the header's */
	ck_assert_int_eq(decode_msg(&m), -EBADMSG);
	memcpy(p, udp4, sizeof(p));
	m.family = AF_INET6; /* an IPv4 packet as IPv6 */
	ck_assert_int_eq(decode_msg(&m), -EBADMSG);
	m.family = AF_UNSPEC;
	ck_assert_int_eq(decode_msg(&m), -EBADMSG);
	m.family = AF_INET6;
	m.pkt = udp6;
	m.pkt_len = 39; /* shorter than an IPv6 header */
	ck_assert_int_eq(decode_msg(&m), -EBADMSG);
	m.pkt_len = sizeof(udp6);
	ck_assert_int_eq(decode_msg(&m), 0);
}
END_TEST

/* Every cut of a valid message is refused, none read beyond it. */
START_TEST(decode_refuses_truncated)
{
	struct msg m = { .family = AF_INET,
			 .prefix = "pw1:7:3:12:d",
			 .pkt = udp4,
			 .pkt_len = sizeof(udp4),
			 .seq = true,
			 .ifindex = 5,
			 .hw = hw,
			 .ts_sec = 1 };
	char buf[BUF_SIZE], *cut;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct pw_event ev;
	uint64_t wall;
	bool has_seq;
	size_t len = build(buf, &m), n;

	for (n = 0; n < len; n++) {
		/* exactly n bytes, so that a read beyond is a sanitizer
		 * error, and the header still claiming them all */
		cut = malloc(n ? n : 1);
		ck_assert_ptr_nonnull(cut);
		memcpy(cut, buf, n);
		ck_assert_msg(logd_nflog_decode(cut, n, &ev, &wall, &has_seq) ==
				      -EBADMSG,
			      "cut at %zu of %zu", n, len);
		free(cut);
	}
	/* the header saying less than the attributes need */
	for (n = MNL_NLMSG_HDRLEN; n < len; n += 4) {
		build(buf, &m);
		nlh->nlmsg_len = (uint32_t)n;
		ck_assert_msg(logd_nflog_decode(buf, len, &ev, &wall,
						&has_seq) == -EBADMSG,
			      "nlmsg_len %zu of %zu", n, len);
	}
	/* an attribute claiming more than the message holds */
	build(buf, &m);
	{
		struct nlattr *a = (struct nlattr *)(buf + MNL_NLMSG_HDRLEN +
						     sizeof(struct nfgenmsg));

		a->nla_len = (uint16_t)(len + 8);
		ck_assert_int_eq(logd_nflog_decode(buf, len, &ev, &wall,
						   &has_seq),
				 -EBADMSG);
	}
	/* a last attribute cut short, after everything decoding needs:
	 * the message is refused, not read up to the cut */
	build(buf, &m);
	{
		struct nlattr *a = (struct nlattr *)(buf + nlh->nlmsg_len);

		a->nla_type = NFULA_SEQ;
		a->nla_len = 8;
		nlh->nlmsg_len += 4;
		ck_assert_int_eq(logd_nflog_decode(buf, nlh->nlmsg_len, &ev,
						   &wall, &has_seq),
				 -EBADMSG);
	}
	/* another message type */
	build(buf, &m);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	ck_assert_int_eq(logd_nflog_decode(buf, len, &ev, &wall, &has_seq),
			 -EBADMSG);
	/* the whole message still decodes */
	build(buf, &m);
	ck_assert_int_eq(logd_nflog_decode(buf, len, &ev, &wall, &has_seq), 0);
}
END_TEST

/* Attributes of the wrong size; a prefix without its NUL. */
START_TEST(decode_refuses_attribute_sizes)
{
	char buf[BUF_SIZE];
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct pw_event ev;
	uint64_t wall;
	bool has_seq;
	int which;

	for (which = 0; which < 4; which++) {
		memset(buf, 0, sizeof(buf));
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
		nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
		nfg->nfgen_family = AF_INET;
		mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(udp4), udp4);
		if (which == 0)
			mnl_attr_put(nlh, NFULA_PREFIX, 11, "pw1:1:1:0:d");
		else
			mnl_attr_put_strz(nlh, NFULA_PREFIX, "pw1:1:1:0:d");
		if (which == 1)
			mnl_attr_put_u16(nlh, NFULA_SEQ, 1);
		if (which == 2)
			mnl_attr_put_u16(nlh, NFULA_IFINDEX_INDEV, 1);
		if (which == 3)
			mnl_attr_put_u32(nlh, NFULA_TIMESTAMP, 1);
		ck_assert_msg(logd_nflog_decode(buf, nlh->nlmsg_len, &ev, &wall,
						&has_seq) == -EBADMSG,
			      "case %d", which);
	}
}
END_TEST

/* NFULA_SEQ gaps: plumwall.lost events of producer logd. */
START_TEST(message_sequence_gaps)
{
	struct msg m = { .family = AF_INET,
			 .prefix = "pw1:1:1:0:d",
			 .pkt = udp4,
			 .pkt_len = sizeof(udp4),
			 .seq = true };
	struct logd_reader r;
	struct logd_nflog n;
	char buf[BUF_SIZE];
	size_t len;

	logd_reader_init(&r);
	logd_nflog_init(&n);
	r.state = "/nonexistent/state.json";
	r.state_tmp = "/nonexistent/state.json.tmp";
	m.seq_val = 0;
	len = build(buf, &m);
	logd_nflog_message(&n, &r, buf, len);
	m.seq_val = 1;
	len = build(buf, &m);
	logd_nflog_message(&n, &r, buf, len);
	ck_assert_uint_eq(r.gap_lost, 0);
	/* 2 and 3 never came */
	m.seq_val = 4;
	len = build(buf, &m);
	logd_nflog_message(&n, &r, buf, len);
	ck_assert_uint_eq(r.gap_lost, 2);
	ck_assert_uint_eq(n.lost, 2);
	/* a malformed message is counted, not an event */
	m.prefix = "pw1:1:1:0:q";
	len = build(buf, &m);
	logd_nflog_message(&n, &r, buf, len);
	ck_assert_uint_eq(n.bad, 1);
	/* an overrun reported 1 at once; the messages queued before it
	 * come without a gap, then the gap of 3 reports 2 more */
	n.pending = 1;
	n.lost++;
	m.prefix = "pw1:1:1:0:d";
	m.seq_val = 5;
	len = build(buf, &m);
	logd_nflog_message(&n, &r, buf, len);
	ck_assert_uint_eq(n.pending, 1);
	ck_assert_uint_eq(r.gap_lost, 2);
	m.seq_val = 9;
	len = build(buf, &m);
	logd_nflog_message(&n, &r, buf, len);
	ck_assert_uint_eq(r.gap_lost, 4);
	ck_assert_uint_eq(n.lost, 5);
	ck_assert_uint_eq(n.pending, 0);
	ck_assert_uint_eq(n.events, 5);
	/* the first message of the group starts at 0: a later first one
	 * lost those before it */
	logd_nflog_init(&n);
	m.seq_val = 3;
	len = build(buf, &m);
	logd_nflog_message(&n, &r, buf, len);
	ck_assert_uint_eq(n.lost, 3);
	/* events went to the reader: the dispatch path of the ring buffer */
	ck_assert_uint_eq(r.events, 6);
	logd_reader_close(&r);
}
END_TEST

static Suite *nflog_suite(void)
{
	Suite *s = suite_create("logd_nflog");
	TCase *tc = tcase_create("decode");

	tcase_add_test(tc, decode_udp4_rule_deny);
	tcase_add_test(tc, decode_tcp4_reject_flags);
	tcase_add_test(tc, decode_icmp4_audit_default);
	tcase_add_test(tc, decode_udp6_extension_header);
	tcase_add_test(tc, decode_snap_bounded);
	tcase_add_test(tc, decode_refuses_prefixes);
	tcase_add_test(tc, decode_refuses_packets);
	tcase_add_test(tc, decode_refuses_truncated);
	tcase_add_test(tc, decode_refuses_attribute_sizes);
	tcase_add_test(tc, message_sequence_gaps);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nflog_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
