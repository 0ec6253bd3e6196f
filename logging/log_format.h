/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log_format: one datapath event (struct pw_event, include/plumwall/shared.h)
 * with its names resolved, rendered in the formats of events.md: ECS JSON
 * (canonical), RFC 5424 syslog, CEF, and the Community ID flow hash.
 *
 * Pure functions of their inputs (no clock, no host name lookup, no I/O),
 * so the unit tests compare exact strings. The daemon (logging/main.c)
 * decodes, resolves names for the event's generation, converts the
 * datapath clock to wall-clock time and fills struct log_event.
 *
 * Functions return 0 or a negative errno (-ENOMEM, -EINVAL).
 */
#ifndef PLUMWALL_LOG_FORMAT_H
#define PLUMWALL_LOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h> /* shared.h needs it first */
#include <plumwall/shared.h>

/* A growable byte buffer; zero-initialised is empty. */
struct log_buf {
	char *data; /* NUL-terminated when len > 0 */
	size_t len;
	size_t cap;
};

int log_buf_append(struct log_buf *b, const void *data, size_t len);
int log_buf_printf(struct log_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_buf_reset(struct log_buf *b); /* len = 0, memory kept */
void log_buf_free(struct log_buf *b);

/*
 * One event ready for formatting. Names are NULL when unknown or absent:
 * tenant NULL for unmatched/malformed frames no tenant owns, rule NULL
 * when no rule decided (rule.name absent), segments NULL when none.
 * For PW_EVENT_LOST records that logd produces itself (a sink queue was
 * full) raw->count holds the number and raw->cpu is LOG_PRODUCER_LOGD.
 */
#define LOG_PRODUCER_LOGD 0xffff
/* nft mode's events (logd_nflog.c): raw->seq is the nflog group's
 * sequence (NFULA_SEQ). */
#define LOG_PRODUCER_NFLOG 0xfffe

struct log_event {
	const struct pw_event *raw;
	uint64_t time_ns; /* wall clock of raw->ts_ns, ns since the epoch */
	uint64_t start_time_ns; /* flow events: wall clock of raw->start_ns */
	const char *hostname; /* observer.hostname, syslog HOSTNAME, dvchost */
	const char *ifname; /* ingress interface name; NULL: unknown */
	const char *tenant;
	const char *rule;
	bool rule_global; /* rule.ruleset is "global", not the tenant */
	const char *src_segment;
	const char *dst_segment;
	const char *version; /* plumwall version, CEF header */
};

/* "1:" + base64 of the SHA-1 (28 characters) + NUL. */
#define LOG_COMMUNITY_ID_SIZE 31

/*
 * Community ID v1, seed 0, of the event's flow (addresses, protocol,
 * ports or ICMP type/code as the specification maps them). -EINVAL for
 * events without a flow (suppressed, lost).
 */
int log_community_id(const struct pw_event *ev, uint16_t seed,
		     char out[LOG_COMMUNITY_ID_SIZE]);

/* ECS JSON, one line without the trailing newline, appended to @out. */
int log_format_json(const struct log_event *e, struct log_buf *out);

/* CEF line without the trailing newline, appended to @out. */
int log_format_cef(const struct log_event *e, struct log_buf *out);

/* What a syslog message carries as MSG. */
enum log_syslog_body {
	LOG_SYSLOG_BODY_JSON, /* format: syslog (events.md: MSG the JSON line) */
	LOG_SYSLOG_BODY_CEF, /* format: cef over a syslog transport */
};

/*
 * RFC 5424 message (no transport framing, no trailing newline), appended
 * to @out: <PRI>1 TIMESTAMP HOSTNAME plumwall PROCID MSGID [plumwall@32473
 * ...] MSG. @facility 0..23, @severity 0..7 (the caller picks it per kind
 * from the configuration); @procid NULL prints "-".
 */
int log_format_syslog(const struct log_event *e, int facility, int severity,
		      const char *procid, enum log_syslog_body body,
		      struct log_buf *out);

/* MSGID of an event type: DROP, AUDIT, FLOW_START, FLOW_END, SUPPRESSED,
 * LOST; NULL for an unknown type. */
const char *log_msgid(uint8_t type);

#endif /* PLUMWALL_LOG_FORMAT_H */
