// SPDX-License-Identifier: GPL-2.0
/*
 * nft mode's events: the table logs to nflog group PW_NFLOG_GROUP with a
 * prefix naming generation, tenant, rule and verdict (shared.h "events of
 * nft mode"); this reads the group over nfnetlink_log and hands each
 * packet, as a struct pw_event, to logd_reader_event(), the ring
 * buffer's path, so that names and sinks treat both alike.
 *
 * The socket is bound once at start, while logd still has CAP_NET_ADMIN
 * (nfnetlink refuses configuration without it, and logd drops every
 * capability once set up), whatever the engine: a group nothing logs to
 * costs nothing, and nft mode may be applied after logd started. No
 * NFULNL_CFG_CMD_PF_BIND: `log group` names its logger type, so the
 * kernel hands the packet to nfnetlink_log without a per-family binding,
 * and binding would make nfnetlink_log the namespace's default logger
 * for every other user of the family (LOG targets, conntrack's invalid
 * packet logging).
 *
 * What differs from the ring buffer's events: no segments (the table
 * knows classes, not the display segment: src_segment and dst_segment
 * are PW_SEGMENT_NONE, so the formatters leave them out), no VLAN (nft
 * mode has no VLAN tenants), producer LOG_PRODUCER_NFLOG with the
 * group's own sequence (NFULA_SEQ), and the snap starts with the frame's
 * Ethernet header from NFULA_HWHEADER, or one made up (zero addresses,
 * the packet's ethertype) when the kernel gives none.
 *
 * Loss: the kernel numbers every packet it logs to the group before it
 * tries to send it, so a send that failed (the socket's buffer full) is
 * a gap in NFULA_SEQ at the next message; the failure itself shows as
 * ENOBUFS on the socket. Both become plumwall.lost events: ENOBUFS
 * reports one at once (never silence, even if nothing follows), the
 * gap the rest.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <libmnl/libmnl.h>

#include "logging/logd.h"

#define LOGD_NFLOG_BUF ((size_t)128 * 1024)
#define LOGD_NFLOG_RCVBUF (4 * 1024 * 1024)

/* ---- decoding ------------------------------------------------------------ */

/* A decimal number of at most @max, ending at @end (':' or NUL). */
static int logd_nflog_num(const char **p, char end, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EBADMSG;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -EBADMSG;
	}
	if (*s != end)
		return -EBADMSG;
	*p = end ? s + 1 : s;
	*out = v;
	return 0;
}

/* "pw1:GENERATION:TENANT:RULE:VERDICT" (shared.h) into @ev. */
static int logd_nflog_prefix(const char *s, struct pw_event *ev)
{
	size_t m = strlen(PW_NFLOG_MAGIC);
	uint64_t gen, tenant, rule = PW_RULE_NONE;

	if (strncmp(s, PW_NFLOG_MAGIC, m) || s[m] != ':')
		return -EBADMSG;
	s += m + 1;
	if (logd_nflog_num(&s, ':', UINT32_MAX, &gen) ||
	    logd_nflog_num(&s, ':', UINT16_MAX, &tenant) ||
	    tenant == PW_TENANT_NONE)
		return -EBADMSG;
	if (s[0] == PW_NFLOG_RULE_DEFAULT && s[1] == ':')
		s += 2;
	else if (logd_nflog_num(&s, ':', PW_RULE_NONE - 1, &rule))
		return -EBADMSG;
	if (!s[0] || s[1])
		return -EBADMSG;
	switch (s[0]) {
	case PW_NFLOG_VERDICT_DENY:
		ev->verdict = PW_VERDICT_DENY;
		break;
	case PW_NFLOG_VERDICT_REJECT:
		ev->verdict = PW_VERDICT_REJECT;
		break;
	case PW_NFLOG_VERDICT_AUDIT:
		ev->verdict = PW_VERDICT_AUDIT;
		break;
	default:
		return -EBADMSG;
	}
	ev->type = ev->verdict == PW_VERDICT_AUDIT ? PW_EVENT_AUDIT :
						     PW_EVENT_DROP;
	ev->generation = (uint32_t)gen;
	ev->tenant = (uint16_t)tenant;
	ev->rule_id = (uint32_t)rule;
	ev->reason = rule == PW_RULE_NONE ? PW_REASON_DEFAULT :
					    PW_REASON_POLICY;
	return 0;
}

/* The layer 4 fields the events carry, from @n captured bytes at @l4. */
static void logd_nflog_l4(struct pw_event *ev, const uint8_t *l4, size_t n)
{
	switch (ev->proto) {
	case IPPROTO_TCP:
		if (n >= 14)
			ev->tcp_flags = l4[13];
		/* fall through */
	case IPPROTO_UDP:
		if (n >= 4) {
			ev->sport = (uint16_t)(l4[0] << 8 | l4[1]);
			ev->dport = (uint16_t)(l4[2] << 8 | l4[3]);
		}
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (n >= 2) {
			ev->icmp_type = l4[0];
			ev->icmp_code = l4[1];
		}
		break;
	}
}

/*
 * The packet from its network header, @n bytes captured (the copy range
 * may cut it: a layer 4 header beyond is left out, not refused). The
 * IP header must be there and consistent. pkt_len is the frame's
 * length as the datapath counts it: IP length plus Ethernet header.
 */
static int logd_nflog_ip(struct pw_event *ev, const uint8_t *pkt, size_t n,
			 uint8_t family)
{
	size_t off, hl, total;
	unsigned int i;
	uint8_t nh;

	if (family == AF_INET) {
		if (n < 20 || pkt[0] >> 4 != 4)
			return -EBADMSG;
		hl = (size_t)(pkt[0] & 0xf) * 4;
		total = (size_t)(pkt[2] << 8 | pkt[3]);
		if (hl < 20 || hl > n || total < hl)
			return -EBADMSG;
		ev->family = PW_FAMILY_IPV4;
		ev->proto = pkt[9];
		memcpy(ev->saddr, pkt + 12, 4);
		memcpy(ev->daddr, pkt + 16, 4);
		ev->pkt_len = (uint32_t)(total + ETH_HLEN);
		/* a later fragment has no layer 4 header (conntrack
		 * reassembles before the table; this is for safety) */
		if ((pkt[6] & 0x1f) || pkt[7])
			return 0;
		logd_nflog_l4(ev, pkt + hl, n - hl);
		return 0;
	}
	if (family != AF_INET6 || n < 40 || pkt[0] >> 4 != 6)
		return -EBADMSG;
	ev->family = PW_FAMILY_IPV6;
	memcpy(ev->saddr, pkt + 8, 16);
	memcpy(ev->daddr, pkt + 24, 16);
	ev->pkt_len = (uint32_t)(40 + (pkt[4] << 8 | pkt[5]) + ETH_HLEN);
	nh = pkt[6];
	off = 40;
	/* the extension headers, as the datapath walks them */
	for (i = 0; i < PW_MAX_EXT_HDRS; i++) {
		if (nh != 0 && nh != 43 && nh != 60 && nh != 44 && nh != 51)
			break;
		if (off + 8 > n) { /* cut by the copy range */
			ev->proto = nh;
			return 0;
		}
		if (nh == 44) {
			if ((pkt[off + 2] << 8 | pkt[off + 3]) & 0xfff8) {
				ev->proto = pkt[off];
				return 0; /* a later fragment */
			}
			hl = 8;
		} else if (nh == 51) {
			hl = ((size_t)pkt[off + 1] + 2) * 4;
		} else {
			hl = ((size_t)pkt[off + 1] + 1) * 8;
		}
		nh = pkt[off];
		off += hl;
	}
	ev->proto = nh;
	if (off < n)
		logd_nflog_l4(ev, pkt + off, n - off);
	return 0;
}

struct logd_nflog_attrs {
	const struct nlattr *tb[NFULA_MAX + 1];
};

static int logd_nflog_attr_cb(const struct nlattr *a, void *data)
{
	struct logd_nflog_attrs *at = data;
	uint16_t type = mnl_attr_get_type(a);
	int ok = 0;

	if (mnl_attr_type_valid(a, NFULA_MAX) < 0)
		return MNL_CB_OK; /* newer kernel's attribute: ignored */
	switch (type) {
	case NFULA_PACKET_HDR:
		ok = mnl_attr_validate2(a, MNL_TYPE_UNSPEC,
					sizeof(struct nfulnl_msg_packet_hdr));
		break;
	case NFULA_TIMESTAMP:
		ok = mnl_attr_validate2(
			a, MNL_TYPE_UNSPEC,
			sizeof(struct nfulnl_msg_packet_timestamp));
		break;
	case NFULA_IFINDEX_INDEV:
	case NFULA_SEQ:
		ok = mnl_attr_validate(a, MNL_TYPE_U32);
		break;
	case NFULA_HWTYPE:
	case NFULA_HWLEN:
		ok = mnl_attr_validate(a, MNL_TYPE_U16);
		break;
	case NFULA_PREFIX:
		ok = mnl_attr_validate(a, MNL_TYPE_NUL_STRING);
		break;
	}
	if (ok < 0)
		return MNL_CB_ERROR;
	at->tb[type] = a;
	return MNL_CB_OK;
}

int logd_nflog_decode(const void *buf, size_t len, struct pw_event *ev,
		      uint64_t *wall_ns, bool *has_seq)
{
	const struct nlmsghdr *nlh = buf;
	const struct nfgenmsg *nfg;
	const struct nlattr *a, *hw;
	struct logd_nflog_attrs at;
	const uint8_t *pkt;
	size_t n, room;
	uint16_t ethertype;
	int ret;

	memset(ev, 0, sizeof(*ev));
	memset(&at, 0, sizeof(at));
	*wall_ns = 0;
	*has_seq = false;
	/* the kernel pads every message and attribute to 4 bytes: so
	 * must a message here, or its tail is outside @buf */
	if (len < sizeof(*nlh) || len > INT32_MAX ||
	    !mnl_nlmsg_ok(nlh, (int)len) || MNL_ALIGN(nlh->nlmsg_len) > len ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*nfg))
		return -EBADMSG;
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
		return -EBADMSG;
	nfg = mnl_nlmsg_get_payload(nlh);
	/* Every attribute inside the message: mnl_attr_for_each() stops
	 * quietly at one that overruns it, a truncated message. */
	mnl_attr_for_each(a, nlh, sizeof(*nfg)) {
		if (logd_nflog_attr_cb(a, &at) != MNL_CB_OK)
			return -EBADMSG;
	}
	if ((const char *)a != (const char *)mnl_nlmsg_get_payload_tail(nlh))
		return -EBADMSG;
	if (!at.tb[NFULA_PREFIX] || !at.tb[NFULA_PAYLOAD])
		return -EBADMSG;
	ret = logd_nflog_prefix(mnl_attr_get_str(at.tb[NFULA_PREFIX]), ev);
	if (ret)
		return ret;
	pkt = mnl_attr_get_payload(at.tb[NFULA_PAYLOAD]);
	n = mnl_attr_get_payload_len(at.tb[NFULA_PAYLOAD]);
	ret = logd_nflog_ip(ev, pkt, n, nfg->nfgen_family);
	if (ret)
		return ret;
	ev->dir = PW_DIR_INGRESS;
	ev->cpu = LOG_PRODUCER_NFLOG;
	ev->src_segment = PW_SEGMENT_NONE;
	ev->dst_segment = PW_SEGMENT_NONE;
	if (at.tb[NFULA_IFINDEX_INDEV])
		ev->ifindex =
			ntohl(mnl_attr_get_u32(at.tb[NFULA_IFINDEX_INDEV]));
	if (at.tb[NFULA_SEQ]) {
		ev->seq = ntohl(mnl_attr_get_u32(at.tb[NFULA_SEQ]));
		*has_seq = true;
	}
	if (at.tb[NFULA_TIMESTAMP]) {
		struct nfulnl_msg_packet_timestamp ts;

		/* attributes are 4-byte aligned, the struct's u64s need 8 */
		memcpy(&ts, mnl_attr_get_payload(at.tb[NFULA_TIMESTAMP]),
		       sizeof(ts));
		*wall_ns = be64toh(ts.sec) * 1000000000ULL +
			   be64toh(ts.usec) * 1000ULL;
	}

	/* The snap: an Ethernet frame, as the datapath's, for pcap. */
	ethertype = ev->family == PW_FAMILY_IPV4 ? ETH_P_IP : ETH_P_IPV6;
	hw = at.tb[NFULA_HWHEADER];
	if (hw && at.tb[NFULA_HWTYPE] &&
	    ntohs(mnl_attr_get_u16(at.tb[NFULA_HWTYPE])) == ARPHRD_ETHER &&
	    mnl_attr_get_payload_len(hw) == ETH_HLEN)
		memcpy(ev->snap, mnl_attr_get_payload(hw), ETH_HLEN);
	/* else: zero addresses; either way the packet's own type */
	ev->snap[12] = (uint8_t)(ethertype >> 8);
	ev->snap[13] = (uint8_t)ethertype;
	room = PW_SNAPLEN - ETH_HLEN;
	if (n > room)
		n = room;
	memcpy(ev->snap + ETH_HLEN, pkt, n);
	ev->snap_len = (uint16_t)(ETH_HLEN + n);
	return 0;
}

/* ---- the socket ------------------------------------------------------------ */

void logd_nflog_init(struct logd_nflog *n)
{
	memset(n, 0, sizeof(*n));
}

/* A packet logged before the acknowledgement of the binding: logd's
 * sinks do not run yet, so it is lost. One the kernel numbered shows in
 * the gap before the first message logd_nflog_consume() reads; one
 * logged before the flags took effect has no number and is counted
 * here, reported by the first logd_nflog_consume(). */
static int logd_nflog_early_cb(const struct nlmsghdr *nlh, void *data)
{
	struct logd_nflog *n = data;
	struct pw_event ev;
	uint64_t wall;
	bool has_seq;

	if (logd_nflog_decode(nlh, nlh->nlmsg_len, &ev, &wall, &has_seq))
		n->bad++;
	else if (!has_seq)
		n->early++;
	return MNL_CB_OK;
}

/*
 * Bind group @group and configure it in one message, which the kernel
 * carries out in order (the instance, then its mode, flags and queue
 * threshold), and wait for its acknowledgement: the table may log to the
 * group already (logd restarted in nft mode), so packet messages can
 * come first.
 */
static int logd_nflog_config(struct logd_nflog *n, uint16_t group)
{
	struct nfulnl_msg_config_mode m = {
		.copy_range = htonl(PW_SNAPLEN),
		.copy_mode = NFULNL_COPY_PACKET,
	};
	struct nfulnl_msg_config_cmd c = { .command = NFULNL_CFG_CMD_BIND };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = (uint32_t)time(NULL);
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	ssize_t got;
	int ret;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(c), &c);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(m), &m);
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
	/* each packet as it comes, not batches after a second */
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		got = mnl_socket_recvfrom(n->nl, buf, sizeof(buf));
		if (got < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)got, seq,
				 mnl_socket_get_portid(n->nl),
				 logd_nflog_early_cb, n);
	} while (ret == MNL_CB_OK);
	return ret < 0 ? -errno : 0;
}

int logd_nflog_open(struct logd_nflog *n, uint16_t group)
{
	int fd, rcv = LOGD_NFLOG_RCVBUF, ret;

	logd_nflog_close(n);
	n->buf = malloc(LOGD_NFLOG_BUF);
	n->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!n->buf || !n->nl) {
		ret = n->buf ? -errno : -ENOMEM;
		goto fail;
	}
	fd = mnl_socket_get_fd(n->nl);
	if (mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto fail;
	}
	/* room for bursts (needs CAP_NET_ADMIN, which logd still has
	 * here); the default is the fallback */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	ret = logd_nflog_config(n, group);
	if (ret)
		goto fail;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC)) {
		ret = -errno;
		goto fail;
	}
	n->group = group;
	return 0;
fail:
	logd_nflog_close(n);
	return ret;
}

void logd_nflog_close(struct logd_nflog *n)
{
	if (n->nl)
		mnl_socket_close(n->nl);
	n->nl = NULL;
	free(n->buf);
	n->buf = NULL;
	n->seq_known = false;
	n->pending = 0;
	n->early = 0;
}

int logd_nflog_fd(const struct logd_nflog *n)
{
	return n->nl ? mnl_socket_get_fd(n->nl) : -1;
}

/* The sequence of one message: a gap is packets the kernel numbered and
 * could not deliver, less what ENOBUFS already reported. The messages
 * queued before an overrun come first, without a gap: what ENOBUFS
 * reported waits for the gap it belongs to. */
static void logd_nflog_seq(struct logd_nflog *n, struct logd_reader *r,
			   uint32_t seq)
{
	uint32_t gap = n->seq_known ? seq - n->next_seq : seq, known;

	/* far "behind": a reordering or a restart, not a loss */
	if (gap >= 1U << 31)
		gap = 0;
	n->seq_known = true;
	n->next_seq = seq + 1;
	if (!gap)
		return;
	known = gap < n->pending ? gap : n->pending;
	n->pending -= known;
	if (gap > known) {
		n->lost += gap - known;
		logd_reader_lost(r, gap - known);
	}
}

void logd_nflog_message(struct logd_nflog *n, struct logd_reader *r,
			const void *buf, size_t len)
{
	struct pw_event ev;
	uint64_t wall;
	bool has_seq;

	if (logd_nflog_decode(buf, len, &ev, &wall, &has_seq)) {
		n->bad++;
		return;
	}
	n->events++;
	if (has_seq)
		logd_nflog_seq(n, r, (uint32_t)ev.seq);
	/* the datapath clock logd_reader_event() converts back */
	ev.ts_ns = (wall ? (uint64_t)((int64_t)wall - r->wall_delta_ns) :
			   logd_now_ns()) +
		   r->clock_offset_ns;
	logd_reader_event(r, &ev);
}

int logd_nflog_consume(struct logd_nflog *n, struct logd_reader *r)
{
	const struct nlmsghdr *nlh;
	int count = 0, len;
	ssize_t got;

	if (!n->nl)
		return 0;
	logd_reader_clock(r);
	if (n->early) {
		n->lost += n->early;
		logd_reader_lost(r, n->early);
		n->early = 0;
	}
	for (;;) {
		got = recv(mnl_socket_get_fd(n->nl), n->buf, LOGD_NFLOG_BUF,
			   MSG_DONTWAIT | MSG_TRUNC);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (got < 0 && errno == ENOBUFS) {
			/* at least one lost now; the gap says how many */
			n->overruns++;
			n->lost++;
			n->pending++;
			logd_reader_lost(r, 1);
			continue;
		}
		if (got < 0)
			return -errno;
		if ((size_t)got > LOGD_NFLOG_BUF) { /* cut: never ours */
			n->bad++;
			continue;
		}
		len = (int)got;
		for (nlh = (const struct nlmsghdr *)n->buf;
		     mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue; /* NLMSG_DONE of a batch, ... */
			logd_nflog_message(n, r, nlh, (size_t)len);
			count++;
		}
	}
	return count;
}
