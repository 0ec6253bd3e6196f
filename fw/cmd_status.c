// SPDX-License-Identifier: GPL-2.0
/*
 * `plumwall status`, `stats` and `flows` (cli.md): read the datapath
 * apply pinned (runtime.h) without changing it. The maps give the
 * numbers, the state document the names behind the ids: those of the
 * generation each id belongs to (names.h), and the counts earlier
 * policies left (counters.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <jansson.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "apply.h"
#include "counters.h"
#include "ct.h"
#include "datapath.h"
#include "policy/eval.h"
#include "fw.h"
#include "names.h"
#include "nft.h"
#include "output.h"
#include "runtime.h"

/* Tries at reading the state and the maps consistently while applies
 * change them (fw_ctr_totals()). */
#define FW_RD_TRIES 5

/*
 * An apply that died after its switch and before renaming its state into
 * place (the next apply or plumwalld finishes it, cmd_apply.c) leaves the
 * running policy's document aside: shown from there, so that status, stats
 * and flows describe the policy that runs. Read-only: nothing is fixed.
 */
static void fw_rd_current(struct fw_dp *dp, json_t **st)
{
	json_t *tmp = NULL;
	__u32 g;

	if (fw_dp_running_generation(dp, &g) ||
	    (uint32_t)json_integer_value(json_object_get(*st, "generation")) ==
		    g ||
	    fw_rt_state_read_tmp(&tmp))
		return;
	if ((uint32_t)json_integer_value(json_object_get(tmp, "generation")) ==
	    g) {
		json_decref(*st);
		*st = tmp;
		return;
	}
	json_decref(tmp);
}

/* The running datapath (maps only) and its state, or an exit status. */
static int fw_rd_open(const char *prog, struct fw_dp **dp, json_t **st)
{
	struct fw_dp_opts o = {
		.pin_dir = FW_RT_MAPS,
		.pin_must_exist = true,
		.no_progs = true,
		.read_only = true,
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
	fw_rd_current(*dp, st);
	return FW_EXIT_OK;
}

/* The running policy's tenant named @name, NULL if none. */
static const json_t *fw_rd_tenant_obj(const json_t *st, const char *name)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(st, "tenants"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "name")) ?: "",
			    name))
			return v;
	return NULL;
}

/*
 * --tenant of a name the running policy does not have: refused (exit 1)
 * with the names it has, rather than an empty answer that a typo would
 * make look like "no flows". FW_EXIT_OK when @name is there or NULL.
 */
static int fw_rd_tenant_check(const char *prog, const json_t *st,
			      const char *name)
{
	const json_t *arr = json_object_get(st, "tenants"), *v;
	size_t i, shown = 10;

	if (!name || fw_rd_tenant_obj(st, name))
		return FW_EXIT_OK;
	fprintf(stderr,
		"%s: no tenant '%s' in the running policy (tenants: ", prog,
		name);
	json_array_foreach(arr, i, v) {
		if (i == shown) {
			fprintf(stderr, ", ... %zu more",
				json_array_size(arr) - shown);
			break;
		}
		fprintf(stderr, "%s%s", i ? ", " : "",
			json_string_value(json_object_get(v, "name")) ?: "?");
	}
	fputs(")\n", stderr);
	return FW_EXIT_REFUSED;
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

/* Only -h, --json and --tenant, for status. 1: help shown. */
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
			*tenant = optarg;
			break;
		default:
			/* getopt_long has said what was wrong */
			return fw_usage_hint(argv[0]);
		}
	}
	if (optind < argc)
		return fw_usage_error(argv[0], "unexpected argument '%s'",
				      argv[optind]);
	return 0;
}

/* The names of every generation the state holds (names.h). */
static int fw_rd_names(const char *prog, const json_t *st,
		       struct fw_names_set *set)
{
	int ret = fw_names_set_read(set, st);

	if (ret)
		fprintf(stderr, "%s: %s: %s\n", prog, FW_RT_STATE,
			ret == -EBADMSG ?
				"not a state document of this plumwall" :
				strerror(-ret));
	return ret ? FW_EXIT_STATE : FW_EXIT_OK;
}

/* The tenant name a flow belongs to, from its own generation's names:
 * NULL when that generation is no longer named. */
static const char *fw_rd_flow_tenant(const struct fw_names_set *set,
				     const struct pw_ct_key *k,
				     const struct pw_ct_val *v)
{
	return fw_names_tenant(fw_names_set_find(set, v->generation),
			       k->tenant);
}

/* nft mode: the conntrack entries the table judged (fw/ct.h). */
struct fw_flows_nft {
	const struct fw_names *names; /* the running generation's */
	const json_t *ifaces; /* state's nft_interfaces: name -> tenant id */
	const char *tenant; /* filter, or NULL */
	json_t *arr; /* flows: the rows; status: NULL */
	uint64_t now_ns; /* CLOCK_REALTIME */
	json_int_t count;
};

/* The tenant of a flow the table judged: that of its interface under the
 * running policy; NULL for an interface it no longer names, and for one
 * of another tenant than n->tenant. */
static const char *fw_flow_nft_tenant(const struct fw_flows_nft *n,
				      const struct fw_ct_flow *f)
{
	char ifname[IF_NAMESIZE];
	const json_t *id = NULL;
	const char *tenant = NULL;

	if (if_indextoname(f->ifindex, ifname))
		id = json_object_get(n->ifaces, ifname);
	if (json_is_integer(id))
		tenant = fw_names_tenant(n->names,
					 (uint32_t)json_integer_value(id));
	if (tenant && n->tenant && strcmp(tenant, n->tenant))
		return NULL;
	return tenant;
}

static int fw_flow_nft_count_one(const struct fw_ct_flow *f, void *ctx)
{
	struct fw_flows_nft *n = ctx;

	n->count += fw_flow_nft_tenant(n, f) != NULL;
	return 0;
}

/* ---------------------------------------------------------------- status */

static const struct fw_column fw_status_fields[] = {
	{ "Policy", "policy", FW_ALIGN_LEFT, NULL },
	{ "Files", "files", FW_ALIGN_LEFT, fw_out_lines },
	{ "SHA-256", "sha256", FW_ALIGN_LEFT, NULL },
	{ "Loaded", "loaded", FW_ALIGN_LEFT, NULL },
	{ "Engine", "engine", FW_ALIGN_LEFT, NULL },
	{ "Generation", "generation", FW_ALIGN_LEFT, NULL },
	{ "Tenant", "tenant", FW_ALIGN_LEFT, NULL },
	{ "Tenants", "counts.tenants", FW_ALIGN_LEFT, NULL },
	{ "Rules", "counts.rules", FW_ALIGN_LEFT, NULL },
	{ "Flows", "counts.flows", FW_ALIGN_LEFT, NULL },
	{ "Absent", "absent", FW_ALIGN_LEFT, fw_out_lines },
};

static const struct fw_column fw_status_ifs[] = {
	{ "INTERFACE", "name", FW_ALIGN_LEFT, NULL },
	{ "IFINDEX", "ifindex", FW_ALIGN_RIGHT, NULL },
	{ "MODE", "mode", FW_ALIGN_LEFT, NULL },
};

static int fw_status_text(FILE *out, const json_t *doc)
{
	struct fw_column f[FW_ARRAY_SIZE(fw_status_fields)];
	size_t i, n = 0;
	int ret;

	/* "Tenant" only for --tenant, "Absent" only when some are */
	for (i = 0; i < FW_ARRAY_SIZE(fw_status_fields); i++) {
		const char *k = fw_status_fields[i].key;

		if (!strcmp(k, "tenant") && !json_object_get(doc, "tenant"))
			continue;
		if (!strcmp(k, "absent") &&
		    !json_array_size(json_object_get(doc, "absent")))
			continue;
		f[n++] = fw_status_fields[i];
	}
	ret = fw_out_fields(out, 0, f, n, doc);
	if (!ret) {
		fputc('\n', out);
		ret = fw_out_table(out, 0, fw_status_ifs,
				   FW_ARRAY_SIZE(fw_status_ifs),
				   json_object_get(doc, "interfaces"));
	}
	return ret;
}

static void fw_status_usage(FILE *out)
{
	fputs("Usage: plumwall status [-h] [--json] [--tenant TENANT]\n"
	      "\n"
	      "The running datapath: interfaces and attach mode, policy file\n"
	      "and its sha256 (absolute paths), load time, policy generation,\n"
	      "and the number of tenants, rules and tracked flows.\n"
	      "\n"
	      "Options:\n"
	      "  --json           one JSON object\n"
	      "  --tenant TENANT  only what belongs to TENANT: its interfaces,\n"
	      "                   its own rules and its flows\n"
	      "  -h, --help       show this help\n"
	      "\n"
	      "Exit status: 0 shown, 1 no such tenant, 2 usage error, 3 not\n"
	      "loaded or no privileges.\n",
	      out);
}

struct fw_status_flows {
	const struct fw_names_set *names;
	const char *tenant; /* count only its flows, or NULL */
	uint32_t n;
};

static int fw_status_flow(const struct pw_ct_key *k, const struct pw_ct_val *v,
			  void *ctx)
{
	struct fw_status_flows *f = ctx;
	const char *t;

	if (f->tenant) {
		t = fw_rd_flow_tenant(f->names, k, v);
		if (!t || strcmp(t, f->tenant))
			return 0;
	}
	f->n++;
	return 0;
}

/* The tenant's interfaces among the attached ones. */
/* The interfaces the policy (of @tenant: NULL for all) names that were
 * not in the system at the apply (state's "absent", plumwalld's and nft
 * mode's applies), by name. */
static json_t *fw_status_absent(const json_t *st, const json_t *tenant)
{
	const json_t *v, *w;
	json_t *arr = json_array();
	size_t i, j;

	json_array_foreach(json_object_get(st, "absent"), i, v) {
		if (!tenant) {
			json_array_append(arr, (json_t *)v);
			continue;
		}
		json_array_foreach(json_object_get(tenant, "interfaces"), j, w)
			if (json_equal(v, w)) {
				json_array_append(arr, (json_t *)v);
				break;
			}
	}
	return arr;
}

static json_t *fw_status_tenant_ifs(const json_t *st, const json_t *tenant)
{
	const json_t *v, *w;
	json_t *arr = json_array();
	size_t i, j;

	json_array_foreach(json_object_get(st, "interfaces"), i, v)
		json_array_foreach(json_object_get(tenant, "interfaces"), j, w)
			if (json_equal(json_object_get(v, "name"), w)) {
				json_array_append(arr, (json_t *)v);
				break;
			}
	return arr;
}

/* The fields status shows of state @st whatever the engine. */
static json_t *fw_status_doc(const json_t *st, const char *engine)
{
	json_t *doc = json_object();
	char when[64];
	time_t t;

	if (!doc)
		return NULL;
	t = (time_t)json_integer_value(json_object_get(st, "loaded_at"));
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", localtime(&t));
	json_object_set(doc, "policy", json_object_get(st, "policy"));
	json_object_set(doc, "files", json_object_get(st, "files"));
	json_object_set(doc, "sha256", json_object_get(st, "sha256"));
	json_object_set(doc, "loaded_at", json_object_get(st, "loaded_at"));
	json_object_set_new(doc, "loaded", json_string(when));
	json_object_set_new(doc, "engine", json_string(engine));
	return doc;
}

/*
 * What status reports of @st for tenant @name (NULL: the whole policy):
 * "tenant" and its interfaces, or all interfaces; "counts" of tenants,
 * rules and @flows (taken: a count, or null where not known).
 */
static void fw_status_scope(json_t *doc, const json_t *st, const char *name,
			    json_t *flows)
{
	const json_t *tenant = NULL, *v;
	json_t *counts;
	json_int_t rules = 0;
	size_t i;

	if (name) {
		tenant = fw_rd_tenant_obj(st, name);
		json_object_set_new(doc, "tenant", json_string(name));
		json_object_set_new(doc, "interfaces",
				    fw_status_tenant_ifs(st, tenant));
		json_array_foreach(json_object_get(st, "rules"), i, v)
			rules += !strcmp(
				json_string_value(json_object_get(v, "tenant")) ?:
					"",
				name);
	} else {
		json_object_set(doc, "interfaces",
				json_object_get(st, "interfaces"));
		rules = (json_int_t)json_array_size(
			json_object_get(st, "rules"));
	}
	counts = json_object();
	json_object_set_new(
		counts, "tenants",
		json_integer(tenant ? 1 :
				      (json_int_t)json_array_size(
					      json_object_get(st, "tenants"))));
	json_object_set_new(counts, "rules", json_integer(rules));
	json_object_set_new(counts, "flows", flows);
	json_object_set_new(doc, "counts", counts);
	json_object_set_new(doc, "absent", fw_status_absent(st, tenant));
}

/*
 * status in nft mode: the state document and the table. The generation is
 * the state's (the table holds none); the flows are the conntrack entries
 * the table judged (null when conntrack cannot be read).
 */
static int fw_status_nft(const char *prog, bool json, const char *name)
{
	struct fw_names_set names = {};
	struct fw_flows_nft n = { .tenant = name };
	json_t *st = NULL, *doc = NULL;
	int status, present;

	if (fw_rt_state_read(&st)) {
		fprintf(stderr, "%s: plumwall is not loaded\n", prog);
		return FW_EXIT_STATE;
	}
	present = fw_nft_present();
	if (present != 1) {
		fprintf(stderr,
			"%s: %s says nft mode, but the table inet %s is %s; run 'plumwall down' or apply again\n",
			prog, FW_RT_STATE, FW_NFT_TABLE,
			present ? "unreadable" : "missing");
		status = FW_EXIT_STATE;
		goto out;
	}
	status = fw_rd_tenant_check(prog, st, name);
	if (status)
		goto out;
	doc = fw_status_doc(st, "nft");
	if (!doc) {
		status = fw_rd_output(prog, json, NULL, fw_status_text);
		goto out;
	}
	json_object_set(doc, "generation", json_object_get(st, "generation"));
	status = fw_rd_names(prog, st, &names);
	if (status)
		goto out;
	n.names = names.n ? names.gen[0] : NULL;
	n.ifaces = json_object_get(st, "nft_interfaces");
	fw_status_scope(doc, st, name,
			fw_ct_flows(fw_flow_nft_count_one, &n) ?
				json_null() :
				json_integer(n.count));
	status = fw_rd_output(prog, json, doc, fw_status_text);
	doc = NULL; /* fw_rd_output() took it */
out:
	fw_names_set_clear(&names);
	json_decref(doc);
	json_decref(st);
	return status;
}

int fw_cmd_status(const struct fw_command *cmd, int argc, char **argv)
{
	struct fw_status_flows f = {};
	struct fw_names_set names = {};
	struct pw_settings set;
	struct fw_dp *dp = NULL;
	json_t *st = NULL, *doc = NULL;
	bool json = false;
	__u32 slot;
	int status, ret;

	status = fw_rd_args(argc, argv, fw_status_usage, &json, &f.tenant);
	if (status)
		return status < 0 ? FW_EXIT_OK : status;
	status = fw_command_ready(cmd);
	if (!status && !fw_rt_pinned() && fw_apply_nft_running())
		return fw_status_nft(argv[0], json, f.tenant);
	if (!status)
		status = fw_rd_open(argv[0], &dp, &st);
	if (status)
		return status;
	status = fw_rd_tenant_check(argv[0], st, f.tenant);
	if (!status)
		status = fw_rd_names(argv[0], st, &names);
	if (status)
		goto out;
	f.names = &names;
	ret = fw_dp_active_slot(dp, &slot);
	if (!ret)
		ret = fw_dp_slot_settings(dp, slot, &set);
	if (!ret)
		ret = fw_dp_ct_foreach(dp, fw_status_flow, &f);
	if (ret) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-ret));
		status = FW_EXIT_REFUSED;
		goto out;
	}
	doc = fw_status_doc(st, "bpf");
	/* The datapath's own figure, not the state's: they agree unless
	 * something else wrote the maps. */
	json_object_set_new(doc, "generation", json_integer(set.generation));
	json_object_set_new(doc, "active_slot", json_integer(slot));
	fw_status_scope(doc, st, f.tenant, json_integer(f.n));
	status = fw_rd_output(argv[0], json, doc, fw_status_text);
out:
	fw_names_set_clear(&names);
	json_decref(st);
	fw_dp_close(dp);
	return status;
}

/* ----------------------------------------------------------------- stats */

/* Wall clock seconds as RFC 3339 UTC, null for never (0). */
static json_t *fw_stats_time(int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm))
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *fw_stats_counter(const struct pw_counter *c)
{
	return json_pack("{sIsI}", "packets", (json_int_t)c->packets, "bytes",
			 (json_int_t)c->bytes);
}

static const struct fw_column fw_stats_rules[] = {
	{ "ID", "id", FW_ALIGN_RIGHT, NULL },
	{ "RULE", "name", FW_ALIGN_LEFT, NULL },
	{ "TENANT", "tenant", FW_ALIGN_LEFT, NULL },
	{ "PACKETS", "packets", FW_ALIGN_RIGHT, NULL },
	{ "BYTES", "bytes", FW_ALIGN_RIGHT, NULL },
	{ "FIRST HIT", "first_hit", FW_ALIGN_LEFT, NULL },
	{ "LAST HIT", "last_hit", FW_ALIGN_LEFT, NULL },
};

static const struct fw_column fw_stats_unused[] = {
	{ "ID", "id", FW_ALIGN_RIGHT, NULL },
	{ "RULE", "name", FW_ALIGN_LEFT, NULL },
	{ "TENANT", "tenant", FW_ALIGN_LEFT, NULL },
	{ "LAST HIT", "last_hit", FW_ALIGN_LEFT, NULL },
	{ "COUNTED SINCE", "since", FW_ALIGN_LEFT, NULL },
};

static const struct fw_column fw_stats_tenants[] = {
	{ "TENANT", "name", FW_ALIGN_LEFT, NULL },
	{ "ID", "id", FW_ALIGN_RIGHT, NULL },
	{ "DEFAULT DROPS", "default_drops.packets", FW_ALIGN_RIGHT, NULL },
	{ "BYTES", "default_drops.bytes", FW_ALIGN_RIGHT, NULL },
	{ "NON-IP DROPS", "non_ip_drops.packets", FW_ALIGN_RIGHT, NULL },
	{ "BYTES", "non_ip_drops.bytes", FW_ALIGN_RIGHT, NULL },
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
	const json_t *since = json_object_get(doc, "no_hit_since");
	int ret;

	if (json_object_get(doc, "unused")) {
		fputs(json_is_string(since) ? "Rules with no hit since " :
					      "Rules with no hit",
		      out);
		if (json_is_string(since))
			fputs(json_string_value(since), out);
		fputs(":\n", out);
		return fw_out_table(out, 2, fw_stats_unused,
				    FW_ARRAY_SIZE(fw_stats_unused),
				    json_object_get(doc, "rules"));
	}
	ret = fw_out_section(out, 0,
			     json_object_get(doc, "top") ? "Busiest rules" :
							   "Rules");
	if (!ret)
		ret = fw_out_table(out, 2, fw_stats_rules,
				   FW_ARRAY_SIZE(fw_stats_rules),
				   json_object_get(doc, "rules"));
	if (ret || json_object_get(doc, "top"))
		return ret;
	fputc('\n', out);
	ret = fw_out_section(out, 0, "Tenants");
	if (!ret)
		ret = fw_out_table(out, 2, fw_stats_tenants,
				   FW_ARRAY_SIZE(fw_stats_tenants),
				   json_object_get(doc, "tenants"));
	if (ret || !json_object_get(doc, "drops"))
		return ret;
	fputc('\n', out);
	ret = fw_out_section(out, 0, "Drops");
	if (!ret)
		ret = fw_out_table(out, 2, fw_stats_drops,
				   FW_ARRAY_SIZE(fw_stats_drops),
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
	fputs("Usage: plumwall stats [-h] [--json] [--tenant TENANT]\n"
	      "                      [--unused [--since DURATION] | --top N]\n"
	      "\n"
	      "Packets and bytes each rule of the running policy decided, with\n"
	      "the time of its first and last hit; drops of each tenant by its\n"
	      "default and by settings.non_ip; drops by reason, conntrack use\n"
	      "and lost events. A rule's counts go on across applies as long as\n"
	      "it keeps its name (in its tenant, or among the global rules),\n"
	      "and across restarts of plumwalld; a renamed rule starts at zero.\n"
	      "\n"
	      "Options:\n"
	      "  --json              one JSON object\n"
	      "  --tenant TENANT     only TENANT's own rules and its counters\n"
	      "  --unused            only the rules that never had a hit, or with\n"
	      "  --since DURATION    none within DURATION: a number and a unit s,\n"
	      "                      m, h, d or w (30m, 2h, 7d, 1h30m)\n"
	      "  --top N             only the N rules with the most packets\n"
	      "  -h, --help          show this help\n"
	      "\n"
	      "Exit status: 0 shown, 1 no such tenant, 2 usage error, 3 not\n"
	      "loaded or no privileges.\n",
	      out);
}

struct fw_stats_args {
	bool json;
	const char *tenant;
	bool unused;
	const char *since_arg;
	uint64_t since_s;
	unsigned long top; /* 0: all */
};

/* 1: help shown. */
static int fw_stats_args(int argc, char **argv, struct fw_stats_args *a)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "tenant", required_argument, NULL, 't' },
		{ "unused", no_argument, NULL, 'u' },
		{ "since", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c, ret;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fw_stats_usage(stdout);
			return -1;
		case 'j':
			a->json = true;
			break;
		case 't':
			a->tenant = optarg;
			break;
		case 'u':
			a->unused = true;
			break;
		case 's':
			ret = fw_duration_parse(optarg, &a->since_s);
			if (ret)
				return fw_usage_error(
					argv[0],
					"--since: %s '%s' (a number and a unit s, m, h, d or w: 30m, 2h, 7d)",
					ret == -ERANGE ? "too long a duration" :
							 "not a duration",
					optarg);
			a->since_arg = optarg;
			break;
		case 'n':
			errno = 0;
			a->top = strtoul(optarg, &end, 10);
			if (errno || *end || optarg[0] < '1' ||
			    optarg[0] > '9' || a->top > INT_MAX)
				return fw_usage_error(
					argv[0],
					"--top: a number of rules from 1, not '%s'",
					optarg);
			break;
		default:
			return fw_usage_hint(argv[0]);
		}
	}
	if (optind < argc)
		return fw_usage_error(argv[0], "unexpected argument '%s'",
				      argv[optind]);
	if (a->since_arg && !a->unused)
		return fw_usage_error(argv[0], "--since goes with --unused");
	if (a->unused && a->top)
		return fw_usage_error(argv[0],
				      "--unused and --top exclude each other");
	return 0;
}

/* Read the state and the totals consistently (an apply may run). */
static int fw_stats_totals(const char *prog, struct fw_dp *dp, json_t **st,
			   struct fw_ctr *ctr)
{
	int ret = -EAGAIN, i;

	for (i = 0; i < FW_RD_TRIES && ret == -EAGAIN; i++) {
		if (i) {
			/* an apply between its flip and its state: give it
			 * 10, 20, 40, 80 ms */
			struct timespec ts = { 0, 10000000L << (i - 1) };

			nanosleep(&ts, NULL);
			json_decref(*st);
			*st = NULL;
			ret = fw_rt_state_read(st);
			if (ret)
				break;
		}
		ret = fw_ctr_totals(dp, *st, ctr);
	}
	if (ret)
		fprintf(stderr, "%s: cannot read the counters: %s\n", prog,
			ret == -EAGAIN ?
				"the datapath kept changing (applies); try again" :
				strerror(-ret));
	return ret;
}

/*
 * The elements of @arr ordered by @cmp (a qsort comparator of json_t
 * pointers): of the first @max, those @keep accepts (NULL: all), in a new
 * array holding references. NULL when out of memory.
 */
static json_t *fw_json_sorted(const json_t *arr,
			      int (*cmp)(const void *, const void *),
			      size_t max, bool (*keep)(const json_t *))
{
	json_t **v, *out;
	size_t i, len = json_array_size(arr);

	v = calloc(len ? len : 1, sizeof(*v));
	out = json_array();
	if (!v || !out) {
		free(v);
		json_decref(out);
		return NULL;
	}
	for (i = 0; i < len; i++)
		v[i] = json_array_get(arr, i);
	qsort(v, len, sizeof(*v), cmp);
	for (i = 0; i < len && i < max; i++)
		if (!keep || keep(v[i]))
			json_array_append(out, v[i]);
	free(v);
	return out;
}

static int fw_stats_cmp_top(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a;
	const json_t *y = *(const json_t *const *)b;
	json_int_t px = json_integer_value(json_object_get(x, "packets"));
	json_int_t py = json_integer_value(json_object_get(y, "packets"));
	json_int_t bx = json_integer_value(json_object_get(x, "bytes"));
	json_int_t by = json_integer_value(json_object_get(y, "bytes"));

	if (px != py)
		return px > py ? -1 : 1;
	if (bx != by)
		return bx > by ? -1 : 1;
	return json_integer_value(json_object_get(x, "id")) <
			       json_integer_value(json_object_get(y, "id")) ?
		       -1 :
		       1;
}

/* A rule with at least one packet: what --top lists. */
static bool fw_stats_hit(const json_t *rule)
{
	return json_integer_value(json_object_get(rule, "packets")) != 0;
}

/* The @n busiest rules of @arr (by packets, then bytes), none unused. */
static json_t *fw_stats_top(const json_t *arr, size_t n)
{
	return fw_json_sorted(arr, fw_stats_cmp_top, n, fw_stats_hit);
}

static json_t *fw_stats_rule_json(const json_t *r, size_t id,
				  const struct fw_ctr_rule *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer((json_int_t)id));
	json_object_set(o, "name", json_object_get(r, "name"));
	json_object_set(o, "tenant", json_object_get(r, "tenant"));
	json_object_set_new(o, "packets", json_integer((json_int_t)c->packets));
	json_object_set_new(o, "bytes", json_integer((json_int_t)c->bytes));
	json_object_set_new(o, "first_hit", fw_stats_time(c->first_hit));
	json_object_set_new(o, "last_hit", fw_stats_time(c->last_hit));
	json_object_set_new(o, "since", fw_stats_time(c->since));
	return o;
}

/* The named counters of the nft table, by rule id and tenant id. */
struct fw_stats_nft {
	struct fw_ctr_rule *rules;
	uint32_t n_rules;
	struct pw_counter *tenants; /* by tenant id */
	uint32_t n_tenants;
};

static int fw_stats_nft_one(char kind, uint32_t id, uint64_t packets,
			    uint64_t bytes, void *ctx)
{
	struct fw_stats_nft *n = ctx;

	if (kind == 'r' && id < n->n_rules) {
		n->rules[id].packets = packets;
		n->rules[id].bytes = bytes;
	} else if (kind == 'd' && id < n->n_tenants) {
		n->tenants[id].packets = packets;
		n->tenants[id].bytes = bytes;
	}
	return 0;
}

/*
 * stats in nft mode: the rules' named counters (NFT_MSG_GETOBJ) and the
 * tenants' default drops. nft counters keep no hit times (first_hit,
 * last_hit and since are null: --unused means no packet, --since is
 * refused), and there are no drop reasons, conntrack figures or events
 * (nft mode does not log): those keys are left out.
 */
static int fw_stats_nft(const char *prog, const struct fw_stats_args *a)
{
	struct fw_stats_nft n = {};
	json_t *st = NULL, *doc = NULL, *arr, *o;
	const json_t *r, *t;
	size_t i;
	int status = FW_EXIT_REFUSED, ret;

	if (fw_rt_state_read(&st)) {
		fprintf(stderr, "%s: plumwall is not loaded\n", prog);
		return FW_EXIT_STATE;
	}
	if (a->since_arg) {
		fprintf(stderr,
			"%s: --since: nft mode keeps no hit times (its counters count packets and bytes only)\n",
			prog);
		status = FW_EXIT_USAGE;
		goto out;
	}
	status = fw_rd_tenant_check(prog, st, a->tenant);
	if (status)
		goto out;
	status = FW_EXIT_REFUSED;
	n.n_rules = (uint32_t)json_array_size(json_object_get(st, "rules"));
	n.n_tenants = PW_MAX_TENANTS + 1;
	n.rules = calloc(n.n_rules + 1, sizeof(*n.rules));
	n.tenants = calloc(n.n_tenants, sizeof(*n.tenants));
	ret = n.rules && n.tenants ? fw_nft_counters(fw_stats_nft_one, &n) :
				     -ENOMEM;
	if (ret) {
		fprintf(stderr,
			"%s: cannot read the counters of table inet %s: %s\n",
			prog, FW_NFT_TABLE, strerror(-ret));
		if (ret == -ENOENT)
			status = FW_EXIT_STATE;
		goto out;
	}
	doc = json_object();
	arr = json_array();
	json_array_foreach(json_object_get(st, "rules"), i, r) {
		if (a->tenant &&
		    strcmp(json_string_value(json_object_get(r, "tenant")) ?:
									     "",
			   a->tenant))
			continue;
		if (a->unused && n.rules[i].packets)
			continue;
		json_array_append_new(arr,
				      fw_stats_rule_json(r, i, &n.rules[i]));
	}
	if (a->top) {
		o = fw_stats_top(arr, a->top);
		json_decref(arr);
		arr = o;
	}
	json_object_set_new(doc, "engine", json_string("nft"));
	if (a->tenant)
		json_object_set_new(doc, "tenant", json_string(a->tenant));
	if (a->unused) {
		json_object_set_new(doc, "unused", json_true());
		json_object_set_new(doc, "no_hit_since", json_null());
	}
	if (a->top)
		json_object_set_new(doc, "top",
				    json_integer((json_int_t)a->top));
	json_object_set_new(doc, "rules", arr);
	if (!a->unused && !a->top) {
		arr = json_array();
		json_array_foreach(json_object_get(st, "tenants"), i, t) {
			json_int_t id =
				json_integer_value(json_object_get(t, "id"));

			if (a->tenant &&
			    strcmp(json_string_value(json_object_get(t, "name")) ?:
					   "",
				   a->tenant))
				continue;
			o = json_object();
			json_object_set(o, "name", json_object_get(t, "name"));
			json_object_set(o, "id", json_object_get(t, "id"));
			json_object_set_new(
				o, "default_drops",
				id > 0 && id < (json_int_t)n.n_tenants ?
					fw_stats_counter(&n.tenants[id]) :
					json_null());
			json_object_set_new(o, "non_ip_drops", json_null());
			json_object_set_new(o, "since", json_null());
			json_array_append_new(arr, o);
		}
		json_object_set_new(doc, "tenants", arr);
	}
	status = fw_rd_output(prog, a->json, doc, fw_stats_text);
out:
	free(n.rules);
	free(n.tenants);
	json_decref(st);
	return status;
}

int fw_cmd_stats(const struct fw_command *cmd, int argc, char **argv)
{
	struct fw_stats_args a = {};
	struct pw_counter drops[PW_REASON_COUNT];
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), flows = 0;
	struct fw_ctr ctr = {};
	struct fw_dp *dp = NULL;
	json_t *st = NULL, *doc = NULL, *arr, *o, *ct;
	const json_t *r, *t;
	int64_t cutoff = 0;
	__u64 lost = 0;
	size_t i;
	int status, ret;

	status = fw_stats_args(argc, argv, &a);
	if (status)
		return status < 0 ? FW_EXIT_OK : status;
	status = fw_command_ready(cmd);
	if (!status && !fw_rt_pinned() && fw_apply_nft_running())
		return fw_stats_nft(argv[0], &a);
	if (!status)
		status = fw_rd_open(argv[0], &dp, &st);
	if (status)
		return status;
	status = fw_rd_tenant_check(argv[0], st, a.tenant);
	if (status)
		goto out;
	if (fw_stats_totals(argv[0], dp, &st, &ctr)) {
		status = FW_EXIT_REFUSED;
		goto out;
	}
	/* The tenant may have gone with an apply while we retried. */
	status = fw_rd_tenant_check(argv[0], st, a.tenant);
	if (status)
		goto out;
	if (a.since_arg)
		cutoff = (int64_t)time(NULL) - (int64_t)a.since_s;

	doc = json_object();
	arr = json_array();
	json_array_foreach(json_object_get(st, "rules"), i, r) {
		const struct fw_ctr_rule *c;

		if (i >= ctr.n_rules)
			break;
		c = &ctr.rules[i];
		if (a.tenant &&
		    strcmp(json_string_value(json_object_get(r, "tenant")) ?:
									     "",
			   a.tenant))
			continue;
		if (a.unused && c->last_hit &&
		    (!a.since_arg || c->last_hit >= cutoff))
			continue;
		json_array_append_new(arr, fw_stats_rule_json(r, i, c));
	}
	if (a.top) {
		o = fw_stats_top(arr, a.top);
		json_decref(arr);
		arr = o;
	}
	if (a.tenant)
		json_object_set_new(doc, "tenant", json_string(a.tenant));
	if (a.unused) {
		json_object_set_new(doc, "unused", json_true());
		json_object_set_new(doc, "no_hit_since",
				    a.since_arg ? fw_stats_time(cutoff) :
						  json_null());
	}
	if (a.top)
		json_object_set_new(doc, "top",
				    json_integer((json_int_t)a.top));
	json_object_set_new(doc, "rules", arr);
	if (a.unused || a.top)
		goto print;

	arr = json_array();
	json_array_foreach(json_object_get(st, "tenants"), i, t) {
		if (i >= ctr.n_tenants)
			break;
		if (a.tenant &&
		    strcmp(json_string_value(json_object_get(t, "name")) ?: "",
			   a.tenant))
			continue;
		o = json_object();
		json_object_set(o, "name", json_object_get(t, "name"));
		json_object_set(o, "id", json_object_get(t, "id"));
		json_object_set_new(
			o, "default_drops",
			fw_stats_counter(&ctr.tenants[i].default_drops));
		json_object_set_new(
			o, "non_ip_drops",
			fw_stats_counter(&ctr.tenants[i].non_ip_drops));
		json_object_set_new(o, "since",
				    fw_stats_time(ctr.tenants[i].since));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "tenants", arr);
	/* The rest is the datapath's as a whole, not a tenant's. */
	if (a.tenant)
		goto print;

	ret = fw_dp_drop_counters(dp, drops);
	if (!ret)
		ret = fw_dp_events_lost(dp, &lost);
	if (!ret)
		ret = fw_dp_ct_count(dp, &flows);
	if (!ret &&
	    bpf_obj_get_info_by_fd(fw_dp_map_fd(dp, "pw_ct"), &info, &len))
		ret = -errno;
	if (ret) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-ret));
		status = FW_EXIT_REFUSED;
		goto out;
	}
	arr = json_array();
	for (i = 0; i < PW_REASON_COUNT; i++) {
		/* Established and reply count passes, not drops. */
		if (i == PW_REASON_ESTABLISHED || i == PW_REASON_REPLY)
			continue;
		o = fw_stats_counter(&drops[i]);
		json_object_set_new(o, "reason",
				    json_string(policy_reason_name(i)));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "drops", arr);
	ct = json_object();
	json_object_set_new(ct, "entries", json_integer(flows));
	json_object_set_new(ct, "max_entries", json_integer(info.max_entries));
	json_object_set_new(doc, "conntrack", ct);
	json_object_set_new(doc, "events_lost", json_integer((json_int_t)lost));
print:
	status = fw_rd_output(argv[0], a.json, doc, fw_stats_text);
	doc = NULL;
out:
	json_decref(doc);
	fw_ctr_free(&ctr);
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

/* flows --sort */
enum fw_flows_sort {
	FW_SORT_TENANT, /* tenant, then bytes (default) */
	FW_SORT_BYTES,
	FW_SORT_PACKETS,
	FW_SORT_AGE,
	FW_SORT_IDLE,
};

static const char *const fw_flows_sorts[] = {
	[FW_SORT_TENANT] = "tenant",   [FW_SORT_BYTES] = "bytes",
	[FW_SORT_PACKETS] = "packets", [FW_SORT_AGE] = "age",
	[FW_SORT_IDLE] = "idle",
};

struct fw_flows {
	const struct fw_names_set *names;
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

static json_t *fw_flow_secs(__u64 now, __u64 then)
{
	return json_integer(
		(json_int_t)(now > then ? (now - then) / 1000000000ULL : 0));
}

static int fw_flow_one(const struct pw_ct_key *k, const struct pw_ct_val *v,
		       void *ctx)
{
	struct fw_flows *f = ctx;
	/* Names from the generation the flow was judged under: rule ids
	 * (and tenant ids) of another generation name other things. */
	const struct fw_names *n = fw_names_set_find(f->names, v->generation);
	const char *tenant = fw_names_tenant(n, k->tenant);
	bool a_init = v->flags & PW_CT_INIT_IS_A;
	const struct fw_rule_name *r = NULL;
	json_t *o;

	if (f->tenant && (!tenant || strcmp(tenant, f->tenant)))
		return 0;
	if (v->rule_id != PW_RULE_NONE)
		r = fw_names_rule(n, v->rule_id);
	o = json_object();
	json_object_set_new(o, "tenant",
			    tenant ? json_string(tenant) :
				     json_integer(k->tenant));
	json_object_set_new(o, "proto", fw_proto(k->proto));
	json_object_set_new(
		o, "src",
		fw_endpoint(k->family, a_init ? k->addr_a : k->addr_b,
			    a_init ? k->port_a : k->port_b, k->proto));
	json_object_set_new(
		o, "dst",
		fw_endpoint(k->family, a_init ? k->addr_b : k->addr_a,
			    a_init ? k->port_b : k->port_a, k->proto));
	json_object_set_new(o, "state",
			    json_string(v->state < FW_ARRAY_SIZE(fw_ct_states) ?
						fw_ct_states[v->state] :
						"?"));
	json_object_set_new(o, "packets_out",
			    json_integer((json_int_t)v->packets[0]));
	json_object_set_new(o, "bytes_out",
			    json_integer((json_int_t)v->bytes[0]));
	json_object_set_new(o, "packets_in",
			    json_integer((json_int_t)v->packets[1]));
	json_object_set_new(o, "bytes_in",
			    json_integer((json_int_t)v->bytes[1]));
	json_object_set_new(o, "age_s", fw_flow_secs(f->now, v->created_ns));
	json_object_set_new(o, "idle_s", fw_flow_secs(f->now, v->last_seen_ns));
	json_object_set_new(o, "rule", r ? json_string(r->name) : json_null());
	json_object_set_new(o, "rule_id",
			    v->rule_id == PW_RULE_NONE ?
				    json_null() :
				    json_integer(v->rule_id));
	json_object_set_new(o, "generation", json_integer(v->generation));
	json_array_append_new(f->arr, o);
	return 0;
}

/* The rule: its name, "-" when a default decided, or the id when the
 * flow's generation is no longer named (older than the state keeps). */
static int fw_flow_rule_text(FILE *out, const json_t *row, const json_t *value)
{
	const json_t *id = json_object_get(row, "rule_id");

	if (json_is_string(value) || !json_is_integer(id))
		return fw_out_value(out, value);
	fprintf(out,
		"#%" JSON_INTEGER_FORMAT " (generation %" JSON_INTEGER_FORMAT
		")",
		json_integer_value(id),
		json_integer_value(json_object_get(row, "generation")));
	return ferror(out) ? -EIO : 0;
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
	{ "IDLE", "idle_s", FW_ALIGN_RIGHT, NULL },
	{ "RULE", "rule", FW_ALIGN_LEFT, fw_flow_rule_text },
};

static int fw_flows_text(FILE *out, const json_t *doc)
{
	return fw_out_table(out, 0, fw_flow_columns,
			    FW_ARRAY_SIZE(fw_flow_columns),
			    json_object_get(doc, "flows"));
}

static void fw_flows_usage(FILE *out)
{
	fputs("Usage: plumwall flows [-h] [--json] [--tenant TENANT] [--sort KEY]\n"
	      "\n"
	      "Tracked flows: tenant, protocol, initiator and responder,\n"
	      "state, packets and bytes each way, age and idle time in seconds\n"
	      "and the rule that allowed the flow, named as in the policy the\n"
	      "flow was judged under.\n"
	      "\n"
	      "Options:\n"
	      "  --json           one JSON object\n"
	      "  --tenant TENANT  only TENANT's flows\n"
	      "  --sort KEY       tenant (default: by tenant, then most bytes\n"
	      "                   first), bytes or packets (most first, both\n"
	      "                   ways together), age (oldest first) or idle\n"
	      "                   (longest idle first)\n"
	      "  -h, --help       show this help\n"
	      "\n"
	      "Exit status: 0 shown, 1 no such tenant, 2 usage error, 3 not\n"
	      "loaded or no privileges.\n",
	      out);
}

static json_int_t fw_flow_int(const json_t *o, const char *k1, const char *k2)
{
	return json_integer_value(json_object_get(o, k1)) +
	       (k2 ? json_integer_value(json_object_get(o, k2)) : 0);
}

/* Descending on the figure: the flows that matter come first. */
static int fw_flow_cmp_desc(json_int_t x, json_int_t y)
{
	return x == y ? 0 : x > y ? -1 : 1;
}

static int fw_flow_cmp_str(const json_t *x, const json_t *y, const char *key)
{
	const json_t *a = json_object_get(x, key), *b = json_object_get(y, key);

	/* tenants of generations no longer named (ids) after names */
	if (json_is_string(a) != json_is_string(b))
		return json_is_string(a) ? -1 : 1;
	if (!json_is_string(a))
		return fw_flow_cmp_desc(json_integer_value(b),
					json_integer_value(a));
	return strcmp(json_string_value(a), json_string_value(b));
}

static enum fw_flows_sort fw_flows_sort_key;

static int fw_flow_cmp(const void *pa, const void *pb)
{
	const json_t *x = *(const json_t *const *)pa;
	const json_t *y = *(const json_t *const *)pb;
	int c = 0;

	switch (fw_flows_sort_key) {
	case FW_SORT_TENANT:
		c = fw_flow_cmp_str(x, y, "tenant");
		if (!c)
			c = fw_flow_cmp_desc(
				fw_flow_int(x, "bytes_out", "bytes_in"),
				fw_flow_int(y, "bytes_out", "bytes_in"));
		break;
	case FW_SORT_BYTES:
		c = fw_flow_cmp_desc(fw_flow_int(x, "bytes_out", "bytes_in"),
				     fw_flow_int(y, "bytes_out", "bytes_in"));
		break;
	case FW_SORT_PACKETS:
		c = fw_flow_cmp_desc(
			fw_flow_int(x, "packets_out", "packets_in"),
			fw_flow_int(y, "packets_out", "packets_in"));
		break;
	case FW_SORT_AGE:
		c = fw_flow_cmp_desc(fw_flow_int(x, "age_s", NULL),
				     fw_flow_int(y, "age_s", NULL));
		break;
	case FW_SORT_IDLE:
		c = fw_flow_cmp_desc(fw_flow_int(x, "idle_s", NULL),
				     fw_flow_int(y, "idle_s", NULL));
		break;
	}
	/* A stable, readable order for ties. */
	if (!c)
		c = fw_flow_cmp_str(x, y, "tenant");
	if (!c)
		c = fw_flow_cmp_str(x, y, "src");
	if (!c)
		c = fw_flow_cmp_str(x, y, "dst");
	return c;
}

static json_t *fw_flows_sorted(json_t *arr, enum fw_flows_sort key)
{
	fw_flows_sort_key = key;
	return fw_json_sorted(arr, fw_flow_cmp, json_array_size(arr), NULL);
}

/* conntrack's TCP states (enum tcp_conntrack) as flows names its own */
static const char *fw_flow_nft_state(const struct fw_ct_flow *f)
{
	if (f->proto != IPPROTO_TCP)
		return f->status & IPS_SEEN_REPLY ? "established" : "new";
	switch (f->tcp_state) {
	case TCP_CONNTRACK_SYN_SENT:
	case TCP_CONNTRACK_SYN_RECV:
	case TCP_CONNTRACK_SYN_SENT2:
		return "syn";
	case TCP_CONNTRACK_ESTABLISHED:
		return "established";
	case TCP_CONNTRACK_FIN_WAIT:
	case TCP_CONNTRACK_CLOSE_WAIT:
	case TCP_CONNTRACK_LAST_ACK:
	case TCP_CONNTRACK_TIME_WAIT:
		return "closing";
	case TCP_CONNTRACK_CLOSE:
		return "closed";
	default:
		return "new";
	}
}

static json_t *fw_flow_nft_count(const struct fw_ct_flow *f, uint64_t v)
{
	return f->counted ? json_integer((json_int_t)v) : json_null();
}

static int fw_flow_nft_one(const struct fw_ct_flow *f, void *ctx)
{
	struct fw_flows_nft *n = ctx;
	__u8 fam = f->family == AF_INET6 ? PW_FAMILY_IPV6 : PW_FAMILY_IPV4;
	const char *tenant = fw_flow_nft_tenant(n, f);
	json_t *o;

	/* another tenant's, or of an interface the policy no longer names */
	if (!tenant)
		return 0;
	o = json_object();
	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "tenant", json_string(tenant));
	json_object_set_new(o, "proto", fw_proto(f->proto));
	json_object_set_new(o, "src",
			    fw_endpoint(fam, f->saddr, f->sport, f->proto));
	json_object_set_new(o, "dst",
			    fw_endpoint(fam, f->daddr, f->dport, f->proto));
	json_object_set_new(o, "state", json_string(fw_flow_nft_state(f)));
	json_object_set_new(o, "packets_out",
			    fw_flow_nft_count(f, f->packets[0]));
	json_object_set_new(o, "bytes_out", fw_flow_nft_count(f, f->bytes[0]));
	json_object_set_new(o, "packets_in",
			    fw_flow_nft_count(f, f->packets[1]));
	json_object_set_new(o, "bytes_in", fw_flow_nft_count(f, f->bytes[1]));
	json_object_set_new(o, "age_s",
			    f->stamped ? fw_flow_secs(n->now_ns, f->start_ns) :
					 json_null());
	/* conntrack keeps no last-seen time, nor which rule allowed the
	 * flow under which generation */
	json_object_set_new(o, "idle_s", json_null());
	json_object_set_new(o, "rule", json_null());
	json_object_set_new(o, "rule_id", json_null());
	json_object_set_new(o, "generation", json_null());
	return json_array_append_new(n->arr, o) ? -ENOMEM : 0;
}

static int fw_flows_nft(const char *prog, bool json, const char *tenant,
			enum fw_flows_sort sort)
{
	struct fw_flows_nft n = { .tenant = tenant };
	struct fw_names_set names = {};
	struct timespec now;
	json_t *st = NULL, *sorted = NULL, *doc;
	int status, ret;

	ret = fw_rt_state_read(&st);
	if (ret) {
		fprintf(stderr, "%s: %s: %s\n", prog, FW_RT_STATE,
			strerror(-ret));
		return FW_EXIT_STATE;
	}
	status = fw_rd_tenant_check(prog, st, tenant);
	if (!status)
		status = fw_rd_names(prog, st, &names);
	if (status)
		goto out;
	n.names = names.n ? names.gen[0] : NULL;
	n.ifaces = json_object_get(st, "nft_interfaces");
	clock_gettime(CLOCK_REALTIME, &now);
	n.now_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	n.arr = json_array();
	ret = n.arr ? fw_ct_flows(fw_flow_nft_one, &n) : -ENOMEM;
	sorted = ret ? NULL : fw_flows_sorted(n.arr, sort);
	if (!ret && !sorted)
		ret = -ENOMEM;
	if (ret) {
		fprintf(stderr, "%s: conntrack: %s\n", prog, strerror(-ret));
		status = ret == -EPERM ? FW_EXIT_STATE : FW_EXIT_REFUSED;
		goto out;
	}
	doc = json_object();
	json_object_set_new(doc, "flows", sorted);
	status = fw_rd_output(prog, json, doc, fw_flows_text);
out:
	json_decref(n.arr);
	fw_names_set_clear(&names);
	json_decref(st);
	return status;
}

int fw_cmd_flows(const struct fw_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "tenant", required_argument, NULL, 't' },
		{ "sort", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	enum fw_flows_sort sort = FW_SORT_TENANT;
	struct fw_names_set names = {};
	struct fw_flows f = {};
	struct fw_dp *dp = NULL;
	json_t *st = NULL, *doc, *sorted;
	bool json = false, known;
	size_t i;
	int status, ret, c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fw_flows_usage(stdout);
			return FW_EXIT_OK;
		case 'j':
			json = true;
			break;
		case 't':
			f.tenant = optarg;
			break;
		case 's':
			known = false;
			for (i = 0; i < FW_ARRAY_SIZE(fw_flows_sorts); i++)
				if (!strcmp(optarg, fw_flows_sorts[i])) {
					sort = (enum fw_flows_sort)i;
					known = true;
				}
			if (!known)
				return fw_usage_error(
					argv[0],
					"--sort: tenant, bytes, packets, age or idle, not '%s'",
					optarg);
			break;
		default:
			return fw_usage_hint(argv[0]);
		}
	}
	if (optind < argc)
		return fw_usage_error(argv[0], "unexpected argument '%s'",
				      argv[optind]);
	status = fw_command_ready(cmd);
	/* nft mode: the flows are the kernel's conntrack entries */
	if (!status && !fw_rt_pinned() && fw_apply_nft_running())
		return fw_flows_nft(argv[0], json, f.tenant, sort);
	if (!status)
		status = fw_rd_open(argv[0], &dp, &st);
	if (status)
		return status;
	status = fw_rd_tenant_check(argv[0], st, f.tenant);
	if (!status)
		status = fw_rd_names(argv[0], st, &names);
	if (status)
		goto out;
	f.names = &names;
	ret = fw_dp_clock(dp, &f.now);
	f.arr = json_array();
	if (!ret)
		ret = f.arr ? fw_dp_ct_foreach(dp, fw_flow_one, &f) : -ENOMEM;
	sorted = ret ? NULL : fw_flows_sorted(f.arr, sort);
	json_decref(f.arr);
	if (!ret && !sorted)
		ret = -ENOMEM;
	if (ret) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-ret));
		status = FW_EXIT_REFUSED;
		goto out;
	}
	doc = json_object();
	json_object_set_new(doc, "flows", sorted);
	status = fw_rd_output(argv[0], json, doc, fw_flows_text);
out:
	fw_names_set_clear(&names);
	json_decref(st);
	fw_dp_close(dp);
	return status;
}
