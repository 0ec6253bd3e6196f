/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The configuration file of plumwalld and plumwall-logd
 * (/etc/plumwall/plumwall.yaml, see etc/plumwall.yaml for a commented
 * example).
 *
 *   policy: /etc/plumwall/policies/three-tier.yaml   # required
 *   mode: auto                     # xdp | tc | auto
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
#ifndef PLUMWALL_FW_CONFIG_H
#define PLUMWALL_FW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <plumwall/diag.h>

#define FW_CONFIG_PATH "/etc/plumwall/plumwall.yaml"
#define FW_CONFIG_PIN_PATH "/sys/fs/bpf/plumwall"

#define FW_CONFIG_SWEEP_DEFAULT 10 /* seconds */
#define FW_CONFIG_SWEEP_MIN 1
#define FW_CONFIG_SWEEP_MAX 3600

#define FW_SINK_QUEUE_DEFAULT 4096 /* events */
#define FW_SINK_QUEUE_MIN 1
#define FW_SINK_QUEUE_MAX 1000000
#define FW_SINK_SNAPLEN_DEFAULT 128 /* bytes */
#define FW_SINK_SNAPLEN_MIN 1
#define FW_SINK_SNAPLEN_MAX 65535
#define FW_SINK_ROTATE_MIN 4096ULL /* bytes */
#define FW_SINK_ROTATE_MAX (1ULL << 40) /* 1 TiB */
#define FW_SINK_UNIX_PATH "/dev/log"

#define FW_SYSLOG_FACILITY_DEFAULT 20 /* local4 */

enum fw_config_mode {
	FW_CONFIG_MODE_XDP,
	FW_CONFIG_MODE_TC,
	FW_CONFIG_MODE_AUTO,
};

/* Event kinds (events.md), as bits of fw_sink.kinds. */
enum fw_log_kind {
	FW_LOG_DROP,
	FW_LOG_AUDIT,
	FW_LOG_FLOW,
	FW_LOG_SUPPRESSED,
	FW_LOG_LOST,
	FW_LOG_KIND_COUNT,
};

#define FW_LOG_KIND_BIT(kind) (1u << (kind))
#define FW_LOG_KINDS_ALL ((1u << FW_LOG_KIND_COUNT) - 1)
/* A pcap sink records packets: only drop and audit events carry one. */
#define FW_LOG_KINDS_PCAP \
	(FW_LOG_KIND_BIT(FW_LOG_DROP) | FW_LOG_KIND_BIT(FW_LOG_AUDIT))

enum fw_sink_format {
	FW_SINK_JSON,
	FW_SINK_SYSLOG,
	FW_SINK_CEF,
	FW_SINK_PCAP,
};

enum fw_sink_transport {
	FW_SINK_FILE,
	FW_SINK_STDOUT,
	FW_SINK_UDP,
	FW_SINK_TCP,
	FW_SINK_TLS,
	FW_SINK_UNIX,
};

/* RFC 5424 severities, numbered as on the wire. */
enum fw_syslog_severity {
	FW_SYSLOG_EMERG,
	FW_SYSLOG_ALERT,
	FW_SYSLOG_CRIT,
	FW_SYSLOG_ERR,
	FW_SYSLOG_WARNING,
	FW_SYSLOG_NOTICE,
	FW_SYSLOG_INFO,
	FW_SYSLOG_DEBUG,
};

struct fw_sink {
	const char *name;
	enum fw_sink_format format;
	enum fw_sink_transport transport; /* default file */
	uint32_t kinds; /* FW_LOG_KIND_BIT()s; default all (pcap: drop, audit) */
	const char *path; /* file, unix (default /dev/log); else NULL */
	const char *address; /* udp, tcp, tls: host name or IP; else NULL */
	uint16_t port; /* udp, tcp, tls; else 0 */
	const char *ca_file; /* tls; else NULL */
	uint32_t queue; /* events */
	uint64_t rotate_bytes; /* file; 0: never rotate */
	uint32_t snaplen; /* pcap; else 0 */
	struct pw_loc loc; /* of the sink's mapping */
};

struct fw_logging {
	const char *hostname; /* NULL: the system's host name */
	int facility; /* RFC 5424 facility number, 0..23 */
	enum fw_syslog_severity severity[FW_LOG_KIND_COUNT];
	struct fw_sink *sinks;
	size_t n_sinks; /* 0 when the file has no 'logging' section */
};

struct fw_config {
	const char *path; /* the configuration file */
	const char *policy; /* policy file or directory */
	enum fw_config_mode mode;
	const char *pin_path;
	uint32_t conntrack_sweep_interval; /* seconds */
	bool has_logging; /* a 'logging' section was given */
	struct fw_logging logging;
	struct fw_config_private *priv;
};

/*
 * Read the configuration file @path. Problems go to @diags. Returns 0 and
 * sets *@out (free with fw_config_free()) when no error was found; a
 * negative errno otherwise (-EINVAL: the file is wrong, see @diags; -ENOENT
 * and the like: it cannot be read), *@out NULL. Every default is filled in.
 */
int fw_config_load(const char *path, struct pw_diags *diags,
		   struct fw_config **out);
/* Same, from memory; @name is used in locations and to resolve relative
 * paths. */
int fw_config_load_buffer(const char *name, const char *buf, size_t len,
			  struct pw_diags *diags, struct fw_config **out);
void fw_config_free(struct fw_config *cfg);

/* Names as written in the file ("auto", "drop", "json", "udp", "local4",
 * "warning"); "?" when out of range. */
const char *fw_config_mode_name(enum fw_config_mode mode);
const char *fw_log_kind_name(enum fw_log_kind kind);
const char *fw_sink_format_name(enum fw_sink_format format);
const char *fw_sink_transport_name(enum fw_sink_transport transport);
const char *fw_syslog_facility_name(int facility);
const char *fw_syslog_severity_name(enum fw_syslog_severity severity);

#endif /* PLUMWALL_FW_CONFIG_H */
