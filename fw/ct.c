// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's conntrack table over ctnetlink (libmnl): the flows nft
 * mode's table judged, listed and ended. ct.h says which flows those are.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <libmnl/libmnl.h>

#include "ct.h"
#include "nft.h"

/* The attributes of one nest, by type; attributes of a type beyond @max
 * and of a wrong length are left out. */
struct fw_ct_nest {
	const struct nlattr **tb;
	unsigned int max;
};

static int fw_ct_attr_cb(const struct nlattr *a, void *data)
{
	struct fw_ct_nest *n = data;
	unsigned int type = mnl_attr_get_type(a);

	if (type <= n->max)
		n->tb[type] = a;
	return MNL_CB_OK;
}

static int fw_ct_nested(const struct nlattr *nest, const struct nlattr **tb,
			unsigned int max)
{
	struct fw_ct_nest n = { .tb = tb, .max = max };

	memset(tb, 0, (max + 1) * sizeof(*tb));
	if (!nest)
		return -EINVAL;
	return mnl_attr_parse_nested(nest, fw_ct_attr_cb, &n) < 0 ? -EINVAL : 0;
}

/* The attribute's payload when it is exactly @len bytes long. */
static const void *fw_ct_payload(const struct nlattr *a, size_t len)
{
	if (!a || mnl_attr_get_payload_len(a) != len)
		return NULL;
	return mnl_attr_get_payload(a);
}

static int fw_ct_u8(const struct nlattr *a, uint8_t *v)
{
	const uint8_t *p = fw_ct_payload(a, 1);

	if (!p)
		return -EINVAL;
	*v = *p;
	return 0;
}

static int fw_ct_be16(const struct nlattr *a, uint16_t *v)
{
	const uint8_t *p = fw_ct_payload(a, 2);

	if (!p)
		return -EINVAL;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	return 0;
}

static int fw_ct_be32(const struct nlattr *a, uint32_t *v)
{
	const void *p = fw_ct_payload(a, 4);
	uint32_t be;

	if (!p)
		return -EINVAL;
	memcpy(&be, p, 4);
	*v = ntohl(be);
	return 0;
}

static int fw_ct_be64(const struct nlattr *a, uint64_t *v)
{
	const void *p = fw_ct_payload(a, 8);
	uint64_t be;

	if (!p)
		return -EINVAL;
	memcpy(&be, p, 8);
	*v = be64toh(be);
	return 0;
}

/* CTA_TUPLE_ORIG into @f: addresses, protocol, ports or ICMP fields. */
static int fw_ct_tuple(const struct nlattr *tuple, struct fw_ct_flow *f)
{
	const struct nlattr *t[CTA_TUPLE_MAX + 1], *ip[CTA_IP_MAX + 1],
		*pr[CTA_PROTO_MAX + 1];
	size_t alen = f->family == AF_INET6 ? 16 : 4;
	const void *s, *d;

	if (fw_ct_nested(tuple, t, CTA_TUPLE_MAX) ||
	    fw_ct_nested(t[CTA_TUPLE_IP], ip, CTA_IP_MAX) ||
	    fw_ct_nested(t[CTA_TUPLE_PROTO], pr, CTA_PROTO_MAX))
		return -EINVAL;
	s = fw_ct_payload(ip[alen == 4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC], alen);
	d = fw_ct_payload(ip[alen == 4 ? CTA_IP_V4_DST : CTA_IP_V6_DST], alen);
	if (!s || !d || fw_ct_u8(pr[CTA_PROTO_NUM], &f->proto))
		return -EINVAL;
	memcpy(f->saddr, s, alen);
	memcpy(f->daddr, d, alen);
	if (pr[CTA_PROTO_SRC_PORT] &&
	    (fw_ct_be16(pr[CTA_PROTO_SRC_PORT], &f->sport) ||
	     fw_ct_be16(pr[CTA_PROTO_DST_PORT], &f->dport)))
		return -EINVAL;
	if (pr[CTA_PROTO_ICMP_TYPE] &&
	    (fw_ct_u8(pr[CTA_PROTO_ICMP_TYPE], &f->icmp_type) ||
	     fw_ct_u8(pr[CTA_PROTO_ICMP_CODE], &f->icmp_code) ||
	     fw_ct_be16(pr[CTA_PROTO_ICMP_ID], &f->icmp_id)))
		return -EINVAL;
	if (pr[CTA_PROTO_ICMPV6_TYPE] &&
	    (fw_ct_u8(pr[CTA_PROTO_ICMPV6_TYPE], &f->icmp_type) ||
	     fw_ct_u8(pr[CTA_PROTO_ICMPV6_CODE], &f->icmp_code) ||
	     fw_ct_be16(pr[CTA_PROTO_ICMPV6_ID], &f->icmp_id)))
		return -EINVAL;
	return 0;
}

static void fw_ct_counters(const struct nlattr *nest, struct fw_ct_flow *f,
			   unsigned int dir)
{
	const struct nlattr *c[CTA_COUNTERS_MAX + 1];

	if (!nest || fw_ct_nested(nest, c, CTA_COUNTERS_MAX) ||
	    fw_ct_be64(c[CTA_COUNTERS_PACKETS], &f->packets[dir]) ||
	    fw_ct_be64(c[CTA_COUNTERS_BYTES], &f->bytes[dir]))
		return;
	f->counted = true;
}

struct fw_ct_walk {
	fw_ct_flow_fn fn;
	void *ctx;
	int ret;
};

/* One entry: those without our label, and those the kernel describes in
 * a way we cannot read, are not ours to show. */
static int fw_ct_entry_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_ct_walk *w = data;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[CTA_MAX + 1], *pi[CTA_PROTOINFO_MAX + 1],
		*tcp[CTA_PROTOINFO_TCP_MAX + 1], *ts[CTA_TIMESTAMP_MAX + 1];
	struct fw_ct_nest n = { .tb = tb, .max = CTA_MAX };
	struct fw_ct_flow f;
	const uint8_t *labels;
	uint32_t iif;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)))
		return MNL_CB_OK;
	memset(tb, 0, sizeof(tb));
	if (mnl_attr_parse(nlh, sizeof(*g), fw_ct_attr_cb, &n) < 0)
		return MNL_CB_OK;
	labels = fw_ct_payload(tb[CTA_LABELS], 16);
	if (!labels)
		return MNL_CB_OK;
	memcpy(&iif, labels + FW_NFT_LABEL_IIF_OFF, sizeof(iif));
	if (!iif)
		return MNL_CB_OK;
	memset(&f, 0, sizeof(f));
	f.ifindex = iif;
	f.family = g->nfgen_family;
	if ((f.family != AF_INET && f.family != AF_INET6) ||
	    fw_ct_tuple(tb[CTA_TUPLE_ORIG], &f) ||
	    fw_ct_be32(tb[CTA_ID], &f.id))
		return MNL_CB_OK;
	fw_ct_be32(tb[CTA_STATUS], &f.status);
	fw_ct_be32(tb[CTA_TIMEOUT], &f.timeout_s);
	fw_ct_counters(tb[CTA_COUNTERS_ORIG], &f, 0);
	fw_ct_counters(tb[CTA_COUNTERS_REPLY], &f, 1);
	if (!fw_ct_nested(tb[CTA_PROTOINFO], pi, CTA_PROTOINFO_MAX) &&
	    !fw_ct_nested(pi[CTA_PROTOINFO_TCP], tcp, CTA_PROTOINFO_TCP_MAX))
		fw_ct_u8(tcp[CTA_PROTOINFO_TCP_STATE], &f.tcp_state);
	if (!fw_ct_nested(tb[CTA_TIMESTAMP], ts, CTA_TIMESTAMP_MAX) &&
	    !fw_ct_be64(ts[CTA_TIMESTAMP_START], &f.start_ns))
		f.stamped = true;
	w->ret = w->fn(&f, w->ctx);
	return w->ret ? MNL_CB_STOP : MNL_CB_OK;
}

static struct nlmsghdr *fw_ct_msg(char *buf, uint16_t type, uint16_t flags,
				  uint8_t family, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (uint16_t)(NFNL_SUBSYS_CTNETLINK << 8 | type);
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	return nlh;
}

int fw_ct_flows(fw_ct_flow_fn fn, void *ctx)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct fw_ct_walk w = { .fn = fn, .ctx = ctx };
	struct nlmsghdr *nlh;
	int ret;

	/* AF_UNSPEC: the entries of every family */
	nlh = fw_ct_msg(buf, IPCTNL_MSG_CT_GET, NLM_F_DUMP, AF_UNSPEC,
			(uint32_t)time(NULL));
	ret = fw_nft_request(nlh, fw_ct_entry_cb, &w);
	/* a stop by @fn is its answer, not a failure of the walk */
	return w.ret ? w.ret : ret;
}

int fw_ct_delete(const struct fw_ct_flow *f)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlattr *tuple, *ip, *pr;
	struct nlmsghdr *nlh;
	bool v4 = f->family == AF_INET;

	nlh = fw_ct_msg(buf, IPCTNL_MSG_CT_DELETE, NLM_F_ACK, f->family,
			(uint32_t)time(NULL));
	tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, v4 ? 4 : 16,
		     f->saddr);
	mnl_attr_put(nlh, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, v4 ? 4 : 16,
		     f->daddr);
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, f->proto);
	if (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6) {
		bool v6 = f->proto == IPPROTO_ICMPV6;

		mnl_attr_put_u16(nlh,
				 v6 ? CTA_PROTO_ICMPV6_ID : CTA_PROTO_ICMP_ID,
				 htons(f->icmp_id));
		mnl_attr_put_u8(
			nlh, v6 ? CTA_PROTO_ICMPV6_TYPE : CTA_PROTO_ICMP_TYPE,
			f->icmp_type);
		mnl_attr_put_u8(
			nlh, v6 ? CTA_PROTO_ICMPV6_CODE : CTA_PROTO_ICMP_CODE,
			f->icmp_code);
	} else if (f->sport || f->dport) {
		mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(f->sport));
		mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(f->dport));
	}
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, tuple);
	/* this entry, not a later one of the same tuple */
	mnl_attr_put_u32(nlh, CTA_ID, htonl(f->id));
	return fw_nft_request(nlh, NULL, NULL);
}
