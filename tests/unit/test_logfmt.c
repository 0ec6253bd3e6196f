// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the plumwall-logd formatters (logging/log_format.h) and
 * the pcapng writer (logging/log_pcap.h): exact strings for every format
 * and event kind, escaping, Community ID vectors, SHA-1, and pcapng files
 * read back with libpcap (and tcpdump when it is installed).
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logging/log_format.h"
#include "logging/log_pcap.h"
#include "fixtures.h"

/* 2026-11-24T10:00:00.123456789Z, the time of events.md's example. */
#define T0 1795514400123456789ULL

/* An event and the names logd would resolve for it. */
struct tev {
	struct pw_event raw;
	struct log_event e;
};

static void set_addrs(struct pw_event *ev, const char *src, const char *dst)
{
	int af = strchr(src, ':') ? AF_INET6 : AF_INET;

	ev->family = af == AF_INET6 ? PW_FAMILY_IPV6 : PW_FAMILY_IPV4;
	/* Also used outside tests (no ck_assert): a typo must not pass. */
	if (inet_pton(af, src, ev->saddr) != 1 ||
	    inet_pton(af, dst, ev->daddr) != 1)
		abort();
}

/* events.md's example: acme's rule no-ping-db denies a TCP SYN. */
static void ev_example(struct tev *t)
{
	memset(t, 0, sizeof(*t));
	t->raw.ts_ns = 5000;
	t->raw.seq = 184467;
	t->raw.type = PW_EVENT_DROP;
	t->raw.verdict = PW_VERDICT_DENY;
	t->raw.reason = PW_REASON_POLICY;
	t->raw.proto = 6;
	t->raw.tcp_flags = 0x02;
	t->raw.tenant = 1;
	t->raw.vlan = 100;
	t->raw.ifindex = 4;
	t->raw.rule_id = 3;
	t->raw.generation = 7;
	t->raw.sport = 40000;
	t->raw.dport = 5432;
	t->raw.pkt_len = 60;
	t->raw.cpu = 1;
	set_addrs(&t->raw, "10.1.1.5", "10.1.2.7");
	t->e.raw = &t->raw;
	t->e.time_ns = T0;
	t->e.hostname = "fw1";
	t->e.ifname = "acme0";
	t->e.tenant = "acme";
	t->e.rule = "no-ping-db";
	t->e.src_segment = "web";
	t->e.dst_segment = "db";
	t->e.version = "1.0";
}

/* A global rule rejects IPv6 UDP on an untagged interface. */
static void ev_reject6(struct tev *t)
{
	ev_example(t);
	t->raw.verdict = PW_VERDICT_REJECT;
	t->raw.proto = 17;
	t->raw.tcp_flags = 0;
	t->raw.vlan = 0;
	t->raw.sport = 5353;
	t->raw.dport = 53;
	t->raw.pkt_len = 90;
	t->raw.cpu = 0;
	set_addrs(&t->raw, "2001:db8::1", "2001:db8:0:2::53");
	t->e.rule = "no-dns";
	t->e.rule_global = true;
	t->e.ifname = "eth1";
	t->e.src_segment = "clients";
	t->e.dst_segment = NULL;
}

/* An audit-mode tenant's default would have denied a ping. */
static void ev_audit_icmp(struct tev *t)
{
	ev_example(t);
	t->raw.type = PW_EVENT_AUDIT;
	t->raw.verdict = PW_VERDICT_AUDIT;
	t->raw.reason = PW_REASON_DEFAULT;
	t->raw.proto = 1;
	t->raw.tcp_flags = 0;
	t->raw.icmp_type = 8;
	t->raw.icmp_code = 0;
	t->raw.sport = 0;
	t->raw.dport = 0;
	t->raw.pkt_len = 98;
	t->raw.rule_id = PW_RULE_NONE;
	set_addrs(&t->raw, "192.168.0.89", "192.168.0.1");
	t->e.rule = NULL;
}

/* GRE on a (ifindex, VLAN) no tenant owns: unmatched, no names at all. */
static void ev_unmatched(struct tev *t)
{
	ev_example(t);
	t->raw.reason = PW_REASON_UNMATCHED;
	t->raw.proto = 47;
	t->raw.tcp_flags = 0;
	t->raw.tenant = PW_TENANT_NONE;
	t->raw.vlan = 7;
	t->raw.sport = 0;
	t->raw.dport = 0;
	t->raw.rule_id = PW_RULE_NONE;
	t->raw.generation = 2;
	t->raw.pkt_len = 1400;
	set_addrs(&t->raw, "10.1.12.1", "10.1.12.2");
	t->e.tenant = NULL;
	t->e.rule = NULL;
	t->e.src_segment = NULL;
	t->e.dst_segment = NULL;
}

/* A frame whose headers did not parse: no family, no addresses. */
static void ev_malformed(struct tev *t)
{
	ev_unmatched(t);
	t->raw.reason = PW_REASON_MALFORMED;
	t->raw.family = 0;
	t->raw.proto = 0;
	t->raw.vlan = 0;
	t->raw.pkt_len = 18;
	memset(t->raw.saddr, 0, 16);
	memset(t->raw.daddr, 0, 16);
}

/* Flow start of an IPv6 ping flow on VLAN 20 (flow_logs). */
static void ev_flow_start6(struct tev *t)
{
	ev_example(t);
	t->raw.type = PW_EVENT_FLOW_START;
	t->raw.verdict = PW_VERDICT_ALLOW;
	t->raw.reason = PW_REASON_POLICY;
	t->raw.proto = 58;
	t->raw.tcp_flags = 0;
	t->raw.icmp_type = 128;
	t->raw.sport = 0;
	t->raw.dport = 0;
	t->raw.vlan = 20;
	t->raw.packets[0] = 1;
	t->raw.bytes[0] = 118;
	t->raw.pkt_len = 0;
	t->raw.seq = 9;
	set_addrs(&t->raw, "3ffe:507:0:1:200:86ff:fe05:80da",
		  "3ffe:501:0:1001::2");
	t->e.rule = "ping";
	t->e.start_time_ns = T0;
}

/* Flow end (FIN) of a TCP flow that lasted 2.5 s. */
static void ev_flow_end4(struct tev *t)
{
	ev_example(t);
	t->raw.type = PW_EVENT_FLOW_END;
	t->raw.verdict = PW_VERDICT_ALLOW;
	t->raw.end_reason = PW_END_FIN;
	t->raw.tcp_flags = 0;
	t->raw.pkt_len = 0;
	t->raw.sport = 34855;
	t->raw.dport = 80;
	t->raw.vlan = 0;
	t->raw.packets[0] = 5;
	t->raw.packets[1] = 4;
	t->raw.bytes[0] = 500;
	t->raw.bytes[1] = 4000;
	t->raw.seq = 10;
	set_addrs(&t->raw, "128.232.110.120", "66.35.250.204");
	t->e.rule = "web";
	t->e.start_time_ns = T0 - 2500000000ULL;
}

/* A rule's log rate was hit 12 times. */
static void ev_suppressed(struct tev *t)
{
	memset(t, 0, sizeof(*t));
	t->raw.ts_ns = 5000;
	t->raw.seq = 11;
	t->raw.type = PW_EVENT_SUPPRESSED;
	t->raw.reason = PW_REASON_POLICY;
	t->raw.tenant = 1;
	t->raw.rule_id = 3;
	t->raw.generation = 7;
	t->raw.count = 12;
	t->raw.cpu = 1;
	t->e.raw = &t->raw;
	t->e.time_ns = T0;
	t->e.hostname = "fw1";
	t->e.tenant = "acme";
	t->e.rule = "no-ping-db";
	t->e.version = "1.0";
}

/* The ring buffer was full 3 times on CPU 1. */
static void ev_lost(struct tev *t)
{
	memset(t, 0, sizeof(*t));
	t->raw.seq = 12;
	t->raw.type = PW_EVENT_LOST;
	t->raw.count = 3;
	t->raw.cpu = 1;
	t->e.raw = &t->raw;
	t->e.time_ns = T0;
	t->e.hostname = "fw1";
	t->e.version = "1.0";
}

/* Names full of characters every format must escape. */
static void ev_nasty(struct tev *t)
{
	ev_example(t);
	t->e.tenant = "a\"b\\c";
	t->e.rule = "r]=|\\\n\r\t\x01\x7f\xc3\xa9";
	t->e.src_segment = "x y";
	t->e.dst_segment = "d=b";
	t->e.ifname = "if|0";
	t->e.hostname = "fw 1";
	t->e.version = "1|2\\3";
}

typedef int (*fmt_fn)(const struct log_event *e, struct log_buf *out);

static int fmt_syslog(const struct log_event *e, struct log_buf *out)
{
	return log_format_syslog(e, 20, 4, "1234", LOG_SYSLOG_BODY_JSON, out);
}

static int fmt_syslog_cef(const struct log_event *e, struct log_buf *out)
{
	return log_format_syslog(e, 20, 6, NULL, LOG_SYSLOG_BODY_CEF, out);
}

/* @fn of @t must give exactly @expected, appended after what @b held. */
static void check_fmt(fmt_fn fn, struct tev *t, const char *expected)
{
	struct log_buf b = {};

	ck_assert_int_eq(log_buf_append(&b, "x", 1), 0);
	ck_assert_int_eq(fn(&t->e, &b), 0);
	ck_assert_str_eq(b.data + 1, expected);
	ck_assert_uint_eq(b.len, strlen(expected) + 1);
	log_buf_free(&b);
}

/* Expected output, one per event and format, checked by hand against
 * events.md and the README's decisions. */
static const char x_ev_example_json[] =
	"{\"@timestamp\":\"2026-11-24T10:00:00.123456Z\",\"event\":{\"kind"
	"\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\","
	"\"denied\"],\"action\":\"dropped\",\"outcome\":\"failure\",\"reaso"
	"n\":\"policy\",\"dataset\":\"plumwall.drop\",\"sequence\":184467},"
	"\"rule\":{\"name\":\"no-ping-db\",\"ruleset\":\"acme\"},\"source\""
	":{\"ip\":\"10.1.1.5\",\"port\":40000},\"destination\":{\"ip\":\"10"
	".1.2.7\",\"port\":5432},\"network\":{\"transport\":\"tcp\",\"iana_"
	"number\":\"6\",\"type\":\"ipv4\",\"community_id\":\"1:a3u/JESB2QtR"
	"VIboEiU1Cfowas8=\",\"bytes\":60},\"observer\":{\"type\":\"firewall"
	"\",\"vendor\":\"plumwall\",\"product\":\"plumwall\",\"hostname\":"
	"\"fw1\",\"ingress\":{\"interface\":{\"name\":\"acme0\"},\"vlan\":{"
	"\"id\":\"100\"}}},\"plumwall\":{\"tenant\":\"acme\",\"src_segment"
	"\":\"web\",\"dst_segment\":\"db\",\"verdict\":\"deny\",\"policy_ge"
	"neration\":7,\"tcp_flags\":[\"SYN\"],\"producer\":\"cpu1\"}}";

static const char x_ev_example_syslog_head[] =
	"<164>1 2026-11-24T10:00:00.123456Z fw1 plumwall 1234 DROP [plumwal"
	"l@32473 tenant=\"acme\" rule=\"no-ping-db\" verdict=\"deny\" src="
	"\"10.1.1.5\" dst=\"10.1.2.7\" proto=\"tcp\" spt=\"40000\" dpt=\"54"
	"32\"] ";

static const char x_ev_example_cef[] =
	"CEF:0|plumwall|plumwall|1.0|DROP|Packet dropped|5|rt=1795514400123"
	" src=10.1.1.5 dst=10.1.2.7 spt=40000 dpt=5432 proto=TCP act=deny r"
	"eason=policy deviceInboundInterface=acme0 dvchost=fw1 cs1Label=ten"
	"ant cs1=acme cs2Label=rule cs2=no-ping-db cs3Label=srcSegment cs3="
	"web cs4Label=dstSegment cs4=db cn1Label=sequence cn1=184467";

static const char x_ev_reject6_json[] =
	"{\"@timestamp\":\"2026-11-24T10:00:00.123456Z\",\"event\":{\"kind"
	"\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\","
	"\"denied\"],\"action\":\"rejected\",\"outcome\":\"failure\",\"reas"
	"on\":\"policy\",\"dataset\":\"plumwall.drop\",\"sequence\":184467}"
	",\"rule\":{\"name\":\"no-dns\",\"ruleset\":\"global\"},\"source\":"
	"{\"ip\":\"2001:db8::1\",\"port\":5353},\"destination\":{\"ip\":\"2"
	"001:db8:0:2::53\",\"port\":53},\"network\":{\"transport\":\"udp\","
	"\"iana_number\":\"17\",\"type\":\"ipv6\",\"community_id\":\"1:2Ukf"
	"Gg13SuDoWj3YrXrWZ76frr0=\",\"bytes\":90},\"observer\":{\"type\":\""
	"firewall\",\"vendor\":\"plumwall\",\"product\":\"plumwall\",\"host"
	"name\":\"fw1\",\"ingress\":{\"interface\":{\"name\":\"eth1\"}}},\""
	"plumwall\":{\"tenant\":\"acme\",\"src_segment\":\"clients\",\"verd"
	"ict\":\"reject\",\"policy_generation\":7,\"producer\":\"cpu0\"}}";

static const char x_ev_reject6_syslog_head[] =
	"<164>1 2026-11-24T10:00:00.123456Z fw1 plumwall 1234 DROP [plumwal"
	"l@32473 tenant=\"acme\" rule=\"no-dns\" verdict=\"reject\" src=\"2"
	"001:db8::1\" dst=\"2001:db8:0:2::53\" proto=\"udp\" spt=\"5353\" d"
	"pt=\"53\"] ";

static const char x_ev_reject6_cef[] =
	"CEF:0|plumwall|plumwall|1.0|REJECT|Packet rejected|5|rt=1795514400"
	"123 src=2001:db8::1 dst=2001:db8:0:2::53 spt=5353 dpt=53 proto=UDP"
	" act=reject reason=policy deviceInboundInterface=eth1 dvchost=fw1 "
	"cs1Label=tenant cs1=acme cs2Label=rule cs2=no-dns cs3Label=srcSegm"
	"ent cs3=clients cn1Label=sequence cn1=184467";

static const char x_ev_audit_icmp_json[] =
	"{\"@timestamp\":\"2026-11-24T10:00:00.123456Z\",\"event\":{\"kind"
	"\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\","
	"\"allowed\"],\"action\":\"audited\",\"outcome\":\"success\",\"reas"
	"on\":\"default\",\"dataset\":\"plumwall.audit\",\"sequence\":18446"
	"7},\"rule\":{\"ruleset\":\"acme\"},\"source\":{\"ip\":\"192.168.0."
	"89\"},\"destination\":{\"ip\":\"192.168.0.1\"},\"network\":{\"tran"
	"sport\":\"icmp\",\"iana_number\":\"1\",\"type\":\"ipv4\",\"communi"
	"ty_id\":\"1:X0snYXpgwiv9TZtqg64sgzUn6Dk=\",\"bytes\":98},\"icmp\":"
	"{\"type\":8,\"code\":0},\"observer\":{\"type\":\"firewall\",\"vend"
	"or\":\"plumwall\",\"product\":\"plumwall\",\"hostname\":\"fw1\",\""
	"ingress\":{\"interface\":{\"name\":\"acme0\"},\"vlan\":{\"id\":\"1"
	"00\"}}},\"plumwall\":{\"tenant\":\"acme\",\"src_segment\":\"web\","
	"\"dst_segment\":\"db\",\"verdict\":\"audit\",\"policy_generation\""
	":7,\"producer\":\"cpu1\"}}";

static const char x_ev_audit_icmp_syslog_head[] =
	"<164>1 2026-11-24T10:00:00.123456Z fw1 plumwall 1234 AUDIT [plumwa"
	"ll@32473 tenant=\"acme\" verdict=\"audit\" src=\"192.168.0.89\" ds"
	"t=\"192.168.0.1\" proto=\"icmp\"] ";

static const char x_ev_audit_icmp_cef[] =
	"CEF:0|plumwall|plumwall|1.0|AUDIT|Packet would have been denied|4|"
	"rt=1795514400123 src=192.168.0.89 dst=192.168.0.1 proto=ICMP act=a"
	"udit reason=default deviceInboundInterface=acme0 dvchost=fw1 cs1La"
	"bel=tenant cs1=acme cs3Label=srcSegment cs3=web cs4Label=dstSegmen"
	"t cs4=db cn1Label=sequence cn1=184467";

static const char x_ev_unmatched_json[] =
	"{\"@timestamp\":\"2026-11-24T10:00:00.123456Z\",\"event\":{\"kind"
	"\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\","
	"\"denied\"],\"action\":\"dropped\",\"outcome\":\"failure\",\"reaso"
	"n\":\"unmatched\",\"dataset\":\"plumwall.drop\",\"sequence\":18446"
	"7},\"source\":{\"ip\":\"10.1.12.1\"},\"destination\":{\"ip\":\"10."
	"1.12.2\"},\"network\":{\"transport\":\"47\",\"iana_number\":\"47\""
	",\"type\":\"ipv4\",\"community_id\":\"1:DGkR+bCBNxKYP4mTZ2jyjj/8dc"
	"k=\",\"bytes\":1400},\"observer\":{\"type\":\"firewall\",\"vendor"
	"\":\"plumwall\",\"product\":\"plumwall\",\"hostname\":\"fw1\",\"in"
	"gress\":{\"interface\":{\"name\":\"acme0\"},\"vlan\":{\"id\":\"7\""
	"}}},\"plumwall\":{\"verdict\":\"deny\",\"policy_generation\":2,\"p"
	"roducer\":\"cpu1\"}}";

static const char x_ev_unmatched_syslog_head[] =
	"<164>1 2026-11-24T10:00:00.123456Z fw1 plumwall 1234 DROP [plumwal"
	"l@32473 verdict=\"deny\" src=\"10.1.12.1\" dst=\"10.1.12.2\" proto"
	"=\"47\"] ";

static const char x_ev_unmatched_cef[] =
	"CEF:0|plumwall|plumwall|1.0|DROP|Packet dropped|5|rt=1795514400123"
	" src=10.1.12.1 dst=10.1.12.2 proto=47 act=deny reason=unmatched de"
	"viceInboundInterface=acme0 dvchost=fw1 cn1Label=sequence cn1=18446"
	"7";

static const char x_ev_malformed_json[] =
	"{\"@timestamp\":\"2026-11-24T10:00:00.123456Z\",\"event\":{\"kind"
	"\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\","
	"\"denied\"],\"action\":\"dropped\",\"outcome\":\"failure\",\"reaso"
	"n\":\"malformed\",\"dataset\":\"plumwall.drop\",\"sequence\":18446"
	"7},\"network\":{\"bytes\":18},\"observer\":{\"type\":\"firewall\","
	"\"vendor\":\"plumwall\",\"product\":\"plumwall\",\"hostname\":\"fw"
	"1\",\"ingress\":{\"interface\":{\"name\":\"acme0\"}}},\"plumwall\""
	":{\"verdict\":\"deny\",\"policy_generation\":2,\"producer\":\"cpu1"
	"\"}}";

static const char x_ev_malformed_syslog_head[] =
	"<164>1 2026-11-24T10:00:00.123456Z fw1 plumwall 1234 DROP [plumwal"
	"l@32473 verdict=\"deny\"] ";

static const char x_ev_malformed_cef[] =
	"CEF:0|plumwall|plumwall|1.0|DROP|Packet dropped|5|rt=1795514400123"
	" act=deny reason=malformed deviceInboundInterface=acme0 dvchost=fw"
	"1 cn1Label=sequence cn1=184467";

static const char x_ev_flow_start6_json[] =
	"{\"@timestamp\":\"2026-11-24T10:00:00.123456Z\",\"event\":{\"kind"
	"\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\","
	"\"start\"],\"action\":\"flow_started\",\"outcome\":\"success\",\"r"
	"eason\":\"policy\",\"dataset\":\"plumwall.flow\",\"sequence\":9,\""
	"start\":\"2026-11-24T10:00:00.123456Z\"},\"rule\":{\"name\":\"ping"
	"\",\"ruleset\":\"acme\"},\"source\":{\"ip\":\"3ffe:507:0:1:200:86f"
	"f:fe05:80da\",\"packets\":1,\"bytes\":118},\"destination\":{\"ip\""
	":\"3ffe:501:0:1001::2\",\"packets\":0,\"bytes\":0},\"network\":{\""
	"transport\":\"ipv6-icmp\",\"iana_number\":\"58\",\"type\":\"ipv6\""
	",\"community_id\":\"1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=\",\"bytes\":118"
	",\"packets\":1},\"icmp\":{\"type\":128,\"code\":0},\"observer\":{"
	"\"type\":\"firewall\",\"vendor\":\"plumwall\",\"product\":\"plumwa"
	"ll\",\"hostname\":\"fw1\",\"ingress\":{\"interface\":{\"name\":\"a"
	"cme0\"},\"vlan\":{\"id\":\"20\"}}},\"plumwall\":{\"tenant\":\"acme"
	"\",\"src_segment\":\"web\",\"dst_segment\":\"db\",\"verdict\":\"al"
	"low\",\"policy_generation\":7,\"producer\":\"cpu1\"}}";

static const char x_ev_flow_start6_syslog_head[] =
	"<164>1 2026-11-24T10:00:00.123456Z fw1 plumwall 1234 FLOW_START [p"
	"lumwall@32473 tenant=\"acme\" rule=\"ping\" verdict=\"allow\" src="
	"\"3ffe:507:0:1:200:86ff:fe05:80da\" dst=\"3ffe:501:0:1001::2\" pro"
	"to=\"ipv6-icmp\"] ";

static const char x_ev_flow_start6_cef[] =
	"CEF:0|plumwall|plumwall|1.0|FLOW_START|Flow started|3|rt=179551440"
	"0123 src=3ffe:507:0:1:200:86ff:fe05:80da dst=3ffe:501:0:1001::2 pr"
	"oto=IPV6-ICMP act=allow reason=policy deviceInboundInterface=acme0"
	" dvchost=fw1 cs1Label=tenant cs1=acme cs2Label=rule cs2=ping cs3La"
	"bel=srcSegment cs3=web cs4Label=dstSegment cs4=db in=118 out=0 sta"
	"rt=1795514400123 cn1Label=sequence cn1=9";

static const char x_ev_flow_end4_json[] =
	"{\"@timestamp\":\"2026-11-24T10:00:00.123456Z\",\"event\":{\"kind"
	"\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\","
	"\"end\"],\"action\":\"flow_ended\",\"outcome\":\"success\",\"reaso"
	"n\":\"policy\",\"dataset\":\"plumwall.flow\",\"sequence\":10,\"sta"
	"rt\":\"2026-11-24T09:59:57.623456Z\",\"end\":\"2026-11-24T10:00:00"
	".123456Z\",\"duration\":2500000000},\"rule\":{\"name\":\"web\",\"r"
	"uleset\":\"acme\"},\"source\":{\"ip\":\"128.232.110.120\",\"port\""
	":34855,\"packets\":5,\"bytes\":500},\"destination\":{\"ip\":\"66.3"
	"5.250.204\",\"port\":80,\"packets\":4,\"bytes\":4000},\"network\":"
	"{\"transport\":\"tcp\",\"iana_number\":\"6\",\"type\":\"ipv4\",\"c"
	"ommunity_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\",\"bytes\":4500,\""
	"packets\":9},\"observer\":{\"type\":\"firewall\",\"vendor\":\"plum"
	"wall\",\"product\":\"plumwall\",\"hostname\":\"fw1\",\"ingress\":{"
	"\"interface\":{\"name\":\"acme0\"}}},\"plumwall\":{\"tenant\":\"ac"
	"me\",\"src_segment\":\"web\",\"dst_segment\":\"db\",\"verdict\":\""
	"allow\",\"policy_generation\":7,\"end_reason\":\"fin\",\"producer"
	"\":\"cpu1\"}}";

static const char x_ev_flow_end4_syslog_head[] =
	"<164>1 2026-11-24T10:00:00.123456Z fw1 plumwall 1234 FLOW_END [plu"
	"mwall@32473 tenant=\"acme\" rule=\"web\" verdict=\"allow\" src=\"1"
	"28.232.110.120\" dst=\"66.35.250.204\" proto=\"tcp\" spt=\"34855\""
	" dpt=\"80\"] ";

static const char x_ev_flow_end4_cef[] =
	"CEF:0|plumwall|plumwall|1.0|FLOW_END|Flow ended|3|rt=1795514400123"
	" src=128.232.110.120 dst=66.35.250.204 spt=34855 dpt=80 proto=TCP "
	"act=allow reason=policy deviceInboundInterface=acme0 dvchost=fw1 c"
	"s1Label=tenant cs1=acme cs2Label=rule cs2=web cs3Label=srcSegment "
	"cs3=web cs4Label=dstSegment cs4=db cs5Label=endReason cs5=fin in=5"
	"00 out=4000 start=1795514397623 end=1795514400123 cn1Label=sequenc"
	"e cn1=10";

static const char x_ev_suppressed_json[] =
	"{\"@timestamp\":\"2026-11-24T10:00:00.123456Z\",\"event\":{\"kind"
	"\":\"metric\",\"category\":[\"network\"],\"type\":[\"info\"],\"act"
	"ion\":\"suppressed\",\"reason\":\"policy\",\"dataset\":\"plumwall."
	"suppressed\",\"sequence\":11},\"rule\":{\"name\":\"no-ping-db\",\""
	"ruleset\":\"acme\"},\"observer\":{\"type\":\"firewall\",\"vendor\""
	":\"plumwall\",\"product\":\"plumwall\",\"hostname\":\"fw1\"},\"plu"
	"mwall\":{\"tenant\":\"acme\",\"policy_generation\":7,\"count\":12,"
	"\"producer\":\"cpu1\"}}";

static const char x_ev_suppressed_syslog_head[] =
	"<164>1 2026-11-24T10:00:00.123456Z fw1 plumwall 1234 SUPPRESSED [p"
	"lumwall@32473 tenant=\"acme\" rule=\"no-ping-db\" count=\"12\"] ";

static const char x_ev_suppressed_cef[] =
	"CEF:0|plumwall|plumwall|1.0|SUPPRESSED|Events suppressed|4|rt=1795"
	"514400123 reason=policy dvchost=fw1 cs1Label=tenant cs1=acme cs2La"
	"bel=rule cs2=no-ping-db cnt=12 cn1Label=sequence cn1=11";

static const char x_ev_lost_json[] =
	"{\"@timestamp\":\"2026-11-24T10:00:00.123456Z\",\"event\":{\"kind"
	"\":\"metric\",\"category\":[\"network\"],\"type\":[\"info\"],\"act"
	"ion\":\"lost\",\"dataset\":\"plumwall.lost\",\"sequence\":12},\"ob"
	"server\":{\"type\":\"firewall\",\"vendor\":\"plumwall\",\"product"
	"\":\"plumwall\",\"hostname\":\"fw1\"},\"plumwall\":{\"count\":3,\""
	"producer\":\"cpu1\"}}";

static const char x_ev_lost_syslog_head[] =
	"<164>1 2026-11-24T10:00:00.123456Z fw1 plumwall 1234 LOST [plumwal"
	"l@32473 count=\"3\"] ";

static const char x_ev_lost_cef[] =
	"CEF:0|plumwall|plumwall|1.0|LOST|Events lost|7|rt=1795514400123 dv"
	"chost=fw1 cnt=3 cn1Label=sequence cn1=12";

static const char x_ev_nasty_json[] =
	"{\"@timestamp\":\"2026-11-24T10:00:00.123456Z\",\"event\":{\"kind"
	"\":\"event\",\"category\":[\"network\"],\"type\":[\"connection\","
	"\"denied\"],\"action\":\"dropped\",\"outcome\":\"failure\",\"reaso"
	"n\":\"policy\",\"dataset\":\"plumwall.drop\",\"sequence\":184467},"
	"\"rule\":{\"name\":\"r]=|\\\\\\n\\r\\t\\u0001\\u007f\xc3"
	"\xa9"
	"\""
	",\"ruleset\":\"a\\\"b\\\\c\"},\"source\":{\"ip\":\"10.1.1.5\",\"po"
	"rt\":40000},\"destination\":{\"ip\":\"10.1.2.7\",\"port\":5432},\""
	"network\":{\"transport\":\"tcp\",\"iana_number\":\"6\",\"type\":\""
	"ipv4\",\"community_id\":\"1:a3u/JESB2QtRVIboEiU1Cfowas8=\",\"bytes"
	"\":60},\"observer\":{\"type\":\"firewall\",\"vendor\":\"plumwall\""
	",\"product\":\"plumwall\",\"hostname\":\"fw 1\",\"ingress\":{\"int"
	"erface\":{\"name\":\"if|0\"},\"vlan\":{\"id\":\"100\"}}},\"plumwal"
	"l\":{\"tenant\":\"a\\\"b\\\\c\",\"src_segment\":\"x y\",\"dst_segm"
	"ent\":\"d=b\",\"verdict\":\"deny\",\"policy_generation\":7,\"tcp_f"
	"lags\":[\"SYN\"],\"producer\":\"cpu1\"}}";

static const char x_ev_nasty_syslog_head[] =
	"<164>1 2026-11-24T10:00:00.123456Z fw_1 plumwall 1234 DROP [plumwa"
	"ll@32473 tenant=\"a\\\"b\\\\c\" rule=\"r\\]=|\\\\?????\xc3"
	"\xa9"
	""
	"\" verdict=\"deny\" src=\"10.1.1.5\" dst=\"10.1.2.7\" proto=\"tcp"
	"\" spt=\"40000\" dpt=\"5432\"] ";

static const char x_ev_nasty_cef[] =
	"CEF:0|plumwall|plumwall|1\\|2\\\\3|DROP|Packet dropped|5|rt=179551"
	"4400123 src=10.1.1.5 dst=10.1.2.7 spt=40000 dpt=5432 proto=TCP act"
	"=deny reason=policy deviceInboundInterface=if|0 dvchost=fw 1 cs1La"
	"bel=tenant cs1=a\"b\\\\c cs2Label=rule cs2=r]\\=|\\\\\\n\\r\t"
	"\x01"
	"\x7f"
	"\xc3"
	"\xa9"
	" cs3Label=srcSegment cs3=x y cs4Label=dstS"
	"egment cs4=d\\=b cn1Label=sequence cn1=184467";

static const char x_ev_nasty_syslog_cef_head[] =
	"<166>1 2026-11-24T10:00:00.123456Z fw_1 plumwall - DROP [plumwall@"
	"32473 tenant=\"a\\\"b\\\\c\" rule=\"r\\]=|\\\\?????\xc3"
	"\xa9"
	"\" "
	"verdict=\"deny\" src=\"10.1.1.5\" dst=\"10.1.2.7\" proto=\"tcp\" s"
	"pt=\"40000\" dpt=\"5432\"] ";

struct fmt_case {
	const char *name;
	void (*make)(struct tev *t);
	const char *json, *syslog_head, *cef;
};

static const struct fmt_case cases[] = {
	{ "drop deny tcp4 vlan", ev_example, x_ev_example_json,
	  x_ev_example_syslog_head, x_ev_example_cef },
	{ "drop reject udp6 global rule", ev_reject6, x_ev_reject6_json,
	  x_ev_reject6_syslog_head, x_ev_reject6_cef },
	{ "audit icmp default", ev_audit_icmp, x_ev_audit_icmp_json,
	  x_ev_audit_icmp_syslog_head, x_ev_audit_icmp_cef },
	{ "drop unmatched gre", ev_unmatched, x_ev_unmatched_json,
	  x_ev_unmatched_syslog_head, x_ev_unmatched_cef },
	{ "drop malformed", ev_malformed, x_ev_malformed_json,
	  x_ev_malformed_syslog_head, x_ev_malformed_cef },
	{ "flow start icmp6", ev_flow_start6, x_ev_flow_start6_json,
	  x_ev_flow_start6_syslog_head, x_ev_flow_start6_cef },
	{ "flow end tcp4", ev_flow_end4, x_ev_flow_end4_json,
	  x_ev_flow_end4_syslog_head, x_ev_flow_end4_cef },
	{ "suppressed", ev_suppressed, x_ev_suppressed_json,
	  x_ev_suppressed_syslog_head, x_ev_suppressed_cef },
	{ "lost", ev_lost, x_ev_lost_json, x_ev_lost_syslog_head,
	  x_ev_lost_cef },
	{ "escaping", ev_nasty, x_ev_nasty_json, x_ev_nasty_syslog_head,
	  x_ev_nasty_cef },
};

#define N_CASES ((int)(sizeof(cases) / sizeof(cases[0])))

START_TEST(test_exact)
{
	const struct fmt_case *c = &cases[_i];
	char *syslog;
	struct tev t;

	c->make(&t);
	check_fmt(log_format_json, &t, c->json);
	check_fmt(log_format_cef, &t, c->cef);
	ck_assert_int_ge(asprintf(&syslog, "%s%s", c->syslog_head, c->json), 0);
	check_fmt(fmt_syslog, &t, syslog);
	free(syslog);
}
END_TEST

START_TEST(test_syslog_cef_body)
{
	char *expected;
	struct tev t;

	ev_nasty(&t);
	ck_assert_int_ge(asprintf(&expected, "%s%s", x_ev_nasty_syslog_cef_head,
				  x_ev_nasty_cef),
			 0);
	check_fmt(fmt_syslog_cef, &t, expected);
	free(expected);
}
END_TEST

static json_t *json_of(struct tev *t)
{
	struct log_buf b = {};
	json_error_t error;
	json_t *doc;

	ck_assert_int_eq(log_format_json(&t->e, &b), 0);
	doc = json_loads(b.data, 0, &error);
	ck_assert_msg(doc != NULL, "%s: %s", error.text, b.data);
	log_buf_free(&b);
	return doc;
}

/* What a JSON consumer sees: every output parses, with events.md's types. */
START_TEST(test_json_parses)
{
	const struct fmt_case *c = &cases[_i];
	json_t *doc, *v;
	struct tev t;

	c->make(&t);
	doc = json_of(&t);
	ck_assert(json_is_string(json_object_get(doc, "@timestamp")));
	v = json_object_get(json_object_get(doc, "event"), "sequence");
	ck_assert(json_is_integer(v));
	ck_assert_uint_eq(json_integer_value(v), t.raw.seq);
	v = json_object_get(json_object_get(doc, "network"), "iana_number");
	ck_assert(!v || json_is_string(v));
	v = json_object_get(json_object_get(doc, "observer"), "ingress");
	v = json_object_get(json_object_get(v, "vlan"), "id");
	ck_assert(!v || json_is_string(v));
	if (t.e.tenant && c->make != ev_lost) {
		v = json_object_get(json_object_get(doc, "plumwall"), "tenant");
		ck_assert_str_eq(json_string_value(v), t.e.tenant);
	}
	if (t.e.rule) {
		v = json_object_get(json_object_get(doc, "rule"), "name");
		ck_assert_str_eq(json_string_value(v), t.e.rule);
	}
	json_decref(doc);
}
END_TEST

static char *json_text(struct tev *t)
{
	struct log_buf b = {};

	ck_assert_int_eq(log_format_json(&t->e, &b), 0);
	return b.data;
}

START_TEST(test_json_invalid_utf8)
{
	struct tev t;
	char *s;

	ev_example(&t);
	/* stray continuation, overlong '/', surrogate, truncated, 4-byte */
	t.e.tenant = "\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xf0\x9f\x98\x80";
	s = json_text(&t);
	ck_assert_ptr_nonnull(strstr(
		s, "\"tenant\":\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
		   "\\ufffd\\ufffd|\xf0\x9f\x98\x80\""));
	free(s);
}
END_TEST

START_TEST(test_json_all_controls)
{
	char name[40], *s;
	struct tev t;
	json_t *doc;
	int i;

	for (i = 1; i < 32; i++)
		name[i - 1] = (char)i;
	name[31] = '\x7f';
	name[32] = '\0';
	ev_example(&t);
	t.e.rule = name;
	s = json_text(&t);
	ck_assert_ptr_nonnull(strstr(
		s, "\"name\":\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006"
		   "\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e"));
	ck_assert_ptr_nonnull(strstr(s, "\\u001f\\u007f\""));
	free(s);
	doc = json_of(&t);
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(doc, "rule"), "name")),
			 name);
	json_decref(doc);
}
END_TEST

START_TEST(test_tcp_flags)
{
	struct tev t;
	char *s;

	ev_example(&t);
	t.raw.tcp_flags = 0xff;
	s = json_text(&t);
	ck_assert_ptr_nonnull(
		strstr(s, "\"tcp_flags\":[\"FIN\",\"SYN\",\"RST\","
			  "\"PSH\",\"ACK\",\"URG\",\"ECE\",\"CWR\"]"));
	free(s);
	t.raw.tcp_flags = 0x12;
	s = json_text(&t);
	ck_assert_ptr_nonnull(strstr(s, "\"tcp_flags\":[\"SYN\",\"ACK\"]"));
	free(s);
	t.raw.tcp_flags = 0;
	s = json_text(&t);
	ck_assert_ptr_nonnull(strstr(s, "\"tcp_flags\":[]"));
	free(s);
	/* Not TCP: no flags at all. */
	ev_reject6(&t);
	t.raw.tcp_flags = 0x02;
	s = json_text(&t);
	ck_assert_ptr_null(strstr(s, "tcp_flags"));
	free(s);
}
END_TEST

START_TEST(test_reasons)
{
	static const char *const names[] = {
		"policy",    "default",	    "unmatched",
		"malformed", "fragment",    "policy-revoked",
		"non-ip",    "established", "reply",
	};
	char want[64], *s;
	struct tev t;
	unsigned int r;

	for (r = 0; r < sizeof(names) / sizeof(names[0]); r++) {
		ev_example(&t);
		t.raw.reason = (uint8_t)r;
		s = json_text(&t);
		snprintf(want, sizeof(want), "\"reason\":\"%s\"", names[r]);
		ck_assert_msg(strstr(s, want), "%s not in %s", want, s);
		free(s);
	}
}
END_TEST

START_TEST(test_egress)
{
	struct log_buf b = {};
	struct tev t;
	char *s;

	ev_example(&t);
	t.raw.dir = PW_DIR_EGRESS;
	s = json_text(&t);
	ck_assert_ptr_nonnull(strstr(s,
				     "\"egress\":{\"interface\":{\"name\":"
				     "\"acme0\"},\"vlan\":{\"id\":\"100\"}}"));
	ck_assert_ptr_null(strstr(s, "ingress"));
	free(s);
	ck_assert_int_eq(log_format_cef(&t.e, &b), 0);
	ck_assert_ptr_nonnull(
		strstr(b.data, " deviceOutboundInterface=acme0 "));
	ck_assert_ptr_null(strstr(b.data, "deviceInboundInterface"));
	log_buf_free(&b);
}
END_TEST

START_TEST(test_flow_revoked)
{
	struct log_buf b = {};
	struct tev t;
	char *s;

	ev_flow_end4(&t);
	t.raw.verdict = PW_VERDICT_DENY;
	t.raw.reason = PW_REASON_POLICY_REVOKED;
	t.raw.end_reason = PW_END_POLICY_REVOKED;
	s = json_text(&t);
	ck_assert_ptr_nonnull(strstr(s, "\"action\":\"flow_ended\","
					"\"outcome\":\"failure\","
					"\"reason\":\"policy-revoked\""));
	ck_assert_ptr_nonnull(strstr(s, "\"end_reason\":\"policy-revoked\""));
	free(s);
	ck_assert_int_eq(log_format_cef(&t.e, &b), 0);
	ck_assert_ptr_nonnull(
		strstr(b.data, "|FLOW_REVOKED|Flow revoked by policy|5|rt="));
	ck_assert_ptr_nonnull(
		strstr(b.data, " act=deny reason=policy-revoked "));
	ck_assert_ptr_nonnull(strstr(b.data, " cs5=policy-revoked "));
	log_buf_free(&b);
}
END_TEST

START_TEST(test_end_reasons)
{
	static const char *const names[] = { "fin", "rst", "timeout",
					     "policy-revoked", "shutdown" };
	char want[64], *s;
	struct tev t;
	int i;

	for (i = 0; i < 5; i++) {
		ev_flow_end4(&t);
		t.raw.end_reason = (uint8_t)(PW_END_FIN + i);
		s = json_text(&t);
		snprintf(want, sizeof(want), "\"end_reason\":\"%s\"", names[i]);
		ck_assert_msg(strstr(s, want), "%s not in %s", want, s);
		free(s);
	}
}
END_TEST

START_TEST(test_lost_by_logd)
{
	struct tev t;
	char *s;

	ev_lost(&t);
	t.raw.cpu = LOG_PRODUCER_LOGD;
	t.raw.count = 4000000000U;
	s = json_text(&t);
	ck_assert_ptr_nonnull(strstr(
		s,
		"\"plumwall\":{\"count\":4000000000,\"producer\":\"logd\"}}"));
	free(s);
}
END_TEST

/* Unknown kinds are refused, and the buffer keeps what it had. */
START_TEST(test_unknown_type)
{
	struct log_buf b = {};
	struct tev t;
	int type;

	ck_assert_int_eq(log_buf_append(&b, "keep", 4), 0);
	for (type = 0; type < 256; type += 7) {
		if (type >= PW_EVENT_DROP && type <= PW_EVENT_LOST)
			continue;
		ev_example(&t);
		t.raw.type = (uint8_t)type;
		ck_assert_ptr_null(log_msgid((uint8_t)type));
		ck_assert_int_eq(log_format_json(&t.e, &b), -EINVAL);
		ck_assert_int_eq(log_format_cef(&t.e, &b), -EINVAL);
		ck_assert_int_eq(fmt_syslog(&t.e, &b), -EINVAL);
		ck_assert_uint_eq(b.len, 4);
		ck_assert_str_eq(b.data, "keep");
	}
	log_buf_free(&b);
	ck_assert_str_eq(log_msgid(PW_EVENT_DROP), "DROP");
	ck_assert_str_eq(log_msgid(PW_EVENT_AUDIT), "AUDIT");
	ck_assert_str_eq(log_msgid(PW_EVENT_FLOW_START), "FLOW_START");
	ck_assert_str_eq(log_msgid(PW_EVENT_FLOW_END), "FLOW_END");
	ck_assert_str_eq(log_msgid(PW_EVENT_SUPPRESSED), "SUPPRESSED");
	ck_assert_str_eq(log_msgid(PW_EVENT_LOST), "LOST");
}
END_TEST

START_TEST(test_syslog_header)
{
	struct log_buf b = {};
	char host[301];
	struct tev t;

	ev_lost(&t);
	t.e.hostname = NULL;
	ck_assert_int_eq(log_format_syslog(&t.e, 0, 0, NULL,
					   LOG_SYSLOG_BODY_JSON, &b),
			 0);
	ck_assert_ptr_nonnull(strstr(
		b.data, "<0>1 2026-11-24T10:00:00.123456Z - plumwall - LOST "
			"[plumwall@32473 count=\"3\"] {\"@timestamp\""));
	log_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);

	memset(host, 'h', 300);
	host[300] = '\0';
	host[10] = '\t';
	t.e.hostname = host;
	ck_assert_int_eq(
		log_format_syslog(&t.e, 23, 7, "", LOG_SYSLOG_BODY_CEF, &b), 0);
	ck_assert(!strncmp(
		b.data, "<191>1 2026-11-24T10:00:00.123456Z hhhhhhhhhh_h", 47));
	/* HOSTNAME is cut at 255 characters; empty PROCID is "-". */
	ck_assert_ptr_nonnull(strstr(b.data + 35 + 255, " plumwall - LOST "));
	ck_assert_int_eq(b.data[35 + 255], ' ');
	ck_assert_ptr_nonnull(strstr(b.data, "] CEF:0|plumwall|"));

	log_buf_reset(&b);
	ck_assert_int_eq(log_format_syslog(&t.e, 24, 0, NULL,
					   LOG_SYSLOG_BODY_JSON, &b),
			 -EINVAL);
	ck_assert_int_eq(log_format_syslog(&t.e, -1, 0, NULL,
					   LOG_SYSLOG_BODY_JSON, &b),
			 -EINVAL);
	ck_assert_int_eq(log_format_syslog(&t.e, 1, 8, NULL,
					   LOG_SYSLOG_BODY_JSON, &b),
			 -EINVAL);
	ck_assert_int_eq(log_format_syslog(&t.e, 1, 1, NULL,
					   (enum log_syslog_body)7, &b),
			 -EINVAL);
	ck_assert_uint_eq(b.len, 0);
	log_buf_free(&b);
}
END_TEST

START_TEST(test_time)
{
	static const struct {
		uint64_t ns;
		const char *text;
	} v[] = {
		{ 0, "1970-01-01T00:00:00.000000Z" },
		{ 999, "1970-01-01T00:00:00.000000Z" },
		{ 1000, "1970-01-01T00:00:00.000001Z" },
		{ 951782400000000000ULL, "2000-02-29T00:00:00.000000Z" },
		{ 1709251199999999999ULL, "2024-02-29T23:59:59.999999Z" },
		{ 1735689599123456000ULL, "2024-12-31T23:59:59.123456Z" },
		{ 4102444800000000000ULL, "2100-01-01T00:00:00.000000Z" },
		{ T0, "2026-11-24T10:00:00.123456Z" },
	};
	struct tev t;
	char want[64], *s;
	unsigned int i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ev_lost(&t);
		t.e.time_ns = v[i].ns;
		s = json_text(&t);
		snprintf(want, sizeof(want), "{\"@timestamp\":\"%s\",",
			 v[i].text);
		ck_assert_msg(!strncmp(s, want, strlen(want)), "%s: %s", want,
			      s);
		free(s);
	}
}
END_TEST

/* Published Community ID vectors (community-id-spec baseline), also
 * recomputed independently with Python's hashlib. */
static const struct cid_vec {
	uint8_t proto;
	const char *src, *dst;
	uint16_t sport, dport; /* ICMP: type, code */
	uint16_t seed;
	const char *id;
} cid_vecs[] = {
	{ 6, "128.232.110.120", "66.35.250.204", 34855, 80, 0,
	  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ 6, "66.35.250.204", "128.232.110.120", 80, 34855, 0,
	  "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
	{ 17, "192.168.1.52", "8.8.8.8", 54585, 53, 0,
	  "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
	{ 17, "8.8.8.8", "192.168.1.52", 53, 54585, 0,
	  "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
	{ 1, "192.168.0.89", "192.168.0.1", 8, 0, 0,
	  "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" },
	{ 1, "192.168.0.1", "192.168.0.89", 0, 0, 0,
	  "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" },
	{ 1, "10.0.0.1", "10.0.0.2", 11, 0, 0,
	  "1:YHxtAirCG//0OzkcVAukqKQN9xM=" },
	{ 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, 0,
	  "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=" },
	{ 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0, 0,
	  "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=" },
	{ 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 0, 0,
	  "1:zavyT/cezQr1fmImYCwYnMXbgck=" },
	{ 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
	  0, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=" },
	{ 58, "3ffe:501:410:0:2c0:dfff:fe47:33e",
	  "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, 0,
	  "1:hLZd0XGWojozrvxqE0dWB1iM6R0=" },
	{ 58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 0,
	  0, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=" },
	{ 58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 0,
	  0, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=" },
	{ 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0, 0,
	  "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=" },
	{ 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0, 0,
	  "1:pkvHqCL88/tg1k4cPigmZXUtL00=" },
	{ 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a",
	  63943, 25, 0, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	{ 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887",
	  25, 63943, 0, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
	{ 46, "10.1.12.1", "10.1.12.2", 0, 0, 0,
	  "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
	{ 46, "10.1.12.2", "10.1.12.1", 0, 0, 0,
	  "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
	/* seed 1 */
	{ 6, "128.232.110.120", "66.35.250.204", 34855, 80, 1,
	  "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
	{ 17, "8.8.8.8", "192.168.1.52", 53, 54585, 1,
	  "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
	{ 1, "192.168.0.89", "192.168.0.1", 8, 0, 1,
	  "1:03g6IloqVBdcZlPyX8r0hgoE7kA=" },
	{ 1, "10.0.0.1", "10.0.0.2", 11, 0, 1,
	  "1:XjUibYHaafLQ3pxQeiMI8g25q20=" },
	{ 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, 1,
	  "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=" },
	{ 58, "3ffe:501:410:0:2c0:dfff:fe47:33e",
	  "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, 1,
	  "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8=" },
	{ 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a",
	  63943, 25, 1, "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
	{ 46, "10.1.12.1", "10.1.12.2", 0, 0, 1,
	  "1:rYir8gphR31noO9iDRQmF/BteEI=" },
};

START_TEST(test_community_id)
{
	const struct cid_vec *v = &cid_vecs[_i];
	char id[LOG_COMMUNITY_ID_SIZE];
	struct pw_event ev = {};

	ev.type = _i % 2 ? PW_EVENT_FLOW_END : PW_EVENT_DROP;
	ev.proto = v->proto;
	set_addrs(&ev, v->src, v->dst);
	if (v->proto == 1 || v->proto == 58) {
		ev.icmp_type = (uint8_t)v->sport;
		ev.icmp_code = (uint8_t)v->dport;
	} else if (v->proto == 6 || v->proto == 17) {
		ev.sport = v->sport;
		ev.dport = v->dport;
	}
	ck_assert_int_eq(log_community_id(&ev, v->seed, id), 0);
	ck_assert_str_eq(id, v->id);
	ck_assert_uint_eq(strlen(id), LOG_COMMUNITY_ID_SIZE - 1);
}
END_TEST

START_TEST(test_community_id_refused)
{
	char id[LOG_COMMUNITY_ID_SIZE];
	struct tev t;

	ev_suppressed(&t);
	ck_assert_int_eq(log_community_id(&t.raw, 0, id), -EINVAL);
	ev_lost(&t);
	ck_assert_int_eq(log_community_id(&t.raw, 0, id), -EINVAL);
	ev_malformed(&t);
	ck_assert_int_eq(log_community_id(&t.raw, 0, id), -EINVAL);
	ck_assert_str_eq(id, "");
	/* SCTP hashes its ports, which events do not carry: no ID, and no
	 * network.community_id in the JSON. */
	ev_unmatched(&t);
	t.raw.proto = 132;
	ck_assert_int_eq(log_community_id(&t.raw, 0, id), -EOPNOTSUPP);
	{
		char *s = json_text(&t);

		ck_assert_ptr_nonnull(
			strstr(s, "\"transport\":\"132\","
				  "\"iana_number\":\"132\","
				  "\"type\":\"ipv4\",\"bytes\":1400}"));
		free(s);
	}
}
END_TEST

START_TEST(test_log_buf)
{
	struct log_buf b = {};
	char big[1000];
	int i;

	ck_assert_int_eq(log_buf_printf(&b, "%s", ""), 0);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(log_buf_append(&b, "ab", 2), 0);
	ck_assert_int_eq(log_buf_printf(&b, "-%d-", 42), 0);
	ck_assert_str_eq(b.data, "ab-42-");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(log_buf_printf(&b, "%s", big), 0);
	ck_assert_uint_eq(b.len, 6 + 10 * 999);
	ck_assert_uint_eq(strlen(b.data), b.len);
	ck_assert_uint_gt(b.cap, b.len);
	log_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	ck_assert_int_eq(log_buf_append(&b, "x", 1), 0);
	ck_assert_str_eq(b.data, "x");
	log_buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.cap, 0);
	log_buf_free(&b); /* twice is harmless */
}
END_TEST

/* ---- pcapng ------------------------------------------------------------- */

static char tmpdir[64];

static void tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pw-logfmt-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static char *tmp_path(const char *name)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/%s", tmpdir, name), 0);
	return p;
}

/* An Ethernet + IPv4 + TCP SYN frame of the example's addresses, 60 bytes. */
static void ev_with_frame(struct tev *t, uint64_t time_ns)
{
	static const unsigned char frame[60] = {
		0x02,
		0,
		0,
		0,
		0,
		2,
		0x02,
		0,
		0,
		0,
		0,
		1,
		0x08,
		0x00,
		/* IPv4: 40 bytes, TTL 64, TCP, 10.1.1.5 -> 10.1.2.7 */
		0x45,
		0,
		0,
		40,
		0,
		1,
		0x40,
		0,
		64,
		6,
		0,
		0,
		10,
		1,
		1,
		5,
		10,
		1,
		2,
		7,
		/* TCP 40000 -> 5432, SYN */
		0x9c,
		0x40,
		0x15,
		0x38,
		0,
		0,
		0,
		1,
		0,
		0,
		0,
		0,
		0x50,
		0x02,
		0xff,
		0xff,
		0,
		0,
		0,
		0,
	};

	ev_example(t);
	memcpy(t->raw.snap, frame, sizeof(frame));
	t->raw.snap_len = sizeof(frame);
	t->raw.pkt_len = sizeof(frame);
	t->e.time_ns = time_ns;
}

struct readback {
	int packets;
	uint64_t first_ns, last_ns;
	unsigned int caplen, len;
	unsigned char data[256];
};

/* Read a capture with libpcap (nanosecond timestamps); -1 if it fails. */
static int read_capture(const char *path, struct readback *r)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	int rc;

	memset(r, 0, sizeof(*r));
	p = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p)
		return -1;
	ck_assert_int_eq(pcap_datalink(p), DLT_EN10MB);
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		uint64_t ns = (uint64_t)h->ts.tv_sec * 1000000000ULL +
			      (uint64_t)h->ts.tv_usec;

		if (!r->packets)
			r->first_ns = ns;
		r->last_ns = ns;
		r->packets++;
		r->caplen = h->caplen;
		r->len = h->len;
		memcpy(r->data, data,
		       h->caplen < sizeof(r->data) ? h->caplen :
						     sizeof(r->data));
	}
	pcap_close(p);
	return rc == PCAP_ERROR_BREAK ? 0 : -1;
}

static char *file_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	ck_assert_ptr_nonnull(f);
	buf = malloc(1 << 20);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

START_TEST(test_pcap_readback)
{
	char *path = tmp_path("drops.pcapng"), *text;
	struct log_pcap *w;
	struct readback r;
	struct tev t;
	uint64_t size;
	size_t len;

	ck_assert_int_eq(log_pcap_open(&w, path, 0, 0, 0), 0);
	ev_with_frame(&t, T0);
	ck_assert_int_eq(log_pcap_write(w, &t.e), 0);
	/* A flow event has no packet: nothing written. */
	size = log_pcap_size(w);
	{
		struct tev f;

		ev_flow_end4(&f);
		ck_assert_int_eq(log_pcap_write(w, &f.e), 0);
		ck_assert_uint_eq(log_pcap_size(w), size);
	}
	ev_with_frame(&t, T0 + 1);
	t.raw.pkt_len = 1500;
	t.raw.vlan = 0;
	t.raw.verdict = PW_VERDICT_REJECT;
	t.e.ifname = "eth1";
	t.e.rule = NULL;
	ck_assert_int_eq(log_pcap_write(w, &t.e), 0);
	log_pcap_close(w);

	ck_assert_int_eq(read_capture(path, &r), 0);
	ck_assert_int_eq(r.packets, 2);
	ck_assert_uint_eq(r.first_ns, T0);
	ck_assert_uint_eq(r.last_ns, T0 + 1);
	ck_assert_uint_eq(r.caplen, 60);
	ck_assert_uint_eq(r.len, 1500);
	ck_assert_mem_eq(r.data, t.raw.snap, 60);

	text = file_text(path, &len);
	ck_assert_ptr_nonnull(memmem(
		text, len,
		"iface=acme0 vlan=100 verdict=deny reason=policy tenant=acme "
		"rule=no-ping-db",
		75));
	ck_assert_ptr_nonnull(memmem(
		text, len,
		"iface=eth1 verdict=reject reason=policy tenant=acme\0", 52));
	ck_assert_ptr_nonnull(memmem(text, len, "eth1", 4));
	free(text);
	free(path);
}
END_TEST

START_TEST(test_pcap_snaplen)
{
	char *path = tmp_path("short.pcapng");
	struct log_pcap *w;
	struct readback r;
	struct tev t;

	ck_assert_int_eq(log_pcap_open(&w, path, 20, 0, 0), 0);
	ev_with_frame(&t, T0);
	ck_assert_int_eq(log_pcap_write(w, &t.e), 0);
	log_pcap_close(w);
	ck_assert_int_eq(read_capture(path, &r), 0);
	ck_assert_int_eq(r.packets, 1);
	ck_assert_uint_eq(r.caplen, 20);
	ck_assert_uint_eq(r.len, 60);
	free(path);
}
END_TEST

START_TEST(test_pcap_rotate)
{
	char *path = tmp_path("rot.pcapng"), *p1, *p2, *p3;
	struct readback r0, r1, r2;
	struct log_pcap *w;
	struct stat st;
	struct tev t;
	int i;

	p1 = tmp_path("rot.pcapng.1");
	p2 = tmp_path("rot.pcapng.2");
	p3 = tmp_path("rot.pcapng.3");
	ck_assert_int_eq(log_pcap_open(&w, path, 0, 600, 2), 0);
	for (i = 0; i < 20; i++) {
		ev_with_frame(&t, T0 + (uint64_t)i);
		ck_assert_int_eq(log_pcap_write(w, &t.e), 0);
		ck_assert_uint_le(log_pcap_size(w), 600);
	}
	log_pcap_close(w);

	ck_assert_int_eq(stat(p3, &st), -1);
	ck_assert_int_eq(read_capture(path, &r0), 0);
	ck_assert_int_eq(read_capture(p1, &r1), 0);
	ck_assert_int_eq(read_capture(p2, &r2), 0);
	ck_assert_int_ge(r0.packets, 1);
	ck_assert_int_ge(r1.packets, 1);
	ck_assert_int_ge(r2.packets, 1);
	/* The newest packets are in PATH, older ones in .1, then .2. */
	ck_assert_uint_eq(r0.last_ns, T0 + 19);
	ck_assert_uint_eq(r1.last_ns + 1, r0.first_ns);
	ck_assert_uint_eq(r2.last_ns + 1, r1.first_ns);
	ck_assert_int_lt(r0.packets + r1.packets + r2.packets, 20);
	ck_assert_int_eq(stat(p2, &st), 0);
	ck_assert_int_le(st.st_size, 600);
	free(path);
	free(p1);
	free(p2);
	free(p3);
}
END_TEST

START_TEST(test_pcap_reopen)
{
	char *path = tmp_path("r.pcapng"), *moved = tmp_path("r.pcapng.old");
	struct log_pcap *w;
	struct readback r;
	struct tev t;

	ck_assert_int_eq(log_pcap_open(&w, path, 0, 0, 0), 0);
	ev_with_frame(&t, T0);
	ck_assert_int_eq(log_pcap_write(w, &t.e), 0);
	/* logrotate moves the file, then SIGHUP: a new file. */
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(log_pcap_reopen(w), 0);
	ev_with_frame(&t, T0 + 5);
	ck_assert_int_eq(log_pcap_write(w, &t.e), 0);
	/* Reopened in place: a second pcapng section in the same file. */
	ck_assert_int_eq(log_pcap_reopen(w), 0);
	ev_with_frame(&t, T0 + 6);
	ck_assert_int_eq(log_pcap_write(w, &t.e), 0);
	log_pcap_close(w);

	ck_assert_int_eq(read_capture(moved, &r), 0);
	ck_assert_int_eq(r.packets, 1);
	ck_assert_uint_eq(r.first_ns, T0);
	ck_assert_int_eq(read_capture(path, &r), 0);
	ck_assert_int_eq(r.packets, 2);
	ck_assert_uint_eq(r.first_ns, T0 + 5);
	ck_assert_uint_eq(r.last_ns, T0 + 6);

	/* Reopening an existing capture (a restart) appends as well. */
	ck_assert_int_eq(log_pcap_open(&w, path, 0, 0, 0), 0);
	ck_assert_int_eq(log_pcap_write(w, &t.e), 0);
	log_pcap_close(w);
	ck_assert_int_eq(read_capture(path, &r), 0);
	ck_assert_int_eq(r.packets, 3);
	free(path);
	free(moved);
}
END_TEST

START_TEST(test_pcap_errors)
{
	char *path = tmp_path("e.pcapng"), *bad = tmp_path("no/such/dir");
	struct log_pcap *w = (struct log_pcap *)1;
	struct stat st;

	ck_assert_int_eq(log_pcap_open(&w, path, 65536, 0, 0), -EINVAL);
	ck_assert_ptr_null(w);
	ck_assert_int_eq(log_pcap_open(&w, path, 0, 1000, 0), -EINVAL);
	ck_assert_int_eq(log_pcap_open(&w, "", 0, 0, 0), -EINVAL);
	ck_assert_int_eq(log_pcap_open(&w, NULL, 0, 0, 0), -EINVAL);
	/* Refused arguments create nothing. */
	ck_assert_int_eq(stat(path, &st), -1);
	ck_assert_int_eq(log_pcap_open(&w, bad, 0, 0, 0), -ENOENT);
	ck_assert_ptr_null(w);
	log_pcap_close(NULL);
	free(path);
	free(bad);
}
END_TEST

/* tcpdump, as a user would read the file (skipped when not installed). */
START_TEST(test_pcap_tcpdump)
{
	char *path = tmp_path("td.pcapng"), *cmd, line[512];
	struct log_pcap *w;
	struct tev t;
	int lines = 0, hits = 0;
	FILE *p;

	if (system("command -v tcpdump >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_pcap_tcpdump: no tcpdump, not run\n");
		free(path);
		return;
	}
	ck_assert_int_eq(log_pcap_open(&w, path, 0, 0, 0), 0);
	ev_with_frame(&t, T0);
	ck_assert_int_eq(log_pcap_write(w, &t.e), 0);
	ck_assert_int_eq(log_pcap_write(w, &t.e), 0);
	log_pcap_close(w);
	ck_assert_int_ge(asprintf(&cmd, "tcpdump -nn -tt -r '%s' 2>&1", path),
			 0);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p)) {
		lines++;
		if (strstr(line, "1795514400.123456 IP 10.1.1.5.40000 > "
				 "10.1.2.7.5432: Flags [S]"))
			hits++;
	}
	ck_assert_int_eq(pclose(p), 0);
	ck_assert_int_eq(hits, 2);
	ck_assert_int_eq(lines, 3); /* "reading from file ..." + 2 packets */
	free(cmd);
	free(path);
}
END_TEST

static Suite *logfmt_suite(void)
{
	Suite *s = suite_create("logfmt");
	TCase *tc = tcase_create("formats");
	TCase *tp = tcase_create("pcap");

	tcase_add_loop_test(tc, test_exact, 0, N_CASES);
	tcase_add_loop_test(tc, test_json_parses, 0, N_CASES);
	tcase_add_test(tc, test_syslog_cef_body);
	tcase_add_test(tc, test_json_invalid_utf8);
	tcase_add_test(tc, test_json_all_controls);
	tcase_add_test(tc, test_tcp_flags);
	tcase_add_test(tc, test_reasons);
	tcase_add_test(tc, test_egress);
	tcase_add_test(tc, test_flow_revoked);
	tcase_add_test(tc, test_end_reasons);
	tcase_add_test(tc, test_lost_by_logd);
	tcase_add_test(tc, test_unknown_type);
	tcase_add_test(tc, test_syslog_header);
	tcase_add_test(tc, test_time);
	tcase_add_loop_test(tc, test_community_id, 0,
			    (int)(sizeof(cid_vecs) / sizeof(cid_vecs[0])));
	tcase_add_test(tc, test_community_id_refused);
	tcase_add_test(tc, test_log_buf);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tp, tmp_setup, tmp_teardown);
	tcase_add_test(tp, test_pcap_readback);
	tcase_add_test(tp, test_pcap_snaplen);
	tcase_add_test(tp, test_pcap_rotate);
	tcase_add_test(tp, test_pcap_reopen);
	tcase_add_test(tp, test_pcap_errors);
	tcase_add_test(tp, test_pcap_tcpdump);
	suite_add_tcase(s, tp);
	return s;
}

int main(void)
{
	return fixture_run_suite(logfmt_suite());
}
