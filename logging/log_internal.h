/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the formatters share (logging/log_*.c); not part of the
 * interface of log_format.h.
 */
#ifndef PLUMWALL_LOG_INTERNAL_H
#define PLUMWALL_LOG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "logging/log_format.h"

/* Make room for @extra bytes plus the NUL; 0 or -ENOMEM. */
int log_buf_reserve(struct log_buf *b, size_t extra);

/* Fast appends for the formatters: the caller reserved the room. */
static inline void log_buf_put(struct log_buf *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void log_buf_putc(struct log_buf *b, char c)
{
	b->data[b->len++] = c;
}

/* Append a NUL-terminated string, with room checks. */
static inline int log_buf_str(struct log_buf *b, const char *s)
{
	return log_buf_append(b, s, strlen(s));
}

/* Decimal digits of @v into @out (at least 21 bytes), no NUL; length. */
size_t log_u64_digits(uint64_t v, char *out);
int log_buf_u64(struct log_buf *b, uint64_t v);

/* "2026-11-24T10:00:00.123456Z" (RFC 3339, UTC, microseconds, truncated);
 * @out holds at least LOG_TIME_SIZE bytes; returns the length. */
#define LOG_TIME_SIZE 32
size_t log_time_rfc3339(uint64_t ns, char out[LOG_TIME_SIZE]);

/* Address of the event's family as text ("" when the family is neither
 * IPv4 nor IPv6); @out holds 46 bytes. */
#define LOG_ADDR_SIZE 46
void log_addr_str(const struct pw_event *ev, const uint8_t *addr,
		  char out[LOG_ADDR_SIZE]);

/* Whether the event is about an IP packet or flow (family 4 or 6). */
static inline bool log_is_ip(const struct pw_event *ev)
{
	return ev->family == PW_FAMILY_IPV4 || ev->family == PW_FAMILY_IPV6;
}

/* Whether the event carries ports (TCP, UDP). */
static inline bool log_has_ports(const struct pw_event *ev)
{
	return log_is_ip(ev) && (ev->proto == 6 || ev->proto == 17);
}

static inline bool log_is_icmp(const struct pw_event *ev)
{
	return (ev->family == PW_FAMILY_IPV4 && ev->proto == 1) ||
	       (ev->family == PW_FAMILY_IPV6 && ev->proto == 58);
}

/* network.transport: "tcp", "udp", "icmp", "ipv6-icmp" or the number. */
#define LOG_PROTO_SIZE 12
const char *log_transport(uint8_t proto, char buf[LOG_PROTO_SIZE]);

/* Names of codes; "unknown" for values outside the enums. */
const char *log_verdict_name(uint8_t verdict);
const char *log_reason_name(uint8_t reason);
const char *log_end_reason_name(uint8_t end_reason);

/* Whether the event reports traffic that was not let through. */
static inline bool log_is_blocked(const struct pw_event *ev)
{
	return ev->verdict == PW_VERDICT_DENY ||
	       ev->verdict == PW_VERDICT_REJECT;
}

/* Whether the event describes a packet or flow (not suppressed/lost). */
static inline bool log_has_flow(const struct pw_event *ev)
{
	return ev->type >= PW_EVENT_DROP && ev->type <= PW_EVENT_FLOW_END;
}

#endif /* PLUMWALL_LOG_INTERNAL_H */
