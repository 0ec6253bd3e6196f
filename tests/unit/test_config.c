// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the configuration file loader, fw/config.c (config.h).
 *
 * The bulk is a table of malformed configuration files, each with the exact
 * diagnostics the loader must print, sorted, all of them. Then: defaults
 * are filled in, every key is read, relative paths follow the file, and the
 * shipped etc/plumwall.yaml ($PLUMWALL_ROOT, default ".") loads cleanly.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plumwall/config.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_EXPECT 12

struct bad_config {
	const char *name;
	const char *yaml;
	/* Sorted diagnostics as printed, NULL-terminated. */
	const char *expect[MAX_EXPECT];
};

static char *diags_text(struct pw_diags *diags)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	pw_diags_sort(diags);
	pw_diags_print(diags, f);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* Load @yaml as @name; it must load without any diagnostic. */
static struct pw_config *load_ok_named(const char *name, const char *yaml)
{
	struct pw_config *cfg = NULL;
	struct pw_diags diags;
	char *text;
	int ret;

	pw_diags_init(&diags);
	ret = pw_config_load_buffer(name, yaml, strlen(yaml), &diags, &cfg);
	text = diags_text(&diags);
	ck_assert_msg(ret == 0 && diags.count == 0,
		      "expected a clean load, got %d:\n%s", ret, text);
	ck_assert_ptr_nonnull(cfg);
	free(text);
	pw_diags_free(&diags);
	return cfg;
}

static struct pw_config *load_ok(const char *yaml)
{
	return load_ok_named("test.yaml", yaml);
}

/* ---- malformed configurations --------------------------------------------- */

#define P "policy: p.yaml\n"
#define LOG "logging:\n  sinks:\n"

static const struct bad_config bad_configs[] = {
	/* top level */
	{
		.name = "empty file",
		.yaml = "",
		.expect = {
			"test.yaml:1:1: error: missing required key 'policy' in configuration",
		},
	},
	{
		.name = "not a mapping",
		.yaml = "- policy\n",
		.expect = {
			"test.yaml:1:1: error: the configuration must be a mapping, not a list",
		},
	},
	{
		.name = "missing policy",
		.yaml = "mode: xdp\n",
		.expect = {
			"test.yaml:1:1: error: missing required key 'policy' in configuration",
		},
	},
	{
		.name = "unknown key with hint",
		.yaml = P "pinpath: /sys/fs/bpf/x\n",
		.expect = {
			"test.yaml:2:1: error: unknown key 'pinpath' in configuration (did you mean 'pin_path'?)",
		},
	},
	{
		.name = "unknown key without hint",
		.yaml = P "colour: blue\n",
		.expect = {
			"test.yaml:2:1: error: unknown key 'colour' in configuration",
		},
	},
	{
		.name = "policy not a string",
		.yaml = "policy: 5\n",
		.expect = {
			"test.yaml:1:9: error: 'policy' must be a string, not an integer '5'",
		},
	},
	{
		.name = "policy empty",
		.yaml = "policy: ''\n",
		.expect = {
			"test.yaml:1:9: error: 'policy' must not be empty",
		},
	},
	{
		.name = "bad mode",
		.yaml = P "mode: generic\n",
		.expect = {
			"test.yaml:2:7: error: 'mode' must be xdp, tc or auto, not 'generic'",
		},
	},
	{
		.name = "mode not a string",
		.yaml = P "mode: [xdp]\n",
		.expect = {
			"test.yaml:2:7: error: 'mode' must be xdp, tc or auto, not a list",
		},
	},
	{
		.name = "relative pin_path",
		.yaml = P "pin_path: bpf/plumwall\n",
		.expect = {
			"test.yaml:2:11: error: 'pin_path' must be an absolute path, not 'bpf/plumwall'",
		},
	},
	{
		.name = "sweep interval zero",
		.yaml = P "conntrack_sweep_interval: 0\n",
		.expect = {
			"test.yaml:2:27: error: 'conntrack_sweep_interval' must be from 1 to 3600, not 0",
		},
	},
	{
		.name = "sweep interval as a string",
		.yaml = P "conntrack_sweep_interval: '10'\n",
		.expect = {
			"test.yaml:2:27: error: 'conntrack_sweep_interval' must be an integer from 1 to 3600, not a string '10'",
		},
	},
	{
		.name = "syntax error",
		.yaml = P "mode: [xdp\n",
		.expect = {
			"test.yaml:3:1: error: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence started at line 2, column 7",
		},
	},
	/* logging */
	{
		.name = "logging not a mapping",
		.yaml = P "logging: yes\n",
		.expect = {
			"test.yaml:2:10: error: 'logging' must be a mapping, not a string 'yes'",
		},
	},
	{
		.name = "logging without sinks",
		.yaml = P "logging:\n  hostname: fw1\n",
		.expect = {
			"test.yaml:3:3: error: missing required key 'sinks' in logging",
		},
	},
	{
		.name = "empty sinks",
		.yaml = P "logging:\n  sinks: []\n",
		.expect = {
			"test.yaml:3:10: error: 'sinks' must not be empty: plumwall-logd needs somewhere to write",
		},
	},
	{
		.name = "unknown logging key",
		.yaml = P "logging:\n  sink: []\n",
		.expect = {
			"test.yaml:3:3: error: unknown key 'sink' in logging (did you mean 'sinks'?)",
			"test.yaml:3:3: error: missing required key 'sinks' in logging",
		},
	},
	{
		.name = "bad hostname",
		.yaml = P "logging:\n  hostname: fw_1\n" "  sinks: [{name: a, format: json, transport: stdout}]\n",
		.expect = {
			"test.yaml:3:13: error: 'hostname' must be a host name or an IP address, not 'fw_1'",
		},
	},
	{
		.name = "bad facility",
		.yaml = P "logging:\n  syslog: {facility: local8}\n" "  sinks: [{name: a, format: json, transport: stdout}]\n",
		.expect = {
			"test.yaml:3:22: error: 'facility' must be kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, audit, alert, clock, local0, local1, local2, local3, local4, local5, local6 or local7, not 'local8'",
		},
	},
	{
		.name = "bad severity and unknown kind",
		.yaml = P "logging:\n"
			"  syslog:\n"
			"    severity: {drop: warn, flows: info}\n"
			"  sinks: [{name: a, format: json, transport: stdout}]\n",
		.expect = {
			"test.yaml:4:22: error: the severity of drop events must be emerg, alert, crit, err, warning, notice, info or debug, not 'warn'",
			"test.yaml:4:28: error: unknown key 'flows' in syslog severities (did you mean 'flow'?)",
		},
	},
	{
		.name = "unknown syslog key",
		.yaml = P "logging:\n  syslog: {facilty: local4}\n" "  sinks: [{name: a, format: json, transport: stdout}]\n",
		.expect = {
			"test.yaml:3:12: error: unknown key 'facilty' in syslog settings (did you mean 'facility'?)",
		},
	},
	/* sinks */
	{
		.name = "sink not a mapping",
		.yaml = P LOG "    - events\n",
		.expect = {
			"test.yaml:4:7: error: a sink must be a mapping, not a string 'events'",
		},
	},
	{
		.name = "sink missing name and format",
		.yaml = P LOG "    - transport: stdout\n",
		.expect = {
			"test.yaml:4:7: error: missing required key 'name' in sink",
			"test.yaml:4:7: error: missing required key 'format' in sink",
		},
	},
	{
		.name = "unknown sink key",
		.yaml = P LOG "    - {name: a, format: json, transport: stdout, adress: x}\n",
		.expect = {
			"test.yaml:4:50: error: unknown key 'adress' in sink (did you mean 'address'?)",
		},
	},
	{
		.name = "duplicate sink name",
		.yaml = P LOG
			"    - {name: a, format: json, transport: stdout}\n"
			"    - {name: a, format: cef, transport: stdout}\n",
		.expect = {
			"test.yaml:5:14: error: sink name 'a' is already used at test.yaml:4:14",
		},
	},
	{
		.name = "bad sink name",
		.yaml = P LOG "    - {name: 'my sink', format: json, transport: stdout}\n",
		.expect = {
			"test.yaml:4:14: error: sink name 'my sink' is not valid: use up to 64 letters, digits, '.', '_' and '-', starting with a letter or digit",
		},
	},
	{
		.name = "bad format",
		.yaml = P LOG "    - {name: a, format: xml, transport: stdout}\n",
		.expect = {
			"test.yaml:4:25: error: 'format' must be json, syslog, cef or pcap, not 'xml'",
		},
	},
	{
		.name = "bad transport",
		.yaml = P LOG "    - {name: a, format: json, transport: http, address: h, port: 80}\n",
		.expect = {
			"test.yaml:4:42: error: 'transport' must be file, stdout, udp, tcp, tls or unix, not 'http'",
		},
	},
	{
		.name = "pcap over udp",
		.yaml = P LOG "    - {name: a, format: pcap, transport: udp, address: h, port: 9}\n",
		.expect = {
			"test.yaml:4:42: error: a pcap sink writes files: 'transport' must be file, not 'udp'",
		},
	},
	{
		.name = "pcap with flow events",
		.yaml = P LOG "    - {name: a, format: pcap, path: d.pcap, kinds: [drop, flow]}\n",
		.expect = {
			"test.yaml:4:59: error: a pcap sink takes only drop and audit events, not 'flow'",
		},
	},
	{
		.name = "file without path",
		.yaml = P LOG "    - name: a\n      format: json\n",
		.expect = {
			"test.yaml:4:7: error: missing required key 'path' in sink 'a' (transport file writes to it)",
		},
	},
	{
		.name = "udp without address and port",
		.yaml = P LOG "    - {name: a, format: syslog, transport: udp}\n",
		.expect = {
			"test.yaml:4:7: error: missing required key 'address' in sink 'a' (transport udp sends to it)",
			"test.yaml:4:7: error: missing required key 'port' in sink 'a' (transport udp sends to it)",
		},
	},
	{
		.name = "tls without ca_file",
		.yaml = P LOG "    - {name: a, format: syslog, transport: tls, address: siem, port: 6514}\n",
		.expect = {
			"test.yaml:4:7: error: missing required key 'ca_file' in sink 'a' (transport tls verifies the server with it)",
		},
	},
	{
		.name = "keys of other transports",
		.yaml = P LOG
			"    - name: a\n"
			"      format: json\n"
			"      transport: stdout\n"
			"      path: x.json\n"
			"      address: h\n"
			"      port: 9\n"
			"      ca_file: ca.pem\n"
			"      rotate_bytes: 65536\n"
			"      snaplen: 64\n",
		.expect = {
			"test.yaml:7:7: error: 'path' is only for transports file and unix, not 'stdout'",
			"test.yaml:8:7: error: 'address' is only for transports udp, tcp and tls, not 'stdout'",
			"test.yaml:9:7: error: 'port' is only for transports udp, tcp and tls, not 'stdout'",
			"test.yaml:10:7: error: 'ca_file' is only for transport tls, not 'stdout'",
			"test.yaml:11:7: error: 'rotate_bytes' is only for transport file, not 'stdout'",
			"test.yaml:12:7: error: 'snaplen' is only for format pcap, not 'json'",
		},
	},
	{
		.name = "bad address",
		.yaml = P LOG "    - {name: a, format: cef, transport: tcp, address: 10.0.0.256, port: 514}\n",
		.expect = {
			"test.yaml:4:55: error: 'address' must be a host name or an IP address, not '10.0.0.256'",
		},
	},
	{
		.name = "address with a port",
		.yaml = P LOG "    - {name: a, format: cef, transport: tcp, address: 'siem:514', port: 514}\n",
		.expect = {
			"test.yaml:4:55: error: 'address' must be a host name or an IP address, not 'siem:514'",
		},
	},
	{
		.name = "port out of range",
		.yaml = P LOG "    - {name: a, format: cef, transport: udp, address: '::1', port: 65536}\n",
		.expect = {
			"test.yaml:4:68: error: 'port' must be from 1 to 65535, not 65536",
		},
	},
	{
		.name = "port zero and queue too big",
		.yaml = P LOG "    - {name: a, format: json, transport: udp, address: h, port: 0, queue: 1000001}\n",
		.expect = {
			"test.yaml:4:65: error: 'port' must be from 1 to 65535, not 0",
			"test.yaml:4:75: error: 'queue' must be from 1 to 1000000, not 1000001",
		},
	},
	{
		.name = "snaplen zero",
		.yaml = P LOG "    - {name: a, format: pcap, path: d.pcap, snaplen: 0}\n",
		.expect = {
			"test.yaml:4:54: error: 'snaplen' must be from 1 to 65535, not 0",
		},
	},
	{
		.name = "rotate_bytes too small",
		.yaml = P LOG "    - {name: a, format: json, path: e.json, rotate_bytes: 100}\n",
		.expect = {
			"test.yaml:4:59: error: 'rotate_bytes' must be from 4096 to 1099511627776, not 100",
		},
	},
	{
		.name = "kinds empty",
		.yaml = P LOG "    - {name: a, format: json, transport: stdout, kinds: []}\n",
		.expect = {
			"test.yaml:4:57: error: 'kinds' must not be empty: omit it to take every kind",
		},
	},
	{
		.name = "kinds unknown and twice",
		.yaml = P LOG "    - {name: a, format: json, transport: stdout, kinds: [drop, drops, drop]}\n",
		.expect = {
			"test.yaml:4:64: error: an event kind must be drop, audit, flow, suppressed or lost, not 'drops'",
			"test.yaml:4:71: error: kind 'drop' is listed twice",
		},
	},
	{
		.name = "kinds not a list",
		.yaml = P LOG "    - {name: a, format: json, transport: stdout, kinds: drop}\n",
		.expect = {
			"test.yaml:4:57: error: 'kinds' must be a list, not a string 'drop'",
		},
	},
	{
		.name = "every error in one run",
		.yaml = "mode: fast\n"
			"pin_path: 7\n"
			"logging:\n"
			"  sinks:\n"
			"    - {name: a, format: json}\n"
			"    - {name: b, format: syslog, transport: tls, address: '-h', port: 6514}\n",
		.expect = {
			"test.yaml:1:1: error: missing required key 'policy' in configuration",
			"test.yaml:1:7: error: 'mode' must be xdp, tc or auto, not 'fast'",
			"test.yaml:2:11: error: 'pin_path' must be a string, not an integer '7'",
			"test.yaml:5:7: error: missing required key 'path' in sink 'a' (transport file writes to it)",
			"test.yaml:6:7: error: missing required key 'ca_file' in sink 'b' (transport tls verifies the server with it)",
			"test.yaml:6:58: error: 'address' must be a host name or an IP address, not '-h'",
		},
	},
};

START_TEST(test_bad_config)
{
	const struct bad_config *bc = &bad_configs[_i];
	struct pw_config *cfg = (struct pw_config *)1;
	struct pw_diags diags;
	char *text, *want = NULL;
	size_t len = 0, n = 0;
	FILE *f;
	int ret;

	pw_diags_init(&diags);
	ret = pw_config_load_buffer("test.yaml", bc->yaml, strlen(bc->yaml),
				    &diags, &cfg);
	text = diags_text(&diags);

	f = open_memstream(&want, &len);
	ck_assert_ptr_nonnull(f);
	for (; bc->expect[n]; n++)
		fprintf(f, "%s\n", bc->expect[n]);
	fclose(f);

	ck_assert_msg(ret == -EINVAL,
		      "%s: pw_config_load returned %d, not -EINVAL", bc->name,
		      ret);
	ck_assert_msg(cfg == NULL, "%s: *out set on failure", bc->name);
	ck_assert_msg(!strcmp(text, want),
		      "%s: diagnostics differ\n--- expected:\n%s--- got:\n%s",
		      bc->name, want, text);
	ck_assert_msg(diags.n_errors == n && diags.n_warnings == 0,
		      "%s: %zu errors and %zu warnings, expected %zu errors",
		      bc->name, diags.n_errors, diags.n_warnings, n);
	free(text);
	free(want);
	pw_diags_free(&diags);
}
END_TEST

/* ---- positive tests ------------------------------------------------------- */

START_TEST(test_defaults)
{
	struct pw_config *cfg = load_ok("policy: /etc/p.yaml\n");

	ck_assert_str_eq(cfg->path, "test.yaml");
	ck_assert_str_eq(cfg->policy, "/etc/p.yaml");
	ck_assert_int_eq(cfg->mode, PW_CONFIG_MODE_AUTO);
	ck_assert_str_eq(cfg->pin_path, "/sys/fs/bpf/plumwall");
	ck_assert_uint_eq(cfg->conntrack_sweep_interval, 10);
	ck_assert(!cfg->has_logging);
	ck_assert_ptr_null(cfg->logging.hostname);
	ck_assert_int_eq(cfg->logging.facility, 20);
	ck_assert_str_eq(pw_syslog_facility_name(cfg->logging.facility),
			 "local4");
	ck_assert_int_eq(cfg->logging.severity[PW_LOG_DROP], PW_SYSLOG_WARNING);
	ck_assert_int_eq(cfg->logging.severity[PW_LOG_AUDIT],
			 PW_SYSLOG_WARNING);
	ck_assert_int_eq(cfg->logging.severity[PW_LOG_FLOW], PW_SYSLOG_INFO);
	ck_assert_int_eq(cfg->logging.severity[PW_LOG_SUPPRESSED],
			 PW_SYSLOG_NOTICE);
	ck_assert_int_eq(cfg->logging.severity[PW_LOG_LOST], PW_SYSLOG_WARNING);
	ck_assert_uint_eq(cfg->logging.n_sinks, 0);
	pw_config_free(cfg);
}
END_TEST

START_TEST(test_sink_defaults)
{
	struct pw_config *cfg = load_ok(
		"policy: /etc/p.yaml\n"
		"logging:\n"
		"  sinks:\n"
		"    - {name: f, format: json, path: /var/log/e.json}\n"
		"    - {name: s, format: cef, transport: unix}\n"
		"    - {name: p, format: pcap, path: /var/log/d.pcap}\n"
		"    - {name: u, format: syslog, transport: udp, address: 192.0.2.1, port: 514}\n");
	const struct pw_sink *k = cfg->logging.sinks;

	ck_assert(cfg->has_logging);
	ck_assert_uint_eq(cfg->logging.n_sinks, 4);

	ck_assert_str_eq(k[0].name, "f");
	ck_assert_int_eq(k[0].format, PW_SINK_JSON);
	ck_assert_int_eq(k[0].transport, PW_SINK_FILE);
	ck_assert_uint_eq(k[0].kinds, PW_LOG_KINDS_ALL);
	ck_assert_str_eq(k[0].path, "/var/log/e.json");
	ck_assert_uint_eq(k[0].queue, 4096);
	ck_assert_uint_eq(k[0].rotate_bytes, 0);
	ck_assert_uint_eq(k[0].snaplen, 0);
	ck_assert_ptr_null(k[0].address);
	ck_assert_ptr_null(k[0].ca_file);
	ck_assert_uint_eq(k[0].loc.line, 4);
	ck_assert_uint_eq(k[0].loc.col, 7);

	ck_assert_int_eq(k[1].transport, PW_SINK_UNIX);
	ck_assert_str_eq(k[1].path, "/dev/log");

	ck_assert_int_eq(k[2].format, PW_SINK_PCAP);
	ck_assert_int_eq(k[2].transport, PW_SINK_FILE);
	ck_assert_uint_eq(k[2].snaplen, 128);
	ck_assert_uint_eq(k[2].kinds, PW_LOG_KIND_BIT(PW_LOG_DROP) |
					      PW_LOG_KIND_BIT(PW_LOG_AUDIT));

	ck_assert_int_eq(k[3].transport, PW_SINK_UDP);
	ck_assert_str_eq(k[3].address, "192.0.2.1");
	ck_assert_uint_eq(k[3].port, 514);
	ck_assert_ptr_null(k[3].path);
	pw_config_free(cfg);
}
END_TEST

START_TEST(test_every_key)
{
	struct pw_config *cfg = load_ok(
		"policy: /etc/plumwall/policies\n"
		"mode: tc\n"
		"pin_path: /sys/fs/bpf/pw2\n"
		"conntrack_sweep_interval: 3600\n"
		"logging:\n"
		"  hostname: fw1.example.net\n"
		"  syslog:\n"
		"    facility: kern\n"
		"    severity: {drop: err, audit: notice, flow: debug, suppressed: info, lost: emerg}\n"
		"  sinks:\n"
		"    - name: siem.tls_1\n"
		"      format: syslog\n"
		"      transport: tls\n"
		"      address: 'siem.example.net.'\n"
		"      port: 6514\n"
		"      ca_file: /etc/ssl/ca.pem\n"
		"      kinds: [lost, drop]\n"
		"      queue: 1000000\n"
		"    - name: pcap\n"
		"      format: pcap\n"
		"      transport: file\n"
		"      path: /var/log/d.pcap\n"
		"      kinds: [audit]\n"
		"      snaplen: 65535\n"
		"      rotate_bytes: 1099511627776\n"
		"    - {name: v6, format: json, transport: tcp, address: '2001:db8::1', port: 1}\n"
		"    - {name: out, format: cef, transport: stdout, queue: 1}\n");
	const struct pw_logging *lg = &cfg->logging;

	ck_assert_str_eq(cfg->policy, "/etc/plumwall/policies");
	ck_assert_int_eq(cfg->mode, PW_CONFIG_MODE_TC);
	ck_assert_str_eq(pw_config_mode_name(cfg->mode), "tc");
	ck_assert_str_eq(cfg->pin_path, "/sys/fs/bpf/pw2");
	ck_assert_uint_eq(cfg->conntrack_sweep_interval, 3600);
	ck_assert_str_eq(lg->hostname, "fw1.example.net");
	ck_assert_int_eq(lg->facility, 0);
	ck_assert_int_eq(lg->severity[PW_LOG_DROP], PW_SYSLOG_ERR);
	ck_assert_int_eq(lg->severity[PW_LOG_AUDIT], PW_SYSLOG_NOTICE);
	ck_assert_int_eq(lg->severity[PW_LOG_FLOW], PW_SYSLOG_DEBUG);
	ck_assert_int_eq(lg->severity[PW_LOG_SUPPRESSED], PW_SYSLOG_INFO);
	ck_assert_int_eq(lg->severity[PW_LOG_LOST], PW_SYSLOG_EMERG);
	ck_assert_uint_eq(lg->n_sinks, 4);

	ck_assert_str_eq(lg->sinks[0].name, "siem.tls_1");
	ck_assert_int_eq(lg->sinks[0].transport, PW_SINK_TLS);
	ck_assert_str_eq(lg->sinks[0].address, "siem.example.net.");
	ck_assert_uint_eq(lg->sinks[0].port, 6514);
	ck_assert_str_eq(lg->sinks[0].ca_file, "/etc/ssl/ca.pem");
	ck_assert_uint_eq(lg->sinks[0].kinds,
			  PW_LOG_KIND_BIT(PW_LOG_LOST) |
				  PW_LOG_KIND_BIT(PW_LOG_DROP));
	ck_assert_uint_eq(lg->sinks[0].queue, 1000000);

	ck_assert_uint_eq(lg->sinks[1].kinds, PW_LOG_KIND_BIT(PW_LOG_AUDIT));
	ck_assert_uint_eq(lg->sinks[1].snaplen, 65535);
	ck_assert_uint_eq(lg->sinks[1].rotate_bytes, 1ULL << 40);

	ck_assert_str_eq(lg->sinks[2].address, "2001:db8::1");
	ck_assert_uint_eq(lg->sinks[2].port, 1);
	ck_assert_int_eq(lg->sinks[3].transport, PW_SINK_STDOUT);
	ck_assert_uint_eq(lg->sinks[3].queue, 1);
	ck_assert_ptr_null(lg->sinks[3].path);
	pw_config_free(cfg);
}
END_TEST

START_TEST(test_relative_paths)
{
	struct pw_config *cfg = load_ok_named(
		"/etc/plumwall/plumwall.yaml",
		"policy: policies/three-tier.yaml\n"
		"logging:\n"
		"  sinks:\n"
		"    - {name: t, format: json, transport: tls, address: h, port: 1, ca_file: ca.pem}\n"
		"    - {name: f, format: json, path: ../../var/e.json}\n");

	ck_assert_str_eq(cfg->policy, "/etc/plumwall/policies/three-tier.yaml");
	ck_assert_str_eq(cfg->logging.sinks[0].ca_file, "/etc/plumwall/ca.pem");
	ck_assert_str_eq(cfg->logging.sinks[1].path,
			 "/etc/plumwall/../../var/e.json");
	pw_config_free(cfg);

	/* No directory in the name: relative to the working directory. */
	cfg = load_ok_named("plumwall.yaml", "policy: p.yaml\n");
	ck_assert_str_eq(cfg->policy, "p.yaml");
	pw_config_free(cfg);
	cfg = load_ok_named("/plumwall.yaml", "policy: p.yaml\n");
	ck_assert_str_eq(cfg->policy, "/p.yaml");
	pw_config_free(cfg);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(pw_config_mode_name(PW_CONFIG_MODE_XDP), "xdp");
	ck_assert_str_eq(pw_config_mode_name(PW_CONFIG_MODE_AUTO), "auto");
	ck_assert_str_eq(pw_log_kind_name(PW_LOG_SUPPRESSED), "suppressed");
	ck_assert_str_eq(pw_log_kind_name(PW_LOG_KIND_COUNT), "?");
	ck_assert_str_eq(pw_sink_format_name(PW_SINK_CEF), "cef");
	ck_assert_str_eq(pw_sink_transport_name(PW_SINK_UNIX), "unix");
	ck_assert_str_eq(pw_syslog_facility_name(23), "local7");
	ck_assert_str_eq(pw_syslog_facility_name(24), "?");
	ck_assert_str_eq(pw_syslog_facility_name(-1), "?");
	ck_assert_str_eq(pw_syslog_severity_name(PW_SYSLOG_WARNING), "warning");
	ck_assert_str_eq(pw_syslog_severity_name(PW_SYSLOG_DEBUG), "debug");
}
END_TEST

START_TEST(test_missing_file)
{
	struct pw_config *cfg = (struct pw_config *)1;
	struct pw_diags diags;
	int ret;

	pw_diags_init(&diags);
	ret = pw_config_load("/nonexistent/plumwall.yaml", &diags, &cfg);
	ck_assert_int_eq(ret, -ENOENT);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(diags.n_errors, 1);
	pw_diags_free(&diags);
}
END_TEST

static const char *root_dir(void)
{
	const char *root = getenv("PLUMWALL_ROOT");

	return root && *root ? root : ".";
}

/* The shipped etc/plumwall.yaml loads without a diagnostic. */
START_TEST(test_shipped_config)
{
	struct pw_config *cfg = NULL;
	struct pw_diags diags;
	char path[4096], *text;
	int ret;

	snprintf(path, sizeof(path), "%s/etc/plumwall.yaml", root_dir());
	pw_diags_init(&diags);
	ret = pw_config_load(path, &diags, &cfg);
	text = diags_text(&diags);
	ck_assert_msg(ret == 0 && diags.count == 0, "%s: %d\n%s", path, ret,
		      text);
	free(text);
	ck_assert_str_eq(cfg->policy, "/etc/plumwall/policy.yaml");
	ck_assert_int_eq(cfg->mode, PW_CONFIG_MODE_AUTO);
	ck_assert_str_eq(cfg->pin_path, "/sys/fs/bpf/plumwall");
	ck_assert_uint_eq(cfg->conntrack_sweep_interval, 10);
	ck_assert_ptr_null(cfg->logging.hostname);
	ck_assert_str_eq(pw_syslog_facility_name(cfg->logging.facility),
			 "local4");
	ck_assert_uint_eq(cfg->logging.n_sinks, 2);
	ck_assert_str_eq(cfg->logging.sinks[0].name, "events");
	ck_assert_int_eq(cfg->logging.sinks[0].format, PW_SINK_JSON);
	ck_assert_int_eq(cfg->logging.sinks[0].transport, PW_SINK_FILE);
	ck_assert_str_eq(cfg->logging.sinks[0].path,
			 "/var/log/plumwall/events.json");
	ck_assert_uint_eq(cfg->logging.sinks[0].kinds, PW_LOG_KINDS_ALL);
	ck_assert_uint_eq(cfg->logging.sinks[0].queue, 4096);
	/* Drops, audits and losses to the journal too. */
	ck_assert_str_eq(cfg->logging.sinks[1].name, "journal");
	ck_assert_int_eq(cfg->logging.sinks[1].format, PW_SINK_SYSLOG);
	ck_assert_int_eq(cfg->logging.sinks[1].transport, PW_SINK_UNIX);
	ck_assert_str_eq(cfg->logging.sinks[1].path, "/dev/log");
	ck_assert_uint_eq(cfg->logging.sinks[1].kinds,
			  PW_LOG_KIND_BIT(PW_LOG_DROP) |
				  PW_LOG_KIND_BIT(PW_LOG_AUDIT) |
				  PW_LOG_KIND_BIT(PW_LOG_LOST));
	pw_config_free(cfg);
	pw_diags_free(&diags);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, test_bad_config, 0, ARRAY_SIZE(bad_configs));
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_sink_defaults);
	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_shipped_config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
