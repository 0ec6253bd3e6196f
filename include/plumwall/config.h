/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The configuration file of plumwalld and plumwall-logd
 * (/etc/plumwall/plumwall.yaml, see etc/plumwall.yaml for a commented
 * example).
 *
 *   policy: /etc/plumwall/policies/three-tier.yaml   # required
 *   mode: auto                     # xdp | tc | auto | nft
 *   pin_path: /sys/fs/bpf/plumwall # absolute
 *   conntrack_sweep_interval: 10   # seconds, 1..3600
 *   logging:                       # optional; plumwall-logd needs it
 *     hostname: fw1                # optional override of gethostname()
 *     syslog:
 *       facility: local4           # any RFC 5424 facility name
 *       severity: {drop: warning, audit: warning, flow: info,
 *                  suppressed: notice, lost: warning}
 *     sinks:                       # non-empty
 *       - name: events             # unique
 *         format: json             # json | syslog | cef | pcap
 *         transport: file          # file | stdout | udp | tcp | tls | unix
 *         kinds: [drop, audit, flow, suppressed, lost]
 *         path: /var/log/plumwall/events.json
 *         ...
 *
 * The loader works like the policy loader: every problem is reported as
 * FILE:LINE:COLUMN: error: MESSAGE pointing at the offending node, all of
 * them in one run, and unknown keys are errors. Relative paths (policy,
 * sink path, ca_file) are taken relative to the directory of the
 * configuration file.
 */
#ifndef PLUMWALL_CONFIG_H
#define PLUMWALL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <plumwall/diag.h>

#define PW_CONFIG_PATH "/etc/plumwall/plumwall.yaml"
#define PW_CONFIG_PIN_PATH "/sys/fs/bpf/plumwall"

#define PW_CONFIG_SWEEP_DEFAULT 10 /* seconds */
#define PW_CONFIG_SWEEP_MIN 1
#define PW_CONFIG_SWEEP_MAX 3600

#define PW_SINK_QUEUE_DEFAULT 4096 /* events */
#define PW_SINK_QUEUE_MIN 1
#define PW_SINK_QUEUE_MAX 1000000
#define PW_SINK_SNAPLEN_DEFAULT 128 /* bytes */
#define PW_SINK_SNAPLEN_MIN 1
#define PW_SINK_SNAPLEN_MAX 65535
#define PW_SINK_ROTATE_MIN 4096ULL /* bytes */
#define PW_SINK_ROTATE_MAX (1ULL << 40) /* 1 TiB */
#define PW_SINK_UNIX_PATH "/dev/log"

#define PW_SYSLOG_FACILITY_DEFAULT 20 /* local4 */

enum pw_config_mode {
	PW_CONFIG_MODE_XDP,
	PW_CONFIG_MODE_TC,
	PW_CONFIG_MODE_AUTO,
	PW_CONFIG_MODE_NFT, /* no BPF: the nftables table (apply --mode nft) */
};

/* Event kinds (events.md), as bits of pw_sink.kinds. */
enum pw_log_kind {
	PW_LOG_DROP,
	PW_LOG_AUDIT,
	PW_LOG_FLOW,
	PW_LOG_SUPPRESSED,
	PW_LOG_LOST,
	PW_LOG_KIND_COUNT,
};

#define PW_LOG_KIND_BIT(kind) (1u << (kind))
#define PW_LOG_KINDS_ALL ((1u << PW_LOG_KIND_COUNT) - 1)
/* A pcap sink records packets: only drop and audit events carry one. */
#define PW_LOG_KINDS_PCAP \
	(PW_LOG_KIND_BIT(PW_LOG_DROP) | PW_LOG_KIND_BIT(PW_LOG_AUDIT))

enum pw_sink_format {
	PW_SINK_JSON,
	PW_SINK_SYSLOG,
	PW_SINK_CEF,
	PW_SINK_PCAP,
};

enum pw_sink_transport {
	PW_SINK_FILE,
	PW_SINK_STDOUT,
	PW_SINK_UDP,
	PW_SINK_TCP,
	PW_SINK_TLS,
	PW_SINK_UNIX,
};

/* RFC 5424 severities, numbered as on the wire. */
enum pw_syslog_severity {
	PW_SYSLOG_EMERG,
	PW_SYSLOG_ALERT,
	PW_SYSLOG_CRIT,
	PW_SYSLOG_ERR,
	PW_SYSLOG_WARNING,
	PW_SYSLOG_NOTICE,
	PW_SYSLOG_INFO,
	PW_SYSLOG_DEBUG,
};

struct pw_sink {
	const char *name;
	enum pw_sink_format format;
	enum pw_sink_transport transport; /* default file */
	uint32_t kinds; /* PW_LOG_KIND_BIT()s; default all (pcap: drop, audit) */
	const char *path; /* file, unix (default /dev/log); else NULL */
	const char *address; /* udp, tcp, tls: host name or IP; else NULL */
	uint16_t port; /* udp, tcp, tls; else 0 */
	const char *ca_file; /* tls; else NULL */
	uint32_t queue; /* events */
	uint64_t rotate_bytes; /* file; 0: never rotate */
	uint32_t snaplen; /* pcap; else 0 */
	struct pw_loc loc; /* of the sink's mapping */
};

struct pw_logging {
	const char *hostname; /* NULL: the system's host name */
	int facility; /* RFC 5424 facility number, 0..23 */
	enum pw_syslog_severity severity[PW_LOG_KIND_COUNT];
	struct pw_sink *sinks;
	size_t n_sinks; /* 0 when the file has no 'logging' section */
};

struct pw_config {
	const char *path; /* the configuration file */
	const char *policy; /* policy file or directory */
	enum pw_config_mode mode;
	const char *pin_path;
	uint32_t conntrack_sweep_interval; /* seconds */
	bool has_logging; /* a 'logging' section was given */
	struct pw_logging logging;
	struct pw_config_private *priv;
};

/*
 * Read the configuration file @path. Problems go to @diags. Returns 0 and
 * sets *@out (free with pw_config_free()) when no error was found; a
 * negative errno otherwise (-EINVAL: the file is wrong, see @diags; -ENOENT
 * and the like: it cannot be read), *@out NULL. Every default is filled in.
 */
int pw_config_load(const char *path, struct pw_diags *diags,
		   struct pw_config **out);
/* Same, from memory; @name is used in locations and to resolve relative
 * paths. */
int pw_config_load_buffer(const char *name, const char *buf, size_t len,
			  struct pw_diags *diags, struct pw_config **out);
void pw_config_free(struct pw_config *cfg);

/* Names as written in the file ("auto", "drop", "json", "udp", "local4",
 * "warning"); "?" when out of range. */
const char *pw_config_mode_name(enum pw_config_mode mode);
const char *pw_log_kind_name(enum pw_log_kind kind);
const char *pw_sink_format_name(enum pw_sink_format format);
const char *pw_sink_transport_name(enum pw_sink_transport transport);
const char *pw_syslog_facility_name(int facility);
const char *pw_syslog_severity_name(enum pw_syslog_severity severity);

#endif /* PLUMWALL_CONFIG_H */
