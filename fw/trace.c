// SPDX-License-Identifier: GPL-2.0
/*
 * plumwall trace: tracers (BPF and model engines), PACKET text forms,
 * capture files. See trace.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "datapath.h"
#include "policy/analyze.h"
#include "policy/compile.h"
#include "policy/eval.h"
#include "policy/packet.h"
#include "policy/policy.h"
#include "trace.h"

/* ifindexes no device has, for the policy's other interfaces */
#define FW_TRACE_FAKE_IFINDEX 0x7f000000U
/* The BPF engine's clock may lag the capture by this much before it is
 * moved forward (one map update); it never moves backwards. */
#define FW_TRACE_CLOCK_SLACK_NS 10000000ULL

struct fw_tracer {
	enum fw_trace_engine engine;
	const struct policy *pol;
	char ifname[IF_NAMESIZE];
	/* BPF */
	struct policy_compiled *c;
	struct fw_dp *dp;
	uint32_t lo_ifindex;
	uint64_t clock_offset;
	/* model */
	struct policy_ct_model *m;
	/* capture clock: base + the newest capture time seen since the first */
	uint64_t base_ns, ts0, elapsed;
	bool have_ts;
};

static uint64_t fw_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void fw_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fw_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

bool fw_trace_policy_has_iface(const struct policy *pol, const char *ifname)
{
	uint32_t t, i;

	for (t = 0; t < pol->n_tenants; t++)
		for (i = 0; i < pol->tenants[t].n_interfaces; i++)
			if (!strcmp(pol->tenants[t].interfaces[i].name, ifname))
				return true;
	return false;
}

/* The traced interface is the loopback device (test runs need a real
 * one); the others get ifindexes no device has, one per name. */
static int fw_trace_resolve(const char *ifname, void *ctx, uint32_t *ifindex)
{
	struct fw_tracer *t = ctx;
	uint32_t n = 0, ti, i;

	if (!strcmp(ifname, t->ifname)) {
		*ifindex = t->lo_ifindex;
		return 0;
	}
	for (ti = 0; ti < t->pol->n_tenants; ti++)
		for (i = 0; i < t->pol->tenants[ti].n_interfaces; i++, n++)
			if (!strcmp(t->pol->tenants[ti].interfaces[i].name,
				    ifname)) {
				*ifindex = FW_TRACE_FAKE_IFINDEX + n;
				return 0;
			}
	return -ENODEV;
}

static int fw_tracer_open_bpf(struct fw_tracer *t,
			      const struct policy_analysis *an)
{
	struct fw_dp_opts o = { .trace = true };
	int ret;

	t->lo_ifindex = if_nametoindex("lo");
	if (!t->lo_ifindex)
		t->lo_ifindex = 1;
	ret = policy_compile(an, 1, &t->c);
	if (ret)
		return ret;
	o.ct_max_entries = t->pol->settings.ct_max_entries;
	ret = fw_dp_open(&t->dp, &o);
	if (ret)
		return ret;
	return fw_dp_load_compiled(t->dp, t->c, fw_trace_resolve, t);
}

int fw_tracer_open(struct fw_tracer **out, enum fw_trace_engine engine,
		   const struct policy *pol, const struct policy_analysis *an,
		   const char *ifname)
{
	struct fw_tracer *t;
	int ret;

	*out = NULL;
	if (strlen(ifname) >= IF_NAMESIZE ||
	    !fw_trace_policy_has_iface(pol, ifname))
		return -ENODEV;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->engine = engine;
	t->pol = pol;
	strcpy(t->ifname, ifname);
	t->base_ns = fw_mono_ns();
	if (engine == FW_TRACE_BPF)
		ret = fw_tracer_open_bpf(t, an);
	else
		ret = policy_ct_model_new(pol, 1, &t->m);
	if (ret) {
		fw_tracer_close(t);
		return ret;
	}
	*out = t;
	return 0;
}

void fw_tracer_close(struct fw_tracer *t)
{
	if (!t)
		return;
	fw_dp_close(t->dp);
	policy_compiled_free(t->c);
	policy_ct_model_free(t->m);
	free(t);
}

static const char *fw_tenant_name(const struct policy *pol, uint16_t id)
{
	uint32_t i;

	for (i = 0; i < pol->n_tenants; i++)
		if (pol->tenants[i].id == id)
			return pol->tenants[i].name;
	return NULL;
}

static const char *fw_flow_name(enum pw_reason reason)
{
	if (reason == PW_REASON_ESTABLISHED)
		return "established";
	if (reason == PW_REASON_REPLY)
		return "reply";
	return "new";
}

static void fw_answer_common(const struct fw_tracer *t, uint32_t rule_id,
			     struct fw_trace_answer *ans)
{
	const struct policy_rule *r = NULL;

	if (rule_id != PW_RULE_NONE)
		r = policy_rule_by_id(t->pol, rule_id);
	ans->rule = r ? r->name : NULL;
	ans->flow = fw_flow_name(ans->reason);
	/* A tracked flow's packet passes for the reason its flow was
	 * allowed, as the flow's events say: only tenants track flows, so
	 * no rule means the tenant default. */
	ans->why = ans->reason;
	if (ans->reason == PW_REASON_ESTABLISHED ||
	    ans->reason == PW_REASON_REPLY)
		ans->why = rule_id == PW_RULE_NONE ? PW_REASON_DEFAULT :
						     PW_REASON_POLICY;
}

/* The packet's own fields, as its headers say (trace.h). */
static void fw_trace_describe(const struct policy_packet *p,
			      struct fw_trace_pkt *d)
{
	int af = p->family == PW_AF_INET ? AF_INET : AF_INET6;

	memset(d, 0, sizeof(*d));
	if (p->kind != POLICY_PKT_IP)
		return;
	d->ip = true;
	inet_ntop(af, p->saddr, d->src, sizeof(d->src));
	inet_ntop(af, p->daddr, d->dst, sizeof(d->dst));
	d->proto = p->proto;
	if (!p->l4)
		return;
	if (p->proto == POLICY_PROTO_TCP || p->proto == POLICY_PROTO_UDP) {
		d->ports = true;
		d->sport = p->sport;
		d->dport = p->dport;
	} else if (p->proto == POLICY_PROTO_ICMP ||
		   p->proto == POLICY_PROTO_ICMPV6) {
		d->icmp = true;
		d->icmp_type = p->icmp_type;
		d->icmp_code = p->icmp_code;
	}
}

static const char *fw_seg_id_name(const struct policy_compiled *c, uint32_t id)
{
	if (id == PW_SEGMENT_NONE || id >= c->n_segments)
		return "external";
	return c->segments[id]->name;
}

/* Advance the capture clock; returns the time the frame arrives at. */
static uint64_t fw_trace_clock(struct fw_tracer *t, uint64_t ts)
{
	uint64_t d;

	if (!t->have_ts) {
		t->ts0 = ts;
		t->have_ts = true;
	}
	d = ts > t->ts0 ? ts - t->ts0 : 0;
	if (d > t->elapsed)
		t->elapsed = d;
	return t->base_ns + t->elapsed;
}

static int fw_tracer_run_bpf(struct fw_tracer *t, const uint8_t *frame,
			     size_t len, uint64_t now,
			     struct fw_trace_answer *ans)
{
	const struct policy_tenant *wire;
	struct pw_trace rec;
	struct fw_dp_run run = {
		.prog = FW_DP_XDP,
		.in = frame,
		.in_len = (__u32)len,
		.ifindex = t->lo_ifindex,
		.trace = &rec,
	};
	uint64_t cur;
	int ret;

	/* Test runs refuse frames shorter than an Ethernet header; the
	 * datapath never sees them from a device either. What it does
	 * with a frame cut inside its headers: malformed. */
	if (len < 14) {
		ans->verdict = PW_VERDICT_DENY;
		ans->reason = PW_REASON_MALFORMED;
		/* no tag read: the untagged wire's tenant, as pw_parse() */
		wire = policy_eval_tenant(t->pol, t->ifname, 0);
		ans->tenant = wire ? wire->name : NULL;
		fw_answer_common(t, PW_RULE_NONE, ans);
		return 0;
	}
	/* The datapath's clock is CLOCK_MONOTONIC + offset: keep it at
	 * least at the capture's time, forward only. */
	cur = fw_mono_ns() + t->clock_offset;
	if (now > cur + FW_TRACE_CLOCK_SLACK_NS) {
		t->clock_offset += now - cur;
		ret = fw_dp_set_clock_offset(t->dp, t->clock_offset);
		if (ret)
			return ret;
	}
	ret = fw_dp_test_run(t->dp, &run);
	if (ret)
		return ret;
	ans->verdict = rec.verdict;
	ans->reason = rec.reason;
	if (rec.tenant != PW_TENANT_NONE)
		ans->tenant = fw_tenant_name(t->pol, rec.tenant);
	if (rec.tenant != PW_TENANT_NONE && rec.reason != PW_REASON_MALFORMED) {
		ans->src_segment = fw_seg_id_name(t->c, rec.src_segment);
		ans->dst_segment = fw_seg_id_name(t->c, rec.dst_segment);
	}
	fw_answer_common(t, rec.rule_id, ans);
	return 0;
}

static int fw_tracer_run_model(struct fw_tracer *t,
			       const struct policy_packet *pkt, uint64_t now,
			       struct fw_trace_answer *ans)
{
	struct policy_eval_result res;
	int ret;

	ret = policy_ct_model_packet(t->m, pkt, now, &res);
	if (ret)
		return ret;
	ans->verdict = res.verdict;
	ans->reason = res.reason;
	ans->tenant = res.tenant ? res.tenant->name : NULL;
	if (res.tenant && res.reason != PW_REASON_MALFORMED) {
		ans->src_segment = res.src_segment ? res.src_segment->name :
						     "external";
		ans->dst_segment = res.dst_segment ? res.dst_segment->name :
						     "external";
	}
	fw_answer_common(t, res.rule_id, ans);
	return 0;
}

int fw_tracer_run(struct fw_tracer *t, const uint8_t *frame, size_t len,
		  uint64_t ts_ns, struct fw_trace_answer *ans)
{
	struct policy_packet pkt;
	uint64_t now;
	int ret;

	if (len > FW_TRACE_FRAME_MAX)
		return -EMSGSIZE;
	memset(ans, 0, sizeof(*ans));
	/* The model judges what this parse says; the answer describes the
	 * packet from it for both engines. */
	ret = policy_packet_parse(frame, len, t->ifname, &pkt);
	if (ret)
		return ret;
	fw_trace_describe(&pkt, &ans->pkt);
	now = fw_trace_clock(t, ts_ns);
	if (t->engine == FW_TRACE_BPF)
		return fw_tracer_run_bpf(t, frame, len, now, ans);
	return fw_tracer_run_model(t, &pkt, now, ans);
}

/* ---- frames ----------------------------------------------------------------- */

static bool fw_is_tag(uint16_t ethertype)
{
	return ethertype == POLICY_ETH_P_8021Q ||
	       ethertype == POLICY_ETH_P_8021AD ||
	       ethertype == POLICY_ETH_P_QINQ1;
}

static void fw_trace_clip(uint8_t *f, size_t len);

size_t fw_trace_vlan_tag(uint8_t *buf, size_t len, size_t cap, uint16_t vlan)
{
	if (len < 14 || len + 4 > cap || fw_is_tag(buf[12] << 8 | buf[13]))
		return len;
	memmove(buf + 16, buf + 12, len - 12);
	buf[12] = POLICY_ETH_P_8021Q >> 8;
	buf[13] = POLICY_ETH_P_8021Q & 0xff;
	buf[14] = (vlan >> 8) & 0x0f;
	buf[15] = vlan & 0xff;
	len += 4;
	/* A frame the tag takes past what a test run accepts is cut like
	 * any long frame (the tag must not make a capture untraceable). */
	if (len > FW_TRACE_FRAME_MAX) {
		len = FW_TRACE_FRAME_MAX;
		fw_trace_clip(buf, len);
	}
	return len;
}

static uint32_t fw_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fw_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void fw_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void fw_put32(uint8_t *p, uint32_t v)
{
	fw_put16(p, v >> 16);
	fw_put16(p + 2, v & 0xffff);
}

/* What a PACKET form describes. */
struct fw_tpkt {
	int family; /* AF_INET, AF_INET6 */
	uint8_t saddr[16], daddr[16];
	uint8_t proto;
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint8_t icmp_type;
};

static size_t fw_tpkt_frame(const struct fw_tpkt *p, uint16_t vlan,
			    uint8_t *buf)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 0x02,
					  0x02, 0, 0, 0, 0, 0x01 };
	bool v6 = p->family == AF_INET6;
	/* multicast listener discovery goes out as RFC 2710/3810 send it:
	 * hop limit 1, behind a hop-by-hop header with its Router Alert */
	bool mld = v6 && p->proto == POLICY_PROTO_ICMPV6 &&
		   (p->icmp_type == POLICY_ICMPV6_MLD_QUERY ||
		    p->icmp_type == POLICY_ICMPV6_MLD_REPORT ||
		    p->icmp_type == POLICY_ICMPV6_MLD_DONE ||
		    p->icmp_type == POLICY_ICMPV6_MLD2_REPORT);
	size_t l3, l4, l4len = 8, alen = v6 ? 16 : 4, hbh = mld ? 8 : 0;
	uint32_t sum;
	uint8_t *h;

	memcpy(buf, macs, sizeof(macs));
	l3 = 12;
	if (vlan) {
		fw_put16(buf + l3, POLICY_ETH_P_8021Q);
		fw_put16(buf + l3 + 2, vlan);
		l3 += 4;
	}
	fw_put16(buf + l3, v6 ? POLICY_ETH_P_IPV6 : POLICY_ETH_P_IP);
	l3 += 2;
	l4 = l3 + (v6 ? 40 : 20) + hbh;
	if (p->proto == POLICY_PROTO_TCP)
		l4len = 20;
	memset(buf + l3, 0, l4 + l4len - l3);

	h = buf + l4;
	switch (p->proto) {
	case POLICY_PROTO_TCP:
		fw_put16(h, p->sport);
		fw_put16(h + 2, p->dport);
		fw_put32(h + 4, 1000);
		fw_put32(h + 8, p->tcp_flags & POLICY_TCP_ACK ? 1 : 0);
		h[12] = 5 << 4;
		h[13] = p->tcp_flags;
		fw_put16(h + 14, 65535);
		break;
	case POLICY_PROTO_UDP:
		fw_put16(h, p->sport);
		fw_put16(h + 2, p->dport);
		fw_put16(h + 4, 8);
		break;
	case POLICY_PROTO_ICMP:
	case POLICY_PROTO_ICMPV6:
		h[0] = p->icmp_type;
		fw_put16(h + 4, 0x7077); /* echo identifier */
		fw_put16(h + 6, 1);
		break;
	}

	h = buf + l3;
	if (v6) {
		h[0] = 0x60;
		fw_put16(h + 4, (uint16_t)(hbh + l4len));
		h[6] = p->proto;
		/* neighbour discovery is only ND with hop limit 255 */
		h[7] = p->proto == POLICY_PROTO_ICMPV6 &&
				       p->icmp_type >= POLICY_ICMPV6_ND_FIRST &&
				       p->icmp_type <= POLICY_ICMPV6_ND_LAST ?
			       255 :
			       64;
		if (mld) {
			static const uint8_t ra[8] = {
				POLICY_PROTO_ICMPV6, 0, 5, 2, 0, 0, 1, 0
			};

			h[6] = 0; /* hop-by-hop options */
			h[7] = POLICY_ICMPV6_MLD_HOP_LIMIT;
			memcpy(h + 40, ra, sizeof(ra));
		}
	} else {
		h[0] = 0x45;
		fw_put16(h + 2, (uint16_t)(20 + l4len));
		h[8] = 64;
		h[9] = p->proto;
	}
	memcpy(h + (v6 ? 8 : 12), p->saddr, alen);
	memcpy(h + (v6 ? 24 : 16), p->daddr, alen);
	if (!v6)
		fw_put16(h + 10, fw_fold(fw_sum(h, 20, 0)));

	/* layer 4 checksum, with the pseudo header where there is one */
	if (p->proto == POLICY_PROTO_TCP || p->proto == POLICY_PROTO_UDP ||
	    p->proto == POLICY_PROTO_ICMPV6) {
		sum = fw_sum(p->saddr, alen, 0);
		sum = fw_sum(p->daddr, alen, sum);
		sum += p->proto + (uint32_t)l4len;
	} else if (p->proto == POLICY_PROTO_ICMP) {
		sum = 0;
	} else {
		return l4 + l4len;
	}
	sum = fw_sum(buf + l4, l4len, sum);
	fw_put16(buf + l4 +
			 (p->proto == POLICY_PROTO_TCP ? 16 :
			  p->proto == POLICY_PROTO_UDP ? 6 :
							 2),
		 fw_fold(sum));
	return l4 + l4len;
}

/* A decimal number in [0, max], nothing else. */
static int fw_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 10)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int fw_parse_addr(const char *s, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* ADDR:PORT, [ADDR6]:PORT, or ADDR6:PORT when unambiguous. */
static int fw_parse_endpoint(const char *s, int *family, uint8_t addr[16],
			     uint16_t *port, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *close;
	unsigned long v;
	uint8_t tmp[16];
	size_t n;

	if (s[0] == '[') {
		close = strchr(s, ']');
		if (!close || close[1] != ':')
			goto bad;
		n = (size_t)(close - s - 1);
		colon = close + 1;
		if (n >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, n);
		host[n] = 0;
		if (inet_pton(AF_INET6, host, tmp) != 1)
			goto bad;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		n = (size_t)(colon - s);
		if (n >= sizeof(host))
			goto bad;
		memcpy(host, s, n);
		host[n] = 0;
		if (strchr(host, ':') && inet_pton(AF_INET6, s, tmp) == 1) {
			fw_err(err, errlen,
			       "'%s' is ambiguous: write an IPv6 address with a port as [ADDRESS]:PORT",
			       s);
			return -EINVAL;
		}
	}
	if (fw_parse_addr(host, family, addr))
		goto bad;
	if (fw_parse_uint(colon + 1, 65535, &v)) {
		fw_err(err, errlen, "'%s': port must be a number 0..65535", s);
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
bad:
	fw_err(err, errlen,
	       "'%s' is not ADDRESS:PORT (IPv4 ADDRESS:PORT, IPv6 [ADDRESS]:PORT)",
	       s);
	return -EINVAL;
}

static int fw_parse_host(const char *s, int *family, uint8_t addr[16],
			 char *err, size_t errlen)
{
	if (fw_parse_addr(s, family, addr)) {
		fw_err(err, errlen, "'%s' is not an IPv4 or IPv6 address", s);
		return -EINVAL;
	}
	return 0;
}

static int fw_parse_tcp_flag(const char *s, uint8_t *flags)
{
	static const struct {
		const char *name;
		uint8_t bit;
	} names[] = {
		{ "syn", POLICY_TCP_SYN },
		{ "ack", POLICY_TCP_ACK },
		{ "fin", POLICY_TCP_FIN },
		{ "rst", POLICY_TCP_RST },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			*flags |= names[i].bit;
			return 0;
		}
	return -EINVAL;
}

int fw_trace_packet_build(int argc, char *const *argv, uint16_t vlan,
			  uint8_t *buf, size_t cap, char *err, size_t errlen)
{
	struct fw_tpkt p = { 0 };
	unsigned long v;
	int fam2, proto, i;

	if (cap < 128) {
		fw_err(err, errlen, "no room for the packet");
		return -EINVAL;
	}
	if (argc < 1) {
		fw_err(err, errlen, "missing PACKET");
		return -EINVAL;
	}
	if (!strcmp(argv[0], "tcp") || !strcmp(argv[0], "udp")) {
		p.proto = argv[0][0] == 't' ? POLICY_PROTO_TCP :
					      POLICY_PROTO_UDP;
		if (argc < 3) {
			fw_err(err, errlen, "%s needs SRC:PORT DST:PORT",
			       argv[0]);
			return -EINVAL;
		}
		if (fw_parse_endpoint(argv[1], &p.family, p.saddr, &p.sport,
				      err, errlen) ||
		    fw_parse_endpoint(argv[2], &fam2, p.daddr, &p.dport, err,
				      errlen))
			return -EINVAL;
		if (p.proto == POLICY_PROTO_UDP && argc > 3) {
			fw_err(err, errlen,
			       "unexpected '%s' after a udp packet (TCP flags are for tcp)",
			       argv[3]);
			return -EINVAL;
		}
		for (i = 3; i < argc; i++)
			if (fw_parse_tcp_flag(argv[i], &p.tcp_flags)) {
				fw_err(err, errlen,
				       "unknown TCP flag '%s' (syn, ack, fin, rst)",
				       argv[i]);
				return -EINVAL;
			}
		if (p.proto == POLICY_PROTO_TCP && argc == 3)
			p.tcp_flags = POLICY_TCP_SYN; /* a connection attempt */
	} else if (!strcmp(argv[0], "icmp") || !strcmp(argv[0], "icmpv6")) {
		p.proto = argv[0][4] ? POLICY_PROTO_ICMPV6 : POLICY_PROTO_ICMP;
		if (argc != 4) {
			fw_err(err, errlen, "%s needs SRC DST TYPE", argv[0]);
			return -EINVAL;
		}
		if (fw_parse_host(argv[1], &p.family, p.saddr, err, errlen) ||
		    fw_parse_host(argv[2], &fam2, p.daddr, err, errlen))
			return -EINVAL;
		if (!fw_parse_uint(argv[3], 255, &v)) {
			p.icmp_type = (uint8_t)v;
		} else if (policy_icmp_type_from_name(p.proto, argv[3],
						      &p.icmp_type)) {
			fw_err(err, errlen,
			       "unknown %s type '%s' (a name of policy.md section 5 or 0..255)",
			       argv[0], argv[3]);
			return -EINVAL;
		}
		if ((p.proto == POLICY_PROTO_ICMP) != (p.family == AF_INET)) {
			fw_err(err, errlen, "%s needs %s addresses", argv[0],
			       p.proto == POLICY_PROTO_ICMP ? "IPv4" : "IPv6");
			return -EINVAL;
		}
	} else if (!fw_parse_uint(argv[0], 255, &v)) {
		proto = (int)v;
		if (proto == POLICY_PROTO_TCP || proto == POLICY_PROTO_UDP ||
		    proto == POLICY_PROTO_ICMP ||
		    proto == POLICY_PROTO_ICMPV6) {
			fw_err(err, errlen,
			       "protocol %d is %s: write it as '%s'%s", proto,
			       policy_proto_name(proto),
			       policy_proto_name(proto),
			       proto == POLICY_PROTO_TCP ||
					       proto == POLICY_PROTO_UDP ?
				       " SRC:PORT DST:PORT" :
				       " SRC DST TYPE");
			return -EINVAL;
		}
		if (argc != 3) {
			fw_err(err, errlen, "protocol %d needs SRC DST", proto);
			return -EINVAL;
		}
		p.proto = (uint8_t)proto;
		if (fw_parse_host(argv[1], &p.family, p.saddr, err, errlen) ||
		    fw_parse_host(argv[2], &fam2, p.daddr, err, errlen))
			return -EINVAL;
		/* Such a frame would be an extension header with nothing
		 * behind it: malformed, not the protocol asked about. */
		if (p.family == AF_INET6 && fam2 == AF_INET6 &&
		    policy_packet_ipv6_ext(p.proto)) {
			fw_err(err, errlen,
			       "protocol %d is an IPv6 extension header: an IPv6 packet cannot have it as its protocol",
			       proto);
			return -EINVAL;
		}
	} else {
		fw_err(err, errlen,
		       "unknown protocol '%s' (tcp, udp, icmp, icmpv6 or a number 0..255)",
		       argv[0]);
		return -EINVAL;
	}
	if (p.family != fam2) {
		fw_err(err, errlen,
		       "source and destination must both be IPv4 or both IPv6");
		return -EINVAL;
	}
	return (int)fw_tpkt_frame(&p, vlan, buf);
}

/* ---- capture files ---------------------------------------------------------- */

struct fw_pcap {
	pcap_t *p;
	int dlt;
	/* frame + a VLAN tag the caller may add */
	uint8_t buf[FW_TRACE_FRAME_MAX + 16];
};

/* The link type check and the wrapper, for a capture libpcap opened
 * (@p is closed on failure). */
static int fw_pcap_wrap(pcap_t *p, const char *name, struct fw_pcap **out,
			char *err, size_t errlen)
{
	struct fw_pcap *pc;
	int ret = 0;

	pc = calloc(1, sizeof(*pc));
	if (!pc) {
		pcap_close(p);
		return -ENOMEM;
	}
	pc->p = p;
	pc->dlt = pcap_datalink(pc->p);
	if (pc->dlt != DLT_EN10MB && pc->dlt != DLT_LINUX_SLL &&
	    pc->dlt != DLT_LINUX_SLL2) {
		const char *dname = pcap_datalink_val_to_name(pc->dlt);

		fw_err(err, errlen,
		       "%s: link type %s (%d) is not supported (Ethernet, Linux cooked SLL and SLL2 are)",
		       name, dname ? dname : "unknown", pc->dlt);
		ret = -EINVAL;
		goto out;
	}
	*out = pc;
	pc = NULL;
out:
	fw_pcap_close(pc);
	return ret;
}

int fw_pcap_open(const char *path, struct fw_pcap **out, char *err,
		 size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;

	*out = NULL;
	p = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!p) {
		size_t n = strlen(path);

		/* libpcap names the file itself when it cannot open it */
		if (!strncmp(perr, path, n) && perr[n] == ':')
			fw_err(err, errlen, "%s", perr);
		else
			fw_err(err, errlen, "%s: %s", path, perr);
		return -EINVAL;
	}
	return fw_pcap_wrap(p, path, out, err, errlen);
}

int fw_pcap_open_stream(FILE *fp, const char *name, struct fw_pcap **out,
			char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p;

	*out = NULL;
	p = pcap_fopen_offline_with_tstamp_precision(
		fp, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!p) {
		(void)fclose(fp); /* read only: nothing to lose */
		fw_err(err, errlen, "%s: %s", name, perr);
		return -EINVAL;
	}
	return fw_pcap_wrap(p, name, out, err, errlen);
}

void fw_pcap_close(struct fw_pcap *pc)
{
	if (!pc)
		return;
	if (pc->p)
		pcap_close(pc->p);
	free(pc);
}

/*
 * A frame cut to FW_TRACE_FRAME_MAX: the IP packet, as its header says,
 * ends where the frame does now (IPv4 total length and checksum, IPv6
 * payload length, and a UDP length directly after either).
 */
static void fw_trace_clip(uint8_t *f, size_t len)
{
	size_t off = 12, avail, ihl, l4 = 0;
	uint16_t et, ulen;
	int tags = 0;
	uint8_t proto = 0;

	while (off + 2 <= len && fw_is_tag(f[off] << 8 | f[off + 1]) &&
	       tags++ < 2)
		off += 4;
	if (off + 2 > len)
		return;
	et = (uint16_t)(f[off] << 8 | f[off + 1]);
	off += 2;
	avail = len - off;
	if (et == POLICY_ETH_P_IP && avail >= 20 && f[off] >> 4 == 4) {
		ihl = (size_t)(f[off] & 0xf) * 4;
		if ((size_t)(f[off + 2] << 8 | f[off + 3]) > avail) {
			fw_put16(f + off + 2, (uint16_t)avail);
			fw_put16(f + off + 10, 0);
			if (ihl >= 20 && ihl <= avail)
				fw_put16(f + off + 10,
					 fw_fold(fw_sum(f + off, ihl, 0)));
		}
		/* a UDP header only in an unfragmented packet or first fragment */
		if (!((f[off + 6] & 0x1f) | f[off + 7])) {
			proto = f[off + 9];
			l4 = off + ihl;
		}
	} else if (et == POLICY_ETH_P_IPV6 && avail >= 40 && f[off] >> 4 == 6) {
		if ((size_t)(f[off + 4] << 8 | f[off + 5]) > avail - 40)
			fw_put16(f + off + 4, (uint16_t)(avail - 40));
		proto = f[off + 6];
		l4 = off + 40;
	}
	if (proto == POLICY_PROTO_UDP && l4 + 8 <= len) {
		ulen = (uint16_t)(f[l4 + 4] << 8 | f[l4 + 5]);
		if (ulen > len - l4)
			fw_put16(f + l4 + 4, (uint16_t)(len - l4));
	}
}

int fw_pcap_next(struct fw_pcap *pc, uint8_t **frame, size_t *len,
		 uint64_t *ts_ns, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t hl = 0, cap, wire, n;
	uint16_t proto = 0;
	int ret;

	ret = pcap_next_ex(pc->p, &h, &data);
	if (ret == PCAP_ERROR_BREAK)
		return 0;
	if (ret != 1) {
		fw_err(err, errlen, "%s", pcap_geterr(pc->p));
		return -EINVAL;
	}
	cap = h->caplen;
	wire = h->len > cap ? h->len : cap;
	if (pc->dlt == DLT_LINUX_SLL) {
		hl = 16;
		if (cap >= hl)
			proto = (uint16_t)(data[14] << 8 | data[15]);
	} else if (pc->dlt == DLT_LINUX_SLL2) {
		hl = 20;
		if (cap >= hl)
			proto = (uint16_t)(data[0] << 8 | data[1]);
	}
	n = 0;
	if (hl) {
		/* A cooked header cut short carries no frame at all: an
		 * empty one, which every engine calls malformed. */
		memset(pc->buf, 0, 14);
		pc->buf[0] = 0x02;
		pc->buf[6] = 0x02;
		fw_put16(pc->buf + 12, proto);
		n = 14;
		if (cap < hl) {
			*frame = pc->buf;
			*len = 0;
			goto out;
		}
		cap -= hl;
		wire -= hl;
		data += hl;
	}
	/* pad what the snap length cut off, cut what a test run refuses */
	if (wire > FW_TRACE_FRAME_MAX - n)
		wire = FW_TRACE_FRAME_MAX - n;
	if (cap > wire)
		cap = wire;
	memcpy(pc->buf + n, data, cap);
	memset(pc->buf + n + cap, 0, wire - cap);
	*frame = pc->buf;
	*len = n + wire;
	if (h->len > FW_TRACE_FRAME_MAX - n + hl)
		fw_trace_clip(pc->buf, *len);
out:
	*ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL +
		 (uint64_t)h->ts.tv_usec; /* nanoseconds: opened so */
	return 1;
}
