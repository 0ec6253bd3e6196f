// SPDX-License-Identifier: GPL-2.0
/*
 * RFC 5424 messages (events.md "Syslog"):
 *   <PRI>1 TIMESTAMP HOSTNAME plumwall PROCID MSGID [plumwall@32473 ...] MSG
 * MSG is the JSON line (or the CEF line) without a BOM: RFC 5424 allows
 * MSG-ANY, and receivers that hand MSG to a JSON parser choke on a BOM.
 * No transport framing: the sinks add it.
 */
#include <errno.h>

#include "logging/log_internal.h"

/* Printable US-ASCII (RFC 5424 PRINTUSASCII), at most @max characters;
 * other characters become '_', and an empty or absent field is "-". */
static int put_header_field(struct log_buf *b, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0, i;
	int err;

	if (!n)
		return log_buf_append(b, "- ", 2);
	if (n > max)
		n = max;
	err = log_buf_reserve(b, n + 1);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		log_buf_putc(b, (char)(c >= 33 && c <= 126 ? c : '_'));
	}
	log_buf_putc(b, ' ');
	b->data[b->len] = '\0';
	return 0;
}

/*
 * ` NAME="VALUE"` with PARAM-VALUE escaping: '"', '\' and ']' get a
 * backslash (RFC 5424 6.3.3). Control characters, which would break
 * line-based receivers and have no escape there, become '?'.
 */
static int put_param(struct log_buf *b, const char *name, const char *val)
{
	size_t n, i;
	int err;

	if (!val)
		return 0;
	n = strlen(val);
	err = log_buf_reserve(b, strlen(name) + 2 * n + 4);
	if (err)
		return err;
	log_buf_putc(b, ' ');
	log_buf_put(b, name, strlen(name));
	log_buf_put(b, "=\"", 2);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)val[i];

		if (c == '"' || c == '\\' || c == ']')
			log_buf_putc(b, '\\');
		log_buf_putc(b, (char)(c < 0x20 || c == 0x7f ? '?' : c));
	}
	log_buf_putc(b, '"');
	b->data[b->len] = '\0';
	return 0;
}

static int put_param_u64(struct log_buf *b, const char *name, uint64_t v)
{
	char num[24];

	num[log_u64_digits(v, num)] = '\0';
	return put_param(b, name, num);
}

static int put_sd(const struct log_event *e, struct log_buf *b)
{
	const struct pw_event *ev = e->raw;
	char addr[LOG_ADDR_SIZE], proto[LOG_PROTO_SIZE];
	int err;

	err = log_buf_str(b, "[plumwall@32473");
	if (!err)
		err = put_param(b, "tenant", e->tenant);
	if (!err)
		err = put_param(b, "rule", e->rule);
	if (!err && log_has_flow(ev))
		err = put_param(b, "verdict", log_verdict_name(ev->verdict));
	if (!err && log_has_flow(ev) && log_is_ip(ev)) {
		log_addr_str(ev, ev->saddr, addr);
		err = put_param(b, "src", addr);
		log_addr_str(ev, ev->daddr, addr);
		if (!err)
			err = put_param(b, "dst", addr);
		if (!err)
			err = put_param(b, "proto",
					log_transport(ev->proto, proto));
		if (!err && log_has_ports(ev))
			err = put_param_u64(b, "spt", ev->sport);
		if (!err && log_has_ports(ev))
			err = put_param_u64(b, "dpt", ev->dport);
	}
	if (!err && !log_has_flow(ev))
		err = put_param_u64(b, "count", ev->count);
	if (!err)
		err = log_buf_append(b, "] ", 2);
	return err;
}

int log_format_syslog(const struct log_event *e, int facility, int severity,
		      const char *procid, enum log_syslog_body body,
		      struct log_buf *out)
{
	const struct pw_event *ev = e->raw;
	size_t start = out->len;
	char ts[LOG_TIME_SIZE];
	const char *msgid;
	int err;

	if (!ev || facility < 0 || facility > 23 || severity < 0 ||
	    severity > 7)
		return -EINVAL;
	msgid = log_msgid(ev->type);
	if (!msgid)
		return -EINVAL;
	if (body != LOG_SYSLOG_BODY_JSON && body != LOG_SYSLOG_BODY_CEF)
		return -EINVAL;

	log_time_rfc3339(e->time_ns, ts);
	err = log_buf_printf(out, "<%d>1 %s ", facility * 8 + severity, ts);
	if (!err)
		err = put_header_field(out, e->hostname, 255);
	if (!err)
		err = log_buf_str(out, "plumwall ");
	if (!err)
		err = put_header_field(out, procid, 128);
	if (!err)
		err = put_header_field(out, msgid, 32);
	if (!err)
		err = put_sd(e, out);
	if (!err)
		err = body == LOG_SYSLOG_BODY_JSON ? log_format_json(e, out) :
						     log_format_cef(e, out);
	if (err) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return err;
}
