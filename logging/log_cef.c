// SPDX-License-Identifier: GPL-2.0
/*
 * CEF (events.md "CEF"):
 *   CEF:0|plumwall|plumwall|VERSION|CLASS|NAME|SEVERITY|EXTENSION
 * CLASS (Device Event Class ID), NAME and SEVERITY per kind are in the
 * README's table (cef_class below).
 */
#include <errno.h>
#include <stdio.h>

#include "logging/log_internal.h"

struct cef_class {
	const char *id;
	const char *name;
	int severity;
};

static struct cef_class cef_class_of(const struct pw_event *ev)
{
	switch (ev->type) {
	case PW_EVENT_DROP:
		if (ev->verdict == PW_VERDICT_REJECT)
			return (struct cef_class){ "REJECT", "Packet rejected",
						   5 };
		return (struct cef_class){ "DROP", "Packet dropped", 5 };
	case PW_EVENT_AUDIT:
		return (struct cef_class){ "AUDIT",
					   "Packet would have been denied", 4 };
	case PW_EVENT_FLOW_START:
		return (struct cef_class){ "FLOW_START", "Flow started", 3 };
	case PW_EVENT_FLOW_END:
		if (ev->end_reason == PW_END_POLICY_REVOKED)
			return (struct cef_class){ "FLOW_REVOKED",
						   "Flow revoked by policy",
						   5 };
		return (struct cef_class){ "FLOW_END", "Flow ended", 3 };
	case PW_EVENT_SUPPRESSED:
		return (struct cef_class){ "SUPPRESSED", "Events suppressed",
					   4 };
	default:
		return (struct cef_class){ "LOST", "Events lost", 7 };
	}
}

/* Header field: '|' and '\' escaped; CR and LF (no escape defined in
 * the header) become spaces. */
static int put_header(struct log_buf *b, const char *s)
{
	size_t n = strlen(s), i;
	int err = log_buf_reserve(b, 2 * n + 1);

	if (err)
		return err;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '|' || c == '\\')
			log_buf_putc(b, '\\');
		log_buf_putc(b, (char)(c == '\n' || c == '\r' ? ' ' : c));
	}
	log_buf_putc(b, '|');
	b->data[b->len] = '\0';
	return 0;
}

/* ` key=value` (the first without the space): '=' and '\' escaped,
 * newlines as \n and \r. Nothing when @val is NULL. */
static int put_ext(struct log_buf *b, const char *key, const char *val)
{
	size_t n, i, klen = strlen(key);
	int err;

	if (!val)
		return 0;
	n = strlen(val);
	err = log_buf_reserve(b, klen + 2 * n + 2);
	if (err)
		return err;
	if (b->data[b->len - 1] != '|')
		log_buf_putc(b, ' ');
	log_buf_put(b, key, klen);
	log_buf_putc(b, '=');
	for (i = 0; i < n; i++) {
		switch (val[i]) {
		case '\\':
			log_buf_put(b, "\\\\", 2);
			break;
		case '=':
			log_buf_put(b, "\\=", 2);
			break;
		case '\n':
			log_buf_put(b, "\\n", 2);
			break;
		case '\r':
			log_buf_put(b, "\\r", 2);
			break;
		default:
			log_buf_putc(b, val[i]);
		}
	}
	b->data[b->len] = '\0';
	return 0;
}

static int put_ext_u64(struct log_buf *b, const char *key, uint64_t v)
{
	char num[24];

	num[log_u64_digits(v, num)] = '\0';
	return put_ext(b, key, num);
}

/* A custom string pair: csNLabel=LABEL csN=VALUE, both or neither. */
static int put_cs(struct log_buf *b, int n, const char *label, const char *val)
{
	char key[16];
	int err;

	if (!val)
		return 0;
	snprintf(key, sizeof(key), "cs%dLabel", n);
	err = put_ext(b, key, label);
	snprintf(key, sizeof(key), "cs%d", n);
	return err ?: put_ext(b, key, val);
}

/* CEF's proto is the upper-case protocol name ("TCP") or the number. */
static const char *cef_proto(uint8_t proto, char buf[LOG_PROTO_SIZE])
{
	switch (proto) {
	case 1:
		return "ICMP";
	case 6:
		return "TCP";
	case 17:
		return "UDP";
	case 58:
		return "IPV6-ICMP";
	default:
		return log_transport(proto, buf);
	}
}

static int put_extension(const struct log_event *e, struct log_buf *b)
{
	const struct pw_event *ev = e->raw;
	bool flow = ev->type == PW_EVENT_FLOW_START ||
		    ev->type == PW_EVENT_FLOW_END;
	char addr[LOG_ADDR_SIZE], proto[LOG_PROTO_SIZE];
	int err;

	err = put_ext_u64(b, "rt", e->time_ns / 1000000);
	if (!err && log_has_flow(ev) && log_is_ip(ev)) {
		log_addr_str(ev, ev->saddr, addr);
		err = put_ext(b, "src", addr);
		log_addr_str(ev, ev->daddr, addr);
		if (!err)
			err = put_ext(b, "dst", addr);
		if (!err && log_has_ports(ev))
			err = put_ext_u64(b, "spt", ev->sport);
		if (!err && log_has_ports(ev))
			err = put_ext_u64(b, "dpt", ev->dport);
		if (!err)
			err = put_ext(b, "proto", cef_proto(ev->proto, proto));
	}
	if (!err && log_has_flow(ev))
		err = put_ext(b, "act", log_verdict_name(ev->verdict));
	if (!err && ev->type != PW_EVENT_LOST)
		err = put_ext(b, "reason", log_reason_name(ev->reason));
	if (!err && log_has_flow(ev))
		err = put_ext(b,
			      ev->dir == PW_DIR_EGRESS ?
				      "deviceOutboundInterface" :
				      "deviceInboundInterface",
			      e->ifname);
	if (!err)
		err = put_ext(b, "dvchost", e->hostname);
	if (!err)
		err = put_cs(b, 1, "tenant", e->tenant);
	if (!err)
		err = put_cs(b, 2, "rule", e->rule);
	if (!err && log_has_flow(ev))
		err = put_cs(b, 3, "srcSegment", e->src_segment);
	if (!err && log_has_flow(ev))
		err = put_cs(b, 4, "dstSegment", e->dst_segment);
	if (!err && ev->type == PW_EVENT_FLOW_END)
		err = put_cs(b, 5, "endReason",
			     log_end_reason_name(ev->end_reason));
	if (!err && flow) {
		/* in: initiator to responder (CEF: source to destination) */
		err = put_ext_u64(b, "in", ev->bytes[0]);
		if (!err)
			err = put_ext_u64(b, "out", ev->bytes[1]);
		if (!err)
			err = put_ext_u64(b, "start",
					  e->start_time_ns / 1000000);
		if (!err && ev->type == PW_EVENT_FLOW_END)
			err = put_ext_u64(b, "end", e->time_ns / 1000000);
	}
	if (!err && !log_has_flow(ev))
		err = put_ext_u64(b, "cnt", ev->count);
	if (!err)
		err = put_ext(b, "cn1Label", "sequence");
	if (!err)
		err = put_ext_u64(b, "cn1", ev->seq);
	return err;
}

int log_format_cef(const struct log_event *e, struct log_buf *out)
{
	const struct pw_event *ev = e->raw;
	size_t start = out->len;
	struct cef_class c;
	int err;

	if (!ev || !log_msgid(ev->type))
		return -EINVAL;
	c = cef_class_of(ev);
	err = log_buf_str(out, "CEF:0|plumwall|plumwall|");
	if (!err)
		err = put_header(out, e->version ? e->version : "unknown");
	if (!err)
		err = put_header(out, c.id);
	if (!err)
		err = put_header(out, c.name);
	if (!err)
		err = log_buf_printf(out, "%d|", c.severity);
	if (!err)
		err = put_extension(e, out);
	if (err) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return err;
}
