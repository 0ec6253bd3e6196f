// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by the formatters (log_internal.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>

#include "logging/log_internal.h"
#include "policy/eval.h"

size_t log_u64_digits(uint64_t v, char *out)
{
	char tmp[21];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

int log_buf_u64(struct log_buf *b, uint64_t v)
{
	int err = log_buf_reserve(b, 21);

	if (err)
		return err;
	b->len += log_u64_digits(v, b->data + b->len);
	b->data[b->len] = '\0';
	return 0;
}

static void put2(char *p, unsigned int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/*
 * Civil date from days since 1970-01-01 (proleptic Gregorian), computed
 * directly rather than with gmtime_r(): no libc state, and it is on the
 * path of every event.
 */
size_t log_time_rfc3339(uint64_t ns, char out[LOG_TIME_SIZE])
{
	uint64_t secs = ns / 1000000000ULL;
	uint32_t usec = (uint32_t)(ns % 1000000000ULL / 1000);
	uint64_t days = secs / 86400, z, era, doe, yoe, doy, mp, y;
	uint32_t sod = (uint32_t)(secs % 86400), d, m;
	int i;

	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (uint32_t)(doy - (153 * mp + 2) / 5 + 1);
	m = (uint32_t)(mp < 10 ? mp + 3 : mp - 9);
	if (m <= 2)
		y++;
	if (y > 9999) /* beyond RFC 3339's four-digit years */
		y = 9999;
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	put2(out + 5, m);
	out[7] = '-';
	put2(out + 8, d);
	out[10] = 'T';
	put2(out + 11, sod / 3600);
	out[13] = ':';
	put2(out + 14, sod / 60 % 60);
	out[16] = ':';
	put2(out + 17, sod % 60);
	out[19] = '.';
	for (i = 25; i >= 20; i--) {
		out[i] = (char)('0' + usec % 10);
		usec /= 10;
	}
	out[26] = 'Z';
	out[27] = '\0';
	return 27;
}

void log_addr_str(const struct pw_event *ev, const uint8_t *addr,
		  char out[LOG_ADDR_SIZE])
{
	out[0] = '\0';
	if (ev->family == PW_FAMILY_IPV4)
		inet_ntop(AF_INET, addr, out, LOG_ADDR_SIZE);
	else if (ev->family == PW_FAMILY_IPV6)
		inet_ntop(AF_INET6, addr, out, LOG_ADDR_SIZE);
}

const char *log_transport(uint8_t proto, char buf[LOG_PROTO_SIZE])
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "ipv6-icmp";
	default:
		snprintf(buf, LOG_PROTO_SIZE, "%u", proto);
		return buf;
	}
}

/* The names are the evaluator's (policy/eval.c), one table for trace,
 * stats and events; only the word for a value out of range is ours. */
const char *log_verdict_name(uint8_t verdict)
{
	return verdict < PW_VERDICT_COUNT ?
		       policy_verdict_name((enum pw_verdict)verdict) :
		       "unknown";
}

/* events.md event.reason; non-ip as the README's decisions say. */
const char *log_reason_name(uint8_t reason)
{
	return reason < PW_REASON_COUNT ?
		       policy_reason_name((enum pw_reason)reason) :
		       "unknown";
}

const char *log_end_reason_name(uint8_t end_reason)
{
	switch (end_reason) {
	case PW_END_FIN:
		return "fin";
	case PW_END_RST:
		return "rst";
	case PW_END_TIMEOUT:
		return "timeout";
	case PW_END_POLICY_REVOKED:
		return "policy-revoked";
	case PW_END_SHUTDOWN:
		return "shutdown";
	default:
		return "unknown";
	}
}

const char *log_msgid(uint8_t type)
{
	switch (type) {
	case PW_EVENT_DROP:
		return "DROP";
	case PW_EVENT_AUDIT:
		return "AUDIT";
	case PW_EVENT_FLOW_START:
		return "FLOW_START";
	case PW_EVENT_FLOW_END:
		return "FLOW_END";
	case PW_EVENT_SUPPRESSED:
		return "SUPPRESSED";
	case PW_EVENT_LOST:
		return "LOST";
	default:
		return NULL;
	}
}
