// SPDX-License-Identifier: GPL-2.0
/*
 * `plumwall status`, `stats` and `flows` (cli.md): read the datapath
 * apply pinned (runtime.h) without changing it. The maps give the
 * numbers, the state document the names behind the ids.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <jansson.h>

#include "datapath.h"
#include "policy/eval.h"
#include "fw.h"
#include "output.h"
#include "runtime.h"


/* Parse -h, --json and (flows) --tenant. 1: help shown. */
static int fw_rd_args(int argc, char **argv, void (*usage)(FILE *), bool *json,
		      const char **tenant)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "tenant", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return -1;
		case 'j':
			*json = true;
			break;
		case 't':
			if (!tenant)
				return fw_usage_hint(argv[0]);
			*tenant = optarg;
			break;
		default:
			return fw_usage_hint(argv[0]);
		}
	}
	if (optind < argc)
		return fw_usage_error(argv[0], "unexpected argument '%s'",
				      argv[optind]);
	return 0;
}

/* The running datapath (maps only) and its state, or an exit status. */
static int fw_rd_open(const char *prog, struct fw_dp **dp, json_t **st)
{
	struct fw_dp_opts o = {
		.pin_dir = FW_RT_MAPS,
		.pin_must_exist = true,
		.no_progs = true,
	};
	int ret;

	*dp = NULL;
	*st = NULL;
	if (!fw_rt_pinned() || fw_rt_state_read(st)) {
		fprintf(stderr, "%s: plumwall is not loaded\n", prog);
		return FW_EXIT_STATE;
	}
	ret = fw_dp_open(dp, &o);
	if (ret) {
		fprintf(stderr, "%s: cannot open the pinned datapath: %s\n",
			prog, strerror(-ret));
		json_decref(*st);
		*st = NULL;
		return ret == -ENOENT ? FW_EXIT_STATE : FW_EXIT_REFUSED;
	}
	return FW_EXIT_OK;
}

static json_t *fw_rd_rule(const json_t *st, uint32_t id)
{
	return json_array_get(json_object_get(st, "rules"), id);
}

static const char *fw_rd_tenant(const json_t *st, uint32_t id)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(st, "tenants"), i, v)
		if (json_integer_value(json_object_get(v, "id")) == id)
			return json_string_value(json_object_get(v, "name"));
	return NULL;
}

static int fw_rd_output(const char *prog, bool json, json_t *doc,
			fw_text_renderer render)
{
	int ret;

	if (!doc) {
		fprintf(stderr, "%s: %s\n", prog, strerror(ENOMEM));
		return FW_EXIT_REFUSED;
	}
	ret = fw_output(stdout, json ? FW_FORMAT_JSON : FW_FORMAT_TEXT, doc,
			render);
	json_decref(doc);
	if (ret) {
		fprintf(stderr, "%s: cannot write output: %s\n", prog,
			strerror(-ret));
		return FW_EXIT_REFUSED;
	}
	return FW_EXIT_OK;
}

/* ---------------------------------------------------------------- status */

static const struct fw_column fw_status_fields[] = {
	{ "Policy", "policy", FW_ALIGN_LEFT, NULL },
	{ "Files", "files", FW_ALIGN_LEFT, fw_out_lines },
	{ "SHA-256", "sha256", FW_ALIGN_LEFT, NULL },
	{ "Loaded", "loaded", FW_ALIGN_LEFT, NULL },
	{ "Generation", "generation", FW_ALIGN_LEFT, NULL },
	{ "Tenants", "counts.tenants", FW_ALIGN_LEFT, NULL },
	{ "Rules", "counts.rules", FW_ALIGN_LEFT, NULL },
	{ "Flows", "counts.flows", FW_ALIGN_LEFT, NULL },
};

static const struct fw_column fw_status_ifs[] = {
	{ "INTERFACE", "name", FW_ALIGN_LEFT, NULL },
	{ "IFINDEX", "ifindex", FW_ALIGN_RIGHT, NULL },
	{ "MODE", "mode", FW_ALIGN_LEFT, NULL },
};

static int fw_status_text(FILE *out, const json_t *doc)
{
	int ret;

	ret = fw_out_fields(out, 0, fw_status_fields, FW_ARRAY_SIZE(fw_status_fields),
			    doc);
	if (!ret) {
		fputc('\n', out);
		ret = fw_out_table(out, 0, fw_status_ifs, FW_ARRAY_SIZE(fw_status_ifs),
				   json_object_get(doc, "interfaces"));
	}
	return ret;
}

static void fw_status_usage(FILE *out)
{
	fputs("Usage: plumwall status [-h] [--json]\n"
	      "\n"
	      "The running datapath: interfaces and attach mode, policy file\n"
	      "and its sha256, load time, policy generation, and the number of\n"
	      "tenants, rules and tracked flows.\n"
	      "\n"
	      "Exit status: 0 shown, 2 usage error, 3 not loaded or no\n"
	      "privileges.\n",
	      out);
}

int fw_cmd_status(const struct fw_command *cmd, int argc, char **argv)
{
	struct pw_settings set;
	struct fw_dp *dp = NULL;
	json_t *st = NULL, *doc = NULL, *counts;
	bool json = false;
	__u32 slot, flows = 0;
	char when[64];
	time_t t;
	int status, ret;

	status = fw_rd_args(argc, argv, fw_status_usage, &json, NULL);
	if (status)
		return status < 0 ? FW_EXIT_OK : status;
	status = fw_command_ready(cmd);
	if (!status)
		status = fw_rd_open(argv[0], &dp, &st);
	if (status)
		return status;
	ret = fw_dp_active_slot(dp, &slot);
	if (!ret)
		ret = fw_dp_slot_settings(dp, slot, &set);
	if (!ret)
		ret = fw_dp_ct_count(dp, &flows);
	if (ret) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-ret));
		status = FW_EXIT_REFUSED;
		goto out;
	}
	t = (time_t)json_integer_value(json_object_get(st, "loaded_at"));
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", localtime(&t));
	doc = json_object();
	json_object_set(doc, "policy", json_object_get(st, "policy"));
	json_object_set(doc, "files", json_object_get(st, "files"));
	json_object_set(doc, "sha256", json_object_get(st, "sha256"));
	json_object_set(doc, "loaded_at", json_object_get(st, "loaded_at"));
	json_object_set_new(doc, "loaded", json_string(when));
	/* The datapath's own figure, not the state's: they agree unless
	 * something else wrote the maps. */
	json_object_set_new(doc, "generation", json_integer(set.generation));
	json_object_set_new(doc, "active_slot", json_integer(slot));
	json_object_set(doc, "interfaces", json_object_get(st, "interfaces"));
	counts = json_object();
	json_object_set_new(counts, "tenants",
			    json_integer(json_array_size(
				    json_object_get(st, "tenants"))));
	json_object_set_new(counts, "rules",
			    json_integer(json_array_size(
				    json_object_get(st, "rules"))));
	json_object_set_new(counts, "flows", json_integer(flows));
	json_object_set_new(doc, "counts", counts);
	status = fw_rd_output(argv[0], json, doc, fw_status_text);
out:
	json_decref(st);
	fw_dp_close(dp);
	return status;
}

/* ----------------------------------------------------------------- stats */


static const struct fw_column fw_stats_rules[] = {
	{ "ID", "id", FW_ALIGN_RIGHT, NULL },
	{ "RULE", "name", FW_ALIGN_LEFT, NULL },
	{ "TENANT", "tenant", FW_ALIGN_LEFT, NULL },
	{ "PACKETS", "packets", FW_ALIGN_RIGHT, NULL },
	{ "BYTES", "bytes", FW_ALIGN_RIGHT, NULL },
};

static const struct fw_column fw_stats_drops[] = {
	{ "REASON", "reason", FW_ALIGN_LEFT, NULL },
	{ "PACKETS", "packets", FW_ALIGN_RIGHT, NULL },
	{ "BYTES", "bytes", FW_ALIGN_RIGHT, NULL },
};

static const struct fw_column fw_stats_fields[] = {
	{ "Conntrack entries", "conntrack.entries", FW_ALIGN_LEFT, NULL },
	{ "Conntrack max", "conntrack.max_entries", FW_ALIGN_LEFT, NULL },
	{ "Events lost", "events_lost", FW_ALIGN_LEFT, NULL },
};

static int fw_stats_text(FILE *out, const json_t *doc)
{
	int ret;

	ret = fw_out_section(out, 0, "Rules");
	if (!ret)
		ret = fw_out_table(out, 2, fw_stats_rules, FW_ARRAY_SIZE(fw_stats_rules),
				   json_object_get(doc, "rules"));
	if (!ret) {
		fputc('\n', out);
		ret = fw_out_section(out, 0, "Drops");
	}
	if (!ret)
		ret = fw_out_table(out, 2, fw_stats_drops, FW_ARRAY_SIZE(fw_stats_drops),
				   json_object_get(doc, "drops"));
	if (!ret) {
		fputc('\n', out);
		ret = fw_out_fields(out, 0, fw_stats_fields,
				    FW_ARRAY_SIZE(fw_stats_fields), doc);
	}
	return ret;
}

static void fw_stats_usage(FILE *out)
{
	fputs("Usage: plumwall stats [-h] [--json]\n"
	      "\n"
	      "Packets and bytes each rule of the running policy decided (since\n"
	      "it was applied), drops by reason, conntrack use and lost events.\n"
	      "\n"
	      "Exit status: 0 shown, 2 usage error, 3 not loaded or no\n"
	      "privileges.\n",
	      out);
}

int fw_cmd_stats(const struct fw_command *cmd, int argc, char **argv)
{
	struct pw_counter drops[PW_REASON_COUNT], *rules = NULL;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), slot, flows = 0;
	struct fw_dp *dp = NULL;
	json_t *st = NULL, *doc, *arr, *o, *ct;
	const json_t *r;
	bool json = false;
	__u64 lost = 0;
	size_t n, i;
	int status, ret;

	status = fw_rd_args(argc, argv, fw_stats_usage, &json, NULL);
	if (status)
		return status < 0 ? FW_EXIT_OK : status;
	status = fw_command_ready(cmd);
	if (!status)
		status = fw_rd_open(argv[0], &dp, &st);
	if (status)
		return status;
	n = json_array_size(json_object_get(st, "rules"));
	rules = calloc(n ? n : 1, sizeof(*rules));
	ret = rules ? fw_dp_active_slot(dp, &slot) : -ENOMEM;
	if (!ret)
		ret = fw_dp_rule_counters(dp, slot, rules, n);
	if (!ret)
		ret = fw_dp_drop_counters(dp, drops);
	if (!ret)
		ret = fw_dp_events_lost(dp, &lost);
	if (!ret)
		ret = fw_dp_ct_count(dp, &flows);
	if (!ret && bpf_obj_get_info_by_fd(fw_dp_map_fd(dp, "pw_ct"), &info,
					   &len))
		ret = -errno;
	if (ret) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-ret));
		status = FW_EXIT_REFUSED;
		goto out;
	}
	doc = json_object();
	arr = json_array();
	for (i = 0; i < n; i++) {
		r = fw_rd_rule(st, (uint32_t)i);
		o = json_object();
		json_object_set_new(o, "id", json_integer((json_int_t)i));
		json_object_set(o, "name", json_object_get(r, "name"));
		json_object_set(o, "tenant", json_object_get(r, "tenant"));
		json_object_set_new(o, "packets",
				    json_integer((json_int_t)rules[i].packets));
		json_object_set_new(o, "bytes",
				    json_integer((json_int_t)rules[i].bytes));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "rules", arr);
	arr = json_array();
	for (i = 0; i < PW_REASON_COUNT; i++) {
		/* Established and reply count passes, not drops. */
		if (i == PW_REASON_ESTABLISHED || i == PW_REASON_REPLY)
			continue;
		o = json_object();
		json_object_set_new(o, "reason",
				    json_string(policy_reason_name(i)));
		json_object_set_new(o, "packets",
				    json_integer((json_int_t)drops[i].packets));
		json_object_set_new(o, "bytes",
				    json_integer((json_int_t)drops[i].bytes));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "drops", arr);
	ct = json_object();
	json_object_set_new(ct, "entries", json_integer(flows));
	json_object_set_new(ct, "max_entries", json_integer(info.max_entries));
	json_object_set_new(doc, "conntrack", ct);
	json_object_set_new(doc, "events_lost", json_integer((json_int_t)lost));
	status = fw_rd_output(argv[0], json, doc, fw_stats_text);
out:
	free(rules);
	json_decref(st);
	fw_dp_close(dp);
	return status;
}

/* ----------------------------------------------------------------- flows */

static const char *const fw_ct_states[] = {
	[PW_CT_NEW] = "new",
	[PW_CT_TCP_SYN] = "syn",
	[PW_CT_ESTABLISHED] = "established",
	[PW_CT_TCP_CLOSING] = "closing",
	[PW_CT_TCP_CLOSED] = "closed",
};

struct fw_flows {
	const json_t *st;
	const char *tenant; /* filter, or NULL */
	json_t *arr;
	__u64 now;
};

static json_t *fw_endpoint(__u8 family, const __u8 *addr, __u16 port,
			   __u8 proto)
{
	char buf[INET6_ADDRSTRLEN + 8], a[INET6_ADDRSTRLEN];

	inet_ntop(family == PW_FAMILY_IPV4 ? AF_INET : AF_INET6, addr, a,
		  sizeof(a));
	if (proto != 6 && proto != 17)
		return json_string(a);
	if (family == PW_FAMILY_IPV4)
		snprintf(buf, sizeof(buf), "%s:%u", a, port);
	else
		snprintf(buf, sizeof(buf), "[%s]:%u", a, port);
	return json_string(buf);
}

static json_t *fw_proto(__u8 proto)
{
	switch (proto) {
	case 6:
		return json_string("tcp");
	case 17:
		return json_string("udp");
	case 1:
		return json_string("icmp");
	case 58:
		return json_string("icmpv6");
	default:
		return json_integer(proto);
	}
}

static int fw_flow_one(const struct pw_ct_key *k, const struct pw_ct_val *v,
		       void *ctx)
{
	struct fw_flows *f = ctx;
	const char *tenant = fw_rd_tenant(f->st, k->tenant);
	bool a_init = v->flags & PW_CT_INIT_IS_A;
	const json_t *r = NULL;
	json_t *o;

	if (f->tenant && (!tenant || strcmp(tenant, f->tenant)))
		return 0;
	if (v->rule_id != PW_RULE_NONE)
		r = fw_rd_rule(f->st, v->rule_id);
	o = json_object();
	json_object_set_new(o, "tenant",
			    tenant ? json_string(tenant) : json_integer(k->tenant));
	json_object_set_new(o, "proto", fw_proto(k->proto));
	json_object_set_new(o, "src",
			    fw_endpoint(k->family,
					a_init ? k->addr_a : k->addr_b,
					a_init ? k->port_a : k->port_b,
					k->proto));
	json_object_set_new(o, "dst",
			    fw_endpoint(k->family,
					a_init ? k->addr_b : k->addr_a,
					a_init ? k->port_b : k->port_a,
					k->proto));
	json_object_set_new(o, "state",
			    json_string(v->state < FW_ARRAY_SIZE(fw_ct_states) ?
						fw_ct_states[v->state] :
						"?"));
	json_object_set_new(o, "packets_out", json_integer(v->packets[0]));
	json_object_set_new(o, "bytes_out", json_integer(v->bytes[0]));
	json_object_set_new(o, "packets_in", json_integer(v->packets[1]));
	json_object_set_new(o, "bytes_in", json_integer(v->bytes[1]));
	json_object_set_new(o, "age_s",
			    json_integer(f->now > v->created_ns ?
						 (f->now - v->created_ns) /
							 1000000000ULL :
						 0));
	json_object_set_new(o, "idle_s",
			    json_integer(f->now > v->last_seen_ns ?
						 (f->now - v->last_seen_ns) /
							 1000000000ULL :
						 0));
	json_object_set_new(o, "rule", r ? json_incref(json_object_get(r, "name")) :
					   json_null());
	json_object_set_new(o, "generation", json_integer(v->generation));
	json_array_append_new(f->arr, o);
	return 0;
}

static const struct fw_column fw_flow_columns[] = {
	{ "TENANT", "tenant", FW_ALIGN_LEFT, NULL },
	{ "PROTO", "proto", FW_ALIGN_LEFT, NULL },
	{ "SOURCE", "src", FW_ALIGN_LEFT, NULL },
	{ "DESTINATION", "dst", FW_ALIGN_LEFT, NULL },
	{ "STATE", "state", FW_ALIGN_LEFT, NULL },
	{ "PKTS>", "packets_out", FW_ALIGN_RIGHT, NULL },
	{ "BYTES>", "bytes_out", FW_ALIGN_RIGHT, NULL },
	{ "<PKTS", "packets_in", FW_ALIGN_RIGHT, NULL },
	{ "<BYTES", "bytes_in", FW_ALIGN_RIGHT, NULL },
	{ "AGE", "age_s", FW_ALIGN_RIGHT, NULL },
	{ "RULE", "rule", FW_ALIGN_LEFT, NULL },
};

static int fw_flows_text(FILE *out, const json_t *doc)
{
	return fw_out_table(out, 0, fw_flow_columns, FW_ARRAY_SIZE(fw_flow_columns),
			    json_object_get(doc, "flows"));
}

static void fw_flows_usage(FILE *out)
{
	fputs("Usage: plumwall flows [-h] [--json] [--tenant TENANT]\n"
	      "\n"
	      "Tracked flows: tenant, protocol, initiator and responder,\n"
	      "state, packets and bytes each way, age in seconds and the rule\n"
	      "that allowed the flow.\n"
	      "\n"
	      "Exit status: 0 shown, 2 usage error, 3 not loaded or no\n"
	      "privileges.\n",
	      out);
}

int fw_cmd_flows(const struct fw_command *cmd, int argc, char **argv)
{
	struct fw_flows f = {};
	struct fw_dp *dp = NULL;
	struct timespec ts;
	json_t *st = NULL, *doc;
	bool json = false;
	int status, ret;

	status = fw_rd_args(argc, argv, fw_flows_usage, &json, &f.tenant);
	if (status)
		return status < 0 ? FW_EXIT_OK : status;
	status = fw_command_ready(cmd);
	if (!status)
		status = fw_rd_open(argv[0], &dp, &st);
	if (status)
		return status;
	/* The datapath's clock (shared.h): CLOCK_MONOTONIC. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	f.now = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	f.st = st;
	f.arr = json_array();
	ret = f.arr ? fw_dp_ct_foreach(dp, fw_flow_one, &f) : -ENOMEM;
	if (ret) {
		json_decref(f.arr);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-ret));
		status = FW_EXIT_REFUSED;
		goto out;
	}
	doc = json_object();
	json_object_set_new(doc, "flows", f.arr);
	status = fw_rd_output(argv[0], json, doc, fw_flows_text);
out:
	json_decref(st);
	fw_dp_close(dp);
	return status;
}
