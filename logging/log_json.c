// SPDX-License-Identifier: GPL-2.0
/*
 * ECS JSON (events.md "JSON (canonical)"). Written by hand rather than
 * through jansson: the key order of events.md's example comes for free,
 * and no tree is built per event (logd formats tens of thousands of
 * events per second).
 */
#include <errno.h>

#include "logging/log_internal.h"

#define JW_MAX_DEPTH 8

/* A streaming JSON writer; the first error sticks and stops output. */
struct jw {
	struct log_buf *b;
	int err;
	int depth;
	bool comma[JW_MAX_DEPTH];
};

static bool jw_room(struct jw *w, size_t n)
{
	if (w->err)
		return false;
	w->err = log_buf_reserve(w->b, n);
	return !w->err;
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), 0 if it is
 * not valid (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/*
 * A JSON string: quote, backslash and control characters (DEL too, which
 * JSON would allow raw) escaped, valid
 * UTF-8 passed through, invalid bytes replaced by U+FFFD (names come from
 * YAML and are valid UTF-8, but the output must be valid JSON whatever).
 */
static void jw_quoted(struct jw *w, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), run, l;
	struct log_buf *b = w->b;

	/* Worst case: every byte becomes \u00XX or U+FFFD as \ufffd. */
	if (!jw_room(w, 6 * n + 2))
		return;
	log_buf_putc(b, '"');
	while (n) {
		for (run = 0; run < n && s[run] >= 0x20 && s[run] < 0x7f &&
			      s[run] != '"' && s[run] != '\\';
		     run++)
			;
		log_buf_put(b, s, run);
		s += run;
		n -= run;
		if (!n)
			break;
		if (*s >= 0x80) {
			l = utf8_len(s, n);
			if (l) {
				log_buf_put(b, s, l);
			} else {
				log_buf_put(b, "\\ufffd", 6);
				l = 1;
			}
			s += l;
			n -= l;
			continue;
		}
		log_buf_putc(b, '\\');
		switch (*s) {
		case '"':
		case '\\':
			log_buf_putc(b, (char)*s);
			break;
		case '\b':
			log_buf_putc(b, 'b');
			break;
		case '\f':
			log_buf_putc(b, 'f');
			break;
		case '\n':
			log_buf_putc(b, 'n');
			break;
		case '\r':
			log_buf_putc(b, 'r');
			break;
		case '\t':
			log_buf_putc(b, 't');
			break;
		default:
			log_buf_put(b, "u00", 3);
			log_buf_putc(b, hex[*s >> 4]);
			log_buf_putc(b, hex[*s & 15]);
		}
		s++;
		n--;
	}
	log_buf_putc(b, '"');
	b->data[b->len] = '\0';
}

/* Separator and "key": (keys are plain ASCII literals). */
static void jw_key(struct jw *w, const char *key)
{
	size_t n = key ? strlen(key) : 0;

	if (!jw_room(w, n + 4))
		return;
	if (w->comma[w->depth])
		log_buf_putc(w->b, ',');
	w->comma[w->depth] = true;
	if (key) {
		log_buf_putc(w->b, '"');
		log_buf_put(w->b, key, n);
		log_buf_put(w->b, "\":", 2);
	}
	w->b->data[w->b->len] = '\0';
}

static void jw_open(struct jw *w, const char *key, char c)
{
	if (w->depth + 1 >= JW_MAX_DEPTH) {
		w->err = w->err ?: -EINVAL;
		return;
	}
	if (w->depth > 0 || key)
		jw_key(w, key);
	if (!jw_room(w, 1))
		return;
	log_buf_putc(w->b, c);
	w->b->data[w->b->len] = '\0';
	w->comma[++w->depth] = false;
}

static void jw_close(struct jw *w, char c)
{
	if (!jw_room(w, 1))
		return;
	log_buf_putc(w->b, c);
	w->b->data[w->b->len] = '\0';
	w->depth--;
}

/* @key: @val, nothing when @val is NULL (an absent field). */
static void jw_str(struct jw *w, const char *key, const char *val)
{
	if (!val)
		return;
	jw_key(w, key);
	jw_quoted(w, val);
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	if (!jw_room(w, 21))
		return;
	w->b->len += log_u64_digits(v, w->b->data + w->b->len);
	w->b->data[w->b->len] = '\0';
}

/* A number as a JSON string (ECS keyword fields: iana_number, vlan.id). */
static void jw_u64_str(struct jw *w, const char *key, uint64_t v)
{
	char num[24];

	num[log_u64_digits(v, num)] = '\0';
	jw_str(w, key, num);
}

static void jw_time(struct jw *w, const char *key, uint64_t ns)
{
	char t[LOG_TIME_SIZE];

	log_time_rfc3339(ns, t);
	jw_str(w, key, t);
}

/* plumwall.tcp_flags: the names of the set flags, in bit order. */
static void jw_tcp_flags(struct jw *w, uint8_t flags)
{
	static const char *const names[8] = { "FIN", "SYN", "RST", "PSH",
					      "ACK", "URG", "ECE", "CWR" };
	int i;

	jw_open(w, "tcp_flags", '[');
	for (i = 0; i < 8; i++)
		if (flags & (1U << i))
			jw_str(w, NULL, names[i]);
	jw_close(w, ']');
}

static const char *dataset_of(uint8_t type)
{
	switch (type) {
	case PW_EVENT_DROP:
		return "plumwall.drop";
	case PW_EVENT_AUDIT:
		return "plumwall.audit";
	case PW_EVENT_FLOW_START:
	case PW_EVENT_FLOW_END:
		return "plumwall.flow";
	case PW_EVENT_SUPPRESSED:
		return "plumwall.suppressed";
	default:
		return "plumwall.lost";
	}
}

/* event.action */
static const char *action_of(const struct pw_event *ev)
{
	switch (ev->type) {
	case PW_EVENT_DROP:
		return ev->verdict == PW_VERDICT_REJECT ? "rejected" :
							  "dropped";
	case PW_EVENT_AUDIT:
		return "audited";
	case PW_EVENT_FLOW_START:
		return "flow_started";
	case PW_EVENT_FLOW_END:
		return "flow_ended";
	case PW_EVENT_SUPPRESSED:
		return "suppressed";
	default:
		return "lost";
	}
}

/* plumwall.producer: who numbered the event (sequence is per producer). */
static void jw_producer(struct jw *w, uint16_t cpu)
{
	char p[16];

	if (cpu == LOG_PRODUCER_LOGD) {
		jw_str(w, "producer", "logd");
		return;
	}
	if (cpu == LOG_PRODUCER_NFLOG) {
		jw_str(w, "producer", "nflog");
		return;
	}
	memcpy(p, "cpu", 3);
	p[3 + log_u64_digits(cpu, p + 3)] = '\0';
	jw_str(w, "producer", p);
}

static void jw_event(struct jw *w, const struct log_event *e)
{
	const struct pw_event *ev = e->raw;
	bool flow = ev->type == PW_EVENT_FLOW_START ||
		    ev->type == PW_EVENT_FLOW_END;

	jw_open(w, "event", '{');
	if (log_has_flow(ev)) {
		jw_str(w, "kind", "event");
		jw_open(w, "category", '[');
		jw_str(w, NULL, "network");
		jw_close(w, ']');
		jw_open(w, "type", '[');
		jw_str(w, NULL, "connection");
		if (ev->type == PW_EVENT_DROP)
			jw_str(w, NULL, "denied");
		else if (ev->type == PW_EVENT_AUDIT)
			jw_str(w, NULL, "allowed");
		else
			jw_str(w, NULL,
			       ev->type == PW_EVENT_FLOW_START ? "start" :
								 "end");
		jw_close(w, ']');
		jw_str(w, "action", action_of(ev));
		jw_str(w, "outcome",
		       log_is_blocked(ev) ? "failure" : "success");
		jw_str(w, "reason", log_reason_name(ev->reason));
	} else {
		/* A count of events, not one: ECS kind metric. */
		jw_str(w, "kind", "metric");
		jw_open(w, "category", '[');
		jw_str(w, NULL, "network");
		jw_close(w, ']');
		jw_open(w, "type", '[');
		jw_str(w, NULL, "info");
		jw_close(w, ']');
		jw_str(w, "action", action_of(ev));
		if (ev->type == PW_EVENT_SUPPRESSED)
			jw_str(w, "reason", log_reason_name(ev->reason));
	}
	jw_str(w, "dataset", dataset_of(ev->type));
	jw_u64(w, "sequence", ev->seq);
	if (flow) {
		jw_time(w, "start", e->start_time_ns);
		if (ev->type == PW_EVENT_FLOW_END) {
			jw_time(w, "end", e->time_ns);
			jw_u64(w, "duration",
			       e->time_ns > e->start_time_ns ?
				       e->time_ns - e->start_time_ns :
				       0);
		}
	}
	jw_close(w, '}');
}

/* source / destination: ip, port, and per side counters of flows. */
static void jw_endpoint(struct jw *w, const char *key,
			const struct log_event *e, int side)
{
	const struct pw_event *ev = e->raw;
	char addr[LOG_ADDR_SIZE];

	log_addr_str(ev, side ? ev->daddr : ev->saddr, addr);
	jw_open(w, key, '{');
	jw_str(w, "ip", addr);
	if (log_has_ports(ev))
		jw_u64(w, "port", side ? ev->dport : ev->sport);
	if (ev->type == PW_EVENT_FLOW_START || ev->type == PW_EVENT_FLOW_END) {
		jw_u64(w, "packets", ev->packets[side]);
		jw_u64(w, "bytes", ev->bytes[side]);
	}
	jw_close(w, '}');
}

static void jw_network(struct jw *w, const struct log_event *e)
{
	const struct pw_event *ev = e->raw;
	bool flow = ev->type == PW_EVENT_FLOW_START ||
		    ev->type == PW_EVENT_FLOW_END;
	char proto[LOG_PROTO_SIZE], cid[LOG_COMMUNITY_ID_SIZE];

	jw_open(w, "network", '{');
	if (log_is_ip(ev)) {
		jw_str(w, "transport", log_transport(ev->proto, proto));
		jw_u64_str(w, "iana_number", ev->proto);
		jw_str(w, "type",
		       ev->family == PW_FAMILY_IPV4 ? "ipv4" : "ipv6");
		if (!log_community_id(ev, 0, cid))
			jw_str(w, "community_id", cid);
	}
	if (flow) {
		jw_u64(w, "bytes", ev->bytes[0] + ev->bytes[1]);
		jw_u64(w, "packets", ev->packets[0] + ev->packets[1]);
	} else {
		jw_u64(w, "bytes", ev->pkt_len);
	}
	jw_close(w, '}');
}

static void jw_observer(struct jw *w, const struct log_event *e)
{
	const struct pw_event *ev = e->raw;
	bool iface = log_has_flow(ev) && (e->ifname || ev->vlan);

	jw_open(w, "observer", '{');
	jw_str(w, "type", "firewall");
	jw_str(w, "vendor", "plumwall");
	jw_str(w, "product", "plumwall");
	jw_str(w, "hostname", e->hostname);
	if (iface) {
		/* TC egress programs see the packet leave. */
		jw_open(w, ev->dir == PW_DIR_EGRESS ? "egress" : "ingress",
			'{');
		if (e->ifname) {
			jw_open(w, "interface", '{');
			jw_str(w, "name", e->ifname);
			jw_close(w, '}');
		}
		if (ev->vlan) {
			jw_open(w, "vlan", '{');
			jw_u64_str(w, "id", ev->vlan);
			jw_close(w, '}');
		}
		jw_close(w, '}');
	}
	jw_close(w, '}');
}

static void jw_plumwall(struct jw *w, const struct log_event *e)
{
	const struct pw_event *ev = e->raw;

	jw_open(w, "plumwall", '{');
	jw_str(w, "tenant", e->tenant);
	if (log_has_flow(ev)) {
		jw_str(w, "src_segment", e->src_segment);
		jw_str(w, "dst_segment", e->dst_segment);
		jw_str(w, "verdict", log_verdict_name(ev->verdict));
	}
	if (ev->type != PW_EVENT_LOST)
		jw_u64(w, "policy_generation", ev->generation);
	if ((ev->type == PW_EVENT_DROP || ev->type == PW_EVENT_AUDIT) &&
	    log_is_ip(ev) && ev->proto == 6)
		jw_tcp_flags(w, ev->tcp_flags);
	if (ev->type == PW_EVENT_FLOW_END)
		jw_str(w, "end_reason", log_end_reason_name(ev->end_reason));
	if (!log_has_flow(ev))
		jw_u64(w, "count", ev->count);
	jw_producer(w, ev->cpu);
	jw_close(w, '}');
}

int log_format_json(const struct log_event *e, struct log_buf *out)
{
	const struct pw_event *ev = e->raw;
	struct jw w = { .b = out };
	size_t start = out->len;
	char ts[LOG_TIME_SIZE];

	if (!ev || !log_msgid(ev->type))
		return -EINVAL;
	if (!jw_room(&w, 1024))
		return w.err;

	jw_open(&w, NULL, '{');
	log_time_rfc3339(e->time_ns, ts);
	jw_str(&w, "@timestamp", ts);
	jw_event(&w, e);
	if (e->rule || (e->tenant && ev->type != PW_EVENT_LOST) ||
	    e->rule_global) {
		jw_open(&w, "rule", '{');
		jw_str(&w, "name", e->rule);
		jw_str(&w, "ruleset", e->rule_global ? "global" : e->tenant);
		jw_close(&w, '}');
	}
	if (log_has_flow(ev)) {
		if (log_is_ip(ev)) {
			jw_endpoint(&w, "source", e, 0);
			jw_endpoint(&w, "destination", e, 1);
		}
		jw_network(&w, e);
		if (log_is_icmp(ev)) {
			jw_open(&w, "icmp", '{');
			jw_u64(&w, "type", ev->icmp_type);
			jw_u64(&w, "code", ev->icmp_code);
			jw_close(&w, '}');
		}
	}
	jw_observer(&w, e);
	jw_plumwall(&w, e);
	jw_close(&w, '}');

	if (w.err) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return w.err;
}
