// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration file: YAML -> validated struct pw_config (config.h).
 *
 * Like the policy loader, every check records a diagnostic pointing at the
 * offending node and the walk goes on, so one run reports every problem;
 * the configuration is handed out only when no error was recorded.
 * Transport-dependent checks of a sink (what 'path', 'address', 'ca_file'
 * ... are allowed or required) are made only when the sink's format and
 * transport are themselves valid, so one mistake gives one error.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <plumwall/arena.h>
#include <plumwall/yaml.h>
#include <plumwall/ycheck.h>

#include <plumwall/config.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct pw_config_private {
	struct pw_arena *arena;
	struct pw_ydoc *doc;
};

struct cfg_loader {
	struct pw_config *cfg;
	struct pw_arena *arena;
	struct pw_diags *diags;
	char *dir; /* of the configuration file, for relative paths; or NULL */
	int err; /* first hard failure (-ENOMEM) */
};

#define cerr(ld, node, ...) pw_error((ld)->diags, &(node)->loc, __VA_ARGS__)

/* ---- names ---------------------------------------------------------------- */

static const char *const cfg_mode_names[] = { "xdp", "tc", "auto", "nft",
					      NULL };
static const char *const cfg_kind_names[] = { "drop",	    "audit", "flow",
					      "suppressed", "lost",  NULL };
static const char *const cfg_format_names[] = { "json", "syslog", "cef", "pcap",
						NULL };
static const char *const cfg_transport_names[] = { "file", "stdout", "udp",
						   "tcp",  "tls",    "unix",
						   NULL };
/* RFC 5424 section 6.2.1, numbered by position. */
static const char *const cfg_facility_names[] = {
	"kern",	  "user",   "mail",   "daemon",	  "auth",   "syslog", "lpr",
	"news",	  "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",
	"alert",  "clock",  "local0", "local1",	  "local2", "local3", "local4",
	"local5", "local6", "local7", NULL
};
static const char *const cfg_severity_names[] = { "emerg", "alert",   "crit",
						  "err",   "warning", "notice",
						  "info",  "debug",   NULL };
static const enum pw_syslog_severity cfg_severity_defaults[] = {
	[PW_LOG_DROP] = PW_SYSLOG_WARNING,
	[PW_LOG_AUDIT] = PW_SYSLOG_WARNING,
	[PW_LOG_FLOW] = PW_SYSLOG_INFO,
	[PW_LOG_SUPPRESSED] = PW_SYSLOG_NOTICE,
	[PW_LOG_LOST] = PW_SYSLOG_WARNING,
};

static const char *cfg_name(const char *const *names, size_t n, int i)
{
	return i >= 0 && (size_t)i < n - 1 ? names[i] : "?";
}

const char *pw_config_mode_name(enum pw_config_mode mode)
{
	return cfg_name(cfg_mode_names, ARRAY_SIZE(cfg_mode_names), mode);
}

const char *pw_log_kind_name(enum pw_log_kind kind)
{
	return cfg_name(cfg_kind_names, ARRAY_SIZE(cfg_kind_names), kind);
}

const char *pw_sink_format_name(enum pw_sink_format format)
{
	return cfg_name(cfg_format_names, ARRAY_SIZE(cfg_format_names), format);
}

const char *pw_sink_transport_name(enum pw_sink_transport transport)
{
	return cfg_name(cfg_transport_names, ARRAY_SIZE(cfg_transport_names),
			transport);
}

const char *pw_syslog_facility_name(int facility)
{
	return cfg_name(cfg_facility_names, ARRAY_SIZE(cfg_facility_names),
			facility);
}

const char *pw_syslog_severity_name(enum pw_syslog_severity severity)
{
	return cfg_name(cfg_severity_names, ARRAY_SIZE(cfg_severity_names),
			severity);
}

/* ---- value checks --------------------------------------------------------- */

/* The key node of @key in @map (for errors about a key being there). */
static const struct pw_ynode *cfg_key(const struct pw_ynode *map,
				      const char *key)
{
	size_t i;

	for (i = 0; i < map->map.count; i++) {
		const struct pw_ynode *k = map->map.pairs[i].key;

		if (!k->scalar.has_nul && !strcmp(k->scalar.str, key))
			return k;
	}
	return NULL;
}

static char *cfg_strdup(struct cfg_loader *ld, const char *s)
{
	char *p = pw_arena_strdup(ld->arena, s);

	if (!p && !ld->err)
		ld->err = -ENOMEM;
	return p;
}

/* A non-empty string, or NULL after an error. */
static const char *cfg_string(struct cfg_loader *ld,
			      const struct pw_ynode *node, const char *what)
{
	const char *s = pw_yexpect_string(ld->diags, node, what);

	if (s && !*s) {
		cerr(ld, node, "%s must not be empty", what);
		return NULL;
	}
	return s;
}

/* A path; relative ones are taken from the configuration file's directory. */
static const char *cfg_path(struct cfg_loader *ld, const struct pw_ynode *node,
			    const char *what)
{
	const char *s = cfg_string(ld, node, what);
	char *p;
	size_t n;

	if (!s)
		return NULL;
	if (s[0] == '/' || !ld->dir)
		return cfg_strdup(ld, s);
	n = strlen(ld->dir) + 1 + strlen(s) + 1;
	p = pw_arena_alloc(ld->arena, n);
	if (!p) {
		ld->err = ld->err ? ld->err : -ENOMEM;
		return NULL;
	}
	snprintf(p, n, "%s%s%s", ld->dir, strcmp(ld->dir, "/") ? "/" : "", s);
	return p;
}

/* A host name (RFC 1123 labels) or an IPv4 or IPv6 address. */
static bool cfg_host_ok(const char *s)
{
	unsigned char addr[16];
	const char *label = s, *p;
	bool numeric = true;
	size_t len = strlen(s);

	if (inet_pton(AF_INET, s, addr) == 1 ||
	    inet_pton(AF_INET6, s, addr) == 1)
		return true;
	if (len == 0 || len > 253)
		return false;
	if (s[len - 1] == '.') /* absolute name "example.com." */
		len--;
	for (p = s; p <= s + len; p++) {
		if (p == s + len || *p == '.') {
			size_t n = p - label;

			if (n == 0 || n > 63 || label[0] == '-' ||
			    label[n - 1] == '-')
				return false;
			numeric = true;
			for (size_t i = 0; i < n; i++)
				if (!isdigit((unsigned char)label[i]))
					numeric = false;
			label = p + 1;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
	}
	/* "10.0.0.256" is a bad address, not a name: the top-level label of
	 * a host name is never all digits. */
	return !numeric;
}

static const char *cfg_host(struct cfg_loader *ld, const struct pw_ynode *node,
			    const char *what)
{
	const char *s = cfg_string(ld, node, what);

	if (!s)
		return NULL;
	if (!cfg_host_ok(s)) {
		cerr(ld, node,
		     "%s must be a host name or an IP address, not '%s'", what,
		     s);
		return NULL;
	}
	return s;
}

#define CFG_SINK_NAME_MAX 64

static bool cfg_sink_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CFG_SINK_NAME_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

/* ---- logging -------------------------------------------------------------- */

static void cfg_load_syslog(struct cfg_loader *ld, const struct pw_ynode *map)
{
	static const char *const keys[] = { "facility", "severity", NULL };
	struct pw_logging *lg = &ld->cfg->logging;
	const struct pw_ynode *node, *sev;
	int v;
	size_t i;

	if (pw_yexpect_kind(ld->diags, map, PW_YNODE_MAP, "'syslog'"))
		return;
	pw_ycheck_keys(ld->diags, map, "syslog settings", keys);

	node = pw_ymap_get(map, "facility");
	if (node &&
	    !pw_yexpect_enum(ld->diags, node, "'facility'", cfg_facility_names,
			     ARRAY_SIZE(cfg_facility_names) - 1, &v))
		lg->facility = v;

	sev = pw_ymap_get(map, "severity");
	if (!sev || pw_yexpect_kind(ld->diags, sev, PW_YNODE_MAP, "'severity'"))
		return;
	pw_ycheck_keys(ld->diags, sev, "syslog severities", cfg_kind_names);
	for (i = 0; i < PW_LOG_KIND_COUNT; i++) {
		char what[64];

		node = pw_ymap_get(sev, cfg_kind_names[i]);
		if (!node)
			continue;
		snprintf(what, sizeof(what), "the severity of %s events",
			 cfg_kind_names[i]);
		if (!pw_yexpect_enum(ld->diags, node, what, cfg_severity_names,
				     ARRAY_SIZE(cfg_severity_names) - 1, &v))
			lg->severity[i] = v;
	}
}

static void cfg_load_kinds(struct cfg_loader *ld, const struct pw_ynode *list,
			   bool pcap, struct pw_sink *sink)
{
	uint32_t seen = 0;
	size_t i;
	int v;

	if (pw_yexpect_list(ld->diags, list, "'kinds'",
			    "omit it to take every kind"))
		return;
	for (i = 0; i < list->seq.count; i++) {
		const struct pw_ynode *item = list->seq.items[i];

		if (pw_yexpect_enum(ld->diags, item, "an event kind",
				    cfg_kind_names, PW_LOG_KIND_COUNT, &v))
			continue;
		if (seen & PW_LOG_KIND_BIT(v)) {
			cerr(ld, item, "kind '%s' is listed twice",
			     cfg_kind_names[v]);
			continue;
		}
		seen |= PW_LOG_KIND_BIT(v);
		if (pcap && !(PW_LOG_KINDS_PCAP & PW_LOG_KIND_BIT(v)))
			cerr(ld, item,
			     "a pcap sink takes only drop and audit events, not '%s'",
			     cfg_kind_names[v]);
	}
	sink->kinds = seen;
}

/* Report @key of @map, when there, as not for this sink. */
static void cfg_not_for(struct cfg_loader *ld, const struct pw_ynode *map,
			const char *key, const char *for_what, const char *but)
{
	const struct pw_ynode *k = cfg_key(map, key);

	if (k)
		cerr(ld, k, "'%s' is only for %s, not '%s'", key, for_what,
		     but);
}

static void cfg_missing(struct cfg_loader *ld, const struct pw_ynode *map,
			const struct pw_sink *sink, const char *key,
			const char *why)
{
	if (sink->name)
		cerr(ld, map, "missing required key '%s' in sink '%s' (%s)",
		     key, sink->name, why);
	else
		cerr(ld, map, "missing required key '%s' in sink (%s)", key,
		     why);
}

/* Sink @i of the list; @names[j] is the name node of each earlier sink
 * with a valid name, for "already used". */
static void cfg_load_sink(struct cfg_loader *ld, const struct pw_ynode *map,
			  struct pw_sink *sink, const struct pw_ynode **names,
			  size_t i)
{
	static const char *const keys[] = {
		"name",	 "format",	 "transport", "kinds",
		"path",	 "address",	 "port",      "ca_file",
		"queue", "rotate_bytes", "snaplen",   NULL
	};
	const struct pw_ynode *node, *fmt_node, *tr_node;
	bool format_ok = false, transport_ok = true, network;
	const char *tr, *fmt;
	char why[64];
	int64_t v;
	size_t j;
	int e;

	sink->transport = PW_SINK_FILE;
	sink->kinds = PW_LOG_KINDS_ALL;
	sink->queue = PW_SINK_QUEUE_DEFAULT;
	sink->loc = map->loc;

	if (pw_yexpect_kind(ld->diags, map, PW_YNODE_MAP, "a sink"))
		return;
	pw_ycheck_keys(ld->diags, map, "sink", keys);

	node = pw_yrequire(ld->diags, map, "name", "sink");
	if (node &&
	    (sink->name = pw_yexpect_string(ld->diags, node, "'name'"))) {
		if (!cfg_sink_name_ok(sink->name)) {
			cerr(ld, node,
			     "sink name '%s' is not valid: use up to %d letters, digits, '.', '_' and '-', starting with a letter or digit",
			     sink->name, CFG_SINK_NAME_MAX);
		} else {
			for (j = 0; j < i; j++)
				if (names[j] &&
				    !strcmp(names[j]->scalar.str, sink->name))
					break;
			if (j < i) {
				char at[256];

				pw_loc_str(&names[j]->loc, at, sizeof(at));
				cerr(ld, node,
				     "sink name '%s' is already used at %s",
				     sink->name, at);
			} else {
				names[i] = node;
			}
		}
	}

	fmt_node = pw_yrequire(ld->diags, map, "format", "sink");
	if (fmt_node &&
	    !pw_yexpect_enum(ld->diags, fmt_node, "'format'", cfg_format_names,
			     ARRAY_SIZE(cfg_format_names) - 1, &e)) {
		sink->format = e;
		format_ok = true;
	}
	if (format_ok && sink->format == PW_SINK_PCAP) {
		sink->kinds = PW_LOG_KINDS_PCAP;
		sink->snaplen = PW_SINK_SNAPLEN_DEFAULT;
	}

	tr_node = pw_ymap_get(map, "transport");
	if (tr_node) {
		transport_ok = !pw_yexpect_enum(
			ld->diags, tr_node, "'transport'", cfg_transport_names,
			ARRAY_SIZE(cfg_transport_names) - 1, &e);
		if (transport_ok)
			sink->transport = e;
	}
	tr = cfg_transport_names[sink->transport];
	fmt = format_ok ? cfg_format_names[sink->format] : "?";
	network = sink->transport == PW_SINK_UDP ||
		  sink->transport == PW_SINK_TCP ||
		  sink->transport == PW_SINK_TLS;

	if (format_ok && transport_ok && sink->format == PW_SINK_PCAP &&
	    sink->transport != PW_SINK_FILE)
		cerr(ld, tr_node,
		     "a pcap sink writes files: 'transport' must be file, not '%s'",
		     tr);

	node = pw_ymap_get(map, "kinds");
	if (node)
		cfg_load_kinds(ld, node,
			       format_ok && sink->format == PW_SINK_PCAP, sink);

	/* path: file and unix */
	node = pw_ymap_get(map, "path");
	if (node)
		sink->path = cfg_path(ld, node, "'path'");
	if (transport_ok) {
		if (sink->transport == PW_SINK_FILE && !node)
			cfg_missing(ld, map, sink, "path",
				    "transport file writes to it");
		else if (sink->transport == PW_SINK_UNIX && !node)
			sink->path = PW_SINK_UNIX_PATH;
		else if (sink->transport != PW_SINK_FILE &&
			 sink->transport != PW_SINK_UNIX)
			cfg_not_for(ld, map, "path", "transports file and unix",
				    tr);
	}
	if (sink->transport != PW_SINK_FILE && sink->transport != PW_SINK_UNIX)
		sink->path = NULL;

	/* address, port: udp, tcp, tls */
	node = pw_ymap_get(map, "address");
	if (node)
		sink->address = cfg_host(ld, node, "'address'");
	snprintf(why, sizeof(why), "transport %s sends to it", tr);
	if (transport_ok && network && !node)
		cfg_missing(ld, map, sink, "address", why);
	node = pw_ymap_get(map, "port");
	if (node && !pw_yexpect_int(ld->diags, node, "'port'", 1, 65535, &v))
		sink->port = v;
	if (transport_ok && network && !node)
		cfg_missing(ld, map, sink, "port", why);
	if (transport_ok && !network) {
		cfg_not_for(ld, map, "address", "transports udp, tcp and tls",
			    tr);
		cfg_not_for(ld, map, "port", "transports udp, tcp and tls", tr);
	}
	if (!network) {
		sink->address = NULL;
		sink->port = 0;
	}

	/* ca_file: tls */
	node = pw_ymap_get(map, "ca_file");
	if (node)
		sink->ca_file = cfg_path(ld, node, "'ca_file'");
	if (transport_ok && sink->transport == PW_SINK_TLS && !node)
		cfg_missing(ld, map, sink, "ca_file",
			    "transport tls verifies the server with it");
	if (transport_ok && sink->transport != PW_SINK_TLS)
		cfg_not_for(ld, map, "ca_file", "transport tls", tr);
	if (sink->transport != PW_SINK_TLS)
		sink->ca_file = NULL;

	node = pw_ymap_get(map, "queue");
	if (node && !pw_yexpect_int(ld->diags, node, "'queue'",
				    PW_SINK_QUEUE_MIN, PW_SINK_QUEUE_MAX, &v))
		sink->queue = v;

	node = pw_ymap_get(map, "rotate_bytes");
	if (node && !pw_yexpect_int(ld->diags, node, "'rotate_bytes'",
				    PW_SINK_ROTATE_MIN, PW_SINK_ROTATE_MAX, &v))
		sink->rotate_bytes = v;
	if (transport_ok && sink->transport != PW_SINK_FILE)
		cfg_not_for(ld, map, "rotate_bytes", "transport file", tr);

	node = pw_ymap_get(map, "snaplen");
	if (node &&
	    !pw_yexpect_int(ld->diags, node, "'snaplen'", PW_SINK_SNAPLEN_MIN,
			    PW_SINK_SNAPLEN_MAX, &v))
		sink->snaplen = v;
	if (format_ok && sink->format != PW_SINK_PCAP) {
		cfg_not_for(ld, map, "snaplen", "format pcap", fmt);
		sink->snaplen = 0;
	}
}

static void cfg_load_logging(struct cfg_loader *ld, const struct pw_ynode *map)
{
	static const char *const keys[] = { "hostname", "syslog", "sinks",
					    NULL };
	struct pw_logging *lg = &ld->cfg->logging;
	const struct pw_ynode *node, *list, **names;
	size_t i;

	if (pw_yexpect_kind(ld->diags, map, PW_YNODE_MAP, "'logging'"))
		return;
	pw_ycheck_keys(ld->diags, map, "logging", keys);

	node = pw_ymap_get(map, "hostname");
	if (node)
		lg->hostname = cfg_host(ld, node, "'hostname'");

	node = pw_ymap_get(map, "syslog");
	if (node)
		cfg_load_syslog(ld, node);

	list = pw_yrequire(ld->diags, map, "sinks", "logging");
	if (!list || pw_yexpect_list(ld->diags, list, "'sinks'",
				     "plumwall-logd needs somewhere to write"))
		return;
	lg->sinks =
		pw_arena_array(ld->arena, list->seq.count, sizeof(*lg->sinks));
	names = calloc(list->seq.count, sizeof(*names));
	if (!lg->sinks || !names) {
		free(names);
		ld->err = -ENOMEM;
		return;
	}
	memset(lg->sinks, 0, list->seq.count * sizeof(*lg->sinks));
	lg->n_sinks = list->seq.count;
	for (i = 0; i < list->seq.count; i++)
		cfg_load_sink(ld, list->seq.items[i], &lg->sinks[i], names, i);
	free(names);
}

/* ---- top level ------------------------------------------------------------ */

static void cfg_build(struct cfg_loader *ld, const struct pw_ydoc *doc)
{
	static const char *const keys[] = {
		"policy",  "mode", "pin_path", "conntrack_sweep_interval",
		"logging", NULL
	};
	const struct pw_ynode *root = pw_ydoc_root(doc), *node;
	struct pw_config *cfg = ld->cfg;
	const char *s;
	int64_t v;
	int e;

	if (!root) {
		pw_error(ld->diags, pw_ydoc_start(doc),
			 "missing required key 'policy' in configuration");
		return;
	}
	if (pw_yexpect_kind(ld->diags, root, PW_YNODE_MAP, "the configuration"))
		return;
	pw_ycheck_keys(ld->diags, root, "configuration", keys);

	node = pw_yrequire(ld->diags, root, "policy", "configuration");
	if (node)
		cfg->policy = cfg_path(ld, node, "'policy'");

	node = pw_ymap_get(root, "mode");
	if (node && !pw_yexpect_enum(ld->diags, node, "'mode'", cfg_mode_names,
				     ARRAY_SIZE(cfg_mode_names) - 1, &e))
		cfg->mode = e;

	node = pw_ymap_get(root, "pin_path");
	if (node && (s = cfg_string(ld, node, "'pin_path'"))) {
		if (s[0] != '/')
			cerr(ld, node,
			     "'pin_path' must be an absolute path, not '%s'",
			     s);
		else
			cfg->pin_path = cfg_strdup(ld, s);
	}

	node = pw_ymap_get(root, "conntrack_sweep_interval");
	if (node &&
	    !pw_yexpect_int(ld->diags, node, "'conntrack_sweep_interval'",
			    PW_CONFIG_SWEEP_MIN, PW_CONFIG_SWEEP_MAX, &v))
		cfg->conntrack_sweep_interval = v;

	node = pw_ymap_get(root, "logging");
	if (node) {
		cfg->has_logging = true;
		cfg_load_logging(ld, node);
	}
}

static void cfg_defaults(struct pw_config *cfg)
{
	size_t i;

	cfg->mode = PW_CONFIG_MODE_AUTO;
	cfg->pin_path = PW_CONFIG_PIN_PATH;
	cfg->conntrack_sweep_interval = PW_CONFIG_SWEEP_DEFAULT;
	cfg->logging.facility = PW_SYSLOG_FACILITY_DEFAULT;
	for (i = 0; i < PW_LOG_KIND_COUNT; i++)
		cfg->logging.severity[i] = cfg_severity_defaults[i];
}

static int cfg_load_common(const char *path, const char *buf, size_t len,
			   struct pw_diags *diags, struct pw_config **out)
{
	struct cfg_loader ld = { .diags = diags };
	size_t errors_before = diags->n_errors;
	struct pw_config *cfg;
	const char *slash;
	int ret;

	*out = NULL;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	cfg->priv = calloc(1, sizeof(*cfg->priv));
	if (!cfg->priv) {
		free(cfg);
		return -ENOMEM;
	}
	ld.cfg = cfg;
	ld.arena = cfg->priv->arena = pw_arena_new();
	if (!ld.arena) {
		ret = -ENOMEM;
		goto out;
	}
	cfg->path = pw_arena_strdup(ld.arena, path);
	slash = strrchr(path, '/');
	if (slash)
		ld.dir = pw_arena_strndup(ld.arena, path,
					  slash == path ? 1 : slash - path);
	if (!cfg->path || (slash && !ld.dir)) {
		ret = -ENOMEM;
		goto out;
	}
	cfg_defaults(cfg);

	if (buf)
		ret = pw_ydoc_load_buffer(path, buf, len, diags,
					  &cfg->priv->doc);
	else
		ret = pw_ydoc_load_file(path, diags, &cfg->priv->doc);
	if (ret)
		goto out;
	cfg_build(&ld, cfg->priv->doc);
	ret = ld.err;
	if (!ret && diags->n_errors > errors_before)
		ret = -EINVAL;
out:
	if (ret) {
		pw_config_free(cfg);
		return ret;
	}
	*out = cfg;
	return 0;
}

int pw_config_load(const char *path, struct pw_diags *diags,
		   struct pw_config **out)
{
	return cfg_load_common(path, NULL, 0, diags, out);
}

int pw_config_load_buffer(const char *name, const char *buf, size_t len,
			  struct pw_diags *diags, struct pw_config **out)
{
	return cfg_load_common(name, buf, len, diags, out);
}

void pw_config_free(struct pw_config *cfg)
{
	if (!cfg)
		return;
	if (cfg->priv) {
		pw_ydoc_free(cfg->priv->doc);
		pw_arena_free(cfg->priv->arena);
		free(cfg->priv);
	}
	free(cfg);
}
